#!/usr/bin/env node
// src/ is grouped by concern and includes only point down (src/README.md):
// a file may include its own folder and the folders ranked below it. Run by
// `npm test`; exits 1 listing every include that points up or sideways, and
// every file over the size limit.
'use strict';
const fs = require('fs');
const path = require('path');

const SRC = path.join(__dirname, '..', 'src');
// Lowest first. mime/ and text/ sit beside the protocol code, below it.
const RANKS = ['core', 'text', 'mime', 'model', 'net', 'imap', 'sync', 'store', 'engine'];
// About 400 lines a file (the guide); a little slack for a closing comment.
const MAX_LINES = 410;
// binding/ only converts: the engine's interface (no uv.h) and plain data,
// plus the FETCH decoder for the differential test hook (decode_fetch.cc).
const BINDING_MAY_INCLUDE = /^(engine\/api\.h|model\/[^/]+|mime\/mime\.h|core\/[^/]+|text\/[^/]+|imap\/fetch\.h)$/;

function check(root = SRC) {
  const problems = [];
  for (const dir of fs.readdirSync(root, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    const rank = RANKS.indexOf(dir.name);
    if (rank < 0) {
      problems.push(`src/${dir.name}/: not a known room (${RANKS.join(', ')})`);
      continue;
    }
    for (const file of fs.readdirSync(path.join(root, dir.name))) {
      if (!/\.(h|cpp)$/.test(file)) continue;
      const rel = `src/${dir.name}/${file}`;
      const lines = fs.readFileSync(path.join(root, dir.name, file), 'utf8').split('\n');
      if (lines.length > MAX_LINES) problems.push(`${rel}: ${lines.length} lines (limit ${MAX_LINES})`);
      lines.forEach((line, i) => {
        const m = /^\s*#\s*include\s+"([^"]+)"/.exec(line);
        if (!m) return;
        const target = m[1].split('/');
        if (target.length !== 2) {
          problems.push(`${rel}:${i + 1}: include "${m[1]}" does not name its folder`);
          return;
        }
        const to = RANKS.indexOf(target[0]);
        if (to < 0) problems.push(`${rel}:${i + 1}: include "${m[1]}" is outside src/'s rooms`);
        else if (to > rank) problems.push(`${rel}:${i + 1}: ${dir.name}/ includes ${target[0]}/, which is above it`);
      });
    }
  }
  const binding = path.join(root, '..', 'binding');
  if (fs.existsSync(binding)) {
    for (const file of fs.readdirSync(binding)) {
      if (!/\.(h|cc)$/.test(file)) continue;
      fs.readFileSync(path.join(binding, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          const m = /^\s*#\s*include\s+"([^"]+)"/.exec(line);
          if (m && m[1].includes('/') && !BINDING_MAY_INCLUDE.test(m[1]))
            problems.push(`binding/${file}:${i + 1}: include "${m[1]}": the binding sees only engine/api.h and plain data`);
        });
    }
  }
  for (const f of fs.readdirSync(root)) {
    if (/\.(h|cpp)$/.test(f)) problems.push(`src/${f}: belongs in one of the rooms`);
  }
  return problems;
}

module.exports = { check, RANKS };

if (require.main === module) {
  const problems = check(process.argv[2] ? path.resolve(process.argv[2]) : SRC);
  for (const p of problems) console.error(p);
  if (problems.length) process.exit(1);
  console.log(`src/ layers: ok (${RANKS.join(' < ')})`);
}
