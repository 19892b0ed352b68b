'use strict';

// Provider push webhooks (Gmail Pub/Sub, Microsoft Graph change notifications).
// A verified delivery emits engine event `push { accountId, source }` and
// starts a sync of that account. Forged or unknown deliveries change nothing
// and secrets (tokens, clientState, JWTs) are never logged or echoed.

const crypto = require('crypto');
const { optionError } = require('./errors');
const { importKeys, verifyJwt } = require('./jwt');
const { sendError, isObject } = require('./http');

const SEEN_LIMIT = 10000; // Pub/Sub redelivers within minutes; this covers far more than that window
const GOOGLE_ISSUERS = ['https://accounts.google.com', 'accounts.google.com'];


/** Constant-time comparison; hashing first makes it length-safe (no early exit on length). */
function safeEqual(given, expected) {
  if (typeof given !== 'string') return false;
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}

/** Remembers the last `limit` keys; seen(key) reports whether it was there and records it. */
class SeenKeys {
  constructor(limit) {
    this.limit = limit;
    this.keys = new Set();
  }

  seen(key) {
    const had = this.keys.delete(key);
    this.keys.add(key); // re-insert: most recent last, so eviction drops the oldest
    if (this.keys.size > this.limit) this.keys.delete(this.keys.values().next().value);
    return had;
  }
}

/** Emits `push` and starts a sync; failures are logged, never thrown (the HTTP reply is already sent). */
function pushTo(engine, accountId, source, logger) {
  if (engine.status(accountId) === null) {
    logger(`imap-push: ${source} push for an account that is not watched: '${accountId}'`);
    return;
  }
  engine.emit('push', { accountId, source });
  if (typeof engine.sync !== 'function') {
    logger(`imap-push: engine.sync is unavailable; ${source} push for '${accountId}' was not synced`);
    return;
  }
  const failed = (err) => logger(`imap-push: sync of '${accountId}' after a ${source} push failed: ${(err && err.code) || 'ERROR'}`);
  // engine.sync reports server faults as { ok: false, error } rather than rejecting.
  Promise.resolve()
    .then(() => engine.sync(accountId))
    .then((result) => result && result.ok === false && failed(result.error), failed);
}

function accountResolver(accounts) {
  if (typeof accounts === 'function') return accounts;
  if (accounts instanceof Map) return (email) => accounts.get(email) ?? accounts.get(email.toLowerCase());
  if (isObject(accounts)) {
    const own = (k) => (Object.prototype.hasOwnProperty.call(accounts, k) ? accounts[k] : undefined);
    return (email) => own(email) ?? own(email.toLowerCase());
  }
  throw optionError('gmail.accounts', 'must be a function, a Map or an object mapping email addresses to account ids');
}

function gmailOidc(oidc) {
  if (oidc === undefined) return null;
  if (!isObject(oidc)) throw optionError('gmail.oidc', 'must be an object');
  if (typeof oidc.audience !== 'string' || !oidc.audience) throw optionError('gmail.oidc.audience', 'must be a non-empty string');
  const issuers = oidc.issuer === undefined ? GOOGLE_ISSUERS : [].concat(oidc.issuer);
  if (issuers.some((i) => typeof i !== 'string' || !i)) throw optionError('gmail.oidc.issuer', 'must be a string or an array of strings');
  if (oidc.email !== undefined && (typeof oidc.email !== 'string' || !oidc.email)) {
    throw optionError('gmail.oidc.email', 'must be a non-empty string');
  }
  return { audience: oidc.audience, issuers, email: oidc.email, keys: importKeys(oidc.keys, 'gmail.oidc.keys') };
}

/** Why a Gmail delivery is not authentic, or null when it is. */
function gmailRejection(req, token, oidc) {
  if (token !== undefined && !safeEqual(req.query.token, token)) return 'bad token';
  if (!oidc) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') || '');
  if (!match) return 'missing bearer token';
  try {
    const claims = verifyJwt(match[1], oidc);
    if (oidc.email !== undefined && (claims.email !== oidc.email || claims.email_verified === false)) return 'wrong email';
  } catch (err) {
    return err.message;
  }
  return null;
}

