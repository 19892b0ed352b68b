'use strict';

const { EventEmitter } = require('events');
const { NativeEngine } = require('./binding');
const { ImapPushError, optionError, accountNotFound } = require('./errors');
const { normalizeEngineOptions, normalizeAccount, MAX_BODY_BYTES } = require('./options');
const { Notifier } = require('./notify');
const { newMessage } = require('./events');
const { makeLogger } = require('./logger');

const PUBLIC_EVENTS = new Set([
  'newMessage', 'messageDeleted', 'flagsChanged', 'connectionStatus', 'idleRefreshed', 'folderReset',
  'syncStarted', 'syncProgress', 'syncCompleted', 'folderChanged',
]);

const closedError = () => new ImapPushError('CLOSED', 'engine is closed');
const unknownAccount = (id) => new ImapPushError('UNKNOWN_ACCOUNT', `no account '${id}'`);

// Method options: an object or nothing.
function methodOptions(value) {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw optionError('options', 'must be an object');
  return value;
}

function checkAccountId(accountId) {
  if (typeof accountId !== 'string' || accountId === '') throw optionError('accountId', 'must be a non-empty string');
}

function errorFrom(payload) {
  const err = new ImapPushError(payload.errorCode, payload.errorMessage);
  delete payload.errorCode;
  delete payload.errorMessage;
  return err;
}

/**
 * Watches IMAP accounts from a native engine thread and re-emits its events.
 * Faults are reported through 'connectionStatus'; no 'error' event is ever
 * emitted, so an app without an 'error' listener cannot be crashed by a server.
 * Every promise-returning method reports bad arguments (TypeError) and engine
 * state (CLOSED, UNKNOWN_ACCOUNT; NOT_FOUND with what: 'account' from the
 * mailbox actions) by rejecting, never by throwing.
 */
class MailEngine extends EventEmitter {
  constructor(options = {}) {
    super();
    this._options = normalizeEngineOptions(options);
    this._log = makeLogger(options.logger);
    // Before the native engine exists, so bad notification options throw
    // without a thread to stop.
    this._notifier = new Notifier(this, this._options.notifications);
    this._accounts = new Map(); // id -> { folders }
    this._adding = new Map(); // id -> { resolve, reject }
    this._removing = new Map(); // id -> [resolve]
    this._closing = null;
    this._closed = false;
    this._tokenProviders = new Map(); // id -> getAccessToken
    this._requests = new Map(); // requestId -> { accountId, resolve, reject }: sync, listFolders, fetchMessage
    this._nextRequest = 1;
    this._down = new Map(); // accountId -> Map(folder -> time its idle connection was lost)
    try {
      this._native = new NativeEngine((list) => this._dispatch(list), this._options, newMessage);
    } catch (err) {
      this._notifier.stop(); // or its health timer would outlive the failed engine
      throw err;
    }
    this._native.unref();
  }

  /** Resolves once every folder is watched; rejects with a coded error if the first connection fails. */
  async addAccount(account) {
    if (this._closed || this._closing) throw closedError();
    const config = normalizeAccount(account, this._options);
    if (this._accounts.has(config.id) || this._adding.has(config.id)) {
      throw new ImapPushError('ACCOUNT_EXISTS', `account '${config.id}' is already added`);
    }
    if (account.getAccessToken) this._tokenProviders.set(config.id, { fn: account.getAccessToken, user: config.user });
    return new Promise((resolve, reject) => {
      this._adding.set(config.id, { resolve, reject, folders: config.folders });
      this._updateRef();
      this._native.addAccount(config);
    });
  }

  async removeAccount(id) {
    if (typeof id !== 'string' || id === '') throw optionError('id', 'must be a non-empty string');
    if (this._closed || this._closing) throw closedError();
    // An account still being added is removed too: its connections close, and addAccount() rejects.
    if (!this._accounts.has(id) && !this._adding.has(id)) throw unknownAccount(id);
    return new Promise((resolve) => {
      const waiting = this._removing.get(id) || [];
      waiting.push(resolve);
      this._removing.set(id, waiting);
      if (waiting.length === 1) this._native.removeAccount(id);
    });
  }

