'use strict';

// The benchmarks still run (a small version of each). Nothing here times
// anything: the numbers are printed, never asserted.

const { spawnSync } = require('child_process');
const path = require('path');

const ROOT = path.join(__dirname, '..');

test('bench/run.js --quick runs every main section and prints its tables', () => {
  const r = spawnSync(process.execPath, ['bench/run.js', '--quick', '--only', 'parser,latency,sync', '--no-write'], {
    cwd: ROOT, encoding: 'utf8', timeout: 240000,
  });
  const out = `${r.stdout}\n${r.stderr}`;
  expect(r.error).toBeUndefined();
  expect(r.status).toBe(0);
  expect(out).toMatch(/Parser throughput/);
  expect(out).toMatch(/Push latency/);
  expect(out).toMatch(/No-change sync/);
  expect(out).not.toMatch(/not measured/);
}, 250000);

test('bench/parse.js compares parseMessage with the JS parsers', () => {
  const r = spawnSync(process.execPath, ['bench/parse.js', '--quick'], { cwd: ROOT, encoding: 'utf8', timeout: 240000 });
  expect(r.status).toBe(0);
  expect(`${r.stdout}`).toMatch(/postal-mime/);
}, 250000);

// The other benchmarks, tiny: each must run to the end and count what it
// should. Their timings are printed by the scripts, never checked here.
function lastJson(args, env = process.env) {
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 180000, env });
  expect(r.error).toBeUndefined();
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const { dovecotAvailable } = require('./support/dovecot');
const withDovecot = dovecotAvailable() ? test : test.skip;

test('scale: N idle TLS connections come up against the C++ scale server', () => {
  const out = lastJson(['bench/scale.js', '--client', 'imap-push', '--n', '50', '--idle-ms', '1000', '--quick']);
  expect(out.runs[0]).toMatchObject({ connected: 50, failed: 0 });
}, 200000);

test('lag: the event-loop probe runs while ~1,000 events/s arrive', () => {
  const out = lastJson(['bench/lag.js', '--seconds', '2']);
  expect(out.receivedTotal).toBe(out.appended);
  expect(out.lagMs.n).toBeGreaterThan(0);
}, 200000);

withDovecot('envelope: raw socket, imap-push and ImapFlow each fetch every envelope from Dovecot', () => {
  const out = lastJson(['--expose-gc', 'bench/envelope.js', '--messages', '300', '--runs', '1']);
  for (const client of ['raw', 'imap-push', 'imapflow']) expect(out.samples[client][0].count).toBe(300);
}, 200000);

withDovecot('latency against Dovecot: each delivered message arrives', () => {
  const out = lastJson(['bench/latency-extra.js', '--server', 'dovecot', '--messages', '3', '--warmup', '1']);
  expect(out.latencyMs.n).toBe(3);
}, 200000);
