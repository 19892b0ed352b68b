'use strict';

// The benchmarks still run (a small version of each). Nothing here times
// anything: the numbers are printed, never asserted.

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
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

test('bench/run.js --quick writes the push, envelope, lag and mime blocks next to hand-written text', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-bench-out-'));
  const out = path.join(dir, 'BENCH.md');
  try {
    fs.writeFileSync(out, '# Benchmarks\n\nHand-written notes stay.\n');
    const r = spawnSync(process.execPath, ['bench/run.js', '--quick', '--only', 'push,envelope,lag,mime', '--out', out], {
      cwd: ROOT, encoding: 'utf8', timeout: 400000,
    });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
    const text = fs.readFileSync(out, 'utf8');
    expect(text).toMatch(/Hand-written notes stay\./);
    for (const heading of [/## Push latency with 10,000 idle connections/, /## Envelope fetch throughput/, /## JS event-loop lag/,
      /## MIME parsing: parseMessage vs postal-mime/]) {
      expect(text).toMatch(heading);
    }
    expect(text).toMatch(/ImapFlow/);
    expect(text).not.toMatch(/not measured|no complete run/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 420000);

test('a generated block replaces its old version in place and keeps the text around it', () => {
  const { markers, writeBlock } = require('../bench/blocks');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-blocks-'));
  const file = path.join(dir, 'B.md');
  try {
    const a = markers('a');
    const b = markers('b');
    fs.writeFileSync(file, `# T\n\n${a.begin}\nold a\n${a.end}\n\nnotes\n`);
    writeBlock(file, b, `${b.begin}\nb1\n${b.end}`, a.end); // first time: right after block a
    writeBlock(file, a, `${a.begin}\nnew a\n${a.end}`);
    writeBlock(file, b, `${b.begin}\nb2\n${b.end}`, a.end);
    expect(fs.readFileSync(file, 'utf8')).toBe(`# T\n\n${a.begin}\nnew a\n${a.end}\n\n${b.begin}\nb2\n${b.end}\n\nnotes\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

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

test.each(['imap-push', 'imapflow'])('latency next to idle TLS connections (%s): every idle one reaches IDLE, each message arrives', (client) => {
  const out = lastJson(['bench/latency-extra.js', '--client', client, '--idle', '5', '--runs', '2', '--messages', '3', '--warmup', '1']);
  expect(out.idleInfo).toMatchObject({ failed: 0, serverConnections: 5, serverIdling: 5 });
  expect(out.runs.map((r) => r.n)).toEqual([3, 3]);
}, 200000);

withDovecot('latency against Dovecot: each delivered message arrives', () => {
  const out = lastJson(['bench/latency-extra.js', '--server', 'dovecot', '--runs', '2', '--messages', '3', '--warmup', '1']);
  expect(out.runs.map((r) => r.n)).toEqual([3, 3]);
  expect(out.samples).toHaveLength(6);
}, 200000);

const { redisAvailable } = require('./support/redis');
const withRedis = redisAvailable() ? test : test.skip;

withRedis('cluster: failover, throughput and memory on Redis with workers in processes; every gap message published', () => {
  const out = lastJson(['bench/cluster.js', '--scenario', 'core', '--workers', '2', '--accounts', '6', '--servers', '2', '--lease-ms', '2000',
    '--messages', '2', '--gap', '2']);
  expect(out.throughput).toMatchObject({ expected: 12, added: 12, complete: true, missing: 0 });
  expect(out.failover).toMatchObject({ allMoved: true, gapComplete: true, gapMissing: 0 });
  expect(out.failover.watchedMs.n).toBe(out.failover.held);
  expect(out.memory.afterMessages.keys.streamLength).toBeGreaterThanOrEqual(12);
}, 200000);

withRedis('cluster: one small simulation step settles and reports its ticks', () => {
  const out = lastJson(['bench/cluster.js', '--scenario', 'sim', '--workers', '3', '--accounts', '30', '--lease-ms', '3000', '--hold-ms', '3000',
    '--watch-limit-ms', '60000']);
  expect(out.watchedMs).not.toBeNull();
  expect(out.held).toMatchObject({ watched: 30, leased: 30, idling: 30 });
  expect(out.holdTicks.ticks).toBeGreaterThan(0);
  expect(out.throughput).toMatchObject({ expected: 30, added: 30, missing: 0 });
}, 200000);