  /** status(id) -> one account's folders, or null; status() -> every account. */
  status(id) {
    if (this._closed) return id === undefined ? [] : null;
    const rows = this._native.status(id);
    const byAccount = new Map();
    for (const row of rows) {
      const { accountId, folder, errorCode, errorMessage, ...rest } = row;
      if (!byAccount.has(accountId)) byAccount.set(accountId, { accountId, folders: [] });
      byAccount.get(accountId).folders.push({
        folder,
        ...rest,
        lastError: errorCode ? { code: errorCode, message: errorMessage } : null,
      });
    }
    if (id !== undefined) return byAccount.get(id) || null;
    return [...byAccount.values()];
  }

  /**
   * Syncs one account's folders over pooled connections and reports what
   * changed through the usual events. Never rejects for server faults: the
   * result says ok: false with the error. Rejects when the engine is closed
   * (also while waiting) or the account is unknown or removed meanwhile.
   */
  async sync(accountId, options) {
    checkAccountId(accountId);
    const { folders } = methodOptions(options);
    if (folders !== undefined && (!Array.isArray(folders) || folders.some((f) => typeof f !== 'string' || f === ''))) {
      throw optionError('folders', 'must be an array of folder names');
    }
    this._checkAccount(accountId);
    return this._request(accountId, (id) => this._native.sync(id, accountId, folders || []));
  }

