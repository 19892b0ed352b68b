'use strict';

// Provider push webhooks: Gmail Pub/Sub (shared token + OIDC JWT) and
// Microsoft Graph (clientState). Verified deliveries emit `push` and start a
// sync; forged ones change nothing; secrets never reach a log or a response.

const crypto = require('crypto');
const express = require('express');
const { createRouter } = require('../lib/express');
const { MockImapServer } = require('imap-push/testing');
const { waitUntil } = require('./support/wait');
const { engineWithNotifier } = require('./support/notifier');
const { listen, client } = require('./support/http');

const PASSWORD = 'push-imap-pw';
const GMAIL_TOKEN = 'gmail-shared-token-xyz';
const CLIENT_STATE = 'graph-client-state-xyz';
const AUDIENCE = 'https://push.example.com/imap/push/gmail';
const SECRETS = [PASSWORD, GMAIL_TOKEN, CLIENT_STATE];

const signing = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const forger = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const b64url = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');

function jwt(claims = {}, { key = signing.privateKey, header = {} } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const head = b64url({ alg: 'RS256', typ: 'JWT', kid: 'k1', ...header });
  const body = b64url({ iss: 'https://accounts.google.com', aud: AUDIENCE, iat: now, exp: now + 3600, email: 'pubsub@proj.iam.gserviceaccount.com', email_verified: true, ...claims });
  const sig = crypto.sign('sha256', Buffer.from(`${head}.${body}`), key).toString('base64url');
  return `${head}.${body}.${sig}`;
}

const gmailBody = (historyId, { email = 'alice@example.com', messageId = `m-${historyId}` } = {}) => ({
  message: {
    data: Buffer.from(JSON.stringify({ emailAddress: email, historyId })).toString('base64'),
    messageId,
    publishTime: new Date().toISOString(),
  },
  subscription: 'projects/p/subscriptions/gmail-push',
});

