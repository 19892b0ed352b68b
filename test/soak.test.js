'use strict';

// A short chaos soak with a fixed seed (soak/run.js; `npm run soak` is the long one): faults, app
// SIGKILLs and restarts from the stateFile, churn, then every append, flag change and expunge the
// writer made must have been reported, no duplicate within a run, fds back to baseline. As root the
// app runs in a network namespace and blackholes are among the faults (soak/netns.js); under CI a soak
// that cannot make them fails.

const path = require('path');
const fs = require('fs');
const os = require('os');
const { spawn } = require('child_process');
const { dovecotAvailable } = require('./support/dovecot');
const { check, blindWithin } = require('../soak/check');
const { missingPrivileges } = require('../soak/netns');

const describeDovecot = dovecotAvailable() ? describe : describe.skip;
const RUN = path.join(__dirname, '..', 'soak', 'run.js');

function runSoak(args, timeoutMs, onOut = () => {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RUN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      onOut(out, child);
    });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out });
    });
  });
}

describe('soak checker', () => {
  const writer = (ops = []) => ({
    appends: new Map([['<m1@x>', { a: 'a', f: 'INBOX', t: 0 }]]),
    ops,
  });
  const ev = (kind, t, extra = {}) => ({ kind, t, run: 1, inc: 1, a: 'a', f: 'INBOX', uid: 1, mid: '<m1@x>', flags: [], ...extra });
  const server = (flags) => new Map([['a|INBOX|1', { flags, mid: '<m1@x>' }]]);

  test('passes when everything was reported once', () => {
    const ops = [{ kind: 'flag', key: 'a|INBOX|1', start: 10, end: 20, ok: true, flags: ['\\Seen'] }];
    const events = [ev('new', 5), ev('flags', 30, { flags: ['\\Seen'] })];
    expect(check({ events, writer: writer(ops), server: server(['\\Seen']) }).violations).toEqual([]);
  });

  test('finds a lost message, a duplicate within a run, a lost flag change and a lost expunge', () => {
    const what = (r) => r.violations.map((v) => v.what);
    expect(what(check({ events: [], writer: writer(), server: server([]) }))).toContain('message never reported');
    expect(what(check({ events: [ev('new', 5), ev('new', 6)], writer: writer(), server: server([]) })))
      .toContain('newMessage twice within one run');
    // Across a restart a repeat is allowed, and counted.
    const r = check({ events: [ev('new', 5), ev('new', 6, { run: 2 })], writer: writer(), server: server([]) });
    expect(r.violations).toEqual([]);
    expect(r.stats.duplicatesAcrossRestarts).toBe(1);
    const flagOp = [{ kind: 'flag', key: 'a|INBOX|1', start: 10, end: 20, ok: true, flags: ['\\Seen'] }];
    expect(what(check({ events: [ev('new', 5)], writer: writer(flagOp), server: server(['\\Seen']) })))
      .toEqual(['flag change never reported', 'last reported flags differ from the server']);
    const gone = [{ kind: 'expunge', key: 'a|INBOX|1', start: 10, end: 20, ok: true }];
    expect(what(check({ events: [ev('new', 5)], writer: writer(gone), server: new Map() })))
      .toEqual(['expunge never reported', 'expunged message not reported deleted']);
  });

  // Found by the soak (seed 16): \Flagged added and removed 300 ms apart was never reported, and
  // need not be: Dovecot coalesces IDLE notifications over ~0.5 s, and a sync after a fault sees
  // only the unchanged result. A state that lasted long is still required.
  test('a flag state undone within the detection window need not be reported; a long-lived one must', () => {
    const flip = (gapMs) => [
      { kind: 'flag', key: 'a|INBOX|1', start: 10, end: 20, ok: true, flags: ['\\Flagged'] },
      { kind: 'flag', key: 'a|INBOX|1', start: 20 + gapMs, end: 30 + gapMs, ok: true, flags: [] },
    ];
    expect(check({ events: [ev('new', 5)], writer: writer(flip(300)), server: server([]) }).violations).toEqual([]);
    expect(check({ events: [ev('new', 5)], writer: writer(flip(60000)), server: server([]) }).violations.map((v) => v.what))
      .toEqual(['flag change never reported']); // the second one returns to the state last reported
  });

  // Found by the 10-minute soak with blackholes (seed 20261202): a flag state that lasted longer than
  // the window, but mostly while a blackhole hid every change, cannot be seen by anyone.
  test('time in a blackhole does not count towards a reverted flag state\'s lifetime', () => {
    const flip = [
      { kind: 'flag', key: 'a|INBOX|1', start: 10, end: 20, ok: true, flags: ['\\Flagged'] },
      { kind: 'flag', key: 'a|INBOX|1', start: 30020, end: 30030, ok: true, flags: [] },
    ];
    const run = (blind) => check({ events: [ev('new', 5)], writer: writer(flip), server: server([]), blind });
    expect(run([{ from: 1000, to: 26000 }]).violations).toEqual([]);
    expect(run([{ from: 1000, to: 26000 }]).stats.undoneUnseen).toEqual({ quick: 0, blackholed: 1 });
    // Too little of it hidden, or none: it lasted long enough to be seen.
    expect(run([{ from: 1000, to: 5000 }]).violations.map((v) => v.what)).toEqual(['flag change never reported']);
    expect(run([]).violations.map((v) => v.what)).toEqual(['flag change never reported']);
    // Overlapping windows count once.
    expect(blindWithin([{ from: 0, to: 10 }, { from: 5, to: 20 }, { from: 30, to: 40 }], 2, 35)).toBe(23);
  });
});