  /**
   * Syncs every account, sync.maxConcurrent at a time; one result per account.
   * An account removed (or an engine closed) meanwhile is a failed result of
   * its own, so one account cannot fail the others.
   */
  async syncAll() {
    if (this._closed || this._closing) throw closedError();
    const ids = [...this._accounts.keys()];
    const results = new Array(ids.length);
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const i = next++;
        results[i] = await this.sync(ids[i]).catch((error) => ({ accountId: ids[i], ok: false, durationMs: 0, folders: [], error }));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this._options.sync.maxConcurrent, ids.length) }, worker));
    return results;
  }

  /** LIST with special-use attributes, cached for folders.cacheTtlMs. */
  async listFolders(accountId, options) {
    checkAccountId(accountId);
    const { refresh = false } = methodOptions(options);
    this._checkAccount(accountId);
    const answer = await this._request(accountId, (id) => this._native.listFolders(id, accountId, !!refresh));
    if (answer.errorCode) throw errorFrom(answer);
    return answer.folders;
  }

  /** Filtered live events: returns an unsubscribe function. */
  subscribe(filter, handler) {
    return this._notifier.subscribe(filter, handler);
  }

  /** Async iterator of events; ends when options.signal aborts. */
  events(options) {
    return this._notifier.events(options);
  }

  health() {
    return this._notifier.health();
  }

  /**
   * Fetches and parses one message (off the JS thread). Rejects with a coded
   * error: UNKNOWN_ACCOUNT, NOT_FOUND, SELECT_FAILED, ...
   */
  async fetchMessage(accountId, folder, uid, options) {
    checkAccountId(accountId);
    if (typeof folder !== 'string' || folder === '') throw optionError('folder', 'must be a non-empty string');
    if (!Number.isInteger(uid) || uid < 1 || uid > 0xffffffff) throw optionError('uid', 'must be an integer UID');
    const { maxBytes = MAX_BODY_BYTES } = methodOptions(options);
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1 || maxBytes > MAX_BODY_BYTES) {
      throw optionError('maxBytes', `must be an integer between 1 and ${MAX_BODY_BYTES}`);
    }
    this._checkAccount(accountId);
    const answer = await this._request(accountId, (id) => this._native.fetchMessage(id, accountId, folder, uid, maxBytes));
    if (answer.errorCode) throw errorFrom(answer);
    return answer.message;
  }

  poolStats(accountId) {
    return this._closed ? { open: 0, busy: 0, idle: 0, created: 0, reused: 0, healthChecks: 0, failures: 0, waitTimeMs: 0 }
      : this._native.poolStats(accountId);
  }

  syncStats() {
    return this._closed ? { active: 0, pending: 0, completed: 0 } : this._native.syncStats();
  }

  // Throws what a request for this account must reject with.
  _checkAccount(accountId, action = false) {
    if (this._closed || this._closing) throw closedError();
    if (!this._accounts.has(accountId)) throw action ? accountNotFound(accountId) : unknownAccount(accountId);
  }

  // A mailbox action's request (issue 16): an unknown or removed account is NOT_FOUND (what: 'account').
  _action(accountId, start) {
    this._checkAccount(accountId, true);
    return this._request(accountId, start, true);
  }

  _request(accountId, start, action = false) {
    const id = this._nextRequest++;
    return new Promise((resolve, reject) => {
      this._requests.set(id, { accountId, action, resolve, reject });
      this._native.ref();
      try {
        start(id);
      } catch (err) {
        this._settle(id, 'reject', err);
      }
    });
  }

  // Each request is answered once: by the engine, or by removal or close.
  _settle(id, how, value) {
    const pending = this._requests.get(id);
    if (!pending) return;
    this._requests.delete(id);
    this._updateRef();
    pending[how](value);
  }

  _answer(id, value) {
    this._settle(id, 'resolve', value);
  }

  /** Logs out of every account, stops the engine thread and lets the process exit. */
  close() {
    if (this._closed) return Promise.resolve();
    if (!this._closing) {
      this._closing = new Promise((resolve) => {
        this._resolveClose = resolve;
      });
      this._native.ref();
      this._native.close();
    }
    return this._closing;
  }

  _updateRef() {
    if (this._closing || this._closed) return;
    if (this._accounts.size > 0 || this._adding.size > 0 || this._requests.size > 0) this._native.ref();
    else this._native.unref();
  }

  _dispatch(list) {
    for (let i = 0; i < list.length; i += 2) {
      try {
        this._handle(list[i], list[i + 1]);
      } catch (err) {
        // A throwing listener must not swallow the rest of the batch; it
        // still surfaces as an uncaught exception, as with any EventEmitter.
        process.nextTick(() => {
          throw err;
        });
      }
    }
  }

  _handle(name, payload) {
    if (this._log) this._log.event(name, payload); // before the cases below strip error fields
    switch (name) {
      case 'accountReady': {
        const pending = this._adding.get(payload.accountId);
        if (!pending) return;
        this._adding.delete(payload.accountId);
        this._accounts.set(payload.accountId, { folders: pending.folders });
        pending.resolve(this.status(payload.accountId));
        return;
      }
      case 'accountFailed': {
        const pending = this._adding.get(payload.accountId);
        if (!pending) return;
        this._adding.delete(payload.accountId);
        this._tokenProviders.delete(payload.accountId);
        this._updateRef();
        const err = errorFrom(payload);
        err.accountId = payload.accountId;
        if (payload.folder) err.folder = payload.folder;
        pending.reject(err);
        // A removeAccount() that crossed the failure: the engine drops a failed account itself and sends no
        // accountRemoved for it, so the removal is done here.
        for (const resolve of this._removing.get(payload.accountId) || []) resolve();
        this._removing.delete(payload.accountId);
        return;
      }
      case 'tokenRequest':
        this._fetchToken(payload.accountId);
        return;
      case 'messageListed': {
        // One per UID even if a lost connection made the engine ask twice.
        const pending = this._requests.get(payload.requestId);
        if (pending) (pending.items || (pending.items = new Map())).set(payload.uid, payload);
        return;
      }
      case 'folderList':
      case 'messageFetched':
      case 'actionDone': {
        const pending = this._requests.get(payload.requestId);
        if (pending && pending.items) payload.items = [...pending.items.values()];
        this._answer(payload.requestId, payload);
        return;
      }
      case 'syncCompleted': {
        const { requestIds, errorCode, errorMessage, ...rest } = payload;
        const result = {
          ...rest,
          folders: rest.folders.map(({ errorCode: c, errorMessage: m, ...f }) => (c ? { ...f, error: new ImapPushError(c, m) } : f)),
          error: errorCode ? new ImapPushError(errorCode, errorMessage) : null,
        };
        this.emit('syncCompleted', result);
        // The engine never knew the account (removed before the request
        // reached it): the same rejection as sync() on an unknown account.
        const how = errorCode === 'UNKNOWN_ACCOUNT' ? 'reject' : 'resolve';
        for (const id of requestIds) this._settle(id, how, how === 'reject' ? result.error : result);
        return;
      }
      case 'accountRemoved': {
        this._tokenProviders.delete(payload.accountId);
        this._down.delete(payload.accountId);
        this._accounts.delete(payload.accountId);
        // A sync queued behind a running one dies with the account unanswered.
        for (const [id, pending] of this._requests) {
          if (pending.accountId !== payload.accountId) continue;
          this._settle(id, 'reject', pending.action ? accountNotFound(payload.accountId) : unknownAccount(payload.accountId));
        }
        const adding = this._adding.get(payload.accountId);
        if (adding) {
          this._adding.delete(payload.accountId);
          adding.reject(Object.assign(new ImapPushError('UNKNOWN_ACCOUNT', `account '${payload.accountId}' was removed while it was being added`),
            { accountId: payload.accountId }));
        }
        this._updateRef();
        for (const resolve of this._removing.get(payload.accountId) || []) resolve();
        this._removing.delete(payload.accountId);
        return;
      }
      case 'closed':
        this._loopClosedCleanly = payload.loopClosedCleanly; // read by the tests' close() check
        this._finishClose();
        return;
      default:
        if (!PUBLIC_EVENTS.has(name)) return;
        if (payload.errorCode) payload.error = errorFrom(payload);
        this.emit(name, payload);
        if (name === 'connectionStatus') this._connectionChange(payload);
    }
  }

  // connectionLost / connectionRestored, derived here from connectionStatus
  // alone, so the two can never disagree: lost when a watched (idle)
  // connection fails, restored when that folder is idle again. A removal or
  // close logs out on purpose and loses nothing.
  _connectionChange({ accountId, folder, state, previous, error }) {
    let down = this._down.get(accountId);
    if (state === 'idle') {
      const since = down && down.get(folder);
      if (since === undefined) return;
      down.delete(folder);
      if (down.size === 0) this._down.delete(accountId);
      this.emit('connectionRestored', { accountId, folder, downtimeMs: Math.round(performance.now() - since) });
      return;
    }
    if (previous !== 'idle' || !error || this._closing || this._removing.has(accountId)) return;
    if (down && down.has(folder)) return;
    if (!down) this._down.set(accountId, (down = new Map()));
    down.set(folder, performance.now());
    this.emit('connectionLost', { accountId, folder, error });
  }

  // The engine asks; the app's getAccessToken answers, exactly once per
  // request: the engine sends no new request while one is unanswered, so a
  // call that never settles is answered as failed after auth.tokenTimeoutMs,
  // and its late result is dropped (a newer call may have answered by then),
  // as is one for an account removed meanwhile: the engine would take it as
  // the answer to a request of the account added again under that id.
  // Its error text is reported, never the token.
  _fetchToken(accountId) {
    const provider = this._tokenProviders.get(accountId);
    let answered = false;
    let timer = null;
    const answer = (token, expiresAt, error) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      if (this._closed || this._tokenProviders.get(accountId) !== provider) return;
      if (this._log) this._log.token(accountId, !!token, error);
      this._native.provideToken(accountId, token, expiresAt, error);
    };
    if (!provider) {
      answer(null, 0, 'no getAccessToken for this account');
      return;
    }
    const ms = this._options.auth.tokenTimeoutMs;
    timer = setTimeout(() => answer(null, 0, `getAccessToken did not settle within ${ms} ms`), ms);
    timer.unref(); // the engine's ref decides whether the process stays
    Promise.resolve()
      .then(() => provider.fn({ accountId, user: provider.user }))
      .then((result) => {
        const token = typeof result?.accessToken === 'string' && result.accessToken !== '' ? result.accessToken : null;
        const exp = result?.expiresAt;
        const expiresAt = exp instanceof Date ? exp.getTime() : typeof exp === 'number' ? exp : 0;
        answer(token, expiresAt, token ? null : 'getAccessToken did not return an accessToken string');
      }, (err) => answer(null, 0, `getAccessToken threw: ${err && err.message ? err.message : String(err)}`));
  }

  _finishClose() {
    this._closed = true;
    this._notifier.stop();
    for (const [, pending] of this._adding) pending.reject(new ImapPushError('CLOSED', 'engine closed'));
    this._adding.clear();
    for (const [, waiting] of this._removing) waiting.forEach((resolve) => resolve());
    this._removing.clear();
    for (const [, pending] of this._requests) pending.reject(new ImapPushError('CLOSED', 'engine closed'));
    this._requests.clear();
    this._accounts.clear();
    if (this._resolveClose) this._resolveClose();
  }
}

require('./actions').install(MailEngine, checkAccountId);
require('./mailbox').install(MailEngine, checkAccountId);
require('./messages').install(MailEngine, checkAccountId);

module.exports = { MailEngine, ImapPushError, parseMessage: require('./mime').parseMessage };
