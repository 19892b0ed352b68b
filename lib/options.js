'use strict';

const { optionError } = require('./errors');

const MAX_IDLE_REFRESH_MS = 29 * 60 * 1000; // RFC 2177: servers may drop IDLE after 30 min
// The engine's parser accepts no larger literal (src/core/parser.h kMaxLiteralBytes),
// so no message fetch can ask for more.
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const MAX_TIMER_MS = 2 ** 31 - 1;
// Engine floors: no one means a 0 ms reconnect loop or a 1 ms NOOP poll (a server
// that drops every connection made 100,000 connections in 10 s at 0 ms). 10 ms
// still lets test suites exercise reconnects in tens of milliseconds, and caps a
// folder at about 100 attempts a second. Routers for tenants add far higher floors
// (lib/tenant-limits.js).
const MIN_TIMER_MS = 10;

const ENGINE_DEFAULTS = Object.freeze({
  idle: { refreshMs: 25 * 60 * 1000, pollMs: 60 * 1000, doneTimeoutMs: 10 * 1000, livenessMs: 4 * 60 * 1000 },
  // Silent peer -> socket error 15 + 3 * 5 = 30 s after its last packet: the 60 s detection bound with margin.
  keepalive: { idleMs: 15 * 1000, intervalMs: 5 * 1000, count: 3 },
  reconnect: {
    initialDelayMs: 1000,
    factor: 2,
    maxDelayMs: 60 * 1000,
    jitter: 0.2,
    authFailureDelayMs: 5 * 60 * 1000,
    stopOnAuthFailure: false,
  },
  timeouts: { connectMs: 30 * 1000, commandMs: 60 * 1000, logoutMs: 2 * 1000 },
});

const TLS_MODES = ['implicit', 'starttls', 'none'];

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function checkObject(value, path) {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw optionError(path, 'must be an object');
  return value;
}

const join = (path, key) => (path ? `${path}.${key}` : key);

function checkKeys(obj, allowed, path) {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw optionError(join(path, key), 'is not a known option');
  }
}

function num(obj, key, path, { min = 0, max = Number.MAX_SAFE_INTEGER, integer = true } = {}) {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    throw optionError(join(path, key), `must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}`);
  }
  return v;
}

function bool(obj, key, path) {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw optionError(join(path, key), 'must be a boolean');
  return v;
}

function str(obj, key, path, { required = false, nonEmpty = true } = {}) {
  const v = obj[key];
  const name = join(path, key);
  if (v === undefined || v === null) {
    if (required) throw optionError(name, 'is required');
    return undefined;
  }
  if (typeof v !== 'string' || (nonEmpty && v.length === 0)) throw optionError(name, 'must be a non-empty string');
  return v;
}

function pick(values) {
  const out = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined) out[k] = v;
  return out;
}

// The kernel's limits (Linux): TCP_KEEPIDLE/TCP_KEEPINTVL in whole seconds up to 32767, TCP_KEEPCNT up to 127.
const MAX_KEEPALIVE_MS = 32767 * 1000;
const MAX_KEEPALIVE_COUNT = 127;

function keepaliveMs(obj, key, zeroTurnsOff) {
  const v = num(obj, key, 'keepalive', { min: 0, max: MAX_KEEPALIVE_MS });
  if (v !== undefined && v < 1000 && !(zeroTurnsOff && v === 0)) {
    throw optionError(`keepalive.${key}`, `must be ${zeroTurnsOff ? '0 (off) or ' : ''}at least 1000 (the kernel counts seconds)`);
  }
  return v;
}

function zeroOrAtLeast(obj, key, path, min) {
  const v = num(obj, key, path);
  if (v !== undefined && v !== 0 && v < min) throw optionError(join(path, key), `must be 0 (off) or at least ${min}`);
  return v;
}

/**
 * The shortest delay the reconnect schedule can draw: jitter takes up to that
 * fraction off the first delay (the same arithmetic as src/core/backoff.cpp).
 */
function shortestReconnectMs({ initialDelayMs, maxDelayMs, jitter }) {
  return Math.ceil(Math.min(initialDelayMs, maxDelayMs) * (1 - jitter));
}

