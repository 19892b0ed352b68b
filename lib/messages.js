'use strict';

// engine.messages(): a folder's messages as an async iterator, fetched in
// batches on the pooled connections, each batch only when the consumer asks
// for it, so a 100,000-message folder never sits in memory at once.

const { Readable } = require('stream');
const { optionError, actionError } = require('./errors');
const { checkFolder, uidSet } = require('./actions');
const { bodyStructure, headerFields } = require('./bodystructure');

const FIELDS = ['bodyStructure', 'headers'];

const MAX_BATCH = 1000;
// The engine's parser caps a literal at 64 MiB; a part is read up to that.
const MAX_PART_BYTES = 64 * 1024 * 1024;
const DEFAULT_PART_BYTES = 25 * 1024 * 1024;
const SECTION = /^[1-9]\d{0,3}(\.[1-9]\d{0,3}){0,15}$/;

// What a downloadPart NOT_FOUND is about, from the engine's message (src/imap/part_download.cpp).
const partMissing = (message) => (/^cannot select /.test(message) ? 'folder' : /^no message /.test(message) ? 'message' : 'part');

function listOptions(options) {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw optionError('options', 'must be an object');
  const { uids, since, before, range, batchSize = 100, fields = [] } = options;
  for (const key of Object.keys(options)) {
    if (!['uids', 'since', 'before', 'range', 'batchSize', 'fields'].includes(key)) throw optionError(key, 'is not a messages() option');
  }
  if (!Array.isArray(fields) || fields.some((f) => !FIELDS.includes(f))) {
    throw optionError('fields', `must be an array of ${FIELDS.join(', ')} (the rest always come)`);
  }
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH) {
    throw optionError('batchSize', `must be an integer from 1 to ${MAX_BATCH}`);
  }
  if (range !== undefined) {
    const ok = range && typeof range === 'object' && Number.isSafeInteger(range.start) && range.start >= 1 &&
      (range.end === undefined || (Number.isSafeInteger(range.end) && range.end >= range.start));
    if (!ok) throw optionError('range', 'must be { start, end? }: 1-based positions in the folder, end >= start');
  }
  const criteria = {};
  if (uids !== undefined) criteria.uid = uidSet(uids);
  if (since !== undefined) criteria.since = since;
  if (before !== undefined) criteria.before = before;
  return { criteria, range, batchSize, withStructure: fields.includes('bodyStructure'), withHeaders: fields.includes('headers') };
}

function install(MailEngine, checkAccountId) {
  Object.assign(MailEngine.prototype, {
    /**
     * One body part ('1', '2.1': BODYSTRUCTURE numbering), decoded, as a byte Readable with contentType, transferEncoding
     * and truncated (cut at maxBytes). BINARY.PEEK where offered, else BODY.PEEK decoded here.
     */
    async downloadPart(accountId, folder, uid, part, options) {
      checkAccountId(accountId);
      checkFolder(folder);
      if (!Number.isInteger(uid) || uid < 1 || uid > 0xffffffff) throw optionError('uid', 'must be an integer UID between 1 and 4294967295');
      if (typeof part !== 'string' || !SECTION.test(part)) throw optionError('part', "must be a part number like '1' or '2.1'");
      if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
        throw optionError('options', 'must be an object');
      }
      const { maxBytes = DEFAULT_PART_BYTES } = options || {};
      if (!Number.isSafeInteger(maxBytes) || maxBytes < 1 || maxBytes > MAX_PART_BYTES) {
        throw optionError('maxBytes', `must be an integer from 1 to ${MAX_PART_BYTES}`);
      }
      const answer = await this._action(accountId, (id) => this._native.downloadPart(id, accountId, folder, uid, part, maxBytes));
      if (answer.errorCode) throw actionError(answer, partMissing);
      const stream = Readable.from([answer.data], { objectMode: false });
      return Object.assign(stream, { contentType: answer.partType, transferEncoding: answer.partEncoding, truncated: answer.truncated,
        size: answer.data.length });
    },
    /**
     * The folder's messages in UID order: { accountId, folder, uid, uidValidity, seq, flags, size, internalDate,
     * envelope }. `uids`, `since`, `before` choose (one SEARCH); `range: { start, end }` then takes positions
     * start..end (1-based) of what was chosen; `batchSize` UIDs are fetched at a time, one batch ahead of the loop.
     */
    messages(accountId, folder, options) {
      checkAccountId(accountId);
      checkFolder(folder);
      const { criteria, range, batchSize, withStructure, withHeaders } = listOptions(options);
      const engine = this;
      const fetchBatch = (batch) => engine._action(accountId,
        (id) => engine._native.listMessages(id, accountId, folder, uidSet(batch), withStructure, withHeaders));
      return (async function* list() {
        let chosen = await engine.search(accountId, folder, criteria);
        if (range) chosen = chosen.slice(range.start - 1, range.end);
        // One batch is asked for ahead of the one the loop is on, so the server's round trip and the
        // loop's work overlap (with one in flight, paging ran at 81 % of the envelope-fetch rate).
        // Memory stays at two batches, and a `break` leaves at most that one batch unread.
        let next = chosen.length ? fetchBatch(chosen.slice(0, batchSize)) : null;
        try {
          for (let i = 0; i < chosen.length; i += batchSize) {
            const batch = chosen.slice(i, i + batchSize);
            const answer = await next;
            next = i + batchSize < chosen.length ? fetchBatch(chosen.slice(i + batchSize, i + 2 * batchSize)) : null;
            if (answer.errorCode) throw actionError(answer);
            const byUid = new Map((answer.items || []).map(({ requestId, ...m }) => {
              if (withStructure) m.bodyStructure = m.bodyStructure === undefined ? null : bodyStructure(m.bodyStructure);
              if (withHeaders) m.headers = m.headers === undefined ? {} : headerFields(m.headers);
              return [m.uid, m];
            }));
            // A message expunged meanwhile is simply not there.
            for (const uid of batch) if (byUid.has(uid)) yield byUid.get(uid);
          }
        } finally {
          // Left unread by a break or an error: its answer (or rejection) goes nowhere.
          if (next) next.catch(() => {});
        }
      })();
    },
  });
}

module.exports = { install, MAX_BATCH, MAX_PART_BYTES };
