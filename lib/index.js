'use strict';

const { EventEmitter } = require('events');
const { NativeEngine } = require('./binding');
const { ImapPushError } = require('./errors');
const { normalizeEngineOptions, normalizeAccount } = require('./options');

const PUBLIC_EVENTS = new Set([
  'newMessage', 'messageDeleted', 'flagsChanged', 'connectionStatus', 'idleRefreshed', 'folderReset',
]);

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
 */
class MailEngine extends EventEmitter {
  constructor(options = {}) {
    super();
    this._options = normalizeEngineOptions(options);
    this._accounts = new Map(); // id -> { folders }
    this._adding = new Map(); // id -> { resolve, reject }
    this._removing = new Map(); // id -> [resolve]
    this._closing = null;
    this._closed = false;
    this._tokenProviders = new Map(); // id -> getAccessToken
    this._native = new NativeEngine((list) => this._dispatch(list), this._options);
    this._native.unref();
  }

  /** Resolves once every folder is watched; rejects with a coded error if the first connection fails. */
  addAccount(account) {
    if (this._closed || this._closing) return Promise.reject(new ImapPushError('CLOSED', 'engine is closed'));
    const config = normalizeAccount(account, this._options);
    if (this._accounts.has(config.id) || this._adding.has(config.id)) {
      return Promise.reject(new ImapPushError('ACCOUNT_EXISTS', `account '${config.id}' is already added`));
    }
    if (account.getAccessToken) this._tokenProviders.set(config.id, { fn: account.getAccessToken, user: config.user });
    return new Promise((resolve, reject) => {
      this._adding.set(config.id, { resolve, reject, folders: config.folders });
      this._updateRef();
      this._native.addAccount(config);
    });
  }

  removeAccount(id) {
    if (typeof id !== 'string' || id === '') throw new TypeError("Invalid option 'id': must be a non-empty string");
    if (!this._accounts.has(id) || this._closed) {
      return Promise.reject(new ImapPushError('UNKNOWN_ACCOUNT', `no account '${id}'`));
    }
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
    if (this._accounts.size > 0 || this._adding.size > 0) this._native.ref();
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
        return;
      }
      case 'tokenRequest':
        this._fetchToken(payload.accountId);
        return;
      case 'accountRemoved': {
        this._tokenProviders.delete(payload.accountId);
        this._accounts.delete(payload.accountId);
        this._updateRef();
        for (const resolve of this._removing.get(payload.accountId) || []) resolve();
        this._removing.delete(payload.accountId);
        return;
      }
      case 'closed':
        this._finishClose();
        return;
      default:
        if (!PUBLIC_EVENTS.has(name)) return;
        if (payload.errorCode) payload.error = errorFrom(payload);
        this.emit(name, payload);
    }
  }

  // The engine asks; the app's getAccessToken answers. Its error text is
  // reported, never the token.
  async _fetchToken(accountId) {
    const provider = this._tokenProviders.get(accountId);
    if (!provider) return;
    let token = null;
    let expiresAt = 0;
    let error = null;
    try {
      const result = await provider.fn({ accountId, user: provider.user });
      token = result && typeof result.accessToken === 'string' ? result.accessToken : null;
      const exp = result && result.expiresAt;
      expiresAt = exp instanceof Date ? exp.getTime() : typeof exp === 'number' ? exp : 0;
      if (!token) error = 'getAccessToken did not return an accessToken string';
    } catch (err) {
      error = `getAccessToken threw: ${err && err.message ? err.message : String(err)}`;
    }
    if (!this._closed) this._native.provideToken(accountId, token, expiresAt, error);
  }

  _finishClose() {
    this._closed = true;
    for (const [, pending] of this._adding) pending.reject(new ImapPushError('CLOSED', 'engine closed'));
    this._adding.clear();
    for (const [, waiting] of this._removing) waiting.forEach((resolve) => resolve());
    this._removing.clear();
    this._accounts.clear();
    if (this._resolveClose) this._resolveClose();
  }
}

module.exports = { MailEngine, ImapPushError };
