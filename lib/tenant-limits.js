'use strict';

// Bounds on what a tenant may ask of the engine through the router. A tenant
// chooses the server and every tunable, so each one is an amplifier: a 0 ms
// reconnect against a server that drops connections, thousands of folders
// (one connection each), a 1 ms poll. The operator sets the bounds
// (createRouter's `limits`); the tenant gets a 400 naming the option and the
// bound it broke.

const { optionError } = require('./errors');
const { isObject } = require('./http');
const { normalizeAccount, normalizeEngineOptions, shortestReconnectMs, MAX_BODY_BYTES } = require('./options');

const MINUTE = 60 * 1000;

const DEFAULT_LIMITS = Object.freeze({
  minReconnectDelayMs: 1000, // the shortest delay the jittered schedule may draw
  minPollMs: 10 * 1000,
  minIdleRefreshMs: MINUTE, // idle.refreshMs and idle.livenessMs (0, off, is allowed)
  minTimeoutMs: 1000, // timeouts.* and idle.doneTimeoutMs
  maxTimeoutMs: 5 * MINUTE,
  maxFolders: 20,
  maxBodyBytes: 10 * 1024 * 1024,
  maxAccountsPerTenant: 10,
  // An account costs one connection per folder plus the engine's pool.maxPerAccount.
  maxConnectionsPerTenant: 50,
});

function normalizeLimits(value) {
  if (value === undefined) return { ...DEFAULT_LIMITS };
  if (!isObject(value)) throw optionError('limits', 'must be an object');
  const out = { ...DEFAULT_LIMITS };
  for (const [key, v] of Object.entries(value)) {
    if (!(key in DEFAULT_LIMITS)) throw optionError(`limits.${key}`, 'is not a known limit');
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v < 1) throw optionError(`limits.${key}`, 'must be a positive integer');
    out[key] = v;
  }
  if (out.maxTimeoutMs < out.minTimeoutMs) throw optionError('limits.maxTimeoutMs', 'must not be below limits.minTimeoutMs');
  if (out.maxBodyBytes > MAX_BODY_BYTES) throw optionError('limits.maxBodyBytes', `must be at most ${MAX_BODY_BYTES}`);
  return out;
}

/**
 * The engine's own settings, which a tenant's account inherits where it says
 * nothing: the router bounds what the account will really use, not only what
 * the tenant typed. An engine-like object without them gets the defaults.
 */
function engineSettings(engine) {
  // Same package: MailEngine keeps its normalized options in _options.
  return engine && isObject(engine._options) && engine._options.reconnect ? engine._options : normalizeEngineOptions({});
}

const given = (body, section, key) => isObject(body[section]) && body[section][key] !== undefined;

/**
 * Each rule: the option, its effective value, whether it is in range, the
 * bound for the message, and the value that brings an inherited setting into
 * range. A value the tenant gave out of range is refused; one it inherited
 * from the engine is raised or lowered to the bound for this account.
 */
function rules(config, limits) {
  const r = config.reconnect;
  const timeout = (section, key) => ({
    section, key, value: config[section][key],
    ok: (v) => v >= limits.minTimeoutMs && v <= limits.maxTimeoutMs,
    bound: `between ${limits.minTimeoutMs} and ${limits.maxTimeoutMs} (limits.minTimeoutMs, limits.maxTimeoutMs)`,
    clamp: (v) => Math.min(Math.max(v, limits.minTimeoutMs), limits.maxTimeoutMs),
  });
  const minJittered = Math.ceil(limits.minReconnectDelayMs / (1 - r.jitter || 1));
  return [
    {
      section: 'reconnect', key: 'initialDelayMs', value: r.initialDelayMs,
      ok: () => shortestReconnectMs(r) >= limits.minReconnectDelayMs,
      bound: `at least ${limits.minReconnectDelayMs} after jitter (initialDelayMs × (1 − jitter) >= limits.minReconnectDelayMs)`,
      // Jitter 1 could draw 0 whatever the delay: there the tenant must lower it.
      clamp: () => (r.jitter < 1 ? Math.max(minJittered, r.initialDelayMs) : undefined),
      also: given(config.body, 'reconnect', 'jitter') && !given(config.body, 'reconnect', 'initialDelayMs') ? 'jitter' : null,
    },
    {
      section: 'idle', key: 'pollMs', value: config.idle.pollMs,
      ok: (v) => v >= limits.minPollMs, bound: `at least ${limits.minPollMs} (limits.minPollMs)`, clamp: () => limits.minPollMs,
    },
    {
      section: 'idle', key: 'refreshMs', value: config.idle.refreshMs,
      ok: (v) => v >= limits.minIdleRefreshMs, bound: `at least ${limits.minIdleRefreshMs} (limits.minIdleRefreshMs)`, clamp: () => limits.minIdleRefreshMs,
    },
    {
      section: 'idle', key: 'livenessMs', value: config.idle.livenessMs,
      ok: (v) => v === 0 || v >= limits.minIdleRefreshMs, bound: `0 (off) or at least ${limits.minIdleRefreshMs} (limits.minIdleRefreshMs)`, clamp: () => limits.minIdleRefreshMs,
    },
    timeout('idle', 'doneTimeoutMs'),
    timeout('timeouts', 'connectMs'),
    timeout('timeouts', 'commandMs'),
    timeout('timeouts', 'logoutMs'),
  ];
}

/**
 * Returns the account to hand the engine: the tenant's body with inherited
 * settings brought into range, or throws the engine's TypeError for a
 * malformed one, or an INVALID_OPTION naming the bound a value broke.
 * Also returns the connections it may open, for the tenant's budget.
 */
function boundAccount(body, engine, limits) {
  const settings = engineSettings(engine);
  const config = { ...normalizeAccount(body, settings), body };
  const out = { ...body };
  for (const rule of rules(config, limits)) {
    if (rule.ok(rule.value)) continue;
    if (given(body, rule.section, rule.key) || rule.also) {
      const name = `${rule.section}.${rule.also || rule.key}`;
      throw optionError(name, `must keep ${rule.section}.${rule.key} ${rule.bound}`);
    }
    const fixed = rule.clamp(rule.value);
    if (fixed === undefined) throw optionError(`${rule.section}.jitter`, `must be below 1 (limits.minReconnectDelayMs is ${limits.minReconnectDelayMs})`);
    out[rule.section] = { ...out[rule.section], [rule.key]: fixed };
    if (rule.key === 'initialDelayMs' && config.reconnect.maxDelayMs < fixed) {
      if (given(body, 'reconnect', 'maxDelayMs')) throw optionError('reconnect.maxDelayMs', `must be at least ${fixed} (limits.minReconnectDelayMs with jitter ${config.reconnect.jitter})`);
      out.reconnect.maxDelayMs = fixed;
    }
  }
  if (config.folders.length > limits.maxFolders) {
    throw optionError('folders', `must list at most ${limits.maxFolders} folders (limits.maxFolders)`);
  }
  if (config.fetchBodies && config.maxBodyBytes > limits.maxBodyBytes) {
    if (body.maxBodyBytes !== undefined) throw optionError('maxBodyBytes', `must be at most ${limits.maxBodyBytes} (limits.maxBodyBytes)`);
    out.maxBodyBytes = limits.maxBodyBytes;
  }
  return { account: out, config, connections: config.folders.length + settings.pool.maxPerAccount };
}

module.exports = { DEFAULT_LIMITS, normalizeLimits, boundAccount };
