'use strict';

const native = require('./binding');
const { optionError } = require('./errors');

/**
 * Parses a whole RFC 5322 / MIME message (e.g. IMAP BODY[]) on the libuv
 * threadpool, so large messages never block the event loop. Resolves with
 * { headers, subject, from, sender, to, cc, bcc, replyTo, date, messageId,
 * inReplyTo, references, text, html, attachments, size, truncated }.
 * A Buffer or Uint8Array is read in place, not copied: as with fs.write(), do
 * not modify it until the promise settles. Bad arguments throw synchronously,
 * like the engine's option checks.
 */
function parseMessage(input, options) {
  const { maxBytes } = options || {};
  let bytes;
  if (typeof input === 'string') {
    bytes = Buffer.from(input, 'utf8');
  } else if (input instanceof Uint8Array) {
    bytes = input; // Buffer included
  } else {
    const err = new TypeError("Invalid argument 'input': must be a Buffer, Uint8Array or string");
    err.code = 'INVALID_ARGUMENT';
    err.argument = 'input';
    throw err;
  }
  if (maxBytes !== undefined && !(Number.isSafeInteger(maxBytes) && maxBytes > 0)) {
    throw optionError('maxBytes', 'must be a positive integer');
  }
  return native.parseMessage(bytes, maxBytes);
}

module.exports = { parseMessage };