/** Validates the tunables shared by the engine and (as overrides) each account. */
function normalizeTunables(src, base) {
  const idle = checkObject(src.idle, 'idle');
  checkKeys(idle, Object.keys(ENGINE_DEFAULTS.idle), 'idle');
  const keepalive = checkObject(src.keepalive, 'keepalive');
  checkKeys(keepalive, Object.keys(ENGINE_DEFAULTS.keepalive), 'keepalive');
  const reconnect = checkObject(src.reconnect, 'reconnect');
  checkKeys(reconnect, Object.keys(ENGINE_DEFAULTS.reconnect), 'reconnect');
  const timeouts = checkObject(src.timeouts, 'timeouts');
  checkKeys(timeouts, ['connectMs', 'commandMs', 'logoutMs'], 'timeouts');

  const out = {
    idle: {
      ...base.idle,
      ...pick({
        refreshMs: num(idle, 'refreshMs', 'idle', { min: MIN_TIMER_MS, max: MAX_IDLE_REFRESH_MS - 1 }),
        pollMs: num(idle, 'pollMs', 'idle', { min: MIN_TIMER_MS }),
        doneTimeoutMs: num(idle, 'doneTimeoutMs', 'idle', { min: 1 }),
        livenessMs: zeroOrAtLeast(idle, 'livenessMs', 'idle', MIN_TIMER_MS),
      }),
    },
    keepalive: {
      ...base.keepalive,
      ...pick({
        idleMs: keepaliveMs(keepalive, 'idleMs', true),
        intervalMs: keepaliveMs(keepalive, 'intervalMs', false),
        count: num(keepalive, 'count', 'keepalive', { min: 1, max: MAX_KEEPALIVE_COUNT }),
      }),
    },
    reconnect: {
      ...base.reconnect,
      ...pick({
        initialDelayMs: num(reconnect, 'initialDelayMs', 'reconnect'),
        factor: num(reconnect, 'factor', 'reconnect', { min: 1, max: 100, integer: false }),
        maxDelayMs: num(reconnect, 'maxDelayMs', 'reconnect'),
        jitter: num(reconnect, 'jitter', 'reconnect', { min: 0, max: 1, integer: false }),
        authFailureDelayMs: num(reconnect, 'authFailureDelayMs', 'reconnect'),
        stopOnAuthFailure: bool(reconnect, 'stopOnAuthFailure', 'reconnect'),
      }),
    },
    timeouts: {
      ...base.timeouts,
      ...pick({
        connectMs: num(timeouts, 'connectMs', 'timeouts', { min: 1 }),
        commandMs: num(timeouts, 'commandMs', 'timeouts', { min: 1 }),
        logoutMs: num(timeouts, 'logoutMs', 'timeouts', { min: 1 }),
      }),
    },
  };
  if (out.reconnect.maxDelayMs < out.reconnect.initialDelayMs) {
    throw optionError('reconnect.maxDelayMs', 'must not be below reconnect.initialDelayMs');
  }
  const shortest = shortestReconnectMs(out.reconnect);
  if (shortest < MIN_TIMER_MS) {
    const name = reconnect.jitter !== undefined && reconnect.initialDelayMs === undefined ? 'reconnect.jitter' : 'reconnect.initialDelayMs';
    throw optionError(name, `leaves a reconnect delay of ${shortest} ms: initialDelayMs × (1 − jitter) must be at least ${MIN_TIMER_MS}`);
  }
  return out;
}

function section(o, key, keys) {
  const v = checkObject(o[key], key);
  checkKeys(v, keys, key);
  return v;
}

const ENGINE_KEYS = ['idle', 'keepalive', 'reconnect', 'timeouts', 'auth', 'pool', 'sync', 'folders', 'stateFile', 'notifications',
  'maxQueuedEvents', 'logger'];

function normalizeEngineOptions(options) {
  const o = checkObject(options, 'options');
  checkKeys(o, ENGINE_KEYS, '');
  const auth = section(o, 'auth', ['refreshBeforeMs', 'tokenTimeoutMs']);
  const pool = section(o, 'pool', ['maxPerAccount', 'maxTotal', 'healthCheckMs', 'idleTimeoutMs']);
  const sync = section(o, 'sync', ['maxConcurrent', 'debounceMs', 'initial', 'flagWindow']);
  const folders = section(o, 'folders', ['cacheTtlMs']);
  const initial = checkObject(sync.initial, 'sync.initial');
  checkKeys(initial, ['last'], 'sync.initial');
  const stateFile = str(o, 'stateFile', '');
  return {
    ...normalizeTunables(o, ENGINE_DEFAULTS),
    auth: {
      refreshBeforeMs: num(auth, 'refreshBeforeMs', 'auth') ?? 5 * 60 * 1000,
      // A getAccessToken() call unsettled this long counts as failed. The cap
      // is setTimeout's: a longer delay would fire at once.
      tokenTimeoutMs: num(auth, 'tokenTimeoutMs', 'auth', { min: 1, max: MAX_TIMER_MS }) ?? 30 * 1000,
    },
    pool: {
      maxPerAccount: num(pool, 'maxPerAccount', 'pool', { min: 1, max: 100 }) ?? 2,
      maxTotal: num(pool, 'maxTotal', 'pool', { min: 1 }) ?? 1000,
      healthCheckMs: num(pool, 'healthCheckMs', 'pool') ?? 60 * 1000,
      idleTimeoutMs: num(pool, 'idleTimeoutMs', 'pool', { min: 1 }) ?? 5 * 60 * 1000,
    },
    sync: {
      maxConcurrent: num(sync, 'maxConcurrent', 'sync', { min: 1 }) ?? 5,
      debounceMs: num(sync, 'debounceMs', 'sync') ?? 1000,
      flagWindow: num(sync, 'flagWindow', 'sync', { min: 1, max: 100000 }) ?? 500,
      initial: { last: num(initial, 'last', 'sync.initial') ?? 0 },
    },
    folders: { cacheTtlMs: num(folders, 'cacheTtlMs', 'folders') ?? 5 * 60 * 1000 },
    ...pick({ stateFile }),
    maxQueuedEvents: num(o, 'maxQueuedEvents', '', { min: 1 }) ?? 10000,
    notifications: o.notifications,
    previewChars: o.notifications && Number.isSafeInteger(o.notifications.preview) ? o.notifications.preview : 0,
  };
}

