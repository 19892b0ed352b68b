'use strict';

const { MailEngine } = require('..');
const { MockImapServer } = require('imap-push/testing');
const { waitUntil } = require('./support/wait');

const PASSWORD = 'pw-SECRET-5f1c9e';
const TOKEN = 'tok-SECRET-8a7d2b';
const SUBJECT = 'subject-SECRET-33ab';

function capture() {
  const calls = [];
  const log = {};
  for (const level of ['debug', 'info', 'warn', 'error']) log[level] = (...args) => calls.push({ level, args });
  return { log, calls };
}

describe('logger option', () => {
  test.each([[42], ['x'], [{}], [{ info() {}, warn() {}, error() {} }]])('rejects %p with a TypeError naming logger', (logger) => {
    expect(() => new MailEngine({ logger })).toThrow(TypeError);
    expect(() => new MailEngine({ logger })).toThrow(/logger/);
  });
});

describe('logging a real session', () => {
  let server;
  let engine;
  afterEach(async () => {
    if (engine) await engine.close();
    if (server) await server.close();
    engine = null;
    server = null;
  });

  test('lifecycle, auth failure, token and sync are logged with fields, secrets never', async () => {
    server = new MockImapServer({ users: { alice: PASSWORD }, tokens: { bob: TOKEN } });
    await server.listen();
    const { log, calls } = capture();
    engine = new MailEngine({ logger: log, reconnect: { initialDelayMs: 50, maxDelayMs: 100 } });
    const base = { host: '127.0.0.1', port: server.port, tls: 'none', allowInsecureAuth: true };
    await engine.addAccount({ ...base, id: 'pw', user: 'alice', pass: PASSWORD });
    await engine.addAccount({ ...base, id: 'tok', user: 'bob', getAccessToken: async () => ({ accessToken: TOKEN, expiresAt: Date.now() + 3600e3 }) });
    await expect(engine.addAccount({ ...base, id: 'bad', user: 'alice', pass: `${PASSWORD}-wrong` })).rejects.toThrow();
    server.appendMessage('INBOX', { subject: SUBJECT, from: 'a@example.com', body: `body ${PASSWORD}` });
    await waitUntil(() => calls.some((c) => c.args[1] === 'newMessage'), 10000);
    const result = await engine.sync('pw');
    expect(result.ok).toBe(true);
    await engine.removeAccount('tok');

    const text = JSON.stringify(calls.map((c) => c.args));
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(SUBJECT);

    const find = (msg, fields) => calls.find((c) => c.args[1].startsWith(msg) && Object.entries(fields).every(([k, v]) => c.args[0][k] === v));
    expect(find('connection', { accountId: 'pw', folder: 'INBOX', state: 'idle' })).toMatchObject({ level: 'info' });
    expect(find('account ready', { accountId: 'pw' })).toBeTruthy();
    const failed = find('account failed', { accountId: 'bad' });
    expect(failed.level).toBe('error');
    expect(failed.args[0].code).toEqual(expect.any(String));
    expect(find('connection', { accountId: 'bad', state: 'error' })).toMatchObject({ level: 'warn' });
    expect(find('access token requested', { accountId: 'tok' })).toBeTruthy();
    expect(find('access token provided', { accountId: 'tok' })).toBeTruthy();
    expect(find('account removed', { accountId: 'tok' })).toBeTruthy();
    expect(find('sync completed', { accountId: 'pw', ok: true }).args[0].durationMs).toEqual(expect.any(Number));
    const msg = find('newMessage', { accountId: 'pw', folder: 'INBOX' });
    expect(msg.level).toBe('debug');
    expect(Object.keys(msg.args[0]).sort()).toEqual(['accountId', 'folder', 'uid']);
  }, 30000);

  test('a reconnect decision is logged with its attempt and delay, as the event carries them', async () => {
    server = new MockImapServer({ users: { alice: PASSWORD } });
    await server.listen();
    const { log, calls } = capture();
    engine = new MailEngine({ logger: log, reconnect: { initialDelayMs: 50, factor: 2, maxDelayMs: 1000, jitter: 0 } });
    let synced = false;
    engine.on('syncCompleted', () => { synced = true; });
    await engine.addAccount({ host: '127.0.0.1', port: server.port, tls: 'none', allowInsecureAuth: true, id: 'r', user: 'alice', pass: PASSWORD });
    // addAccount resolves once IDLE runs, with the first sync still opening its pooled connection; a refusal
    // taken by that connect would leave the IDLE connection one retry short.
    await waitUntil(() => synced, 10000);
    const statuses = [];
    engine.on('connectionStatus', (s) => statuses.push(s));
    server.failNextConnections(2);
    server.dropAll();
    await waitUntil(() => statuses.some((s) => s.state === 'idle'), 10000);
    const retries = statuses.filter((s) => s.attempt !== undefined).map((s) => [s.state, s.attempt, s.retryInMs]);
    // The drop, then two refused connects: 50, 100, 200 ms (factor 2, no jitter).
    expect(retries).toEqual([['disconnected', 1, 50], ['disconnected', 2, 100], ['disconnected', 3, 200]]);
    expect(statuses.filter((s) => s.attempt === undefined).every((s) => s.retryInMs === undefined)).toBe(true);
    const logged = calls.filter((c) => c.args[0].accountId === 'r' && c.args[0].attempt !== undefined)
      .map((c) => [c.level, c.args[0].state, c.args[0].attempt, c.args[0].retryInMs]);
    expect(logged).toEqual([['warn', 'disconnected', 1, 50], ['warn', 'disconnected', 2, 100], ['warn', 'disconnected', 3, 200]]);
  }, 30000);

  test('protocol errors (a malformed line, a BYE) are records with accountId and code; what the line held is not', async () => {
    server = new MockImapServer({ users: { alice: PASSWORD } });
    await server.listen();
    const { log, calls } = capture();
    engine = new MailEngine({ logger: log, reconnect: { initialDelayMs: 50, maxDelayMs: 100, jitter: 0 } });
    await engine.addAccount({ host: '127.0.0.1', port: server.port, tls: 'none', allowInsecureAuth: true, id: 'pe', user: 'alice', pass: PASSWORD });
    const idle = () => engine.status('pe').folders.every((f) => f.state === 'idle');
    const record = (code) => calls.find((c) => c.args[0].code === code);

    // Unbalanced parentheses after a string holding a subject and the password.
    server.injectRaw(`* 1 FETCH (UID 1 BODY[HEADER.FIELDS (SUBJECT)] "Subject: ${SUBJECT} ${PASSWORD}")))))\r\n`);
    await waitUntil(() => record('PROTOCOL_ERROR'), 10000, 'a PROTOCOL_ERROR record');
    await waitUntil(idle, 10000, 'idle again');
    const malformed = record('PROTOCOL_ERROR');
    expect(malformed.args[0]).toMatchObject({
      accountId: 'pe', folder: 'INBOX', state: 'disconnected', previous: 'idle', code: 'PROTOCOL_ERROR',
      error: expect.stringMatching(/malformed/), attempt: 1, retryInMs: 50,
    });
    expect(malformed.args[1]).toBe('connection idle -> disconnected');
    expect(malformed.level).toBe('warn');

    server.byeAll('going away');
    await waitUntil(() => record('SERVER_BYE'), 10000, 'a SERVER_BYE record');
    await waitUntil(idle, 10000, 'idle after the BYE');
    expect(record('SERVER_BYE').args[0]).toMatchObject({ accountId: 'pe', folder: 'INBOX', code: 'SERVER_BYE', attempt: 1 });

    const text = JSON.stringify(calls.map((c) => c.args));
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(SUBJECT);
  }, 30000);

  test('console is adapted to (message, fields)', async () => {
    server = new MockImapServer({ users: { alice: PASSWORD } });
    await server.listen();
    const spy = jest.spyOn(console, 'info').mockImplementation(() => {});
    try {
      engine = new MailEngine({ logger: console });
      await engine.addAccount({ host: '127.0.0.1', port: server.port, tls: 'none', allowInsecureAuth: true, id: 'c', user: 'alice', pass: PASSWORD });
      const ready = spy.mock.calls.find((args) => args[0] === 'imap-push: account ready');
      expect(ready[1]).toEqual({ accountId: 'c' });
      expect(JSON.stringify(spy.mock.calls)).not.toContain(PASSWORD);
      await engine.close();
    } finally {
      spy.mockRestore();
    }
  }, 30000);
});

describe('pino', () => {
  test('a real pino instance receives records through child()', async () => {
    const pino = require('pino');
    const lines = [];
    const stream = { write: (line) => lines.push(JSON.parse(line)) };
    const server = new MockImapServer({ users: { alice: PASSWORD } });
    await server.listen();
    const engine = new MailEngine({ logger: pino({ level: 'debug' }, stream) });
    try {
      await engine.addAccount({ host: '127.0.0.1', port: server.port, tls: 'none', allowInsecureAuth: true, id: 'p', user: 'alice', pass: PASSWORD });
      const ready = lines.find((l) => l.msg === 'account ready');
      expect(ready).toMatchObject({ lib: 'imap-push', accountId: 'p', level: 30 });
      expect(JSON.stringify(lines)).not.toContain(PASSWORD);
    } finally {
      await engine.close();
      await server.close();
    }
  }, 30000);
});
