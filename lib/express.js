'use strict';

// Express integration: per-tenant control of watched accounts, Server-Sent
// Events, health, Prometheus metrics, the dashboard and provider push
// webhooks.   app.use('/imap', createRouter(engine, { authorize }))

const express = require('express');
const { optionError } = require('./errors');
const { sendError, sendMappedError, isObject, publicError } = require('./http');
const { Tenancy } = require('./tenancy');
const { normalizeLimits, boundAccount } = require('./tenant-limits');
const { createHostPolicy } = require('./host-policy');
const { folderTotals } = require('./notify');
const { gmailHandler, graphHandler } = require('./push');
const { createMetrics } = require('./metrics');
const { mountActions } = require('./express-actions');
const { loadDashboard } = require('./dashboard-page');
const { DashboardHistory } = require('./dashboard-history');

const DEFAULT_HEARTBEAT_MS = 15000;

/** Resolves req to { tenant, admin } or answers 401/403 itself and returns null. */
async function authenticateRequest(authorize, req, res) {
  let auth;
  try {
    auth = await authorize(req);
  } catch (err) {
    const forbidden = err && (err.status === 403 || err.statusCode === 403 || err.code === 'FORBIDDEN');
    // The app's own error message may describe its credentials: never echo it.
    if (forbidden) sendError(res, 403, 'FORBIDDEN', 'access denied');
    else sendError(res, 401, 'UNAUTHORIZED', 'authentication required');
    return null;
  }
  if (!isObject(auth) || typeof auth.tenant !== 'string' || auth.tenant === '') {
    sendError(res, 401, 'UNAUTHORIZED', 'authentication required');
    return null;
  }
  return { tenant: auth.tenant, admin: auth.admin === true };
}

const ERROR_KEYS = new Set(['error', 'lastError']);

// What the router shows of engine output: errors as { code, fixed message }
// (an Error's own fields are not enumerable and would serialize as {}; its
// message may quote the remote end). Account ids are viewOf()'s job.
function publicJson(item) {
  return JSON.stringify(item, (key, value) => (value instanceof Error || (ERROR_KEYS.has(key) && isObject(value))
    ? { ...(value.folder !== undefined ? { folder: value.folder } : {}), ...publicError(value) } : value));
}

function sendJson(res, status, body) {
  res.status(status).type('json').send(publicJson(body));
}

