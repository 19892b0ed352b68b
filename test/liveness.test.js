'use strict';

// Dead-connection detection that needs no network tricks: a server process
// that stops answering while its kernel still ACKs (the IMAP-level liveness
// check), traffic that keeps the check quiet, and the options that steer it.
// The blackhole (packets dropped) is test/blackhole.test.js.

const { MailEngine } = require('..');
const { ScriptServer } = require('./support/script-server');
const { waitForEvent, recordEvents, waitUntil, sleep } = require('./support/wait');

/**
 * A one-folder IMAP server. `hooks.idle(conn, tag)` runs when IDLE arrives
 * (after '+ idling' was sent); once `hung` is set nothing is answered, not
 * even DONE, LOGOUT or NOOP: the process is stuck, the socket stays open.
 */
function imapServer({ caps = 'IMAP4rev1 IDLE AUTH=PLAIN SASL-IR', idle = () => {} } = {}) {
  const state = { hung: false, dones: [], noops: 0, idlers: new Set() };
  const server = new ScriptServer((line, c) => {
    if (state.hung) return;
    const [tag, verb = ''] = line.split(' ');
    const cmd = verb.toUpperCase();
    if (line === 'DONE') {
      state.dones.push(Date.now());
      c.send(`${c.idleTag} OK idle done`);
    } else if (cmd === 'CAPABILITY') {
      c.send(`* CAPABILITY ${caps}`, `${tag} OK`);
    } else if (cmd === 'AUTHENTICATE') {
      c.send(`${tag} OK logged in`);
    } else if (cmd === 'SELECT') {
      c.send('* 0 EXISTS', '* OK [UIDVALIDITY 7] ok', '* OK [UIDNEXT 1] ok', `${tag} OK [READ-WRITE] selected`);
    } else if (cmd === 'IDLE') {
      c.idleTag = tag;
      state.idlers.add(c);
      c.send('+ idling');
      idle(c, tag);
    } else if (cmd === 'NOOP') {
      state.noops += 1;
      c.send(`${tag} OK`);
    } else if (cmd === 'LOGOUT') {
      c.send('* BYE bye', `${tag} OK`);
    } else {
      c.send(`${tag} OK`);
    }
  }, { greeting: `* OK [CAPABILITY ${caps}] ready` });
  return { server, state };
}

