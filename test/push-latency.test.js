'use strict';

// newMessage's pushLatencyMs, measured in the engine: from the untagged EXISTS
// read off the socket to the event handed to JS. It is checked against what
// this test can measure around it (from just before the mock server writes
// EXISTS to the listener), never against a fixed speed.

const { MailEngine } = require('..');
const { MockImapServer } = require('imap-push/testing');
const { waitForEvent, waitUntil } = require('./support/wait');

describe('pushLatencyMs', () => {
  let server;
  let engine;

  async function start(serverOpts = {}, engineOpts = {}) {
    server = new MockImapServer({ users: { alice: 'pw-latency' }, ...serverOpts });
    await server.listen();
    engine = new MailEngine({ reconnect: { initialDelayMs: 50, maxDelayMs: 200 }, ...engineOpts });
    // Without QRESYNC the account's first sync runs once it is watched: a message
    // appended before that sync's SELECT would be the sync's find, not a push.
    const synced = waitForEvent(engine, 'syncCompleted');
    await engine.addAccount({
      id: 'acc', host: '127.0.0.1', port: server.port, tls: 'none', allowInsecureAuth: true, user: 'alice', pass: 'pw-latency',
    });
    await synced;
  }

  afterEach(async () => {
    if (engine) await engine.close();
    if (server) await server.close();
    engine = server = null;
  });

  // Appends one message and returns its event and the time from the append to the event.
  async function pushed(subject) {
    const got = waitForEvent(engine, 'newMessage', (e) => e.envelope.subject === subject);
    const t0 = performance.now();
    server.appendMessage('INBOX', { subject });
    const e = await got;
    return { e, outer: performance.now() - t0 };
  }

  test('a message pushed by IDLE carries it: non-negative and within the time the test saw', async () => {
    await start();
    const measured = [];
    for (let i = 0; i < 5; i++) {
      const { e, outer } = await pushed(`push ${i}`);
      expect(typeof e.pushLatencyMs).toBe('number');
      expect(e.pushLatencyMs).toBeGreaterThanOrEqual(0);
      expect(e.pushLatencyMs).toBeLessThanOrEqual(outer);
      measured.push(`${e.pushLatencyMs.toFixed(2)}/${outer.toFixed(2)}`);
    }
    console.log(`pushLatencyMs / append-to-event ms (mock server, loopback): ${measured.join(' ')}`);
  });

  test('it includes the preview fetch when the account asks for one', async () => {
    await start({}, { notifications: { preview: 20 } });
    const { e, outer } = await pushed('with preview');
    expect(e.preview).toBeDefined();
    expect(e.pushLatencyMs).toBeGreaterThanOrEqual(0);
    expect(e.pushLatencyMs).toBeLessThanOrEqual(outer);
  });

  test('mail found by the catch-up after a reconnect claims no push latency', async () => {
    await start();
    const down = waitForEvent(engine, 'connectionStatus', (e) => e.previous === 'idle');
    server.dropAll();
    await down;
    // Appended while no session is selected: only the catch-up fetch after SELECT finds it.
    server.appendMessage('INBOX', { subject: 'while away' });
    const e = await waitForEvent(engine, 'newMessage', (m) => m.envelope.subject === 'while away');
    expect(e).not.toHaveProperty('pushLatencyMs');
    // And the next push, on the new connection, has one again.
    await waitUntil(() => engine.status('acc').folders[0].state === 'idle', 10000, 'INBOX idle again');
    const { e: next } = await pushed('after reconnect');
    expect(next.pushLatencyMs).toBeGreaterThanOrEqual(0);
  });

  test('a polled folder (no IDLE) claims none: polling is not push', async () => {
    server = new MockImapServer({ users: { alice: 'pw-latency' } });
    server.setCapability('IDLE', false);
    await server.listen();
    engine = new MailEngine({ idle: { pollMs: 50 } });
    const synced = waitForEvent(engine, 'syncCompleted');
    await engine.addAccount({ id: 'acc', host: '127.0.0.1', port: server.port, tls: 'none', allowInsecureAuth: true, user: 'alice', pass: 'pw-latency' });
    await synced;
    const { e } = await pushed('polled');
    expect(e).not.toHaveProperty('pushLatencyMs');
  });

  test('messages listed by messages() carry none', async () => {
    await start();
    await pushed('first');
    // The mock server runs a SEARCH on its session's view before telling it of new
    // mail, so a pooled connection may list it only from its next command on.
    let listed = [];
    await waitUntil(async () => {
      listed = [];
      for await (const m of engine.messages('acc', 'INBOX')) listed.push(m);
      return listed.length === 1;
    }, 5000, 'messages() to list the message');
    expect(listed[0]).not.toHaveProperty('pushLatencyMs');
  });
});