function pemText(v, path) {
  const list = Array.isArray(v) ? v : [v];
  return list
    .map((item, i) => {
      if (typeof item === 'string') return item;
      if (Buffer.isBuffer(item)) return item.toString('utf8');
      throw optionError(Array.isArray(v) ? `${path}[${i}]` : path, 'must be a PEM string, a Buffer or an array of them');
    })
    .join('\n');
}

const ACCOUNT_KEYS = [
  'id', 'host', 'port', 'tls', 'tlsOptions', 'user', 'pass', 'accessToken', 'getAccessToken',
  'allowInsecureAuth', 'folders', 'fetchBodies', 'maxBodyBytes', 'idle', 'keepalive', 'reconnect', 'timeouts',
];

/** Returns the native account config: validated, defaulted, with engine tunables merged in. */
function normalizeAccount(account, engineOptions) {
  if (!isPlainObject(account)) throw optionError('account', 'must be an object');
  checkKeys(account, ACCOUNT_KEYS, '');
  const id = str(account, 'id', '', { required: true });
  const host = str(account, 'host', '', { required: true });
  const tls = account.tls === undefined ? 'implicit' : account.tls;
  if (!TLS_MODES.includes(tls)) throw optionError('tls', `must be one of ${TLS_MODES.map((m) => `'${m}'`).join(', ')}`);
  const port = num(account, 'port', '', { min: 1, max: 65535 }) ?? (tls === 'implicit' ? 993 : 143);

  const tlsIn = checkObject(account.tlsOptions, 'tlsOptions');
  checkKeys(tlsIn, ['ca', 'servername', 'rejectUnauthorized'], 'tlsOptions');
  const tlsOptions = pick({
    ca: tlsIn.ca === undefined ? undefined : pemText(tlsIn.ca, 'tlsOptions.ca'),
    servername: str(tlsIn, 'servername', 'tlsOptions'),
    rejectUnauthorized: bool(tlsIn, 'rejectUnauthorized', 'tlsOptions'),
  });

  const user = str(account, 'user', '', { required: true });
  const pass = str(account, 'pass', '', { nonEmpty: false });
  const accessToken = str(account, 'accessToken', '');
  const getAccessToken = account.getAccessToken;
  if (getAccessToken !== undefined && typeof getAccessToken !== 'function') {
    throw optionError('getAccessToken', 'must be a function returning { accessToken, expiresAt }');
  }
  const given = [pass, accessToken, getAccessToken].filter((v) => v !== undefined).length;
  if (given === 0) throw optionError('pass', 'or accessToken or getAccessToken is required');
  if (given > 1) {
    throw optionError(pass !== undefined ? (accessToken !== undefined ? 'accessToken' : 'getAccessToken') : 'getAccessToken',
      'cannot be combined with another credential');
  }

  let folders = account.folders === undefined ? ['INBOX'] : account.folders;
  if (!Array.isArray(folders) || folders.length === 0 || folders.some((f) => typeof f !== 'string' || f === '')) {
    throw optionError('folders', 'must be a non-empty array of folder names');
  }
  if (new Set(folders).size !== folders.length) throw optionError('folders', 'must not repeat a folder');
  folders = [...folders];

  return {
    id,
    host,
    port,
    tls,
    tlsOptions,
    user,
    ...pick({ pass, accessToken }),
    tokenProvider: getAccessToken !== undefined,
    allowInsecureAuth: bool(account, 'allowInsecureAuth', '') || false,
    folders,
    fetchBodies: bool(account, 'fetchBodies', '') || false,
    maxBodyBytes: num(account, 'maxBodyBytes', '', { min: 1, max: MAX_BODY_BYTES }) ?? MAX_BODY_BYTES,
    previewChars: engineOptions.previewChars || 0,
    ...normalizeTunables(account, engineOptions),
  };
}

module.exports = {
  normalizeEngineOptions, normalizeAccount, shortestReconnectMs, ACCOUNT_KEYS, ENGINE_KEYS, ENGINE_DEFAULTS, MAX_IDLE_REFRESH_MS, MAX_BODY_BYTES, MIN_TIMER_MS,
};
