'use strict';

const { MailEngine } = require('..');

function expectInvalid(caught, option) {
  expect(caught).toBeInstanceOf(TypeError);
  expect(caught.code).toBe('INVALID_OPTION');
  expect(caught.option).toBe(option);
  expect(caught.message).toContain(`'${option}'`);
}

function expectOptionError(fn, option) {
  let caught;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expectInvalid(caught, option);
}

// addAccount() reports a bad option by rejecting, like every async method.
async function expectRejectedOption(promise, option) {
  expect(promise).toBeInstanceOf(Promise);
  expectInvalid(await promise.then(() => null, (err) => err), option);
}

const base = { id: 'a', host: '127.0.0.1', user: 'u', pass: 'p' };

describe('engine options', () => {
  test.each([
    [{ idle: { refreshMs: 29 * 60 * 1000 } }, 'idle.refreshMs'],
    [{ idle: { refreshMs: 0 } }, 'idle.refreshMs'],
    [{ idle: { pollMs: 'often' } }, 'idle.pollMs'],
    [{ idle: 5 }, 'idle'],
    [{ reconnect: { factor: 0.5 } }, 'reconnect.factor'],
    [{ reconnect: { jitter: 2 } }, 'reconnect.jitter'],
    [{ reconnect: { initialDelayMs: 5000, maxDelayMs: 10 } }, 'reconnect.maxDelayMs'],
    [{ reconnect: { stopOnAuthFailure: 'yes' } }, 'reconnect.stopOnAuthFailure'],
    [{ timeouts: { connectMs: -1 } }, 'timeouts.connectMs'],
    // Engine floors (10 ms): a 0 ms reconnect loop or a 1 ms poll is never what anyone meant.
    [{ reconnect: { initialDelayMs: 0, maxDelayMs: 0 } }, 'reconnect.initialDelayMs'],
    [{ reconnect: { initialDelayMs: 9 } }, 'reconnect.initialDelayMs'],
    [{ reconnect: { initialDelayMs: 12, jitter: 0.5 } }, 'reconnect.initialDelayMs'], // could draw 6 ms
    [{ reconnect: { jitter: 1 } }, 'reconnect.jitter'], // could draw 0 ms whatever the delay
    [{ idle: { pollMs: 1 } }, 'idle.pollMs'],
    [{ idle: { refreshMs: 5 } }, 'idle.refreshMs'],
    [{ idle: { livenessMs: 1 } }, 'idle.livenessMs'],
    [{ idel: {} }, 'idel'],
    [{ auth: { tokenTimeoutMs: 0 } }, 'auth.tokenTimeoutMs'],
    [{ auth: { tokenTimeoutMs: '30s' } }, 'auth.tokenTimeoutMs'],
    [{ auth: { tokenTimeoutMs: 2 ** 31 } }, 'auth.tokenTimeoutMs'], // setTimeout would fire at once
    [{ auth: { tokenTimeout: 5 } }, 'auth.tokenTimeout'],
  ])('%j is rejected naming %s', (opts, option) => {
    expectOptionError(() => new MailEngine(opts), option);
  });

  test('the floors leave room for fast tests: 10 ms after jitter, and livenessMs 0 still turns the check off', () => {
    const { normalizeEngineOptions } = require('../lib/options');
    expect(normalizeEngineOptions({ reconnect: { initialDelayMs: 20, maxDelayMs: 50 } }).reconnect).toMatchObject({ initialDelayMs: 20, jitter: 0.2 });
    expect(normalizeEngineOptions({ reconnect: { initialDelayMs: 10, jitter: 0 } }).reconnect.initialDelayMs).toBe(10);
    expect(normalizeEngineOptions({ idle: { pollMs: 10, livenessMs: 0 } }).idle).toMatchObject({ pollMs: 10, livenessMs: 0 });
  });

  test('pool defaults are the documented ones (test/cpp/defaults_test.cc pins the engine to the same)', () => {
    const { normalizeEngineOptions } = require('../lib/options');
    expect(normalizeEngineOptions({}).pool).toEqual({ maxPerAccount: 2, maxTotal: 1000, healthCheckMs: 60000, idleTimeoutMs: 300000 });
  });

  test('auth.tokenTimeoutMs defaults to 30 s', () => {
    const { normalizeEngineOptions } = require('../lib/options');
    expect(normalizeEngineOptions({}).auth).toEqual({ refreshBeforeMs: 300000, tokenTimeoutMs: 30000 });
    expect(normalizeEngineOptions({ auth: { tokenTimeoutMs: 250 } }).auth.tokenTimeoutMs).toBe(250);
  });
});

describe('account options', () => {
  let engine;
  beforeAll(() => {
    engine = new MailEngine();
  });
  afterAll(() => engine.close());

  test.each([
    [{ ...base, id: '' }, 'id'],
    [{ ...base, id: undefined }, 'id'],
    [{ ...base, host: 42 }, 'host'],
    [{ ...base, port: 70000 }, 'port'],
    [{ ...base, port: 1.5 }, 'port'],
    [{ ...base, tls: 'ssl' }, 'tls'],
    [{ ...base, tlsOptions: { rejectUnauthorized: 'no' } }, 'tlsOptions.rejectUnauthorized'],
    [{ ...base, tlsOptions: { ca: 7 } }, 'tlsOptions.ca'],
    [{ ...base, tlsOptions: { cert: 'x' } }, 'tlsOptions.cert'],
    [{ ...base, user: undefined }, 'user'],
    [{ id: 'a', host: 'h', user: 'u' }, 'pass'],
    [{ ...base, accessToken: 't' }, 'accessToken'],
    [{ ...base, folders: [] }, 'folders'],
    [{ ...base, folders: ['INBOX', 'INBOX'] }, 'folders'],
    [{ ...base, folders: 'INBOX' }, 'folders'],
    [{ ...base, allowInsecureAuth: 1 }, 'allowInsecureAuth'],
    [{ ...base, idle: { refreshMs: 30 * 60 * 1000 } }, 'idle.refreshMs'],
    [{ ...base, password: 'x' }, 'password'],
  ])('%j is rejected naming %s', async (account, option) => {
    await expectRejectedOption(engine.addAccount(account), option);
  });

  test('an invalid option error never echoes the password', async () => {
    const err = await engine.addAccount({ ...base, pass: 'hunter2-secret', port: 'x' }).catch((e) => e);
    expect(err.option).toBe('port');
    expect(err.message).not.toContain('hunter2-secret');
    expect(JSON.stringify(err)).not.toContain('hunter2-secret');
  });

  test('the port defaults to 993 with implicit TLS and 143 otherwise', () => {
    const { normalizeAccount, ENGINE_DEFAULTS } = require('../lib/options');
    expect(normalizeAccount(base, ENGINE_DEFAULTS).port).toBe(993);
    expect(normalizeAccount({ ...base, tls: 'starttls' }, ENGINE_DEFAULTS).port).toBe(143);
    expect(normalizeAccount({ ...base, tls: 'none' }, ENGINE_DEFAULTS).port).toBe(143);
    expect(normalizeAccount(base, ENGINE_DEFAULTS).folders).toEqual(['INBOX']);
  });

  test('account tunables override engine defaults', () => {
    const { normalizeAccount, normalizeEngineOptions } = require('../lib/options');
    const engineOpts = normalizeEngineOptions({ idle: { pollMs: 5000 } });
    const acc = normalizeAccount({ ...base, idle: { refreshMs: 60000 } }, engineOpts);
    expect(acc.idle).toEqual({ refreshMs: 60000, pollMs: 5000, doneTimeoutMs: 10000, livenessMs: 240000 });
  });
});
