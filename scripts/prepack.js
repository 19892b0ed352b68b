#!/usr/bin/env node
'use strict';

// package.json's `prepack`: `npm pack` and `npm publish` refuse to make a
// tarball without the prebuild the README promises (prebuilds/ is gitignored,
// so a clone that never ran `npm run prebuild` would otherwise ship a package
// that compiles from source on every install), or with one older than the
// sources it was built from.
//   IMAP_PUSH_PACK_WITHOUT_PREBUILD=1   packs anyway, saying so (the project's
//                                        own pack-list test on a dev machine)
// Writes only to stderr: `npm pack --json` passes a script's stdout through
// into its JSON.

const fs = require('fs');
const path = require('path');
const { prebuildFile } = require('../lib/platform');

// What every published tarball carries, whichever machine packs it.
const REQUIRED = [prebuildFile('linux', 'x64', 'glibc')];
// What a prebuild is built from: one older than any of these is stale.
const SOURCES = ['src', 'binding', 'CMakeLists.txt'];
const OPT_OUT = 'IMAP_PUSH_PACK_WITHOUT_PREBUILD';

function newestSource(root) {
  let newest = { file: null, mtimeMs: 0 };
  const visit = (p) => {
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(p)) visit(path.join(p, name));
    } else if (st.mtimeMs > newest.mtimeMs) {
      newest = { file: path.relative(root, p), mtimeMs: st.mtimeMs };
    }
  };
  for (const s of SOURCES) visit(path.join(root, s));
  return newest;
}

/** The reasons this tree must not be packed; [] when it may. */
function problems(root) {
  const out = [];
  const source = newestSource(root);
  for (const rel of REQUIRED) {
    const st = fs.statSync(path.join(root, rel), { throwIfNoEntry: false });
    if (!st || !st.isFile() || st.size === 0) out.push(`${rel} is missing: run \`npm run prebuild\` first`);
    else if (source.file && source.mtimeMs > st.mtimeMs) {
      out.push(`${rel} is older than ${source.file}: run \`npm run prebuild\` again`);
    }
  }
  return out;
}

function main(root = path.join(__dirname, '..'), env = process.env) {
  const found = problems(root);
  if (!found.length) return 0;
  const say = (msg) => process.stderr.write(`prepack: ${msg}\n`);
  if (env[OPT_OUT] === '1') {
    for (const p of found) say(`${p} (packing anyway: ${OPT_OUT}=1; this tarball is not for publishing)`);
    return 0;
  }
  for (const p of found) say(p);
  say(`refusing to pack a package without its prebuild; ${OPT_OUT}=1 packs anyway (for tests, never to publish)`);
  return 1;
}

module.exports = { problems, REQUIRED, OPT_OUT };

if (require.main === module) process.exitCode = main();
