'use strict';

// The mailbox-actions benchmark still runs, tiny: it must finish and count
// what it should. Its timings are printed, never checked here.

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { dovecotAvailable } = require('./support/dovecot');

const ROOT = path.join(__dirname, '..');
const withDovecot = dovecotAvailable() ? test : test.skip;

function runNode(args) {
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 240000 });
  expect(r.error).toBeUndefined();
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r;
}

withDovecot('actions: the raw socket and both clients flag, move, search and page a Dovecot mailbox, and every count is checked', () => {
  const r = runNode(['bench/actions.js', '--messages', '200', '--batch', '40', '--page-batch', '30', '--runs', '1']);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  expect(out.expected).toEqual({ unseen: 20, subject: 20, all: 200 });
  for (const client of ['raw', 'imap-push', 'imapflow']) {
    const [s] = out.samples[client];
    expect(s.page.count).toBe(200);
    // getrusage's KiB turned into bytes; the raw socket runs in the parent and has none of its own.
    if (client !== 'raw') expect(s.page.maxRss).toBeGreaterThan(s.rssBeforePage / 2);
    expect(s.search).toMatchObject({ unseen: { count: 20 }, subject: { count: 20 }, all: { count: 200 } });
    expect(s.flag.count).toBe(40);
    expect(s.move.count).toBe(40);
  }
}, 250000);

withDovecot('bench/run.js --only actions writes its block, with the envelope comparison, next to the text around it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-bench-actions-'));
  const file = path.join(dir, 'BENCH.md');
  try {
    fs.writeFileSync(file, '# Benchmarks\n\nHand-written notes stay.\n');
    runNode(['bench/run.js', '--quick', '--only', 'actions', '--out', file]);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toMatch(/Hand-written notes stay\./);
    expect(text).toMatch(/<!-- bench\/run\.js actions: generated[^]*## Mailbox actions[^]*<!-- bench\/run\.js actions: end -->/);
    expect(text).toMatch(/\| flag 300: one call/);
    expect(text).toMatch(/`messages\(\)` against the envelope fetch of this session/);
    expect(text).not.toMatch(/not measured|no complete run/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 250000);
