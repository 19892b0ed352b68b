'use strict';

// The engine against the scriptable mock server: pushes, reconnects, faults.

const { MailEngine } = require('..');
const { MockImapServer } = require('imap-push/testing');
const { waitForEvent, recordEvents, waitUntil, sleep } = require('./support/wait');

const PASSWORD = 'pa"ss-wörd-\\-secret';

describe('engine against the mock server', () => {
  let server;
  let engine;
  let events;

  async function start(serverOpts = {}, engineOpts = {}) {
    server = new MockImapServer({ users: { alice: PASSWORD }, tokens: { alice: 'tok-123' }, ...serverOpts });
    await server.listen();
    engine = new MailEngine({ reconnect: { initialDelayMs: 50, maxDelayMs: 200 }, ...engineOpts });
    events = recordEvents(engine);
  }

  const account = (extra = {}) => ({
    id: 'acc',
    host: '127.0.0.1',
    port: server.port,
    tls: 'none',
    allowInsecureAuth: true,
    user: 'alice',
    pass: PASSWORD,
    ...extra,
  });

  afterEach(async () => {
    if (engine) await engine.close();
    if (server) {
      expect(server.errors).toEqual([]);
      await server.close();
    }
    // Credentials never appear in any event.
    if (events) {
      const dump = JSON.stringify(events, (k, v) => (v instanceof Error ? { ...v, message: v.message } : v));
      expect(dump).not.toContain('ss-w');
      expect(dump).not.toContain('tok-123');
    }
    engine = server = events = null;
  });

  test('reports each state change and resolves addAccount once idling', async () => {
    await start();
    const status = await engine.addAccount(account());
    expect(status).toEqual({
      accountId: 'acc',
      folders: [expect.objectContaining({ folder: 'INBOX', state: 'idle', mode: 'idle', uidValidity: 1700000000, uidNext: 1, lastError: null })],
    });
    expect(events.of('connectionStatus').map((e) => [e.previous, e.state])).toEqual([
      ['disconnected', 'connecting'], ['connecting', 'connected'], ['connected', 'authenticating'],
      ['authenticating', 'authenticated'], ['authenticated', 'idle'],
    ]);
    expect(server.clients()[0]).toMatchObject({ idling: true, mailbox: 'INBOX' });
    expect(engine.status()).toEqual([status]);
  });

  test('pushes new messages, flag changes and expunges', async () => {
    await start();
    await engine.addAccount(account());
    const uid = server.appendMessage('INBOX', {
      subject: '=?UTF-8?B?QnVjaHVuZyBiZXN0w6R0aWd0?=', from: '"Hotel" <hotel@example.com>', to: 'alice@example.com',
      messageId: '<b1@example.com>', flags: ['\\Seen'],
    });
    const msg = await waitForEvent(engine, 'newMessage');
    expect(msg).toMatchObject({ accountId: 'acc', folder: 'INBOX', uid, uidValidity: 1700000000, flags: ['\\Seen'] });
    expect(msg.envelope).toMatchObject({
      subject: 'Buchung bestätigt', from: [{ name: 'Hotel', address: 'hotel@example.com' }],
      to: [{ name: '', address: 'alice@example.com' }], messageId: '<b1@example.com>',
    });

    server.setFlags('INBOX', uid, ['\\Seen', '\\Flagged']);
    expect(await waitForEvent(engine, 'flagsChanged')).toMatchObject({ uid, seq: 1, flags: ['\\Seen', '\\Flagged'] });

    // A plain EXPUNGE names only a sequence number; the sync it triggers
    // finds the UID, so the event carries it.
    server.expunge('INBOX', uid);
    expect(await waitForEvent(engine, 'messageDeleted')).toMatchObject({ folder: 'INBOX', uid });
    expect(engine.status('acc').folders[0].exists).toBe(0);
    await sleep(300);
    expect(events.of('messageDeleted')).toHaveLength(1);
  });

  test('with QRESYNC, expunges arrive as VANISHED with UIDs', async () => {
    await start();
    server.setCapability('QRESYNC', true);
    await engine.addAccount(account());
    const uid = server.appendMessage('INBOX', { subject: 'x' });
    await waitForEvent(engine, 'newMessage');
    server.expunge('INBOX', uid);
    expect(await waitForEvent(engine, 'messageDeleted')).toMatchObject({ uid, seq: null });
  });

  test('a flag change without a UID is resolved to its UID before it is reported', async () => {
    await start();
    await engine.addAccount(account());
    const uid = server.appendMessage('INBOX', { subject: 'x' });
    await waitForEvent(engine, 'newMessage');
    server.mailbox('INBOX').messages[0].flags = ['\\Answered'];
    server.injectRaw('* 1 FETCH (FLAGS (\\Answered))\r\n');
    expect(await waitForEvent(engine, 'flagsChanged')).toMatchObject({ uid, seq: 1, flags: ['\\Answered'] });
  });

  test('a burst of mail is reported once each, in order', async () => {
    await start();
    await engine.addAccount(account());
    const uids = [];
    for (let i = 0; i < 50; i++) {
      uids.push(server.appendMessage('INBOX', { subject: `burst ${i}` }));
      if (i % 7 === 0) await sleep(1);
    }
    await waitUntil(() => events.of('newMessage').length >= 50, 10000, '50 messages');
    await sleep(200);
    expect(events.of('newMessage').map((e) => e.uid)).toEqual(uids);
  });

  test('mail that arrives during repeated drops is reported once after each reconnect', async () => {
    await start();
    await engine.addAccount(account());
    const expected = [];
    for (let round = 0; round < 3; round++) {
      expected.push(server.appendMessage('INBOX', { subject: `live ${round}` }));
      await waitUntil(() => events.of('newMessage').length === expected.length, 5000, 'the live message');
      const down = waitForEvent(engine, 'connectionStatus', (e) => e.state === 'disconnected');
      server.dropAll();
      expect((await down).error).toMatchObject({ code: 'CONNECTION_LOST' });
      expected.push(server.appendMessage('INBOX', { subject: `offline ${round}a` }));
      expected.push(server.appendMessage('INBOX', { subject: `offline ${round}b` }));
      await waitForEvent(engine, 'connectionStatus', (e) => e.state === 'idle');
      await waitUntil(() => events.of('newMessage').length === expected.length, 5000, 'the offline messages');
    }
    await sleep(200);
    expect(events.of('newMessage').map((e) => e.uid)).toEqual(expected);
  });

  test('BYE becomes a status change with SERVER_BYE, then a reconnect', async () => {
    await start();
    await engine.addAccount(account());
    const down = waitForEvent(engine, 'connectionStatus', (e) => e.state === 'disconnected');
    server.byeAll('maintenance');
    const st = await down;
    expect(st.error).toMatchObject({ code: 'SERVER_BYE' });
    expect(st.error.message).toContain('maintenance');
    await waitForEvent(engine, 'connectionStatus', (e) => e.state === 'idle');
    expect(engine.status('acc').folders[0].lastError).toMatchObject({ code: 'SERVER_BYE' });
  });

  test('a stalled server is detected by the DONE timeout and the engine reconnects after it recovers', async () => {
    await start({}, { idle: { refreshMs: 200, doneTimeoutMs: 300 }, timeouts: { connectMs: 400 } });
    await engine.addAccount(account());
    await waitForEvent(engine, 'idleRefreshed', () => true, 5000);
    server.stall();
    const down = await waitForEvent(engine, 'connectionStatus', (e) => e.state === 'disconnected', 5000);
    expect(down.error).toMatchObject({ code: 'TIMEOUT' });
    const uid = server.appendMessage('INBOX', { subject: 'while stalled' });
    server.unstall();
    await waitForEvent(engine, 'connectionStatus', (e) => e.state === 'idle', 5000);
    await waitUntil(() => events.of('newMessage').some((e) => e.uid === uid), 5000, 'the stalled message');
  });

  test('IDLE is re-issued every idle.refreshMs', async () => {
    await start({}, { idle: { refreshMs: 100 } });
    await engine.addAccount(account());
    await waitUntil(() => events.of('idleRefreshed').length >= 3, 5000, 'three refreshes');
    expect(server.commandLog.filter((c) => c.command === 'IDLE').length).toBeGreaterThanOrEqual(4);
    expect(events.of('connectionStatus').filter((e) => e.state !== 'idle')).toHaveLength(4);
  });

  test('without IDLE the folder is polled with NOOP and produces the same events', async () => {
    await start({}, { idle: { pollMs: 50 } });
    server.setCapability('IDLE', false);
    const status = await engine.addAccount(account());
    expect(status.folders[0]).toMatchObject({ state: 'idle', mode: 'poll' });
    const uid = server.appendMessage('INBOX', { subject: 'polled' });
    expect(await waitForEvent(engine, 'newMessage')).toMatchObject({ uid, envelope: expect.objectContaining({ subject: 'polled' }) });
    server.expunge('INBOX', uid);
    await waitForEvent(engine, 'messageDeleted');
    expect(server.commandLog.some((c) => c.command === 'NOOP')).toBe(true);
    expect(server.commandLog.some((c) => c.command === 'IDLE')).toBe(false);
  });

  test('a UIDVALIDITY change emits folderReset and sets a new baseline', async () => {
    await start();
    await engine.addAccount(account());
    server.appendMessage('INBOX', { subject: 'old' });
    await waitForEvent(engine, 'newMessage');
    const reset = waitForEvent(engine, 'folderReset');
    server.setUidValidity('INBOX', 1800000000);
    expect(await reset).toMatchObject({ accountId: 'acc', folder: 'INBOX', uidValidity: 1800000000 });
    await waitForEvent(engine, 'connectionStatus', (e) => e.state === 'idle');
    const uid = server.appendMessage('INBOX', { subject: 'new' });
    expect(await waitForEvent(engine, 'newMessage')).toMatchObject({ uid, uidValidity: 1800000000 });
    expect(events.of('newMessage')).toHaveLength(2);
  });

  describe('authentication', () => {
    // The password holds a non-ASCII letter, so LOGIN must send it as a literal.
    test.each([
      ['a synchronizing literal', ['IMAP4rev1', 'IDLE']],
      ['a LITERAL+ literal', ['IMAP4rev1', 'IDLE', 'LITERAL+']],
    ])('LOGIN sends the password as %s', async (_, capabilities) => {
      await start({ capabilities });
      await engine.addAccount(account());
      expect(server.commandLog.filter((c) => c.command === 'LOGIN')).toHaveLength(1);
      expect(server.loginAttempts).toBe(1);
    });

    test('AUTHENTICATE PLAIN without SASL-IR waits for the continuation', async () => {
      await start({ capabilities: ['IMAP4rev1', 'IDLE', 'AUTH=PLAIN'] });
      await engine.addAccount(account());
      expect(server.commandLog.find((c) => c.command === 'AUTHENTICATE').args).toMatch(/^PLAIN/);
    });

    test('XOAUTH2 with an access token', async () => {
      await start();
      await engine.addAccount(account({ pass: undefined, accessToken: 'tok-123' }));
      expect(server.commandLog.find((c) => c.command === 'AUTHENTICATE').args).toMatch(/^XOAUTH2/);
    });

    test('OAUTHBEARER when XOAUTH2 is not offered', async () => {
      await start();
      server.setCapability('AUTH=XOAUTH2', false);
      await engine.addAccount(account({ pass: undefined, accessToken: 'tok-123' }));
      expect(server.commandLog.find((c) => c.command === 'AUTHENTICATE').args).toMatch(/^OAUTHBEARER/);
    });

    test('a rejected token fails with AUTH_FAILED', async () => {
      await start();
      await expect(engine.addAccount(account({ pass: undefined, accessToken: 'wrong' }))).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    });

    test('a wrong password rejects addAccount with AUTH_FAILED after exactly one attempt', async () => {
      await start();
      const err = await engine.addAccount(account({ pass: 'nope-nope' })).catch((e) => e);
      expect(err).toMatchObject({ name: 'ImapPushError', code: 'AUTH_FAILED', accountId: 'acc' });
      await sleep(300);
      expect(server.loginAttempts).toBe(1);
      expect(engine.status('acc')).toBeNull();
    });

    test('an auth failure on reconnect goes to error with a long backoff, not a retry storm', async () => {
      await start({}, { reconnect: { initialDelayMs: 20, maxDelayMs: 50, authFailureDelayMs: 60000 } });
      await engine.addAccount(account());
      const before = server.loginAttempts;
      server.setAuthFail(true);
      server.dropAll();
      const st = await waitForEvent(engine, 'connectionStatus', (e) => e.state === 'error');
      expect(st.error).toMatchObject({ code: 'AUTH_FAILED' });
      await sleep(500);
      expect(server.loginAttempts - before).toBe(1);
      expect(engine.status('acc').folders[0]).toMatchObject({ state: 'error', lastError: { code: 'AUTH_FAILED', message: expect.any(String) } });
    });

    test('stopOnAuthFailure stops retrying', async () => {
      await start({}, { reconnect: { initialDelayMs: 20, maxDelayMs: 50, authFailureDelayMs: 0, stopOnAuthFailure: true } });
      await engine.addAccount(account());
      server.setAuthFail(true);
      server.dropAll();
      await waitForEvent(engine, 'connectionStatus', (e) => e.state === 'error');
      const attempts = server.loginAttempts;
      await sleep(300);
      expect(server.loginAttempts).toBe(attempts);
    });

    test('no password is sent over plaintext without allowInsecureAuth', async () => {
      await start();
      await expect(engine.addAccount(account({ allowInsecureAuth: false }))).rejects.toMatchObject({ code: 'INSECURE_AUTH' });
      expect(server.commandLog.filter((c) => c.command === 'LOGIN' || c.command === 'AUTHENTICATE')).toEqual([]);
    });
  });

  describe('TLS', () => {
    test('implicit TLS with the CA given', async () => {
      await start({ tls: 'implicit' });
      await engine.addAccount(account({ tls: 'implicit', tlsOptions: { ca: server.caPem }, allowInsecureAuth: false }));
      expect(server.commandLog.find((c) => c.command === 'AUTHENTICATE').plaintext).toBe(false);
    });

    test('a self-signed certificate is refused by default', async () => {
      await start({ tls: 'implicit' });
      const err = await engine.addAccount(account({ tls: 'implicit', allowInsecureAuth: false })).catch((e) => e);
      expect(err.code).toBe('TLS_FAILED');
      expect(err.message).toMatch(/certificate/);
      expect(server.loginAttempts).toBe(0);
    });

    test('rejectUnauthorized: false is an explicit opt-out', async () => {
      await start({ tls: 'implicit' });
      await engine.addAccount(account({ tls: 'implicit', tlsOptions: { rejectUnauthorized: false } }));
    });

    test('STARTTLS upgrades before any credential is sent', async () => {
      await start({ starttls: true });
      await engine.addAccount(account({ tls: 'starttls', tlsOptions: { ca: server.caPem }, allowInsecureAuth: false }));
      const log = server.commandLog.map((c) => [c.command, c.plaintext]);
      const starttls = log.findIndex(([c]) => c === 'STARTTLS');
      const auth = log.findIndex(([c]) => c === 'AUTHENTICATE' || c === 'LOGIN');
      expect(starttls).toBeGreaterThanOrEqual(0);
      expect(auth).toBeGreaterThan(starttls);
      expect(log[auth][1]).toBe(false);
    });

    test('STARTTLS that the server does not offer fails without authenticating', async () => {
      await start();
      const err = await engine.addAccount(account({ tls: 'starttls', allowInsecureAuth: true })).catch((e) => e);
      expect(err.code).toBe('TLS_FAILED');
      expect(err.message).toMatch(/STARTTLS/);
      expect(server.loginAttempts).toBe(0);
    });
  });

  describe('malformed input', () => {
    test('a malformed line becomes PROTOCOL_ERROR and a reconnect', async () => {
      await start();
      await engine.addAccount(account());
      const down = waitForEvent(engine, 'connectionStatus', (e) => e.state === 'disconnected');
      server.injectRaw('* 1 FETCH (UID 1 FLAGS (\\Seen)))))\r\n');
      expect((await down).error).toMatchObject({ code: 'PROTOCOL_ERROR' });
      await waitForEvent(engine, 'connectionStatus', (e) => e.state === 'idle');
    });

    test('a huge literal is refused without buffering it', async () => {
      await start();
      await engine.addAccount(account());
      const down = waitForEvent(engine, 'connectionStatus', (e) => e.state === 'disconnected');
      server.hugeLiteral(4 * 1024 * 1024 * 1024);
      const st = await down;
      expect(st.error).toMatchObject({ code: 'PROTOCOL_ERROR' });
      expect(st.error.message).toMatch(/literal/i);
      await waitForEvent(engine, 'connectionStatus', (e) => e.state === 'idle');
    });

    test('binary garbage does not crash the engine', async () => {
      await start();
      await engine.addAccount(account());
      const down = waitForEvent(engine, 'connectionStatus', (e) => e.state === 'disconnected');
      server.injectRaw(Buffer.from([0, 255, 13, 10, 42, 32, 0, 13, 10]));
      await down;
      await waitForEvent(engine, 'connectionStatus', (e) => e.state === 'idle');
    });

    test('a connection refused at the door rejects addAccount with a code', async () => {
      await start();
      server.failNextConnections(1);
      await expect(engine.addAccount(account())).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
      const closedPort = account({ id: 'closed' });
      await server.close();
      server = null;
      await expect(engine.addAccount(closedPort)).rejects.toMatchObject({ code: 'CONNECT_FAILED' });
    });
  });

  test('several accounts and folders share one engine', async () => {
    await start();
    server.createMailbox('Bookings');
    await Promise.all([
      engine.addAccount(account({ id: 'one', folders: ['INBOX', 'Bookings'] })),
      engine.addAccount(account({ id: 'two' })),
    ]);
    const idlers = () => server.clients().filter((c) => c.idling).length;
    expect(idlers()).toBe(3);
    server.appendMessage('Bookings', { subject: 'room 12' });
    const msg = await waitForEvent(engine, 'newMessage');
    expect(msg).toMatchObject({ accountId: 'one', folder: 'Bookings' });
    await engine.removeAccount('one');
    await waitUntil(() => idlers() === 1, 5000, 'account one to log out');
    expect(engine.status().map((s) => s.accountId)).toEqual(['two']);
    await expect(engine.addAccount(account({ id: 'two' }))).rejects.toMatchObject({ code: 'ACCOUNT_EXISTS' });
  });

  test('a folder that does not exist rejects with SELECT_FAILED', async () => {
    await start();
    await expect(engine.addAccount(account({ folders: ['INBOX', 'Nope'] }))).rejects.toMatchObject({ code: 'SELECT_FAILED', folder: 'Nope' });
    await waitUntil(() => server.connections === 0, 5000, 'all connections to close');
  });
});