function drained(res) {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function checkOptions(options) {
  if (!isObject(options)) throw optionError('options', 'must be an object');
  const { authorize, heartbeatMs = DEFAULT_HEARTBEAT_MS, logger, accountPolicy } = options;
  if (typeof authorize !== 'function') throw optionError('authorize', 'must be a function (req) => { tenant, admin }');
  if (!Number.isSafeInteger(heartbeatMs) || heartbeatMs < 1) throw optionError('heartbeatMs', 'must be a positive integer');
  if (logger !== undefined && typeof logger !== 'function') throw optionError('logger', 'must be a function');
  if (accountPolicy !== undefined && typeof accountPolicy !== 'function') throw optionError('accountPolicy', 'must be a function');
  return {
    limits: normalizeLimits(options.limits),
    hostPolicy: createHostPolicy({ allowHosts: options.allowHosts, lookup: options.lookup }),
    history: new DashboardHistory(options.history),
  };
}

/** The notification API: an explicit notifier, else the engine's own (MailEngine#subscribe/events/health). */
function notificationsOf(engine, notifier) {
  const source = notifier || engine;
  if (['subscribe', 'events', 'health'].every((m) => typeof source[m] === 'function')) return source;
  throw optionError('notifier', notifier ? 'must have subscribe(), events() and health()' : 'is required: this engine has no subscribe()/events()/health()');
}

function createRouter(engine, options = {}) {
  if (!engine || typeof engine.addAccount !== 'function') throw optionError('engine', 'must be a MailEngine');
  const { limits, hostPolicy, history } = checkOptions(options);
  const { authorize, heartbeatMs = DEFAULT_HEARTBEAT_MS, accountPolicy } = options;
  const logger = options.logger || ((message) => console.warn(message));
  const notifications = notificationsOf(engine, options.notifier);
  const gmail = options.gmail === undefined ? null : gmailHandler(engine, options.gmail, logger);
  const graph = options.graph === undefined ? null : graphHandler(engine, options.graph, logger);
  const tenancy = new Tenancy(engine);
  const metrics = createMetrics(notifications);
  const dashboard = loadDashboard();
  const streams = new Set(); // AbortControllers of open SSE responses
  // Recorded under the owner's name and id at the time, for the dashboard's history.
  const unrecord = notifications.subscribe({}, (item) => {
    const entry = tenancy.entry(item.accountId);
    history.record(entry ? entry.tenant : null, entry ? entry.id : item.accountId, item);
  });

  const router = express.Router();
  router.use(express.json({ limit: '100kb' }));
  // Express 4 ignores a rejected handler promise; route it to the error handler (Express 5 does this itself).
  const safe = (handler) => (req, res, next) => Promise.resolve(handler(req, res, next)).catch(next);

  const authenticate = safe(async (req, res, next) => {
    const auth = await authenticateRequest(authorize, req, res);
    if (!auth) return;
    req.imapPushAuth = auth;
    next();
  });
  const adminOnly = (req, res, next) => {
    if (req.imapPushAuth.admin) next();
    else sendError(res, 403, 'FORBIDDEN', 'admins only');
  };
  const unknownAccount = (res, id) => sendError(res, 404, 'UNKNOWN_ACCOUNT', `no account '${id}'`);
  const accountIdOf = (body, key) => {
    const id = isObject(body) ? body[key] : undefined;
    if (typeof id !== 'string' || id === '') throw optionError(key, 'must be a non-empty string');
    return id;
  };
  // Whose namespace a request means: the caller's own; an admin may name another tenant.
  const tenantOf = (auth, named) => (auth.admin && typeof named === 'string' && named !== '' ? named : auth.tenant);
  // An engine account as its owner knows it; admins also get the tenant (null: added by the app).
  const viewOf = (status, admin) => {
    const entry = tenancy.entry(status.accountId);
    const view = { ...status, accountId: entry ? entry.id : status.accountId };
    return admin ? { ...view, tenant: entry ? entry.tenant : null } : view;
  };
  const ownedBy = (tenant) => (accountId) => tenancy.entry(accountId)?.tenant === tenant;

  // Refused starts, for operators: never the account's credentials, and never shown to the tenant.
  const refused = (tenant, detail) => logger(`imap-push router: tenant '${tenant}': ${detail}`);

  router.post('/idle/start', authenticate, safe(async (req, res) => {
    const auth = req.imapPushAuth;
    let id;
    let bounded;
    try {
      if (!isObject(req.body)) return sendError(res, 400, 'INVALID_BODY', 'body must be a JSON account object');
      id = accountIdOf(req.body, 'id');
      if (accountPolicy && !(await accountPolicy(req.body, auth))) {
        return sendError(res, 403, 'FORBIDDEN', 'this account configuration is not allowed');
      }
      bounded = boundAccount(req.body, engine, limits);
    } catch (err) {
      return sendMappedError(res, err);
    }
    // Counted and claimed in one synchronous step, so concurrent starts cannot overshoot.
    const usage = tenancy.usage(auth.tenant);
    if (usage.accounts >= limits.maxAccountsPerTenant) {
      return sendError(res, 403, 'TENANT_LIMIT', `at most ${limits.maxAccountsPerTenant} accounts per tenant (limits.maxAccountsPerTenant)`);
    }
    if (usage.connections + bounded.connections > limits.maxConnectionsPerTenant) {
      return sendError(res, 403, 'TENANT_LIMIT', `this account needs ${bounded.connections} connections; `
        + `the tenant has ${limits.maxConnectionsPerTenant - usage.connections} of ${limits.maxConnectionsPerTenant} left (limits.maxConnectionsPerTenant)`);
    }
    const key = tenancy.reserve(auth.tenant, id, bounded.connections);
    if (key === null) return sendError(res, 409, 'ACCOUNT_EXISTS', `account '${id}' already exists`);
    let added = false;
    try {
      const target = await hostPolicy(bounded.config, (detail) => refused(auth.tenant, `account '${id}': ${detail}`));
      const { account } = bounded;
      const tlsOptions = { ...account.tlsOptions, ...(target.servername ? { servername: target.servername } : {}) };
      const status = await engine.addAccount({ ...account, id: key, host: target.host, tlsOptions });
      added = true;
      sendJson(res, 201, viewOf(status, false));
    } catch (err) {
      // The engine's id for it is ours: a clash there is the app's own account, reported in the tenant's terms.
      if (err && err.code === 'ACCOUNT_EXISTS') return sendError(res, 409, 'ACCOUNT_EXISTS', `account '${id}' already exists`);
      sendMappedError(res, err, (detail) => refused(auth.tenant, `account '${id}': ${detail}`));
    } finally {
      tenancy.settle(key, added);
    }
  }));

  router.post('/idle/stop', authenticate, safe(async (req, res) => {
    let id;
    try {
      id = accountIdOf(req.body, 'accountId');
    } catch (err) {
      return sendMappedError(res, err);
    }
    const key = tenancy.find(tenantOf(req.imapPushAuth, req.body.tenant), id);
    if (key === undefined) return unknownAccount(res, id);
    try {
      await engine.removeAccount(key);
      tenancy.release(key);
      res.json({ accountId: id, stopped: true });
    } catch (err) {
      if (err.code !== 'UNKNOWN_ACCOUNT') return sendMappedError(res, err);
      tenancy.release(key);
      unknownAccount(res, id);
    }
  }));

  router.get('/idle/status/:accountId', authenticate, (req, res) => {
    const id = req.params.accountId;
    const key = tenancy.find(tenantOf(req.imapPushAuth, req.query.tenant), id);
    const status = key === undefined ? null : engine.status(key);
    if (!status) return unknownAccount(res, id);
    sendJson(res, 200, viewOf(status, req.imapPushAuth.admin));
  });

  router.get('/idle/status', authenticate, (req, res) => {
    const mine = ownedBy(req.imapPushAuth.tenant);
    sendJson(res, 200, { accounts: engine.status().filter((a) => mine(a.accountId)).map((a) => viewOf(a, false)) });
  });

  router.get('/idle/admin/all', authenticate, adminOnly, (req, res) => {
    sendJson(res, 200, { accounts: engine.status().map((a) => viewOf(a, true)) });
  });

  router.get('/events', authenticate, safe(async (req, res) => {
    const { tenant, admin } = req.imapPushAuth;
    const mine = ownedBy(tenant);
    const controller = new AbortController();
    streams.add(controller);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no', // proxies must not hold events back
    });
    res.write('retry: 3000\n: connected\n\n');
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs);
    res.on('close', () => controller.abort());
    try {
      // The iterator's bounded, merging buffer is what protects us from a slow client.
      for await (const item of notifications.events({ signal: controller.signal })) {
        // Admins hear every tenant, each event tagged with its tenant.
        if (!admin && !mine(item.accountId)) continue;
        if (!res.write(`event: ${item.type}\ndata: ${publicJson(viewOf(item, admin))}\n\n`)) await drained(res);
      }
    } finally {
      clearInterval(heartbeat);
      streams.delete(controller);
      res.end();
    }
  }));

  router.get('/health', authenticate, (req, res) => {
    const auth = req.imapPushAuth;
    const health = notifications.health();
    const body = auth.admin ? { ...health, accounts: health.accounts.map((a) => viewOf(a, true)) } : scopeHealth(health, ownedBy(auth.tenant));
    sendJson(res, body.isHealthy ? 200 : 503, body);
  });

  /**
   * A tenant's view of health: only its accounts, and only counts of its own.
   * The process-wide figures (syncs, listeners, queues) are for admins.
   */
  function scopeHealth(health, mine) {
    const accounts = health.accounts.filter((a) => mine(a.accountId));
    const pooled = typeof engine.poolStats === 'function'
      ? accounts.reduce((n, a) => n + (engine.poolStats(a.accountId).open || 0), 0) : 0;
    return { ...folderTotals(accounts), pooledConnections: pooled, accounts: accounts.map((a) => viewOf(a, false)) };
  }

  // Process-wide counts about every tenant: operators only.
  router.get('/metrics', authenticate, adminOnly, safe(async (req, res) => {
    if (!metrics) return sendError(res, 501, 'METRICS_UNAVAILABLE', "install 'prom-client' to enable /metrics");
    res.set('Content-Type', metrics.contentType).send(await metrics.render());
  }));

  // The dashboard's start: the caller's recent events and counters; an admin's cover every tenant.
  router.get('/history', authenticate, (req, res) => {
    const { tenant, admin } = req.imapPushAuth;
    sendJson(res, 200, { admin, ...(admin ? {} : { tenant }), ...history.snapshot(admin ? null : tenant) });
  });

  // The page holds no data; everything it shows comes from authorized endpoints.
  // Also answers /dashboard/ (the page finds the API either way).
  router.get('/dashboard', (req, res) => {
    res.set({ 'Content-Security-Policy': dashboard.csp, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache' });
    res.type('html').send(dashboard.html);
  });

  // Provider webhooks authenticate themselves (token, OIDC JWT, clientState), not through authorize().
  const notConfigured = (res) => sendError(res, 404, 'NOT_CONFIGURED', 'this push endpoint is not configured');
  router.post('/push/gmail', (req, res) => (gmail ? gmail(req, res) : notConfigured(res)));
  router.post('/push/graph', (req, res) => (graph ? graph(req, res) : notConfigured(res)));

  mountActions(router, engine, {
    authenticate,
    safe,
    accountFor: (req, id) => {
      const key = tenancy.find(tenantOf(req.imapPushAuth, req.query.tenant), id);
      return key !== undefined && engine.status(key) ? key : null;
    },
    // Results (messages() pages carry accountId) in the caller's terms, errors with fixed texts.
    send: (res, key, result) => {
      const entry = tenancy.entry(key);
      const body = JSON.parse(publicJson(result), (k, v) => (k === 'accountId' && v === key && entry ? entry.id : v));
      res.json(body);
    },
  });

  // Express recognizes an error handler by its four parameters.
  router.use((err, req, res, next) => {
    if (res.headersSent) return next(err);
    // Body-parser messages can quote the body, which may hold a password.
    if (err.type === 'entity.parse.failed') return sendError(res, 400, 'INVALID_JSON', 'request body is not valid JSON');
    if (err.type === 'entity.too.large') return sendError(res, 413, 'BODY_TOO_LARGE', 'request body is too large');
    if (err.status >= 400 && err.status < 500) return sendError(res, err.status, 'BAD_REQUEST', 'bad request');
    return sendMappedError(res, err);
  });

  /** Records the owner of an account the app added to the engine itself. */
  router.assign = (accountId, tenant) => {
    if (typeof accountId !== 'string' || !accountId) throw optionError('accountId', 'must be a non-empty string');
    if (typeof tenant !== 'string' || !tenant) throw optionError('tenant', 'must be a non-empty string');
    tenancy.assign(accountId, tenant);
  };
  /** The engine's id for a tenant's account (for the push webhooks' maps, engine.sync() ...), or null. */
  router.accountKey = (tenant, accountId) => tenancy.find(tenant, accountId) ?? null;
  /** Ends open event streams and detaches from the notifications. The engine is left running. */
  router.close = () => {
    for (const controller of streams) controller.abort();
    unrecord();
    if (metrics) metrics.close();
  };
  return router;
}

module.exports = { createRouter };
