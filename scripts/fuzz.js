#!/usr/bin/env node
'use strict';

// Builds the libFuzzer targets in fuzz/ (clang, ASan+UBSan) and runs each in
// turn, one process at a time.
//   node scripts/fuzz.js --seconds N   fuzz every target for N seconds (default 60)
//   node scripts/fuzz.js --runs N      ...or for N executions each (with --seconds: whichever ends first)
//   node scripts/fuzz.js --only a,b    just these targets
//   node scripts/fuzz.js --replay      only run the seeds and fuzz/regressions/ once
// Every run starts by executing fuzz/regressions/<target>/ and the seeds, so
// a crash found once is replayed on every later run (CI included). Seeds come
// from fuzz/seeds/, the tests (test/corpus) and the shared corpus of real
// server responses (../shared/corpus/imap-responses, read in place).
// Prints a table of runs, coverage and time; exits non-zero on any crash.

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const build = path.join(root, 'build-fuzz');
const sharedCorpus = path.resolve(root, '..', 'shared', 'corpus', 'imap-responses');
const TARGETS = ['parser', 'fetch', 'mime', 'rfc2047', 'uidset', 'mutf7', 'state_codec', 'auth'];
const DICTS = { parser: 'imap', fetch: 'imap', state_codec: 'imap', mime: 'mime', rfc2047: 'mime' };
// The shared corpus holds responses of up to 57 KB, and libFuzzer would
// otherwise grow inputs to the largest seed: at that size the parser target
// manages a few hundred runs a second. Seeds longer are cut to this.
// uidset's inputs are a program of 3-byte operations, each of which may walk
// a 256-value range in the std::set model; 600 bytes (about 200 operations)
// reach every merge and split case, where libFuzzer's default 4096 made the
// model, not our code, most of the cost.
const MAX_LEN = { parser: 4096, fetch: 4096, mime: 16384, uidset: 600 };

function option(name) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const seconds = Number(option('seconds') || 60);
const runs = option('runs') ? Number(option('runs')) : undefined;
const replay = process.argv.includes('--replay');
const only = option('only') ? option('only').split(',') : TARGETS;
for (const t of only) if (!TARGETS.includes(t)) throw new Error(`unknown fuzz target '${t}' (${TARGETS.join(', ')})`);
if (!(seconds > 0) || (runs !== undefined && !(runs > 0))) throw new Error('--seconds and --runs take a positive number');

