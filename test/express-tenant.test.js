'use strict';

// The router facing hostile tenants (issue 14): what a tenant may ask of the
// engine is bounded, where it may connect is checked, what the remote end
// sent never reaches it, and it cannot see or squat on another tenant's ids.
// Real engine, mock IMAP servers and raw TCP servers on 127.0.0.1.

const net = require('net');
const express = require('express');
const { MailEngine } = require('..');
const { createRouter } = require('../lib/express');
const { MockImapServer } = require('imap-push/testing');
const { waitForEvent, waitUntil } = require('./support/wait');
const { listen, client, openSse, authorize, as } = require('./support/http');

const PASS = 'tenant-Secret-pw-7';


const everything = []; // every response body and router log line of this file

afterAll(() => {
  // The password of every account started here appears in no response and no router log line.
  const dump = everything.flat().join('\n');
  expect(dump.length).toBeGreaterThan(0);
  expect(dump).not.toContain(PASS);
});

// One engine (its logger records what operators see), one router, one app per test.
async function harness({ engineOptions = {}, routerOptions = {} } = {}) {
  const logs = [];
  const record = (level) => (fields, msg) => logs.push({ level, msg, ...fields });
  const logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
  const engine = new MailEngine({ reconnect: { initialDelayMs: 50, maxDelayMs: 200 }, logger, notifications: { healthIntervalMs: 0 }, ...engineOptions });
  const routerLog = [];
  const router = createRouter(engine, { authorize, logger: (m) => routerLog.push(m), heartbeatMs: 1000, ...routerOptions });
  const app = express();
  app.use('/imap', router);
  const web = await listen(app);
  const c = client(`${web.base}/imap`);
  everything.push(c.bodies, routerLog);
  return {
    engine, router, web, logs, routerLog, api: c.request, bodies: c.bodies,
    async close() {
      router.close();
      await web.close();
      await engine.close();
    },
  };
}

const mockAccount = (imap, id, extra = {}) => ({
  id, host: '127.0.0.1', port: imap.port, tls: 'none', allowInsecureAuth: true, user: 'alice', pass: PASS, ...extra,
});

