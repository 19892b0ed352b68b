'use strict';

// Leak check: many addAccount/removeAccount cycles on one engine, then many
// new MailEngine()/close() cycles, in this one process against the mock
// server. Open fds and threads must come back to their baseline and RSS must
// stay flat after a warm-up (the first fifth of the cycles). The suite runs a
// reduced size; `npm run leakcheck` runs the full one (LEAK_ACCOUNT_CYCLES=10000,
// LEAK_ENGINE_CYCLES=1000), also under ASan, where LeakSanitizer checks the
// native side at exit.

const fs = require('fs');
const { MailEngine } = require('..');
const { MockImapServer } = require('imap-push/testing');
const { waitUntil } = require('./support/wait');

const ACCOUNT_CYCLES = Number(process.env.LEAK_ACCOUNT_CYCLES || 1000);
const ENGINE_CYCLES = Number(process.env.LEAK_ENGINE_CYCLES || 100);
// ASan's quarantine and shadow memory grow RSS on their own; the sanitizer
// run widens this bound (scripts/sanitize.js), the fd and thread checks stay.
const RSS_GROWTH_MB = Number(process.env.LEAK_RSS_GROWTH_MB || 50);
const FD_SLACK = 5;

// With --expose-gc (the leakcheck run) garbage is collected first, so the
// JS heap's slack does not count as growth.
function sample() {
  if (global.gc) global.gc();
  return {
    fds: fs.readdirSync('/proc/self/fd').length,
    threads: fs.readdirSync('/proc/self/task').length,
    rssMb: Math.round(process.memoryUsage().rss / 1048576),
  };
}

function report(name, cycles, rows) {
  const line = Object.entries(rows).map(([at, s]) => `${at}: fds ${s.fds}, threads ${s.threads}, rss ${s.rssMb} MB${s.handles === undefined ? '' : `, uv handles ${s.handles}`}`);
  process.stdout.write(`leak check ${name} (${cycles} cycles): ${line.join('; ')}\n`);
}

function expectFlat(start, warm, end) {
  expect(end.fds).toBeLessThanOrEqual(start.fds + FD_SLACK);
  expect(end.threads).toBeLessThanOrEqual(start.threads);
  expect(end.rssMb - warm.rssMb).toBeLessThan(RSS_GROWTH_MB);
}

describe('leak check', () => {
  let server;
  beforeAll(async () => {
    server = new MockImapServer({ users: { u: 'p' } });
    await server.listen();
  });
  afterAll(async () => {
    await server.close();
  });
  const account = (id) => ({ id, host: '127.0.0.1', port: server.port, tls: 'none', allowInsecureAuth: true, user: 'u', pass: 'p' });
  const allClosed = () => waitUntil(() => server.connections === 0, 10000, 'the server to see every connection close');

  test(`${ACCOUNT_CYCLES} addAccount/removeAccount cycles: fds, threads and RSS flat`, async () => {
    const engine = new MailEngine();
    // One engine thread and its libuv threadpool exist from the first
    // account on; the baseline is taken with them running.
    await engine.addAccount(account('base'));
    await engine.removeAccount('base');
    await allClosed();
    const start = sample();
    // The engine loop's own open handles (async, check, timers, the pool's):
    // after the churn no more than at the start (a pool timer of the first
    // account may still be open then), or a session or connection leaked one.
    const handles = () => engine._native._loopHandles();
    start.handles = handles();
    expect(start.handles).toBeGreaterThan(0);
    let warm = null;
    for (let i = 0; i < ACCOUNT_CYCLES; i++) {
      const id = `a${i}`;
      await engine.addAccount(account(id));
      await engine.removeAccount(id);
      server.commandLog.length = 0; // the mock's own record would grow RSS
      if (i === Math.floor(ACCOUNT_CYCLES / 5)) warm = sample();
    }
    await allClosed();
    await waitUntil(() => handles() <= start.handles, 10000, `the loop's handles back to ${start.handles}`).catch(() => {});
    const end = sample();
    end.handles = handles();
    await engine.close();
    expect(engine._native._loopHandles()).toBe(-1);
    report('addAccount/removeAccount', ACCOUNT_CYCLES, { start, warm, end });
    expect(end.handles).toBeLessThanOrEqual(start.handles);
    expect(engine.status()).toEqual([]);
    expectFlat(start, warm, end);
  }, 30 * 60 * 1000);

  test(`${ENGINE_CYCLES} new MailEngine()/close() cycles: fds, threads and RSS flat`, async () => {
    const cycle = async (i) => {
      const engine = new MailEngine();
      await engine.addAccount(account(`e${i}`));
      await engine.close();
      server.commandLog.length = 0;
    };
    await cycle(-1);
    await allClosed();
    const start = sample();
    let warm = null;
    for (let i = 0; i < ENGINE_CYCLES; i++) {
      await cycle(i);
      if (i === Math.floor(ENGINE_CYCLES / 5)) warm = sample();
    }
    await allClosed();
    const end = sample();
    report('new MailEngine()/close()', ENGINE_CYCLES, { start, warm, end });
    expectFlat(start, warm, end);
  }, 30 * 60 * 1000);
});
