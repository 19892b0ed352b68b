'use strict';
// OAuth2 against a real server: Dovecot validates HS256 JWTs itself (startDovecot({ oauth2: true })),
// so the engine's XOAUTH2 path, its refresh on AUTHENTICATIONFAILED and its secrecy are checked
// against what a provider like Gmail does, not against a scripted fake.
const { MailEngine } = require('..');
const { startDovecot, dovecotAvailable } = require('./support/dovecot');

const describeDovecot = dovecotAvailable() ? describe : describe.skip;
jest.setTimeout(60000);

const message = (subject) => [
  'From: Sender <sender@example.com>', 'To: alice@example.com', `Subject: ${subject}`,
  'Date: Mon, 01 Jan 2024 10:00:00 +0000', `Message-ID: <${Date.now()}.${Math.random()}@example.com>`, '', 'hi', '',
].join('\r\n');

function waitFor(engine, name, pred, ms = 20000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { engine.off(name, on); reject(new Error(`no ${name} within ${ms} ms`)); }, ms);
    const on = (e) => {
      if (!pred(e)) return;
      clearTimeout(timer);
      engine.off(name, on);
      resolve(e);
    };
    engine.on(name, on);
  });
}

describeDovecot('OAuth2 against Dovecot', () => {
  let d;
  let engine;
  let seen;
  beforeAll(async () => { d = await startDovecot({ oauth2: true, users: { alice: 'secret', bob: 'pw' } }); });
  afterAll(async () => { if (d) await d.stop(); });
  beforeEach(() => {
    engine = new MailEngine({ reconnect: { initialDelayMs: 100, maxDelayMs: 500, authFailureDelayMs: 200 } });
    seen = [];
    for (const name of ['newMessage', 'connectionStatus', 'error', 'authFailed', 'accountError']) {
      engine.on(name, (e) => seen.push(JSON.stringify(e, (k, v) => (v instanceof Error ? { message: v.message, ...v } : v))));
    }
  });
  afterEach(async () => { await engine.close(); });

  const account = (getAccessToken) => ({ id: 'a', host: '127.0.0.1', port: d.tlsPort, tls: 'implicit',
    tlsOptions: { ca: d.caPem }, user: 'alice', folders: ['INBOX'], getAccessToken });

  test('an account with getAccessToken gets pushes', async () => {
    const tokens = [];
    await engine.addAccount(account(() => {
      const t = d.mintToken('alice');
      tokens.push(t);
      return { accessToken: t, expiresAt: Date.now() + 3600e3 };
    }));
    const got = waitFor(engine, 'newMessage', (m) => m.envelope.subject === 'oauth push');
    d.deliver('alice', message('oauth push'));
    expect((await got).accountId).toBe('a');
    expect(tokens.length).toBeGreaterThan(0);
    for (const t of tokens) for (const s of seen) expect(s).not.toContain(t);
    expect(d.log()).toMatch(/method=XOAUTH2|method=OAUTHBEARER/);
  });

  test('an expired token is refreshed once on AUTHENTICATIONFAILED and the session recovers', async () => {
    const given = [];
    await engine.addAccount(account(() => {
      // The first answer is a token the provider's cache still held but the server no longer takes.
      const t = given.length === 0 ? d.mintExpiredToken('alice') : d.mintToken('alice');
      given.push(t);
      return { accessToken: t, expiresAt: Date.now() + 3600e3 };
    }));
    const got = waitFor(engine, 'newMessage', (m) => m.envelope.subject === 'after refresh');
    d.deliver('alice', message('after refresh'));
    await got;
    // The rejected token made the engine ask again (the pool may log in more than once after).
    expect(given.length).toBeGreaterThanOrEqual(2);
    for (const t of given) for (const s of seen) expect(s).not.toContain(t);
    for (const s of seen) expect(s).not.toContain(d.oauthKey);
  });

  test('a provider that only gives bad tokens reports auth failure without the token', async () => {
    const bad = d.mintExpiredToken('alice');
    const failed = waitFor(engine, 'connectionStatus', (e) => /auth|fail|error/i.test(JSON.stringify(e)));
    await engine.addAccount(account(() => ({ accessToken: bad }))).catch((e) => seen.push(String(e.message)));
    await failed.catch(() => {});
    expect(seen.join('\n')).toMatch(/AUTH/i);
    for (const s of seen) expect(s).not.toContain(bad);
  });
});