describe('push webhooks', () => {
  let imap;
  let engine;
  let notifier;
  let router;
  let web;
  let api;
  let bodies;
  let logs;
  let pushes;

  beforeEach(async () => {
    imap = new MockImapServer({ users: { alice: PASSWORD } });
    await imap.listen();
    ({ engine, notifier } = engineWithNotifier());
    await engine.addAccount({ id: 'acc', host: '127.0.0.1', port: imap.port, tls: 'none', allowInsecureAuth: true, user: 'alice', pass: PASSWORD });
    logs = [];
    pushes = [];
    engine.on('push', (p) => pushes.push(p));
    router = createRouter(engine, {
      notifier,
      authorize: () => {
        throw new Error('webhooks must not go through authorize');
      },
      logger: (m) => logs.push(m),
      gmail: {
        accounts: { 'alice@example.com': 'acc', 'ghost@example.com': 'not-watched' },
        token: GMAIL_TOKEN,
        oidc: { audience: AUDIENCE, keys: { k1: signing.publicKey.export({ type: 'spki', format: 'pem' }) } },
      },
      graph: { subscriptions: { 'sub-1': { accountId: 'acc', clientState: CLIENT_STATE } } },
    });
    const app = express();
    app.use('/imap', router);
    web = await listen(app);
    ({ request: api, bodies } = client(`${web.base}/imap`));
  });

  afterEach(async () => {
    router.close();
    await web.close();
    notifier.stop();
    await engine.close();
    await imap.close();
    const leaks = [...logs, ...bodies].join('\n');
    for (const secret of SECRETS) expect(leaks).not.toContain(secret);
    expect(leaks).not.toMatch(/eyJ[\w-]+\.eyJ/); // no JWT either
  });

  const gmail = (body, { token = GMAIL_TOKEN, bearer = jwt() } = {}) => api('POST', `/push/gmail${token === null ? '' : `?token=${encodeURIComponent(token)}`}`, {
    headers: bearer === null ? {} : { authorization: `Bearer ${bearer}` },
    body,
  });

  /** Sends a genuine delivery last: once its push arrives, any earlier (forged) one would have too. */
  async function pushesAfterGenuine(historyId) {
    const before = pushes.length;
    expect((await gmail(gmailBody(historyId))).status).toBe(204);
    await waitUntil(() => pushes.length > before, 5000, 'the genuine push');
    return pushes;
  }

  describe('gmail', () => {
    test('a verified delivery is acked with 204 and emits push for the mapped account', async () => {
      const res = await gmail(gmailBody('1001'));
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      await waitUntil(() => pushes.length === 1, 5000, 'a push event');
      expect(pushes).toEqual([{ accountId: 'acc', source: 'gmail' }]);
    });

    test('duplicate deliveries (same messageId, or same address and historyId) emit once', async () => {
      expect((await gmail(gmailBody('2001'))).status).toBe(204);
      expect((await gmail(gmailBody('2001'))).status).toBe(204); // redelivery of the same message
      expect((await gmail(gmailBody('2001', { messageId: 'other-id' }))).status).toBe(204); // same history, new message id
      expect((await gmail(gmailBody('2002', { messageId: 'm-2001' }))).status).toBe(204); // reused message id
      await pushesAfterGenuine('2003');
      expect(pushes).toHaveLength(2);
    });

    test.each([
      ['a wrong token', { token: 'guess' }],
      ['no token', { token: null }],
      ['a token of another length', { token: `${GMAIL_TOKEN}-longer` }],
      ['no bearer JWT', { bearer: null }],
      ['a JWT signed by another key', { bearer: jwt({}, { key: forger.privateKey }) }],
      ['a JWT for another audience', { bearer: jwt({ aud: 'https://evil.example.com' }) }],
      ['an expired JWT', { bearer: jwt({ exp: Math.floor(Date.now() / 1000) - 3600 }) }],
      ['a JWT from another issuer', { bearer: jwt({ iss: 'https://evil.example.com' }) }],
      ['an unsigned JWT (alg none)', { bearer: `${b64url({ alg: 'none', kid: 'k1' })}.${b64url({ iss: 'https://accounts.google.com', aud: AUDIENCE, exp: 9999999999 })}.` }],
      ['a JWT with an unknown key id', { bearer: jwt({}, { header: { kid: 'k9' } }) }],
      ['a tampered JWT payload', { bearer: (() => { const [h, , s] = jwt().split('.'); return `${h}.${b64url({ iss: 'https://accounts.google.com', aud: AUDIENCE, exp: 9999999999 })}.${s}`; })() }],
      ['garbage instead of a JWT', { bearer: 'not-a-jwt' }],
    ])('%s is a 401 and nothing happens', async (what, auth) => {
      const res = await gmail(gmailBody('3001'), auth);
      expect(res.status).toBe(401);
      expect(res.json).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
      expect(logs.some((m) => m.startsWith('imap-push: gmail push rejected'))).toBe(true);
      // The forged delivery was not remembered either: the genuine one with the same ids still counts.
      const before = pushes.length;
      expect((await gmail(gmailBody('3001'))).status).toBe(204);
      await waitUntil(() => pushes.length > before, 5000, 'the genuine push');
      expect(pushes).toEqual([{ accountId: 'acc', source: 'gmail' }]);
    });

    test('a malformed body is a 400; an unmapped or unwatched address is acked and ignored', async () => {
      expect((await gmail({ message: { data: 'not base64 json' } })).status).toBe(400);
      expect((await gmail({ nope: true })).status).toBe(400);
      expect((await gmail(gmailBody('4001', { email: 'stranger@example.com' }))).status).toBe(204);
      expect((await gmail(gmailBody('4002', { email: 'ghost@example.com' }))).status).toBe(204);
      await pushesAfterGenuine('4003');
      expect(pushes).toHaveLength(1);
      expect(logs).toEqual(expect.arrayContaining([
        'imap-push: gmail push for an address that maps to no account',
        "imap-push: gmail push for an account that is not watched: 'not-watched'",
      ]));
    });

    test('keys may be JWKs, accounts a function, and the token optional when OIDC is set', async () => {
      router.close();
      await web.close();
      router = createRouter(engine, {
        notifier,
        authorize: () => ({ tenant: 't' }),
        logger: (m) => logs.push(m),
        gmail: { accounts: (email) => (email === 'alice@example.com' ? 'acc' : null), oidc: { audience: AUDIENCE, keys: { k1: signing.publicKey.export({ format: 'jwk' }) } } },
      });
      const app = express();
      app.use(router);
      web = await listen(app);
      const c = client(web.base);
      expect((await c.request('POST', '/push/gmail', { headers: { authorization: `Bearer ${jwt()}` }, body: gmailBody('5001') })).status).toBe(204);
      expect((await c.request('POST', '/push/gmail', { headers: { authorization: `Bearer ${jwt({}, { key: forger.privateKey })}` }, body: gmailBody('5002') })).status).toBe(401);
      await waitUntil(() => pushes.length === 1, 5000, 'a push event');
      expect(pushes).toEqual([{ accountId: 'acc', source: 'gmail' }]);
    });
  });

  describe('graph', () => {
    const graph = (value, query = '') => api('POST', `/push/graph${query}`, { body: { value } });
    const note = (extra = {}) => ({
      subscriptionId: 'sub-1', clientState: CLIENT_STATE, changeType: 'created', resource: "Users/alice/Messages('AAMk')", tenantId: 't', ...extra,
    });

    test('the validation handshake echoes the token as plain text', async () => {
      const res = await api('POST', '/push/graph?validationToken=Validation%3A%20Token%20%3Cb%3E1%3C%2Fb%3E', { raw: '', headers: { 'content-type': 'text/plain' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.text).toBe('Validation: Token <b>1</b>');
      expect(pushes).toEqual([]);
    });

    test('a valid notification is answered 202 and emits push once per account', async () => {
      const res = await graph([note(), note({ changeType: 'updated' })]);
      expect(res.status).toBe(202);
      await waitUntil(() => pushes.length === 1, 5000, 'a push event');
      expect(pushes).toEqual([{ accountId: 'acc', source: 'graph' }]);
    });

    test('wrong clientState and unknown subscriptions are skipped and logged without secrets', async () => {
      const forged = [
        note({ clientState: 'guess' }),
        note({ clientState: `${CLIENT_STATE}!` }), // another length must not throw
        note({ clientState: undefined }),
        note({ subscriptionId: 'sub-unknown' }),
        'not an object',
      ];
      expect((await graph(forged)).status).toBe(202);
      expect(logs.filter((m) => m.includes('wrong clientState'))).toHaveLength(3);
      expect(logs.filter((m) => m.includes('unknown subscription'))).toHaveLength(2);
      // Mixed with a genuine one: only the genuine one counts.
      expect((await graph([note({ clientState: 'guess' }), note()])).status).toBe(202);
      await waitUntil(() => pushes.length === 1, 5000, 'the genuine push');
      expect(pushes).toEqual([{ accountId: 'acc', source: 'graph' }]);
    });

    test('a body without a value array is a 400', async () => {
      expect(await api('POST', '/push/graph', { body: { nope: 1 } })).toMatchObject({ status: 400, json: { error: { code: 'INVALID_BODY' } } });
    });
  });

  test('webhook options are validated', () => {
    const make = (options) => () => createRouter(engine, { notifier, authorize: () => ({ tenant: 't' }), ...options });
    expect(make({ gmail: { accounts: {}, token: '' } })).toThrow(expect.objectContaining({ option: 'gmail.token' }));
    expect(make({ gmail: { accounts: 'x', token: 't' } })).toThrow(expect.objectContaining({ option: 'gmail.accounts' }));
    expect(make({ gmail: { accounts: {}, oidc: { keys: { k1: 'x' } } } })).toThrow(expect.objectContaining({ option: 'gmail.oidc.audience' }));
    expect(make({ gmail: { accounts: {}, oidc: { audience: 'a', keys: { k1: 'not a key' } } } })).toThrow(expect.objectContaining({ option: 'gmail.oidc.keys.k1' }));
    expect(make({ graph: { subscriptions: { s: { accountId: 'acc' } } } })).toThrow(expect.objectContaining({ option: 'graph.subscriptions.s.clientState' }));
  });

  // NOTE: the one expectation here that depends on work in flight. engine.sync
  // lands with the pool/sync issue; until then this test fails on purpose with
  // a clear message instead of faking the method.
  test('both webhooks start a sync of the right account', async () => {
    if (typeof engine.sync !== 'function') throw new Error('engine.sync missing — lands with the pool/sync issue');
    const calls = [];
    const realSync = engine.sync;
    engine.sync = function sync(...args) {
      calls.push(args[0]);
      return realSync.apply(this, args);
    };
    expect((await gmail(gmailBody('9001'))).status).toBe(204);
    expect((await graph([{ subscriptionId: 'sub-1', clientState: CLIENT_STATE }])).status).toBe(202);
    await waitUntil(() => calls.length === 2, 10000, 'two syncs');
    expect(calls).toEqual(['acc', 'acc']);
    function graph(value) {
      return api('POST', '/push/graph', { body: { value } });
    }
  });
});