/** Pub/Sub push body -> { emailAddress, historyId, messageId } or null. */
function parseGmailBody(body) {
  const message = isObject(body) ? body.message : null;
  if (!isObject(message) || typeof message.data !== 'string') return null;
  let data;
  try {
    data = JSON.parse(Buffer.from(message.data, 'base64').toString('utf8'));
  } catch {
    return null;
  }
  if (!isObject(data) || typeof data.emailAddress !== 'string' || !data.emailAddress) return null;
  if (typeof data.historyId !== 'string' && typeof data.historyId !== 'number') return null;
  const messageId = message.messageId ?? message.message_id;
  return { emailAddress: data.emailAddress, historyId: String(data.historyId), messageId: typeof messageId === 'string' ? messageId : null };
}

function gmailHandler(engine, options, logger) {
  if (!isObject(options)) throw optionError('gmail', 'must be an object');
  const resolve = accountResolver(options.accounts);
  const { token } = options;
  if (token !== undefined && (typeof token !== 'string' || !token)) throw optionError('gmail.token', 'must be a non-empty string');
  const oidc = gmailOidc(options.oidc);
  if (token === undefined && !oidc) throw optionError('gmail', 'needs token or oidc: an unauthenticated webhook would let anyone trigger syncs');
  const seen = new SeenKeys(SEEN_LIMIT);

  return (req, res) => {
    const rejection = gmailRejection(req, token, oidc);
    if (rejection) {
      logger(`imap-push: gmail push rejected: ${rejection}`);
      return sendError(res, 401, 'UNAUTHORIZED', 'push not authenticated');
    }
    const note = parseGmailBody(req.body);
    if (!note) return sendError(res, 400, 'INVALID_BODY', 'expected a Pub/Sub push message with base64 JSON data {emailAddress, historyId}');
    // Both checks run so that each key is remembered for later duplicates.
    const dupMessage = note.messageId !== null && seen.seen(`m:${note.messageId}`);
    const dupHistory = seen.seen(`h:${note.emailAddress.toLowerCase()}:${note.historyId}`);
    res.status(204).end(); // ack first: Pub/Sub redelivers anything not acked quickly
    if (dupMessage || dupHistory) return;
    Promise.resolve()
      .then(() => resolve(note.emailAddress))
      .then((accountId) => {
        if (typeof accountId === 'string' && accountId) pushTo(engine, accountId, 'gmail', logger);
        else logger('imap-push: gmail push for an address that maps to no account');
      })
      .catch(() => logger('imap-push: gmail.accounts lookup failed'));
  };
}

function graphSubscriptions(subscriptions) {
  const entries = subscriptions instanceof Map ? [...subscriptions] : isObject(subscriptions) ? Object.entries(subscriptions) : null;
  if (!entries || entries.length === 0) throw optionError('graph.subscriptions', 'must map subscription ids to { accountId, clientState }');
  for (const [id, sub] of entries) {
    const path = `graph.subscriptions.${id}`;
    if (!isObject(sub) || typeof sub.accountId !== 'string' || !sub.accountId) throw optionError(`${path}.accountId`, 'must be a non-empty string');
    if (typeof sub.clientState !== 'string' || !sub.clientState) throw optionError(`${path}.clientState`, 'must be a non-empty string');
  }
  return new Map(entries);
}

function graphHandler(engine, options, logger) {
  if (!isObject(options)) throw optionError('graph', 'must be an object');
  const subscriptions = graphSubscriptions(options.subscriptions);

  return (req, res) => {
    const { validationToken } = req.query;
    if (typeof validationToken === 'string') {
      // Subscription handshake: echo as plain text; nosniff keeps it from being rendered as HTML.
      res.status(200).set('X-Content-Type-Options', 'nosniff').type('text/plain').send(validationToken);
      return;
    }
    const list = isObject(req.body) ? req.body.value : null;
    if (!Array.isArray(list)) return sendError(res, 400, 'INVALID_BODY', 'expected { value: [notification, ...] }');
    const accounts = new Set(); // several notifications for one account need one sync
    for (const n of list) {
      const id = isObject(n) && typeof n.subscriptionId === 'string' ? n.subscriptionId : null;
      const sub = id !== null ? subscriptions.get(id) : undefined;
      if (!sub) logger('imap-push: graph notification for an unknown subscription skipped');
      else if (!safeEqual(n.clientState, sub.clientState)) logger(`imap-push: graph notification with a wrong clientState skipped (subscription ${id})`);
      else accounts.add(sub.accountId);
    }
    res.status(202).end();
    for (const accountId of accounts) pushTo(engine, accountId, 'graph', logger);
  };
}

module.exports = { gmailHandler, graphHandler, safeEqual };
