'use strict';

// Express integration: per-tenant control of watched accounts, Server-Sent
// Events, health, Prometheus metrics, the dashboard and provider push
// webhooks.   app.use('/imap', createRouter(engine, { authorize }))

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const express = require('express');
const { optionError } = require('./errors');
const { sendError, sendMappedError, isObject } = require('./http');
const { folderTotals } = require('./notify');
const { gmailHandler, graphHandler } = require('./push');
const { createMetrics } = require('./metrics');
const { mountActions } = require('./express-actions');

const DEFAULT_HEARTBEAT_MS = 15000;

/**
 * Which tenant owns which account id. An account added to the engine outside
 * the router has no owner (admins still see it) until assign() gives it one.
 */
class Tenancy {
  constructor(engine) {
    this.engine = engine;
    this.owners = new Map();
    this.pending = new Set(); // ids reserved while addAccount runs
  }

  owner(id) {
    return this.owners.get(id);
  }

  canSee(auth, id) {
    return auth.admin || this.owners.get(id) === auth.tenant;
  }

  /** Claims an id for a tenant; false if another live account holds it. */
  reserve(id, tenant) {
    const stale = !this.pending.has(id) && this.engine.status(id) === null;
    if (this.owners.has(id) && !stale) return false;
    this.owners.set(id, tenant);
    this.pending.add(id);
    return true;
  }

  settle(id, added) {
    this.pending.delete(id);
    if (!added) this.owners.delete(id);
  }

  release(id) {
    this.owners.delete(id);
  }
}

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

/** A tenant's view of health: only its accounts; process-wide counters carry no ids. */
function scopeHealth(health, visible) {
  const accounts = health.accounts.filter((a) => visible(a.accountId));
  return { ...health, ...folderTotals(accounts), accounts };
}

