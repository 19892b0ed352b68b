'use strict';

// An account as the cluster stores it, and as a worker hands it to its
// engine. Stored accounts are the engine's account options (checked here as
// the engine would, so a bad one fails at Cluster.addAccount, not later on a
// worker) plus `auth: 'oauth'`: no credential is stored, and each worker asks
// its own getAccessToken, since a function cannot go through Redis.

const { ImapPushError, optionError } = require('../errors');
const { normalizeAccount, normalizeEngineOptions } = require('../options');

const AUTH = ['password', 'oauth'];

function checkStoredAccount(account) {
  if (!account || typeof account !== 'object' || Array.isArray(account)) throw optionError('account', 'must be an account object');
  const { id, auth, ...rest } = account;
  if (typeof id !== 'string' || !/^[^\s:]{1,200}$/.test(id)) throw optionError('id', 'must be 1-200 characters without spaces or colons');
  if (typeof account.getAccessToken === 'function') throw optionError('getAccessToken', 'cannot be stored in Redis; give workers their own');
  if (auth !== undefined && !AUTH.includes(auth)) throw optionError('auth', "must be 'password' or 'oauth'");
  if (auth === 'oauth') {
    for (const key of ['pass', 'accessToken']) {
      if (rest[key] !== undefined) throw optionError(key, "cannot be stored with auth: 'oauth' (the workers' getAccessToken provides the token)");
    }
    // Checked with a stand-in provider: the shape is the engine's, the token the worker's.
    normalizeAccount({ id, ...rest, getAccessToken: () => null }, normalizeEngineOptions({}));
  } else {
    normalizeAccount({ id, ...rest }, normalizeEngineOptions({}));
  }
}

/** The engine's account options for a stored account; getAccessToken is the worker's, or undefined. */
function engineAccount(id, stored, getAccessToken) {
  const { auth, ...account } = stored;
  if (auth !== 'oauth') return { ...account, id };
  if (!getAccessToken) {
    throw new ImapPushError('NO_TOKEN_PROVIDER', `account '${id}' is stored with auth: 'oauth' and this worker has no getAccessToken`,
      { accountId: id });
  }
  return { ...account, id, getAccessToken: (ctx) => getAccessToken({ ...ctx, host: account.host }) };
}

module.exports = { checkStoredAccount, engineAccount };
