'use strict';

const { optionError } = require('./errors');

const LEVELS = ['debug', 'info', 'warn', 'error'];

// Only these payload fields are ever copied into a record: an allow-list, so a
// field added to an event later (a token, a subject) stays out of the logs
// until someone decides it belongs there. Message content is never logged.
const FIELDS = ['accountId', 'folder', 'state', 'previous', 'durationMs', 'attempt', 'retryInMs', 'uid', 'total', 'done', 'ok'];

// Events whose record has one level and message whatever the payload.
const FIXED = {
  accountReady: ['info', 'account ready'],
  accountFailed: ['error', 'account failed'],
  accountRemoved: ['info', 'account removed'],
  tokenRequest: ['info', 'access token requested'],
  syncStarted: ['info', 'sync started'],
  folderReset: ['warn', 'folder reset (UIDVALIDITY changed)'],
  newMessage: ['debug', 'newMessage'],
  messageDeleted: ['debug', 'messageDeleted'],
  flagsChanged: ['debug', 'flagsChanged'],
  folderChanged: ['debug', 'folderChanged'],
};

function pickFields(payload) {
  const out = {};
  for (const key of FIELDS) if (payload[key] !== undefined) out[key] = payload[key];
  if (payload.errorCode) {
    out.code = payload.errorCode;
    out.error = payload.errorMessage;
  }
  return out;
}

// console's methods take (message, ...values), pino's take (fields, message):
// console gets the message first so its output reads like a log line.
function consoleWriter(c) {
  const write = (level) => (fields, msg) => (c[level] || c.log).call(c, `imap-push: ${msg}`, fields);
  return Object.fromEntries(LEVELS.map((level) => [level, write(level)]));
}

/** Returns null for no logger, so the engine's hook costs one null check. */
function makeLogger(logger) {
  if (logger === undefined || logger === null) return null;
  if (typeof logger !== 'object' && typeof logger !== 'function') throw optionError('logger', 'must be a pino-compatible logger or console');
  const missing = LEVELS.filter((level) => typeof logger[level] !== 'function');
  if (missing.length) throw optionError('logger', `must have ${missing.join(', ')} methods`);
  if (logger === globalThis.console) return new EngineLog(consoleWriter(logger));
  const base = typeof logger.child === 'function' ? logger.child({ lib: 'imap-push' }) : logger;
  return new EngineLog(base);
}

class EngineLog {
  constructor(out) {
    this._out = out;
  }

  _write(level, fields, msg) {
    try {
      this._out[level](fields, msg);
    } catch {
      // A broken logger must not stop event delivery.
    }
  }

  /** Called with each engine event before the engine acts on it. */
  event(name, payload) {
    const fields = pickFields(payload);
    switch (name) {
      case 'connectionStatus': {
        // A fault (a drop, a BYE, a malformed line) is worth a warning even though the engine
        // retries it: a logger filtered at warn should still show a flapping account.
        const level = payload.state === 'error' || payload.errorCode ? 'warn' : 'info';
        this._write(level, fields, `connection ${payload.previous || '?'} -> ${payload.state}`);
        return;
      }
      case 'syncCompleted': {
        const failed = (payload.folders || []).filter((f) => f.errorCode).map((f) => ({ folder: f.folder, code: f.errorCode, error: f.errorMessage }));
        if (failed.length) fields.folderErrors = failed;
        const level = payload.errorCode ? 'error' : failed.length ? 'warn' : 'info';
        this._write(level, fields, 'sync completed');
        return;
      }
      default: {
        const fixed = FIXED[name];
        if (fixed) this._write(fixed[0], fields, fixed[1]);
      }
    }
  }

  /** The token provider's outcome; the token itself never reaches here. */
  token(accountId, ok, reason) {
    if (ok) this._write('debug', { accountId }, 'access token provided');
    else this._write('warn', { accountId, error: reason }, 'access token not provided');
  }
}

module.exports = { makeLogger };
