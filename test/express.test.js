'use strict';

// The Express router end to end: real engine, mock IMAP server, HTTP on
// loopback. Tenants only ever see and control their own accounts, errors have
// one JSON shape, and no response ever carries a credential.

const path = require('path');
const { spawn, spawnSync } = require('child_process');
const express = require('express');
const { MailEngine } = require('..');
const { createRouter } = require('../lib/express');
const { MockImapServer } = require('imap-push/testing');
const { waitForEvent, waitUntil } = require('./support/wait');
const { engineWithNotifier } = require('./support/notifier');
const { listen, client, openSse, authorize, as } = require('./support/http');

const ROOT = path.join(__dirname, '..');
const PASS_A = 'alice-Secret-pw-1';
const PASS_B = 'bob-Secret-pw-2';
const TOKEN = 'oauth-Secret-token-3';


describe('Express router', () => {
  let imap;
  let engine;
  let notifier;
  let router;
  let web;
  let api;
  const allBodies = [];

  const account = (id, user = 'alice', extra = {}) => ({
    id, host: '127.0.0.1', port: imap.port, tls: 'none', allowInsecureAuth: true, user, pass: user === 'alice' ? PASS_A : PASS_B, ...extra,
  });

  async function start(routerOptions = {}) {
    imap = new MockImapServer({ users: { alice: PASS_A, bob: PASS_B }, tokens: { alice: TOKEN } });
    await imap.listen();
    ({ engine, notifier } = engineWithNotifier({ reconnect: { initialDelayMs: 50, maxDelayMs: 200 } }));
    // The mock servers listen on loopback, which tenants may not reach unless the operator allows it.
    router = createRouter(engine, { authorize, notifier, heartbeatMs: 50, allowHosts: ['127.0.0.1'], ...routerOptions });
    const app = express();
    app.use('/imap', router);
    web = await listen(app);
    const c = client(`${web.base}/imap`);
    api = c.request;
    allBodies.push(c.bodies);
  }

  beforeEach(() => start());

  afterEach(async () => {
    router.close();
    await web.close();
    notifier.stop();
    await engine.close();
    await imap.close();
  });

  afterAll(() => {
    // Credentials never appear in any response of this file.
    const dump = allBodies.flat().join('\n');
    expect(dump.length).toBeGreaterThan(0);
    for (const secret of [PASS_A, PASS_B, TOKEN, 'Secret']) expect(dump).not.toContain(secret);
  });

  describe('authorization', () => {
    test('no credentials is 401, a refused caller is 403, both in the error shape', async () => {
      const none = await api('GET', '/idle/status');
      expect(none.status).toBe(401);
      expect(none.json).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
      const banned = await api('GET', '/idle/status', { headers: as('banned') });
      expect(banned.status).toBe(403);
      expect(banned.json.error.code).toBe('FORBIDDEN');
      expect(banned.text).not.toContain('banned tenant'); // the app's own error text is not echoed
      expect((await api('POST', '/idle/start', { body: account('a1') })).status).toBe(401);
      expect(engine.status()).toEqual([]);
    });

    test('authorize may be async', async () => {
      router.close();
      await web.close();
      router = createRouter(engine, { notifier, authorize: async (req) => authorize(req) });
      const app = express();
      app.use('/imap', router);
      web = await listen(app);
      const c = client(`${web.base}/imap`);
      allBodies.push(c.bodies);
      expect((await c.request('GET', '/idle/status', { headers: as('t1') })).json).toEqual({ accounts: [] });
      expect((await c.request('GET', '/idle/status')).status).toBe(401);
    });
  });

  describe('accounts', () => {
    test('start, status and stop an account', async () => {
      const started = await api('POST', '/idle/start', { headers: as('t1'), body: account('a1') });
      expect(started.status).toBe(201);
      expect(started.json).toEqual({ accountId: 'a1', folders: [expect.objectContaining({ folder: 'INBOX', state: 'idle' })] });

      const one = await api('GET', '/idle/status/a1', { headers: as('t1') });
      expect(one.status).toBe(200);
      // The engine knows the account under the router's key; the tenant, under its own id.
      const key = router.accountKey('t1', 'a1');
      expect(key).not.toBe('a1');
      expect(one.json).toEqual({ ...engine.status(key), accountId: 'a1' });
      expect((await api('GET', '/idle/status', { headers: as('t1') })).json).toEqual({ accounts: [{ ...engine.status(key), accountId: 'a1' }] });

      const stopped = await api('POST', '/idle/stop', { headers: as('t1'), body: { accountId: 'a1' } });
      expect(stopped).toMatchObject({ status: 200, json: { accountId: 'a1', stopped: true } });
      expect(engine.status()).toEqual([]);
      expect((await api('GET', '/idle/status/a1', { headers: as('t1') })).status).toBe(404);
      expect((await api('POST', '/idle/stop', { headers: as('t1'), body: { accountId: 'a1' } })).json.error.code).toBe('UNKNOWN_ACCOUNT');
    });

    test('tenants are isolated: another tenant\'s account is a 404, never a 403', async () => {
      expect((await api('POST', '/idle/start', { headers: as('t1'), body: account('a1') })).status).toBe(201);
      expect((await api('POST', '/idle/start', { headers: as('t2'), body: account('b1', 'bob') })).status).toBe(201);

      expect((await api('GET', '/idle/status', { headers: as('t1') })).json.accounts.map((a) => a.accountId)).toEqual(['a1']);
      expect((await api('GET', '/idle/status', { headers: as('t2') })).json.accounts.map((a) => a.accountId)).toEqual(['b1']);
      const peek = await api('GET', '/idle/status/b1', { headers: as('t1') });
      const missing = await api('GET', '/idle/status/nope', { headers: as('t1') });
      expect(peek.status).toBe(404);
      expect(peek.json).toEqual({ error: { code: 'UNKNOWN_ACCOUNT', message: "no account 'b1'" } });
      expect(missing.json).toEqual({ error: { code: 'UNKNOWN_ACCOUNT', message: "no account 'nope'" } });
      const stop = await api('POST', '/idle/stop', { headers: as('t1'), body: { accountId: 'b1' } });
      expect(stop.status).toBe(404);
      expect(engine.status(router.accountKey('t2', 'b1'))).not.toBeNull();
    });

    test('admins see every connection with its tenant; others get 403', async () => {
      await api('POST', '/idle/start', { headers: as('t1'), body: account('a1') });
      await engine.addAccount(account('direct', 'bob')); // added by the app, not through the router
      expect((await api('GET', '/idle/admin/all', { headers: as('t1') })).status).toBe(403);
      const all = await api('GET', '/idle/admin/all', { headers: as('ops', true) });
      expect(all.status).toBe(200);
      expect(all.json.accounts.map((a) => [a.accountId, a.tenant]).sort()).toEqual([['a1', 't1'], ['direct', null]]);
      expect((await api('GET', '/idle/status/direct', { headers: as('t1') })).status).toBe(404);
      router.assign('direct', 't1');
      expect((await api('GET', '/idle/status/direct', { headers: as('t1') })).status).toBe(200);
    });

    test('invalid input is a 400 that names the problem', async () => {
      const notObject = await api('POST', '/idle/start', { headers: as('t1'), body: ['x'] });
      expect(notObject).toMatchObject({ status: 400, json: { error: { code: 'INVALID_BODY' } } });
      const noId = await api('POST', '/idle/start', { headers: as('t1'), body: { host: 'x' } });
      expect(noId).toMatchObject({ status: 400, json: { error: { code: 'INVALID_OPTION', message: expect.stringContaining("'id'") } } });
      const badTls = await api('POST', '/idle/start', { headers: as('t1'), body: account('a1', 'alice', { tls: 'sometimes' }) });
      expect(badTls).toMatchObject({ status: 400, json: { error: { code: 'INVALID_OPTION', message: expect.stringContaining("'tls'") } } });
      const stopNoId = await api('POST', '/idle/stop', { headers: as('t1'), body: {} });
      expect(stopNoId).toMatchObject({ status: 400, json: { error: { code: 'INVALID_OPTION' } } });
      // A JSON syntax error message would quote the body, password included.
      const broken = await api('POST', '/idle/start', {
        headers: { ...as('t1'), 'content-type': 'application/json' }, raw: `{"id":"a1","pass":"${PASS_A}",`,
      });
      expect(broken).toMatchObject({ status: 400, json: { error: { code: 'INVALID_JSON' } } });
      expect(engine.status()).toEqual([]);
      // The failed attempts left no reservation behind.
      expect((await api('POST', '/idle/start', { headers: as('t2'), body: account('a1') })).status).toBe(201);
    });

    test('engine errors keep their code: AUTH_FAILED is 502, a taken id is 409', async () => {
      const bad = await api('POST', '/idle/start', { headers: as('t1'), body: account('a1', 'alice', { pass: `${PASS_A}-wrong` }) });
      expect(bad.status).toBe(502);
      expect(bad.json).toEqual({ error: { code: 'AUTH_FAILED', message: expect.any(String) } });
      const ok = await api('POST', '/idle/start', { headers: as('t1'), body: account('a1', 'alice', { pass: undefined, accessToken: TOKEN }) });
      expect(ok.status).toBe(201);
      const again = await api('POST', '/idle/start', { headers: as('t1'), body: account('a1') });
      expect(again).toMatchObject({ status: 409, json: { error: { code: 'ACCOUNT_EXISTS' } } });
      expect((await api('GET', '/idle/status', { headers: as('t1') })).json.accounts).toHaveLength(1);
      const refused = await api('POST', '/idle/start', { headers: as('t1'), body: account('c1', 'alice', { port: 1 }) });
      expect(refused).toMatchObject({ status: 502, json: { error: { code: 'CONNECT_FAILED' } } });
    });

    test('accountPolicy can refuse a configuration (e.g. hosts a tenant may not reach)', async () => {
      router.close();
      await web.close();
      router = createRouter(engine, { notifier, authorize, allowHosts: ['127.0.0.1'], accountPolicy: (acc, auth) => auth.admin || acc.host !== '127.0.0.1' });
      const app = express();
      app.use(router);
      web = await listen(app);
      const c = client(web.base);
      allBodies.push(c.bodies);
      expect(await c.request('POST', '/idle/start', { headers: as('t1'), body: account('a1') })).toMatchObject({ status: 403, json: { error: { code: 'FORBIDDEN' } } });
      expect((await c.request('POST', '/idle/start', { headers: as('t1', true), body: account('a1') })).status).toBe(201);
    });
  });

  describe('events (SSE)', () => {
    test('streams only the caller\'s notifications, with heartbeats, and unsubscribes on disconnect', async () => {
      await api('POST', '/idle/start', { headers: as('t1'), body: account('a1') });
      await api('POST', '/idle/start', { headers: as('t2'), body: account('b1', 'bob') });
      const baseline = notifier.health().listeners;
      const sse = await openSse(`${web.base}/imap/events`, as('t1'));
      expect(sse.status).toBe(200);
      expect(sse.headers['content-type']).toMatch(/^text\/event-stream/);
      await waitUntil(() => notifier.health().listeners === baseline + 1, 5000, 'the stream to subscribe');

      // Both accounts watch the same mock INBOX: both see the message, t1 only hears about a1.
      const both = Promise.all([['t1', 'a1'], ['t2', 'b1']].map((k) => waitForEvent(engine, 'newMessage', (m) => m.accountId === router.accountKey(...k))));
      const uid = imap.appendMessage('INBOX', { subject: 'Für t1 <script>x</script>', from: 'Hotel <h@example.com>' });
      await both;
      const got = await sse.waitFor((e) => e.event === 'newMessage', 'newMessage on the stream');
      expect(got.data).toMatchObject({ type: 'newMessage', accountId: 'a1', folder: 'INBOX', uid, envelope: { subject: 'Für t1 <script>x</script>' } });

      // A status change with an error: the error serializes as { code, message }.
      const down = waitForEvent(engine, 'connectionStatus', (e) => e.accountId === router.accountKey('t1', 'a1') && e.state === 'disconnected');
      imap.dropAll();
      await down;
      const drop = await sse.waitFor((e) => e.event === 'connectionStatus' && e.data.error, 'a connection error');
      expect(drop.data.error).toEqual({ code: 'CONNECTION_LOST', message: expect.any(String) });

      await waitUntil(() => sse.comments.includes('heartbeat'), 5000, 'a heartbeat');
      expect(sse.events.every((e) => e.data.accountId === 'a1')).toBe(true);

      sse.close();
      await waitUntil(() => notifier.health().listeners === baseline, 5000, 'the stream to unsubscribe');
    });

    test('requires authorization and ends when the router closes', async () => {
      const denied = await openSse(`${web.base}/imap/events`);
      expect(denied.status).toBe(401);
      const sse = await openSse(`${web.base}/imap/events`, as('t1'));
      await waitUntil(() => sse.comments.includes('connected'), 5000, 'the stream to open');
      router.close();
      await waitUntil(() => sse.ended, 5000, 'the stream to end');
    });
  });

  describe('health and metrics', () => {
    test('health is scoped to the caller\'s accounts; admins see all; 503 when unhealthy', async () => {
      await api('POST', '/idle/start', { headers: as('t1'), body: account('a1') });
      const other = new MockImapServer({ users: { bob: PASS_B } });
      await other.listen();
      try {
        await api('POST', '/idle/start', { headers: as('t2'), body: account('b1', 'bob', { port: other.port }) });
        const t1 = await api('GET', '/health', { headers: as('t1') });
        expect(t1.status).toBe(200);
        expect(t1.json).toMatchObject({ isHealthy: true, idleConnections: 1, accounts: [{ accountId: 'a1', state: 'idle' }] });

        const down = waitForEvent(engine, 'connectionStatus', (e) => e.accountId === router.accountKey('t2', 'b1') && e.state !== 'idle');
        await other.close();
        await down;
        expect((await api('GET', '/health', { headers: as('t1') })).status).toBe(200);
        const t2 = await api('GET', '/health', { headers: as('t2') });
        expect(t2.status).toBe(503);
        expect(t2.json.accounts.map((a) => a.accountId)).toEqual(['b1']);
        const admin = await api('GET', '/health', { headers: as('ops', true) });
        expect(admin.status).toBe(503);
        expect(admin.json.accounts.map((a) => a.accountId).sort()).toEqual(['a1', 'b1']);
        expect(admin.json).toMatchObject({ pooledConnections: expect.any(Number), activeSyncs: expect.any(Number), queueDepth: expect.any(Number) });
      } finally {
        await other.close();
      }
    });

    test('Prometheus metrics: connections by state, events by type, sync durations; admins only', async () => {
      await api('POST', '/idle/start', { headers: as('t1'), body: account('a1') });
      imap.appendMessage('INBOX', { subject: 'counted' });
      await waitForEvent(engine, 'newMessage');
      if (typeof engine.sync === 'function') expect((await engine.sync(router.accountKey('t1', 'a1'))).ok).toBe(true);
      // A failed sync of known duration, to check the buckets (real syncs here succeed).
      engine.emit('syncCompleted', { accountId: router.accountKey('t1', 'a1'), ok: false, durationMs: 250, folders: [], error: { code: 'TIMEOUT', message: 'x' } });

      expect((await api('GET', '/metrics', { headers: as('t1') })).status).toBe(403);
      const m = await api('GET', '/metrics', { headers: as('ops', true) });
      expect(m.status).toBe(200);
      expect(m.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(m.text).toContain('imap_push_connections{state="idle"} 1');
      expect(m.text).toContain('imap_push_connections{state="error"} 0');
      expect(m.text).toContain('imap_push_events_total{type="newMessage"} 1');
      expect(m.text).toMatch(/imap_push_events_total\{type="connectionStatus"\} [1-9]/);
      expect(m.text).toContain('imap_push_sync_duration_seconds_count{ok="false"} 1');
      expect(m.text).toContain('imap_push_sync_duration_seconds_bucket{le="0.1",ok="false"} 0');
      expect(m.text).toContain('imap_push_sync_duration_seconds_bucket{le="0.25",ok="false"} 1');
      if (typeof engine.sync === 'function') expect(m.text).toMatch(/imap_push_sync_duration_seconds_count\{ok="true"\} [1-9]/);
      expect(m.text).not.toContain('a1'); // no account ids in labels

      // Each router has its own registry: a second one registers the same names without clashing.
      const second = createRouter(engine, { notifier, authorize });
      second.close();
    });
  });

  test('serves the dashboard page with a strict CSP', async () => {
    const page = await api('GET', '/dashboard');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toContain('<title>imap-push dashboard</title>');
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
  });

  test('push endpoints that are not configured answer 404', async () => {
    expect(await api('POST', '/push/gmail', { body: {} })).toMatchObject({ status: 404, json: { error: { code: 'NOT_CONFIGURED' } } });
    expect((await api('POST', '/push/graph', { body: {} })).status).toBe(404);
  });
});

describe('createRouter options', () => {
  const { engine, notifier } = engineWithNotifier();
  afterAll(async () => {
    notifier.stop();
    await engine.close();
  });

  test.each([
    [{}, 'authorize'],
    [{ authorize, heartbeatMs: 0 }, 'heartbeatMs'],
    [{ authorize, logger: 'console' }, 'logger'],
    [{ authorize, gmail: { accounts: {} } }, 'gmail'],
    [{ authorize, graph: { subscriptions: {} } }, 'graph.subscriptions'],
  ])('%p is a TypeError naming %s', (options, name) => {
    expect(() => createRouter(engine, { notifier, ...options })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: name }));
  });

  test('an engine-like object without the notification API needs a notifier', () => {
    const bare = { addAccount() {}, status() { return []; } };
    expect(() => createRouter(bare, { authorize })).toThrow(expect.objectContaining({ option: 'notifier' }));
  });

  test("is exported as 'imap-push/express'", () => {
    const out = spawnSync(process.execPath, ['-e', "process.stdout.write(typeof require('imap-push/express').createRouter)"], { cwd: ROOT, encoding: 'utf8', timeout: 20000 });
    expect(out.stdout).toBe('function');
  });
});

describe('examples/express-server', () => {
  test('runs with one command, serves the dashboard and delivers demo mail', async () => {
    const child = spawn(process.execPath, [path.join(ROOT, 'examples', 'express-server')], {
      env: { ...process.env, PORT: '0', INTERVAL_MS: '100' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitUntil(() => /dashboard: (\S+)/.test(out), 20000, 'the dashboard URL');
      const url = new URL(/dashboard: (\S+)/.exec(out)[1]);
      const status = await fetch(new URL(`idle/status${url.search}`, url), { signal: AbortSignal.timeout(10000) });
      expect(status.status).toBe(200);
      expect((await status.json()).accounts).toEqual([expect.objectContaining({ accountId: 'demo' })]);
      const sse = await openSse(new URL(`events${url.search}`, url).href);
      await sse.waitFor((e) => e.event === 'newMessage', 'a demo message');
      sse.close();
      expect((await fetch(new URL('idle/status', url), { signal: AbortSignal.timeout(10000) })).status).toBe(401);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