describe('liveness while idling', () => {
  let server;
  let engine;
  let events;
  const timers = [];

  afterEach(async () => {
    for (const t of timers.splice(0)) clearInterval(t);
    if (engine) await engine.close();
    if (server) await server.close();
    engine = server = events = null;
  });

  async function start(script, engineOptions) {
    ({ server } = script);
    await server.listen();
    engine = new MailEngine({ reconnect: { initialDelayMs: 50, maxDelayMs: 200 }, ...engineOptions });
    events = recordEvents(engine);
    await engine.addAccount({
      id: 'live', host: '127.0.0.1', port: server.port, tls: 'none', allowInsecureAuth: true, user: 'u', pass: 'secret-pw',
    });
  }

  test('a hung server (socket open, nothing answered) is noticed within livenessMs + doneTimeoutMs', async () => {
    const script = imapServer();
    await start(script, { idle: { livenessMs: 800, doneTimeoutMs: 400 } });
    const hungAt = Date.now();
    script.state.hung = true;
    const down = await waitForEvent(engine, 'connectionStatus', (e) => e.state !== 'idle' && e.error, 10000);
    expect(down).toMatchObject({ previous: 'idle', state: 'disconnected', error: { code: 'TIMEOUT' } });
    expect(down.error.message).toMatch(/did not end IDLE/);
    // Not before the server was silent for livenessMs, plus the DONE timeout.
    expect(Date.now() - hungAt).toBeGreaterThanOrEqual(800 + 400 - 50);
    expect(server.lines.filter((l) => l.line === 'DONE')).toHaveLength(1);
    expect(JSON.stringify(events)).not.toContain('secret-pw');

    // Back to life: the engine reconnects on its own.
    script.state.hung = false;
    for (const s of server.sockets) s.destroy();
    await waitForEvent(engine, 'connectionStatus', (e) => e.state === 'idle', 10000);
  });

  test('a quiet but healthy server gets DONE + IDLE every livenessMs and stays watched', async () => {
    const script = imapServer();
    await start(script, { idle: { livenessMs: 300 } });
    await waitUntil(() => script.state.dones.length >= 3, 10000, 'three liveness checks');
    expect(events.of('idleRefreshed').length).toBeGreaterThanOrEqual(2);
    // Each check was answered: no error, one IDLE connection all along.
    expect(events.of('connectionStatus').filter((e) => e.error)).toEqual([]);
    expect(script.state.idlers.size).toBe(1);
    const gaps = script.state.dones.slice(1).map((t, i) => t - script.state.dones[i]);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(250);
  });

  test("server traffic such as Dovecot's '* OK Still here' resets the timer; silence then triggers the check", async () => {
    let chatty = true;
    const script = imapServer({
      idle: (c) => {
        const t = setInterval(() => {
          if (chatty && !c.socket.destroyed) c.send('* OK Still here');
        }, 100);
        timers.push(t);
      },
    });
    await start(script, { idle: { livenessMs: 600 } });
    await sleep(2000);
    // Over three liveness windows passed, but the server was never silent for one.
    expect(script.state.dones).toEqual([]);
    expect(engine.status('live').folders[0]).toMatchObject({ state: 'idle' });

    const quietFrom = Date.now();
    chatty = false;
    await waitUntil(() => script.state.dones.length >= 1, 10000, 'the liveness DONE');
    expect(script.state.dones[0] - quietFrom).toBeGreaterThanOrEqual(600 - 150);
    expect(events.of('connectionStatus').filter((e) => e.error)).toEqual([]);
  });

  test('livenessMs: 0 turns the check off (only the refresh ends IDLE)', async () => {
    const script = imapServer();
    await start(script, { idle: { livenessMs: 0, refreshMs: 1500 } });
    await sleep(1000);
    expect(script.state.dones).toEqual([]);
    await waitUntil(() => script.state.dones.length >= 1, 10000, 'the refresh DONE');
  });

  test('without IDLE, a server that stops answering NOOP is noticed by the command timeout', async () => {
    const script = imapServer({ caps: 'IMAP4rev1 AUTH=PLAIN SASL-IR' });
    await start(script, { idle: { pollMs: 200 }, timeouts: { commandMs: 500 } });
    await waitUntil(() => script.state.noops >= 1, 10000, 'a poll');
    script.state.hung = true;
    const down = await waitForEvent(engine, 'connectionStatus', (e) => e.error, 10000);
    expect(down).toMatchObject({ previous: 'idle', state: 'disconnected', error: { code: 'TIMEOUT' } });
  });
});

describe('keepalive and liveness options', () => {
  test.each([
    [{ idle: { livenessMs: -1 } }, 'idle.livenessMs'],
    [{ idle: { livenessMs: 1.5 } }, 'idle.livenessMs'],
    [{ keepalive: { idleMs: 500 } }, 'keepalive.idleMs'],
    [{ keepalive: { idleMs: 32768 * 1000 } }, 'keepalive.idleMs'],
    [{ keepalive: { intervalMs: 0 } }, 'keepalive.intervalMs'],
    [{ keepalive: { count: 0 } }, 'keepalive.count'],
    [{ keepalive: { count: 128 } }, 'keepalive.count'],
    [{ keepalive: { probes: 3 } }, 'keepalive.probes'],
    [{ keepalive: 15000 }, 'keepalive'],
  ])('%j is a TypeError naming %s', (options, name) => {
    let err;
    try {
      new MailEngine(options);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TypeError);
    expect(err.option).toBe(name);
    expect(err.message).toContain(name);
  });

  test('defaults keep a silent peer under the 60 s bound; accounts may override', () => {
    const { normalizeEngineOptions, normalizeAccount } = require('../lib/options');
    const engineOpts = normalizeEngineOptions({ keepalive: { count: 4 } });
    expect(engineOpts.keepalive).toEqual({ idleMs: 15000, intervalMs: 5000, count: 4 });
    expect(engineOpts.idle.livenessMs).toBe(240000);
    const { keepalive } = normalizeEngineOptions({});
    expect(keepalive.idleMs + keepalive.intervalMs * keepalive.count).toBeLessThanOrEqual(30000);
    const acc = normalizeAccount({ id: 'a', host: 'h', user: 'u', pass: 'p', keepalive: { idleMs: 0 }, idle: { livenessMs: 0 } }, engineOpts);
    expect(acc.keepalive).toEqual({ idleMs: 0, intervalMs: 5000, count: 4 });
    expect(acc.idle.livenessMs).toBe(0);
  });
});
