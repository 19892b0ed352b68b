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

module.exports = { ImapPushError, optionError };
