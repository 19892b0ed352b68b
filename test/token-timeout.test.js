'use strict';

// auth.tokenTimeoutMs: a getAccessToken() call that never settles must not
// lock an account out. It counts as failed (AUTH_FAILED naming the timeout),
// the next attempt calls getAccessToken again, and a late answer is dropped.

const { MailEngine } = require('..');
const { MockImapServer } = require('imap-push/testing');
const { waitForEvent, waitUntil } = require('./support/wait');

const TOKEN_TIMEOUT_MS = 300;
const options = {
  auth: { tokenTimeoutMs: TOKEN_TIMEOUT_MS },
  reconnect: { initialDelayMs: 50, maxDelayMs: 200, authFailureDelayMs: 100 },
  // Far above the token timeout: without it, the command timer would fail
  // the connection first (as TIMEOUT) and hide the lock-out.
  timeouts: { commandMs: 5000 },
  sync: { debounceMs: 50 },
};
const TIMEOUT_TEXT = `getAccessToken did not settle within ${TOKEN_TIMEOUT_MS} ms`;

describe('auth.tokenTimeoutMs', () => {
  let srv;
  let engine;

  beforeEach(async () => {
    srv = new MockImapServer({ users: {}, tokens: { alice: 'tok-2' } });
    await srv.listen();
    engine = new MailEngine(options);
  });
  afterEach(async () => {
    await engine.close();
    await srv.close();
  });

  const account = (getAccessToken) => ({
    id: 'acc', host: '127.0.0.1', port: srv.port, tls: 'none', allowInsecureAuth: true, user: 'alice', getAccessToken,
  });
  const authAttempts = () => srv.commandLog.filter((c) => c.command === 'AUTHENTICATE').length;

  test('a first call that never settles fails addAccount with AUTH_FAILED naming the timeout; the next add asks again', async () => {
    let calls = 0;
    const provider = () => {
      calls += 1;
      return calls === 1 ? new Promise(() => {}) : { accessToken: 'tok-2' };
    };
    const failed = waitForEvent(engine, 'connectionStatus', (s) => s.state === 'error');
    const err = await engine.addAccount(account(provider)).catch((e) => e);
    expect(err).toMatchObject({ name: 'ImapPushError', code: 'AUTH_FAILED', accountId: 'acc' });
    expect(err.message).toContain(TIMEOUT_TEXT);
    const status = await failed;
    expect(status.error).toMatchObject({ code: 'AUTH_FAILED' });
    expect(status.error.message).toContain(TIMEOUT_TEXT);
    expect(authAttempts()).toBe(0); // no token, so nothing was sent

    await expect(engine.addAccount(account(provider))).resolves.toMatchObject({ accountId: 'acc' });
    expect(calls).toBe(2);
  });

  test('a refresh that never settles: AUTH_FAILED, then a new call whose token connects; the late answer is dropped', async () => {
    let calls = 0;
    let settleLate;
    const provider = () => {
      calls += 1;
      if (calls === 1) return { accessToken: 'tok-1' }; // no expiry: cached until the server rejects it
      if (calls === 2) return new Promise((resolve) => { settleLate = resolve; });
      return { accessToken: 'tok-2', expiresAt: Date.now() + 3600e3 };
    };
    srv.tokens.alice = 'tok-1';
    await engine.addAccount(account(provider));
    expect(calls).toBe(1);

    // The provider rotates the token: the reconnect's tok-1 is rejected, the
    // forced refresh (call 2) hangs.
    srv.tokens.alice = 'tok-2';
    const statuses = [];
    engine.on('connectionStatus', (s) => statuses.push(s));
    srv.dropAll();
    const failed = await waitForEvent(engine, 'connectionStatus', (s) => s.state === 'error', 5000);
    expect(failed.error).toMatchObject({ code: 'AUTH_FAILED' });
    expect(failed.error.message).toContain(TIMEOUT_TEXT);
    expect(calls).toBe(2);

    // After authFailureDelayMs the next attempt asks again and connects.
    await waitForEvent(engine, 'connectionStatus', (s) => s.state === 'idle', 5000);
    expect(calls).toBe(3);
    expect(statuses.filter((s) => s.state === 'error')).toHaveLength(1);

    // The timed-out call settles now: it must not replace tok-2. If it did,
    // the next connection would send tok-late, be rejected and refresh
    // (call 4) before it could reach idle.
    settleLate({ accessToken: 'tok-late', expiresAt: Date.now() + 3600e3 });
    await new Promise((r) => setImmediate(r));
    srv.dropAll();
    await waitForEvent(engine, 'connectionStatus', (s) => s.state === 'idle', 5000);
    expect(calls).toBe(3); // tok-2 from the cache, accepted without a refresh
    expect(JSON.stringify(statuses)).not.toMatch(/tok-/); // tokens never reach events
  });

  test('a hanging call of a removed account cannot answer for the account added again under its id', async () => {
    await engine.close();
    engine = new MailEngine({ ...options, auth: { tokenTimeoutMs: 20000 } });
    let settleOld;
    let oldCalls = 0;
    srv.tokens.alice = 'tok-1';
    await engine.addAccount(account(() => {
      oldCalls += 1;
      return oldCalls === 1 ? { accessToken: 'tok-1' } : new Promise((resolve) => { settleOld = resolve; });
    }));
    srv.tokens.alice = 'tok-2';
    srv.dropAll(); // tok-1 is rejected on reconnect; the refresh hangs
    await waitUntil(() => settleOld !== undefined, 5000, 'the refresh call');
    await engine.removeAccount('acc');

    const settleNew = [];
    const adding = engine.addAccount(account(() => new Promise((resolve) => settleNew.push(resolve))));
    await waitUntil(() => settleNew.length === 1, 5000, 'the new account to ask');
    // Taken as the answer to the new account's request, this stale token
    // would be rejected and force a second call.
    settleOld({ accessToken: 'tok-stale', expiresAt: Date.now() + 3600e3 });
    await expect(waitUntil(() => settleNew.length > 1, 1000, 'a second call')).rejects.toThrow(/timed out/);
    settleNew[0]({ accessToken: 'tok-2', expiresAt: Date.now() + 3600e3 });
    await expect(adding).resolves.toMatchObject({ accountId: 'acc' });
    expect(settleNew).toHaveLength(1);
  });

  test('an engine closed while a call hangs closes at once and ignores the late answer', async () => {
    let settle;
    const adding = engine.addAccount(account(() => new Promise((resolve) => { settle = resolve; })));
    await waitUntil(() => settle !== undefined, 5000, 'getAccessToken to be called');
    await engine.close();
    await expect(adding).rejects.toMatchObject({ code: 'CLOSED' });
    settle({ accessToken: 'tok-2' }); // nothing left to answer: no throw, no crash
    await new Promise((r) => setTimeout(r, TOKEN_TIMEOUT_MS + 50)); // and the timer finds a closed engine
  });
});