/** A TCP server on 127.0.0.1 that greets each connection with `greeting` and answers every line with `answer(tag)`. */
async function rawServer(greeting, answer = null) {
  const sockets = new Set();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.write(greeting);
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      let i;
      while (answer && (i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        s.write(answer(line.split(' ')[0]));
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('limits on what a tenant may ask (item 1)', () => {
  let imap;
  let h;
  beforeEach(async () => {
    imap = new MockImapServer({ users: { alice: PASS } });
    for (const name of ['A', 'B', 'C']) imap.createMailbox(name);
    await imap.listen();
  });
  afterEach(async () => {
    await h.close();
    await imap.close();
  });

  test('a zero-delay reconnect loop is refused, and an inherited short delay is raised: connections stay under one per second', async () => {
    h = await harness({ routerOptions: { allowHosts: ['127.0.0.1'] } });
    const zero = await h.api('POST', '/idle/start', { headers: as('t1'), body: mockAccount(imap, 'z', { reconnect: { initialDelayMs: 0, maxDelayMs: 0 } }) });
    expect(zero).toMatchObject({ status: 400, json: { error: { code: 'INVALID_OPTION', message: expect.stringContaining("'reconnect.initialDelayMs'") } } });
    const short = await h.api('POST', '/idle/start', { headers: as('t1'), body: mockAccount(imap, 's', { reconnect: { initialDelayMs: 999, maxDelayMs: 5000, jitter: 0 } }) });
    expect(short.status).toBe(400);
    expect(short.json.error.message).toMatch(/reconnect\.initialDelayMs.*1000.*limits\.minReconnectDelayMs/);
    const jitter = await h.api('POST', '/idle/start', { headers: as('t1'), body: mockAccount(imap, 'j', { reconnect: { jitter: 1 } }) });
    expect(jitter).toMatchObject({ status: 400, json: { error: { code: 'INVALID_OPTION', message: expect.stringContaining("'reconnect.jitter'") } } });
    expect(imap.acceptedConnections).toBe(0);

    // The engine's own setting (50 ms, the harness's) is what this account would inherit.
    expect((await h.api('POST', '/idle/start', { headers: as('t1'), body: mockAccount(imap, 'a') })).status).toBe(201);
    const key = h.router.accountKey('t1', 'a');
    const before = imap.acceptedConnections;
    imap.failNextConnections(1e9); // from now on every connection is cut at once
    const started = process.hrtime.bigint();
    imap.dropAll();
    await waitForEvent(h.engine, 'connectionStatus', (e) => e.accountId === key && e.state === 'disconnected');
    await new Promise((resolve) => setTimeout(resolve, 3500));
    const made = imap.acceptedConnections - before;
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    // Every delay is at least limits.minReconnectDelayMs (1 s): at most one attempt per started second.
    // At the engine's 50 ms it would be about 70, and at 0 ms the issue counted 100,560 in 10 s.
    expect(made).toBeGreaterThanOrEqual(1);
    expect(made).toBeLessThanOrEqual(Math.floor(elapsedMs / 1000) + 1);
    const retries = h.logs.filter((l) => l.accountId === key && l.retryInMs !== undefined);
    expect(retries.length).toBeGreaterThan(0);
    for (const l of retries) expect(l.retryInMs).toBeGreaterThanOrEqual(1000);
  });

  test('3,000 folders are refused before any connection; at most limits.maxFolders', async () => {
    h = await harness({ routerOptions: { allowHosts: ['127.0.0.1'] } });
    const folders = Array.from({ length: 3000 }, (_, i) => `F${i}`);
    const many = await h.api('POST', '/idle/start', { headers: as('t1'), body: mockAccount(imap, 'm', { folders }) });
    expect(many.status).toBe(400);
    expect(many.json.error).toEqual({ code: 'INVALID_OPTION', message: "Invalid option 'folders': must list at most 20 folders (limits.maxFolders)" });
    expect(imap.acceptedConnections).toBe(0);
    expect(h.engine.status()).toEqual([]);
  });

  test.each([
    [{ idle: { pollMs: 1 } }, 'idle.pollMs', /between 10 and/], // the engine's own floor comes first
    [{ idle: { pollMs: 5000 } }, 'idle.pollMs', /at least 10000 \(limits\.minPollMs\)/],
    [{ idle: { refreshMs: 1000 } }, 'idle.refreshMs', /limits\.minIdleRefreshMs/],
    [{ idle: { livenessMs: 50 } }, 'idle.livenessMs', /0 \(off\) or at least 60000/],
    [{ idle: { doneTimeoutMs: 10 } }, 'idle.doneTimeoutMs', /between 1000 and 300000/],
    [{ timeouts: { connectMs: 5 } }, 'timeouts.connectMs', /between 1000 and 300000/],
    [{ timeouts: { commandMs: 24 * 3600 * 1000 } }, 'timeouts.commandMs', /limits\.maxTimeoutMs/],
    [{ fetchBodies: true, maxBodyBytes: 64 * 1024 * 1024 }, 'maxBodyBytes', /limits\.maxBodyBytes/],
  ])('%j is a 400 naming %s and its limit', async (extra, option, bound) => {
    h = await harness({ routerOptions: { allowHosts: ['127.0.0.1'] } });
    const res = await h.api('POST', '/idle/start', { headers: as('t1'), body: mockAccount(imap, 'x', extra) });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('INVALID_OPTION');
    expect(res.json.error.message).toContain(`'${option}'`);
    expect(res.json.error.message).toMatch(bound);
    expect(imap.acceptedConnections).toBe(0);
  });

  test('accounts per tenant and the connection budget are bounded per tenant; the operator sets both', async () => {
    // pool.maxPerAccount 1: an account costs its folders plus one pooled connection.
    h = await harness({
      engineOptions: { pool: { maxPerAccount: 1 } },
      routerOptions: { allowHosts: ['127.0.0.1'], limits: { maxAccountsPerTenant: 2, maxConnectionsPerTenant: 6 } },
    });
    const start = (tenant, id, folders) => h.api('POST', '/idle/start', { headers: as(tenant), body: mockAccount(imap, id, { folders }) });
    expect((await start('t1', 'a', ['INBOX', 'A', 'B'])).status).toBe(201); // 4 of 6
    const over = await start('t1', 'b', ['INBOX', 'A']); // 3 more
    expect(over.status).toBe(403);
    expect(over.json.error).toEqual({ code: 'TENANT_LIMIT', message: expect.stringMatching(/needs 3 connections.*2 of 6 left.*limits\.maxConnectionsPerTenant/) });
    expect((await start('t1', 'b', ['INBOX'])).status).toBe(201); // 6 of 6
    const third = await start('t1', 'c', ['C']);
    expect(third).toMatchObject({ status: 403, json: { error: { code: 'TENANT_LIMIT', message: expect.stringContaining('limits.maxAccountsPerTenant') } } });
    // Another tenant has its own budget; a stopped account gives its share back.
    expect((await start('t2', 'a', ['INBOX', 'A', 'B'])).status).toBe(201);
    expect((await h.api('POST', '/idle/stop', { headers: as('t1'), body: { accountId: 'a' } })).status).toBe(200);
    expect((await start('t1', 'c', ['C'])).status).toBe(201);
  });

  test('concurrent starts cannot overshoot the account limit', async () => {
    h = await harness({ routerOptions: { allowHosts: ['127.0.0.1'], limits: { maxAccountsPerTenant: 3 } } });
    const all = await Promise.all(Array.from({ length: 8 }, (_, i) => h.api('POST', '/idle/start', { headers: as('t1'), body: mockAccount(imap, `c${i}`) })));
    expect(all.filter((r) => r.status === 201)).toHaveLength(3);
    expect(all.filter((r) => r.status === 403)).toHaveLength(5);
    expect(h.engine.status()).toHaveLength(3);
  });

  test('bad limits are TypeErrors naming the limit', async () => {
    h = await harness();
    for (const [limits, option] of [[{ maxFolders: 0 }, 'limits.maxFolders'], [{ maxFolder: 5 }, 'limits.maxFolder'], ['x', 'limits'],
      [{ minTimeoutMs: 5000, maxTimeoutMs: 1000 }, 'limits.maxTimeoutMs']]) {
      expect(() => createRouter(h.engine, { authorize, limits })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option }));
    }
  });
});

describe('where a tenant may connect (item 2)', () => {
  let imap;
  let h;
  beforeEach(async () => {
    imap = new MockImapServer({ users: { alice: PASS } });
    await imap.listen();
  });
  afterEach(async () => {
    await h.close();
    await imap.close();
  });

  const refusedShape = { status: 403, json: { error: { code: 'HOST_NOT_ALLOWED', message: expect.any(String) } } };

  test('a private address is refused without allowHosts, allowed with it; an entry with a port allows only that port', async () => {
    h = await harness();
    expect(await h.api('POST', '/idle/start', { headers: as('t1'), body: mockAccount(imap, 'a') })).toMatchObject(refusedShape);
    expect(imap.acceptedConnections).toBe(0);
    expect(h.routerLog.join('\n')).toMatch(/tenant 't1': account 'a': 127\.0\.0\.1:\d+: 127\.0\.0\.1 is a loopback/);
    expect(h.routerLog.join('\n')).not.toContain(PASS);
    await h.close();

    for (const [allowHosts, ok] of [[['127.0.0.1'], true], [['127.0.0.0/8'], true], [[`127.0.0.1:${imap.port}`], true],
      [[`127.0.0.1:${imap.port + 1}`], false], [['10.0.0.0/8', 'localhost'], false]]) {
      h = await harness({ routerOptions: { allowHosts } });
      const res = await h.api('POST', '/idle/start', { headers: as('t1'), body: mockAccount(imap, 'a') });
      expect([allowHosts, res.status]).toEqual([allowHosts, ok ? 201 : 403]);
      await h.close();
    }
    h = await harness();
  });

  test.each([
    ['localhost'], // resolves to 127.0.0.1
    ['LOCALHOST.'],
    ['2130706433'], // 127.0.0.1 as getaddrinfo reads a bare number
    ['0x7f.1'],
    ['[::ffff:127.0.0.1]'],
    ['::1'],
    ['0.0.0.0'],
    ['169.254.169.254'], // cloud metadata
    ['10.1.2.3'], ['172.20.0.1'], ['192.168.1.1'], ['100.100.100.200'], ['fd00::1'], ['fe80::1'], ['64:ff9b::7f00:1'], ['2002:7f00:1::'],
  ])('%s is refused without allowHosts, before any connection', async (host) => {
    h = await harness();
    const res = await h.api('POST', '/idle/start', { headers: as('t1'), body: mockAccount(imap, 'a', { host }) });
    expect(res).toMatchObject(refusedShape);
    expect(imap.acceptedConnections).toBe(0);
  });

  test('a public address is refused on a port other than 143 or 993 (no connection is tried)', async () => {
    h = await harness();
    for (const port of [22, 80, 443, 6379]) {
      const res = await h.api('POST', '/idle/start', { headers: as('t1'), body: mockAccount(imap, 'a', { host: '192.0.43.10', port }) });
      expect(res).toMatchObject(refusedShape);
    }
    expect(h.routerLog.join('\n')).toContain('port 22 is not an IMAP port');
  });

  test('every address a name resolves to is checked, and the engine connects to the checked one', async () => {
    const answers = { 'mixed.test': ['192.0.43.10', '10.0.0.7'], 'imap.rebind.test': ['127.0.0.1'] };
    const lookup = async (name, opts) => {
      expect(opts).toMatchObject({ all: true });
      if (!answers[name]) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      return answers[name].map((address) => ({ address, family: net.isIP(address) }));
    };
    h = await harness({ routerOptions: { allowHosts: ['127.0.0.1'], lookup } });
    const mixed = await h.api('POST', '/idle/start', { headers: as('t1'), body: mockAccount(imap, 'a', { host: 'mixed.test', port: 993 }) });
    expect(mixed).toMatchObject(refusedShape);
    // 'imap.rebind.test' resolves nowhere but in this lookup: the engine only reaches the
    // server because it was handed the address that was checked, not the name to resolve again.
    const pinned = await h.api('POST', '/idle/start', { headers: as('t1'), body: mockAccount(imap, 'a', { host: 'imap.rebind.test' }) });
    expect(pinned.status).toBe(201);
    // A name that does not resolve gets the same answer as a forbidden one: no oracle for internal names.
    const missing = await h.api('POST', '/idle/start', { headers: as('t1'), body: mockAccount(imap, 'b', { host: 'nowhere.test' }) });
    expect(missing).toEqual({ ...missing, ...refusedShape, json: mixed.json });
  });

  test('TLS still verifies the certificate against the name the tenant gave, not the address connected to', async () => {
    const tlsImap = new MockImapServer({ tls: 'implicit', users: { alice: PASS } }); // certificate: localhost and 127.0.0.1
    await tlsImap.listen();
    try {
      const lookup = async () => [{ address: '127.0.0.1', family: 4 }];
      h = await harness({ routerOptions: { allowHosts: ['127.0.0.1'], lookup } });
      const body = (id, host) => ({ id, host, port: tlsImap.port, tls: 'implicit', tlsOptions: { ca: tlsImap.caPem }, user: 'alice', pass: PASS });
      // The certificate covers 127.0.0.1, the address the engine connects to, but not this name.
      const wrong = await h.api('POST', '/idle/start', { headers: as('t1'), body: body('a', 'imap.other.test') });
      expect(wrong).toMatchObject({ status: 502, json: { error: { code: 'TLS_FAILED' } } });
      const right = await h.api('POST', '/idle/start', { headers: as('t1'), body: body('b', 'localhost') });
      expect(right.status).toBe(201);
    } finally {
      await tlsImap.close();
    }
  });

  test.each([
    ['an SSH banner', 'SSH-2.0-OpenSSH_9.6p1 Debian-3\r\n', null, /OpenSSH|SSH-2/],
    ['a BAD with a secret', '* OK ready\r\n', (tag) => `${tag} BAD internal error text: secret=hunter2\r\n`, /hunter2|internal error/],
    ['a NO with a secret', '* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n', (tag) => `${tag} NO [AUTHENTICATIONFAILED] user alice: secret=hunter2\r\n`, /hunter2/],
  ])('%s is never echoed to the tenant; both loggers have it', async (what, greeting, answer, remoteText) => {
    const server = await rawServer(greeting, answer);
    try {
      h = await harness({ routerOptions: { allowHosts: ['127.0.0.1'] } });
      const res = await h.api('POST', '/idle/start', { headers: as('t1'), body: mockAccount(imap, 'a', { port: server.port }) });
      expect(res.status).toBe(502);
      expect(res.json).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
      expect(res.text).not.toMatch(remoteText);
      // Operators still learn what happened: from the engine's logger, and from the router's own
      // for those who only pass that one (tagged with the tenant and its id, without the password).
      expect(JSON.stringify(h.logs.filter((l) => l.msg === 'account failed'))).toMatch(remoteText);
      const line = h.routerLog.find((m) => m.includes("tenant 't1': account 'a': " + res.json.error.code));
      expect(line).toMatch(remoteText);
      expect(line).not.toContain(PASS);
    } finally {
      await server.close();
    }
  });

  test('remote text in later errors stays out of status, health and the event stream', async () => {
    h = await harness({ routerOptions: { allowHosts: ['127.0.0.1'] } });
    expect((await h.api('POST', '/idle/start', { headers: as('t1'), body: mockAccount(imap, 'a') })).status).toBe(201);
    const sse = await openSse(`${h.web.base}/imap/events`, as('t1'));
    await waitUntil(() => sse.comments.includes('connected'), 5000, 'the stream');
    const key = h.router.accountKey('t1', 'a');
    const bye = waitForEvent(h.engine, 'connectionStatus', (e) => e.accountId === key && e.error);
    imap.byeAll('maintenance secret=hunter2');
    expect((await bye).error.message).toContain('hunter2'); // the engine has the text ...
    const seen = await sse.waitFor((e) => e.event === 'connectionStatus' && e.data.error, 'the error on the stream');
    expect(seen.data).toMatchObject({ accountId: 'a', error: { code: 'SERVER_BYE', message: 'the server ended the session' } });
    const status = await h.api('GET', '/idle/status/a', { headers: as('t1') });
    expect(status.json.folders[0].lastError).toEqual({ code: 'SERVER_BYE', message: 'the server ended the session' });
    const health = await h.api('GET', '/health', { headers: as('t1') });
    const admin = await h.api('GET', '/idle/admin/all', { headers: as('ops', true) });
    sse.close();
    // ... the tenant never does.
    for (const text of [JSON.stringify(sse.events), status.text, health.text, admin.text]) expect(text).not.toContain('hunter2');
  });

  test('allowHosts and lookup are checked when the router is made', async () => {
    h = await harness();
    for (const [options, option] of [[{ allowHosts: '127.0.0.1' }, 'allowHosts'], [{ allowHosts: ['10.0.0.0/33'] }, 'allowHosts[0]'],
      [{ allowHosts: ['ok.example', 'bad host'] }, 'allowHosts[1]'], [{ allowHosts: ['h:99999'] }, 'allowHosts[0]'], [{ lookup: 'dns' }, 'lookup']]) {
      expect(() => createRouter(h.engine, { authorize, ...options })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option }));
    }
  });
});

