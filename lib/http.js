'use strict';

// Helpers shared by the router and the webhooks. One JSON error shape for
// every endpoint: { error: { code, message } }. Messages come from our own
// validation or the engine's coded errors, which never carry credentials;
// anything else is reported generically.

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

const STATUS_BY_CODE = {
  INVALID_OPTION: 400,
  INVALID_BODY: 400,
  INVALID_JSON: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  UNKNOWN_ACCOUNT: 404,
  NOT_FOUND: 404,
  NOT_CONFIGURED: 404,
  ACCOUNT_EXISTS: 409,
  SYNC_IN_PROGRESS: 409,
  MODIFIED: 409,
  TRYCREATE: 409,
  BODY_TOO_LARGE: 413,
  METRICS_UNAVAILABLE: 501,
  UNSUPPORTED: 501,
  CLOSED: 503,
};

// Failures of the IMAP server or the path to it: the gateway's upstream failed.
const UPSTREAM_CODES = new Set([
  'AUTH_FAILED', 'TLS_FAILED', 'CONNECT_FAILED', 'CONNECTION_LOST', 'TIMEOUT', 'SERVER_BYE',
  'PROTOCOL_ERROR', 'INSECURE_AUTH', 'SELECT_FAILED',
]);

function sendError(res, status, code, message) {
  res.status(status).json({ error: { code, message } });
}

/** Maps a thrown error to a response; unknown errors never echo their message. */
function sendMappedError(res, err) {
  const code = err && typeof err.code === 'string' ? err.code : null;
  if (code && STATUS_BY_CODE[code]) return sendError(res, STATUS_BY_CODE[code], code, err.message);
  if (code && (UPSTREAM_CODES.has(code) || err.name === 'ImapPushError')) return sendError(res, 502, code, err.message);
  return sendError(res, 500, 'INTERNAL', 'internal error');
}

module.exports = { sendError, sendMappedError, isObject };