describeDovecot('chaos soak (short, fixed seed)', () => {
  test('40 s, 4 accounts x 2 folders, seed 4982: no violation', async () => {
    const json = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-soak-test-')), 'summary.json');
    const { code, signal, out } = await runSoak(['--duration', '40s', '--seed', '4982', '--accounts', '4',
      '--folders', '2', '--json', json], 240000);
    if (code !== 0) console.log(out);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    const summary = JSON.parse(fs.readFileSync(json, 'utf8'));
    fs.rmSync(path.dirname(json), { recursive: true, force: true });
    expect(summary.violations).toEqual([]);
    const rows = Object.fromEntries(summary.rows);
    // The run did real work: mail was written and reported, and faults happened.
    expect(rows['messages appended']).toBeGreaterThan(50);
    expect(rows['messages reported']).toBe(rows['messages appended']);
    // Seed 4982 was picked because its first 35 s hold every kind of process, token and blackhole
    // fault, among them a 35.7 s blackhole of everything from 3.3 s, longer than the soak's IDLE
    // liveness check (15 s + 4 s).
    for (const kind of ['cut', 'halfClose', 'stall', 'slow', 'churn', 'dovecotKill', 'appKill', 'appRestart',
      'tokenReject', 'tokenHang', 'tokenExpired', 'blackhole', 'blackholeAll']) {
      expect([kind, rows[`fault: ${kind}`]]).toEqual([kind, expect.any(Number)]);
      expect([kind, rows[`fault: ${kind}`] > 0]).toEqual([kind, true]);
    }
    expect(rows['app runs (process starts)']).toBeGreaterThanOrEqual(3);
    const holes = rows['blackholed conns: noticed / outlasted'];
    if (missingPrivileges()) {
      expect(holes).toMatch(/^off \(/);
    } else {
      // Connections really were held, and the engine gave up on some of them while they were.
      const [, conns, noticed] = /^(\d+): (\d+) \/ (\d+)$/.exec(holes).map(Number);
      expect(conns).toBeGreaterThan(0);
      expect(noticed).toBeGreaterThan(0);
    }
  }, 300000);

  const describeRoot = missingPrivileges() ? describe.skip : describe;
  describeRoot('as root', () => {
    test('SIGINT in the middle of a soak tears down its network namespace and veth', async () => {
      let ns = null;
      const { code, out } = await runSoak(['--duration', '60s', '--seed', '4982', '--accounts', '2', '--folders', '1'], 120000,
        (text, child) => {
          const m = /app in netns (\S+)/.exec(text);
          // Once the app is up and the first faults ran.
          if (m && !ns && /soak: blackholes on/.test(text)) {
            ns = m[1];
            setTimeout(() => child.kill('SIGINT'), 8000);
          }
        });
      expect([code, ns]).toEqual([130, expect.stringMatching(/^imapsoak-\d+$/)]);
      expect(out).toContain('soak: SIGINT, cleaning up');
      const { execFileSync } = require('child_process');
      expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(ns);
      expect(execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' })).not.toContain(`isk${ns.split('-')[1]}h`);
    }, 150000);
  });
});