// Errors inside event payloads become { code, message }: an Error's own
// fields are not enumerable and would serialize as {}.
function eventJson(item) {
  return JSON.stringify(item, (key, value) => (value instanceof Error ? { code: value.code, message: value.message } : value));
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

/** The dashboard page and a CSP that admits exactly its inline script and style. */
function loadDashboard() {
  const html = fs.readFileSync(path.join(__dirname, 'dashboard.html'), 'utf8');
  const hash = (re) => {
    const m = re.exec(html);
    return m ? `'sha256-${crypto.createHash('sha256').update(m[1]).digest('base64')}'` : "'none'";
  };
  const csp = [
    "default-src 'none'", `script-src ${hash(/<script>([\s\S]*?)<\/script>/)}`, `style-src ${hash(/<style>([\s\S]*?)<\/style>/)}`,
    "connect-src 'self'", "img-src 'self' data:", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
  ].join('; ');
  return { html, csp };
}

function checkOptions(options) {
  if (!isObject(options)) throw optionError('options', 'must be an object');
  const { authorize, heartbeatMs = DEFAULT_HEARTBEAT_MS, logger, accountPolicy } = options;
  if (typeof authorize !== 'function') throw optionError('authorize', 'must be a function (req) => { tenant, admin }');
  if (!Number.isSafeInteger(heartbeatMs) || heartbeatMs < 1) throw optionError('heartbeatMs', 'must be a positive integer');
  if (logger !== undefined && typeof logger !== 'function') throw optionError('logger', 'must be a function');
  if (accountPolicy !== undefined && typeof accountPolicy !== 'function') throw optionError('accountPolicy', 'must be a function');
}

/** The notification API: an explicit notifier, else the engine's own (MailEngine#subscribe/events/health). */
function notificationsOf(engine, notifier) {
  const source = notifier || engine;
  if (['subscribe', 'events', 'health'].every((m) => typeof source[m] === 'function')) return source;
  throw optionError('notifier', notifier ? 'must have subscribe(), events() and health()' : 'is required: this engine has no subscribe()/events()/health()');
}

function createRouter(engine, options = {}) {
  if (!engine || typeof engine.addAccount !== 'function') throw optionError('engine', 'must be a MailEngine');
  checkOptions(options);
  const { authorize, heartbeatMs = DEFAULT_HEARTBEAT_MS, accountPolicy } = options;
  const logger = options.logger || ((message) => console.warn(message));
  const notifications = notificationsOf(engine, options.notifier);
  const gmail = options.gmail === undefined ? null : gmailHandler(engine, options.gmail, logger);
  const graph = options.graph === undefined ? null : graphHandler(engine, options.graph, logger);
  const tenancy = new Tenancy(engine);
  const metrics = createMetrics(notifications);
  const dashboard = loadDashboard();
  const streams = new Set(); // AbortControllers of open SSE responses

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

  router.post('/idle/start', authenticate, safe(async (req, res) => {
    const auth = req.imapPushAuth;
    let id;
    try {
      if (!isObject(req.body)) return sendError(res, 400, 'INVALID_BODY', 'body must be a JSON account object');
      id = accountIdOf(req.body, 'id');
      if (accountPolicy && !(await accountPolicy(req.body, auth))) {
        return sendError(res, 403, 'FORBIDDEN', 'this account configuration is not allowed');
      }
    } catch (err) {
      return sendMappedError(res, err);
    }
    if (!tenancy.reserve(id, auth.tenant)) return sendError(res, 409, 'ACCOUNT_EXISTS', `account '${id}' already exists`);
    try {
      const status = await engine.addAccount(req.body);
      tenancy.settle(id, true);
      res.status(201).json(status);
    } catch (err) {
      tenancy.settle(id, false);
      sendMappedError(res, err);
    }
  }));

  router.post('/idle/stop', authenticate, safe(async (req, res) => {
    let id;
    try {
      id = accountIdOf(req.body, 'accountId');
    } catch (err) {
      return sendMappedError(res, err);
    }
    if (!tenancy.canSee(req.imapPushAuth, id)) return unknownAccount(res, id);
    try {
      await engine.removeAccount(id);
      tenancy.release(id);
      res.json({ accountId: id, stopped: true });
    } catch (err) {
      if (err.code === 'UNKNOWN_ACCOUNT') tenancy.release(id);
      sendMappedError(res, err);
    }
  }));

  router.get('/idle/status/:accountId', authenticate, (req, res) => {
    const id = req.params.accountId;
    const status = tenancy.canSee(req.imapPushAuth, id) ? engine.status(id) : null;
    if (!status) return unknownAccount(res, id);
    res.json(status);
  });

  router.get('/idle/status', authenticate, (req, res) => {
    const { tenant } = req.imapPushAuth;
    res.json({ accounts: engine.status().filter((a) => tenancy.owner(a.accountId) === tenant) });
  });

  router.get('/idle/admin/all', authenticate, adminOnly, (req, res) => {
    res.json({ accounts: engine.status().map((a) => ({ ...a, tenant: tenancy.owner(a.accountId) ?? null })) });
  });

  router.get('/events', authenticate, safe(async (req, res) => {
    const { tenant } = req.imapPushAuth;
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
        if (tenancy.owner(item.accountId) !== tenant) continue;
        if (!res.write(`event: ${item.type}\ndata: ${eventJson(item)}\n\n`)) await drained(res);
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
    const body = auth.admin ? health : scopeHealth(health, (id) => tenancy.owner(id) === auth.tenant);
    res.status(body.isHealthy ? 200 : 503).json(body);
  });

  // Process-wide counts about every tenant: operators only.
  router.get('/metrics', authenticate, adminOnly, safe(async (req, res) => {
    if (!metrics) return sendError(res, 501, 'METRICS_UNAVAILABLE', "install 'prom-client' to enable /metrics");
    res.set('Content-Type', metrics.contentType).send(await metrics.render());
  }));

  // The page holds no data; everything it shows comes from authorized endpoints.
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
    accountFor: (req, id) => (tenancy.canSee(req.imapPushAuth, id) && engine.status(id) ? id : null),
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
    tenancy.owners.set(accountId, tenant);
  };
  /** Ends open event streams and detaches from the notifications. The engine is left running. */
  router.close = () => {
    for (const controller of streams) controller.abort();
    if (metrics) metrics.close();
  };
  return router;
}

module.exports = { createRouter };
