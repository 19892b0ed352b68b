'use strict';

// Helpers shared by the router and the webhooks. One JSON error shape for
// every endpoint: { error: { code, message } }. Messages come from our own
// validation, or a fixed text per engine error code (never the engine's
// message, which may quote the remote end); anything else is reported generically.

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

const STATUS_BY_CODE = {
  INVALID_OPTION: 400,
  INVALID_BODY: 400,
  INVALID_JSON: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  HOST_NOT_ALLOWED: 403,
  TENANT_LIMIT: 403,
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
// Their engine messages can quote what the remote end sent (a banner, a BAD
// line), which turns the router into a banner reader for whoever can call it:
// callers get only these fixed texts; the engine's logger has the detail.
const UPSTREAM_MESSAGES = {
  AUTH_FAILED: 'the server refused the credentials',
  TLS_FAILED: 'the TLS handshake or certificate verification failed',
  CONNECT_FAILED: 'cannot connect to the server',
  CONNECTION_LOST: 'the connection to the server was lost',
  TIMEOUT: 'the server did not answer in time',
  SERVER_BYE: 'the server ended the session',
  PROTOCOL_ERROR: 'the server did not speak IMAP as expected',
  INSECURE_AUTH: 'refusing to send credentials without TLS',
  SELECT_FAILED: 'the server would not open a folder',
  COMMAND_FAILED: 'the server refused a command',
  NOT_FOUND: 'no such message',
  STATE_FILE_FAILED: 'the state file could not be written',
  MODIFIED: 'the message changed meanwhile',
  UNSUPPORTED: 'the server does not support this',
  TRYCREATE: 'the destination folder does not exist',
  CLOSED: 'the engine is closed',
};

// A mailbox action's NOT_FOUND says what is missing (err.what); an account is answered by the routes themselves.
const NOT_FOUND_MESSAGES = { folder: 'no such folder', message: 'no such message', part: 'no such part' };

/** The fixed text for an engine error code: never the engine's own message. */
const publicMessage = (code) => UPSTREAM_MESSAGES[code] || 'the mail server failed';

/** { code, message } safe to show a caller, for an Error or a { code, message } record. */
const publicError = (err) => {
  const code = err && typeof err.code === 'string' ? err.code : 'ERROR';
  return { code, message: publicMessage(code) };
};

/** { error: { code, message, ...extra } } with this status. */
function sendError(res, status, code, message, extra) {
  res.status(status).json({ error: { code, message, ...extra } });
}

/**
 * Answers with the error's code and, for engine errors, a fixed text: never the server's words (COMMAND_FAILED is
 * 'the server refused a command', though the engine's error carries the server's text). `log`, when given, gets
 * the detail the caller was not shown (the engine's message), so operators with only a router logger see it.
 */
function sendMappedError(res, err, log) {
  const code = err && typeof err.code === 'string' ? err.code : null;
  const withheld = () => { if (log) log(`${code || 'ERROR'}: ${err && err.message}`); };
  if (code === 'NOT_FOUND' && NOT_FOUND_MESSAGES[err.what]) {
    withheld();
    return sendError(res, 404, code, NOT_FOUND_MESSAGES[err.what], { what: err.what });
  }
  if (code && STATUS_BY_CODE[code] && !UPSTREAM_MESSAGES[code]) return sendError(res, STATUS_BY_CODE[code], code, err.message);
  if (code && STATUS_BY_CODE[code]) return withheld(), sendError(res, STATUS_BY_CODE[code], code, publicMessage(code));
  if (code && (UPSTREAM_MESSAGES[code] || err.name === 'ImapPushError')) return withheld(), sendError(res, 502, code, publicMessage(code));
  withheld();
  return sendError(res, 500, 'INTERNAL', 'internal error');
}

module.exports = { sendError, sendMappedError, isObject, publicError, publicMessage };
