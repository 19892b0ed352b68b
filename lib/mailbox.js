'use strict';

// Mailbox-level actions on MailEngine (issue 16): append, folder management,
// folderStatus and quota, on the pooled connections like the message actions in
// lib/actions.js. An appended message comes back to a watched folder as a
// newMessage, once, like anyone else's delivery.

const { optionError, actionError } = require('./errors');
const { checkFlags, checkFolder } = require('./actions');
const { MONTHS, dateOption } = require('./search');

// The engine's parser caps a literal at 64 MiB; an APPEND is held to the same.
const MAX_APPEND_BYTES = 64 * 1024 * 1024;

function checkPath(v, path) {
  if (typeof v !== 'string' || v === '') throw optionError(path, 'must be a non-empty string');
  if (/[\r\n\0]/.test(v)) throw optionError(path, 'must not contain CR, LF or NUL');
}

/** The message as bytes with CRLF line ends, as IMAP requires (a bare LF becomes CRLF). */
function messageBytes(raw) {
  let buf;
  if (typeof raw === 'string') buf = Buffer.from(raw, 'utf8');
  else if (raw instanceof Uint8Array) buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  else throw optionError('raw', 'must be a Buffer, Uint8Array or string');
  if (buf.length === 0) throw optionError('raw', 'must not be empty');
  let bare = 0;
  for (let i = 0; i < buf.length; i++) if (buf[i] === 0x0a && (i === 0 || buf[i - 1] !== 0x0d)) bare++;
  if (bare) {
    const out = Buffer.allocUnsafe(buf.length + bare);
    let j = 0;
    for (let i = 0; i < buf.length; i++) {
      if (buf[i] === 0x0a && (i === 0 || buf[i - 1] !== 0x0d)) out[j++] = 0x0d;
      out[j++] = buf[i];
    }
    buf = out;
  }
  if (buf.length > MAX_APPEND_BYTES) throw optionError('raw', `must be at most ${MAX_APPEND_BYTES} bytes`);
  return buf;
}

/** The Message-ID header of the message's header block, unfolded, or ''. */
function messageIdOf(buf) {
  const end = buf.indexOf('\r\n\r\n');
  const head = buf.subarray(0, end < 0 ? Math.min(buf.length, 65536) : end).toString('latin1');
  const m = /^message-id:[ \t]*((?:.*)(?:\r\n[ \t].*)*)/im.exec(head);
  const id = m ? m[1].replace(/\r\n[ \t]+/g, ' ').trim() : '';
  return /^<[^<>\s]{1,990}>$/.test(id) ? id : '';
}

/** RFC 3501 date-time, in UTC: "02-Dec-2026 15:04:05 +0000". */
function imapDateTime(v) {
  const d = dateOption(v, 'internalDate');
  const p = (n) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

function appendOptions(options) {
  if (options === undefined) return { flags: [], internalDate: '' };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw optionError('options', 'must be an object');
  const { flags = [], internalDate } = options;
  checkFlags(flags, 'set'); // may be empty
  return { flags, internalDate: internalDate === undefined ? '' : imapDateTime(internalDate) };
}

/** RFC 9208 roots -> { roots: [{ root, resources: { NAME: { usage, limit } } }], storage? } (STORAGE is in KiB). */
function quotaResult(answer) {
  const roots = (answer.quota || []).map(({ root, resources }) => ({
    root,
    resources: Object.fromEntries(resources.map(({ name, usage, limit }) => [name, { usage, limit }])),
  }));
  const withStorage = roots.find((r) => r.resources.STORAGE);
  return withStorage
    ? { roots, storage: { usedBytes: withStorage.resources.STORAGE.usage * 1024, limitBytes: withStorage.resources.STORAGE.limit * 1024 } }
    : { roots };
}

function install(MailEngine, checkAccountId) {
  async function folderOp(engine, op, accountId, path, to = '') {
    checkAccountId(accountId);
    checkPath(path, op === 'rename' ? 'from' : 'path');
    if (op === 'rename') checkPath(to, 'to');
    const answer = await engine._action(accountId, (id) => engine._native.folderCommand(id, accountId, op, path, to));
    if (answer.errorCode) throw actionError(answer);
    return op === 'rename' ? { path: to, from: path } : { path };
  }

  Object.assign(MailEngine.prototype, {
    /** APPEND: resolves { uid, uidValidity } (APPENDUID; without UIDPLUS by Message-ID search, else uid null). */
    async append(accountId, folder, raw, options) {
      checkAccountId(accountId);
      checkPath(folder, 'folder');
      const bytes = messageBytes(raw);
      const { flags, internalDate } = appendOptions(options);
      const answer = await this._action(accountId,
        (id) => this._native.appendMessage(id, accountId, folder, bytes, flags, internalDate, messageIdOf(bytes)));
      if (answer.errorCode) throw actionError(answer);
      return { uid: answer.uid || null, uidValidity: answer.uidValidity || null };
    },
    createFolder(accountId, path) {
      return folderOp(this, 'create', accountId, path);
    },
    renameFolder(accountId, from, to) {
      return folderOp(this, 'rename', accountId, from, to);
    },
    deleteFolder(accountId, path) {
      return folderOp(this, 'delete', accountId, path);
    },
    subscribeFolder(accountId, path) {
      return folderOp(this, 'subscribe', accountId, path);
    },
    unsubscribeFolder(accountId, path) {
      return folderOp(this, 'unsubscribe', accountId, path);
    },
    /**
     * A folder's counts, watched or not: { accountId, folder, exists, unseen, uidNext, highestModseq } (the
     * folderChanged shape) from STATUS on a pooled connection. NOT_FOUND (what: 'account' or 'folder'), ...
     */
    async folderStatus(accountId, folder) {
      checkAccountId(accountId);
      checkFolder(folder);
      const answer = await this._action(accountId, (id) => this._native.folderStatus(id, accountId, folder));
      if (answer.errorCode) throw actionError(answer);
      const { exists, unseen, uidNext, highestModseq } = answer;
      return { accountId, folder, exists, unseen, uidNext, highestModseq };
    },
    /** GETQUOTAROOT (RFC 9208); UNSUPPORTED without QUOTA. */
    async quota(accountId, folder = 'INBOX') {
      checkAccountId(accountId);
      checkPath(folder, 'folder');
      const answer = await this._action(accountId, (id) => this._native.getQuota(id, accountId, folder));
      if (answer.errorCode) throw actionError(answer);
      return quotaResult(answer);
    },
  });
}

module.exports = { install, messageBytes, messageIdOf, imapDateTime };