function run(cmd, args) {
  process.stdout.write(`$ ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.error) throw r.error;
  if (r.status !== 0) process.exit(r.status || 1);
}

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]);
}

// The shared corpus is stored with LF line ends; its literal counts are
// those of the CRLF the servers sent.
function sharedResponses() {
  if (!fs.existsSync(sharedCorpus)) {
    if (process.env.CI) throw new Error(`shared corpus missing: ${sharedCorpus}`);
    process.stderr.write(`fuzz: warning: ${sharedCorpus} missing, seeding without it\n`);
    return [];
  }
  return walk(sharedCorpus).filter((f) => f.endsWith('.txt'))
    .map((f) => ({ name: path.relative(sharedCorpus, f).replace(/[/\\]/g, '_'),
      data: fs.readFileSync(f, 'latin1').replace(/\r?\n/g, '\r\n') }));
}

// Inputs as each target reads them (see the format comment in fuzz/<t>_fuzz.cc).
function generatedSeeds(target) {
  const emls = fs.readdirSync(path.join(root, 'test', 'corpus')).filter((f) => f.endsWith('.eml'))
    .map((f) => ({ name: f, data: fs.readFileSync(path.join(root, 'test', 'corpus', f), 'latin1') }));
  switch (target) {
    case 'parser':  // one piece, and pieces of 7, 29 and 3 bytes
      return sharedResponses().flatMap((s) => [{ name: `1-${s.name}`, data: '\x00' + s.data },
        { name: `3-${s.name}`, data: '\x03\x07\x1d\x03' + s.data }]);
    case 'fetch':
      return sharedResponses().filter((s) => s.data.includes(' FETCH ('))
        .map((s) => ({ name: s.name, data: s.data.slice(s.data.indexOf(' FETCH (') + 7) }));
    case 'mime':
      return emls;
    case 'rfc2047':  // the encoded header lines, as UTF-8 (charset byte 0)
      return emls.flatMap((e) => e.data.split(/\r?\n/).filter((l) => l.includes('=?'))
        .map((l, i) => ({ name: `${e.name}-${i}`, data: '\x00' + l })));
    default:
      return [];
  }
}

function writeSeeds(target) {
  const dir = path.join(build, 'seeds', target);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const s of generatedSeeds(target)) fs.writeFileSync(path.join(dir, s.name), s.data, 'latin1');
  return dir;
}

function stat(log, name) {
  const m = log.match(new RegExp(`stat::${name}:\\s+(\\d+)`));
  return m ? Number(m[1]) : null;
}

run('cmake', ['-S', '.', '-B', build, '-DIMAP_PUSH_FUZZ=ON', '-DCMAKE_CXX_COMPILER=clang++',
  '-DCMAKE_BUILD_TYPE=RelWithDebInfo']);
run('cmake', ['--build', build, '--parallel', '2', '--target', ...only.map((t) => `${t}_fuzz`)]);

const rows = [];
let failed = false;
for (const t of only) {
  const work = path.join(build, 'corpus', t);
  const artifacts = path.join(build, 'artifacts');
  fs.mkdirSync(work, { recursive: true });
  fs.mkdirSync(artifacts, { recursive: true });
  const inputs = [writeSeeds(t), path.join(root, 'fuzz', 'seeds', t), path.join(root, 'fuzz', 'regressions', t)]
    .filter((d) => fs.existsSync(d));
  const args = ['-print_final_stats=1', '-timeout=10', '-rss_limit_mb=2048', `-artifact_prefix=${artifacts}/${t}-`];
  if (MAX_LEN[t]) args.push(`-max_len=${MAX_LEN[t]}`);
  if (DICTS[t]) args.push(`-dict=${path.join(root, 'fuzz', `${DICTS[t]}.dict`)}`);
  if (replay) args.push('-runs=0');
  else {
    if (runs !== undefined) args.push(`-runs=${runs}`);
    if (runs === undefined || option('seconds')) args.push(`-max_total_time=${seconds}`);
  }
  // The work corpus comes first: libFuzzer adds what it finds there, never
  // to the seeds or the regressions.
  args.push(work, ...inputs);
  const bin = path.join(build, 'fuzz', `${t}_fuzz`);
  process.stdout.write(`\n$ ${path.relative(root, bin)} ${args.join(' ')}\n`);
  const started = Date.now();
  const r = spawnSync(bin, args, { cwd: root, encoding: 'latin1', maxBuffer: 1 << 28 });
  if (r.error) throw r.error;
  const elapsed = (Date.now() - started) / 1000;
  const log = r.stdout + r.stderr;
  fs.writeFileSync(path.join(build, `${t}.log`), log);
  const done = log.match(/#(\d+)\s+DONE\s+cov: (\d+) ft: (\d+)/);
  const row = { target: t, runs: stat(log, 'number_of_executed_units') ?? '-', cov: done ? Number(done[2]) : '-',
    ft: done ? Number(done[3]) : '-', seconds: elapsed.toFixed(0), result: r.status === 0 ? 'ok' : `CRASH (exit ${r.status ?? r.signal})` };
  rows.push(row);
  if (r.status !== 0) {
    failed = true;
    process.stdout.write(log.split('\n').slice(-60).join('\n') + '\n');
  } else {
    process.stdout.write(`${t}: ${row.runs} runs, cov ${row.cov}, ft ${row.ft}, ${row.seconds} s\n`);
  }
}

process.stdout.write('\n| target | runs | cov | ft | seconds | result |\n|---|---|---|---|---|---|\n');
for (const r of rows) process.stdout.write(`| ${r.target} | ${r.runs} | ${r.cov} | ${r.ft} | ${r.seconds} | ${r.result} |\n`);
if (failed) {
  process.stderr.write(`fuzz: a target crashed; inputs in ${path.relative(root, path.join(build, 'artifacts'))}/, logs in build-fuzz/<target>.log\n`);
  process.exit(1);
}
