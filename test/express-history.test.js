'use strict';

// GET /history end to end (real engine, mock IMAP server, HTTP on loopback):
// authenticated, scoped to the caller's tenant, every tenant for admins (each
// entry tagged), and no credentials, bodies or previews in it. Also that a
// subject cannot forge a Server-Sent Event.

const express = require('express');
const { createRouter } = require('../lib/express');
const { MockImapServer } = require('imap-push/testing');
const { waitForEvent, waitUntil } = require('./support/wait');
const { engineWithNotifier } = require('./support/notifier');
const { listen, client, openSse, authorize, as } = require('./support/http');

const PASS_A = 'alice-Hist-pw-1';
const PASS_B = 'bob-Hist-pw-2';


describe('GET /history', () => {
  let imap;
  let engine;
  let notifier;
  let router;
  let web;
  let api;
  let bodies;

  const account = (id, user) => ({
    id, host: '127.0.0.1', port: imap.port, tls: 'none', allowInsecureAuth: true, user, pass: user === 'alice' ? PASS_A : PASS_B,
  });

  beforeEach(async () => {
    imap = new MockImapServer({ users: { alice: PASS_A, bob: PASS_B } });
    await imap.listen();
    ({ engine, notifier } = engineWithNotifier({ reconnect: { initialDelayMs: 50, maxDelayMs: 200 } }, { preview: 40 }));
    router = createRouter(engine, { authorize, notifier, allowHosts: ['127.0.0.1'], history: { eventsPerTenant: 20 } });
    const app = express();
    app.use('/imap', router);
    web = await listen(app);
    ({ request: api, bodies } = client(`${web.base}/imap`));
    // Each account's first sync (the mock server has no QRESYNC) must be over, or it may find a test's message before IDLE.
    const synced = ['t1', 't2'].map((t) => waitForEvent(engine, 'syncCompleted', (e) => e.accountId === router.accountKey(t, 'main')));
    expect((await api('POST', '/idle/start', { headers: as('t1'), body: account('main', 'alice') })).status).toBe(201);
    expect((await api('POST', '/idle/start', { headers: as('t2'), body: account('main', 'bob') })).status).toBe(201);
    await Promise.all(synced);
  });

  afterEach(async () => {
    router.close();
    await web.close();
    notifier.stop();
    await engine.close();
    await imap.close();
    const dump = bodies.join('\n');
    for (const secret of [PASS_A, PASS_B, 'Hist-pw', 'the body text']) expect(dump).not.toContain(secret);
  });

  async function deliver(subject) {
    const both = Promise.all(['t1', 't2'].map((t) => waitForEvent(engine, 'newMessage', (m) => m.accountId === router.accountKey(t, 'main') && m.envelope.subject === subject)));
    imap.appendMessage('INBOX', { subject, from: 'Shop <shop@example.com>', body: 'the body text, never kept' });
    return both;
  }

  test('a tenant gets its own history; an admin every tenant\'s, tagged', async () => {
    const [pushed] = await deliver('Order 1');
    expect(pushed.preview).toContain('the body text'); // the event has it; the history must not
    expect((await api('GET', '/history')).status).toBe(401);

    const t1 = await api('GET', '/history', { headers: as('t1') });
    expect(t1.status).toBe(200);
    expect(t1.json).toMatchObject({ admin: false, tenant: 't1' });
    const mail = t1.json.events.filter((e) => e.type === 'newMessage');
    expect(mail).toEqual([expect.objectContaining({ accountId: 'main', folder: 'INBOX', subject: 'Order 1', from: 'Shop <shop@example.com>', pushLatencyMs: expect.any(Number) })]);
    expect(t1.json.events.every((e) => e.accountId === 'main' && e.tenant === undefined)).toBe(true);
    expect(t1.json.accounts).toEqual([expect.objectContaining({ accountId: 'main', messagesToday: 1, reconnects: 0, lastError: null })]);
    expect(t1.json.accounts[0].timeline[0]).toMatchObject({ folder: 'INBOX', states: expect.arrayContaining([expect.objectContaining({ state: 'idle' })]) });
    expect(t1.json.latency).toHaveLength(1);
    expect(t1.json.perMinute.reduce((n, m) => n + m.count, 0)).toBeGreaterThan(0);
    expect(t1.text).not.toContain('/main'); // engine keys stay inside the router

    const admin = await api('GET', '/history', { headers: as('ops', true) });
    expect(admin.json.admin).toBe(true);
    const adminMail = admin.json.events.filter((e) => e.type === 'newMessage').map((e) => [e.tenant, e.accountId]).sort();
    expect(adminMail).toEqual([['t1', 'main'], ['t2', 'main']]);
    expect(admin.json.accounts.map((a) => a.tenant).sort()).toEqual(['t1', 't2']);
  });

  test('errors show as code and fixed text; a reconnect is counted', async () => {
    const key = router.accountKey('t1', 'main');
    const back = waitForEvent(engine, 'connectionStatus', (e) => e.accountId === key && e.state === 'idle');
    imap.dropAll();
    await back;
    await waitUntil(async () => (await api('GET', '/history', { headers: as('t1') })).json.accounts[0].reconnects === 1, 5000, 'the reconnect counted');
    const { json } = await api('GET', '/history', { headers: as('t1') });
    expect(json.accounts[0].lastError).toEqual({ code: 'CONNECTION_LOST', message: expect.any(String), folder: 'INBOX' });
    expect(json.events.some((e) => e.error && e.error.code === 'CONNECTION_LOST')).toBe(true);
  });

  test('the ring is bounded per tenant', async () => {
    for (let i = 0; i < 25; i++) await deliver(`burst ${i}`);
    const { json } = await api('GET', '/history', { headers: as('t1') });
    expect(json.events).toHaveLength(20);
    expect(json.events[json.events.length - 1]).toMatchObject({ type: 'newMessage', subject: 'burst 24' });
  });

  test('invalid history options throw a TypeError naming the option', () => {
    expect(() => createRouter(engine, { authorize, notifier, history: { eventsPerTenant: -1 } })).toThrow(/history\.eventsPerTenant/);
  });

  test('a subject cannot forge a Server-Sent Event', async () => {
    const sse = await openSse(`${web.base}/imap/events`, as('t1'));
    await waitUntil(() => sse.comments.includes('connected'), 5000, 'the stream to open');
    const forged = 'x\r\n\r\nevent: connectionStatus\r\ndata: {"accountId":"main","state":"error"}\r\n\r\n';
    // Folded header lines carry the CR/LF into the decoded subject (RFC 2047 words keep them too).
    imap.appendMessage('INBOX', { raw: `Subject: =?utf-8?b?${Buffer.from(forged).toString('base64')}?=\r\nFrom: a@example.com\r\n\r\nbody\r\n` });
    const got = await sse.waitFor((e) => e.event === 'newMessage', 'the newMessage');
    expect(got.data.envelope.subject).toContain('event: connectionStatus');
    expect(sse.events.filter((e) => e.event === 'connectionStatus' && e.data.state === 'error')).toEqual([]);
    sse.close();
  });
});