describe('tenants cannot see each other (item 3)', () => {
  let imap;
  let h;
  beforeEach(async () => {
    imap = new MockImapServer({ users: { alice: PASS } });
    await imap.listen();
    h = await harness({ routerOptions: { allowHosts: ['127.0.0.1'] } });
  });
  afterEach(async () => {
    await h.close();
    await imap.close();
  });

  test('two tenants may both have "main"; neither learns the other has one', async () => {
    expect((await h.api('POST', '/idle/start', { headers: as('A'), body: mockAccount(imap, 'main') })).status).toBe(201);
    // What B hears about A's id is what it hears about an id nobody has.
    const probe = (id) => Promise.all([
      h.api('GET', `/idle/status/${id}`, { headers: as('B') }),
      h.api('POST', '/idle/stop', { headers: as('B'), body: { accountId: id } }),
    ]);
    const [taken, free] = await Promise.all([probe('main'), probe('never-used')]);
    for (let i = 0; i < 2; i += 1) {
      expect(taken[i].status).toBe(free[i].status);
      expect(taken[i].text).toBe(free[i].text.replace('never-used', 'main'));
    }
    const b = await h.api('POST', '/idle/start', { headers: as('B'), body: mockAccount(imap, 'main') });
    expect(b.status).toBe(201);
    expect(b.json.accountId).toBe('main');
    expect(h.engine.status()).toHaveLength(2);

    // Each sees its own, under its own id, and events name that id.
    const sseA = await openSse(`${h.web.base}/imap/events`, as('A'));
    const sseB = await openSse(`${h.web.base}/imap/events`, as('B'));
    await waitUntil(() => sseA.comments.includes('connected') && sseB.comments.includes('connected'), 5000, 'the streams');
    imap.appendMessage('INBOX', { subject: 'for both' });
    const [gotA, gotB] = await Promise.all([sseA, sseB].map((s) => s.waitFor((e) => e.event === 'newMessage', 'newMessage')));
    expect(gotA.data.accountId).toBe('main');
    expect(gotB.data.accountId).toBe('main');
    expect(JSON.stringify(sseA.events) + JSON.stringify(sseB.events)).not.toMatch(/A\/main|B\/main/);
    sseA.close();
    sseB.close();

    // Stopping A's leaves B's.
    expect((await h.api('POST', '/idle/stop', { headers: as('A'), body: { accountId: 'main' } })).status).toBe(200);
    expect((await h.api('GET', '/idle/status/main', { headers: as('A') })).status).toBe(404);
    expect((await h.api('GET', '/idle/status/main', { headers: as('B') })).json.folders[0].state).toBe('idle');
  });

  test('tenant names cannot be combined into another tenant\'s key', async () => {
    expect((await h.api('POST', '/idle/start', { headers: as('x/y'), body: mockAccount(imap, 'z') })).status).toBe(201);
    expect((await h.api('POST', '/idle/start', { headers: as('x'), body: mockAccount(imap, 'y/z') })).status).toBe(201);
    expect((await h.api('GET', '/idle/status', { headers: as('x') })).json.accounts.map((a) => a.accountId)).toEqual(['y/z']);
    expect((await h.api('GET', '/idle/status', { headers: as('x/y') })).json.accounts.map((a) => a.accountId)).toEqual(['z']);
  });

  test('scoped health counts only the caller\'s accounts; admins see every account tagged with its tenant', async () => {
    await h.api('POST', '/idle/start', { headers: as('A'), body: mockAccount(imap, 'main') });
    await h.api('POST', '/idle/start', { headers: as('B'), body: mockAccount(imap, 'main') });
    await h.api('POST', '/idle/start', { headers: as('B'), body: mockAccount(imap, 'second') });
    // Make pooled connections for B's accounts only.
    for (const id of ['main', 'second']) expect((await h.engine.sync(h.router.accountKey('B', id))).ok).toBe(true);
    const pooled = (tenant, ids) => ids.reduce((n, id) => n + h.engine.poolStats(h.router.accountKey(tenant, id)).open, 0);
    const ofB = pooled('B', ['main', 'second']);
    expect(ofB).toBeGreaterThan(0);
    expect(pooled('A', ['main']) + ofB).toBe(h.engine.poolStats().open);

    const a = await h.api('GET', '/health', { headers: as('A') });
    expect(a.json).toEqual({ isHealthy: true, idleConnections: 1, pooledConnections: pooled('A', ['main']), accounts: [expect.objectContaining({ accountId: 'main' })] });
    const b = await h.api('GET', '/health', { headers: as('B') });
    expect(b.json).toMatchObject({ idleConnections: 2, pooledConnections: ofB });
    expect(Object.keys(b.json).sort()).toEqual(['accounts', 'idleConnections', 'isHealthy', 'pooledConnections']);

    const admin = await h.api('GET', '/health', { headers: as('ops', true) });
    expect(admin.json).toMatchObject({ idleConnections: 3, activeSyncs: expect.any(Number), listeners: expect.any(Number) });
    expect(admin.json.accounts.map((x) => [x.tenant, x.accountId]).sort()).toEqual([['A', 'main'], ['B', 'main'], ['B', 'second']]);
    const all = await h.api('GET', '/idle/admin/all', { headers: as('ops', true) });
    expect(all.json.accounts.map((x) => [x.tenant, x.accountId]).sort()).toEqual([['A', 'main'], ['B', 'main'], ['B', 'second']]);
    // An admin addresses another tenant's account by naming the tenant.
    expect((await h.api('GET', '/idle/status/second?tenant=B', { headers: as('ops', true) })).json).toMatchObject({ accountId: 'second', tenant: 'B' });
    expect((await h.api('GET', '/idle/status/second?tenant=B', { headers: as('A') })).status).toBe(404);
    expect((await h.api('POST', '/idle/stop', { headers: as('ops', true), body: { accountId: 'second', tenant: 'B' } })).status).toBe(200);
    expect(h.engine.status()).toHaveLength(2);
  });

  test('mailbox actions address the caller\'s own "main", and what they return names it so', async () => {
    imap.appendMessage('INBOX', { subject: 'listed' });
    await h.api('POST', '/idle/start', { headers: as('A'), body: mockAccount(imap, 'main') });
    await h.api('POST', '/idle/start', { headers: as('B'), body: mockAccount(imap, 'other') });
    const page = await h.api('GET', '/accounts/main/messages?folder=INBOX', { headers: as('A') });
    expect(page.status).toBe(200);
    expect(page.json.messages.map((m) => [m.accountId, m.envelope.subject])).toEqual([['main', 'listed']]);
    expect(page.text).not.toContain('A/main');
    expect((await h.api('GET', '/accounts/main/messages?folder=INBOX', { headers: as('B') })).status).toBe(404);
    expect((await h.api('POST', '/accounts/other/search', { headers: as('B'), body: { folder: 'INBOX', criteria: {} } })).json).toEqual({ uids: [1] });
    // A server's refusal text stays out of action errors too.
    const missing = await h.api('POST', '/accounts/main/move', { headers: as('A'), body: { folder: 'INBOX', uids: 1, destination: 'Nowhere' } });
    expect(missing.json).toEqual({ error: { code: 'TRYCREATE', message: 'the destination folder does not exist' } });
  });

  test('admins hear every tenant\'s events, tagged with the tenant', async () => {
    await h.api('POST', '/idle/start', { headers: as('A'), body: mockAccount(imap, 'main') });
    await h.api('POST', '/idle/start', { headers: as('B'), body: mockAccount(imap, 'main') });
    const sse = await openSse(`${h.web.base}/imap/events`, as('ops', true));
    await waitUntil(() => sse.comments.includes('connected'), 5000, 'the stream');
    imap.appendMessage('INBOX', { subject: 'seen by ops' });
    await waitUntil(() => sse.events.filter((e) => e.event === 'newMessage').length === 2, 10000, 'both messages');
    expect(sse.events.filter((e) => e.event === 'newMessage').map((e) => [e.data.tenant, e.data.accountId]).sort()).toEqual([['A', 'main'], ['B', 'main']]);
    sse.close();
  });
});
