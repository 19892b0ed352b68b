'use strict';

/** An error with a stable machine-readable `code` (AUTH_FAILED, TLS_FAILED, ...). */
class ImapPushError extends Error {
  constructor(code, message, extra) {
    super(message);
    this.name = 'ImapPushError';
    this.code = code;
    if (extra) Object.assign(this, extra);
  }
}

/** A TypeError that names the offending option. */
function optionError(path, expectation) {
  const err = new TypeError(`Invalid option '${path}': ${expectation}`);
  err.code = 'INVALID_OPTION';
  err.option = path;
  return err;
}

/**
 * NOT_FOUND from a mailbox action (issue 16). `what` tells the cases apart: 'account' (never added, or removed),
 * 'folder', 'message' or 'part'.
 */
function notFound(what, message, extra) {
  return new ImapPushError('NOT_FOUND', message, { what, ...extra });
}

const accountNotFound = (accountId) => notFound('account', `no account '${accountId}'`, { accountId });

/**
 * A mailbox action's failed answer from the engine as a coded error. The engine answers UNKNOWN_ACCOUNT for an
 * account removed while the request was on its way: to an action that is NOT_FOUND too. `what` names what a
 * NOT_FOUND is about: a string, or a function of the engine's message.
 */
function actionError(answer, what = 'folder') {
  const { errorCode: code, errorMessage: message, accountId, folder } = answer;
  if (code === 'UNKNOWN_ACCOUNT') return accountNotFound(accountId);
  if (code === 'NOT_FOUND') return notFound(typeof what === 'function' ? what(message) : what, message, { accountId, folder });
  return new ImapPushError(code, message, { accountId, folder });
}

module.exports = { ImapPushError, optionError, notFound, accountNotFound, actionError };
