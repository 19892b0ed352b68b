'use strict';

// Mailbox actions on MailEngine (issue 16, first part: flags and deletion).
// They run on the engine's pooled connections, never the IDLE ones; what
// they change comes back as the usual flagsChanged / messageDeleted events
// from the IDLE watchers, once, like any other client's change.

const { ImapPushError, optionError, actionError } = require('./errors');
const { compileCriteria, expandSet, setSize, withinSet, MAX_RESULT_UIDS } = require('./search');

const MAX_UID = 0xffffffff;
// RFC 3501 flag: an atom, or "\" and an atom. The engine checks again.
const FLAG = /^\\?[^\x00-\x20\x7f-\uffff(){%*"\\\]]+$/;
// No leading zeros: the engine parses sets by RFC 3501 nz-number.
const UID_SET = /^([1-9]\d*(:[1-9]\d*)?)(,[1-9]\d*(:[1-9]\d*)?)*$/;

function checkUid(n, path) {
  if (!Number.isInteger(n) || n < 1 || n > MAX_UID) throw optionError(path, 'must hold integer UIDs between 1 and 4294967295');
}

/**
 * A number, an array of numbers or a UID set string -> the compressed UID set string: ranges ascending, overlapping
 * and adjacent ones joined ('9,1,2,3,5:4' -> '1:5,9'), so a long list costs the command line as little as it can.
 */
function uidSet(uids) {
  let ranges;
  if (typeof uids === 'string') {
    if (!UID_SET.test(uids)) throw optionError('uids', "must be a UID, an array of UIDs or a UID set like '1:5,9'");
    ranges = uids.split(',').map((part) => {
      const [a, b = a] = part.split(':').map(Number);
      checkUid(a, 'uids');
      checkUid(b, 'uids');
      return a <= b ? [a, b] : [b, a];
    });
  } else {
    const list = typeof uids === 'number' ? [uids] : uids;
    if (!Array.isArray(list) || list.length === 0) throw optionError('uids', "must be a UID, a non-empty array of UIDs or a UID set like '1:5,9'");
    for (const n of list) checkUid(n, 'uids');
    ranges = list.map((n) => [n, n]);
  }
  ranges.sort((x, y) => x[0] - y[0]);
  const merged = [];
  for (const [a, b] of ranges) {
    const last = merged[merged.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  return merged.map(([a, b]) => (a === b ? `${a}` : `${a}:${b}`)).join(',');
}

function checkFolder(folder, path = 'folder') {
  if (typeof folder !== 'string' || folder === '') throw optionError(path, 'must be a non-empty string');
}

function checkFlags(flags, op) {
  if (!Array.isArray(flags) || (op !== 'set' && flags.length === 0)) throw optionError('flags', 'must be a non-empty array of IMAP flags');
  for (const f of flags) {
    if (typeof f !== 'string' || !FLAG.test(f)) throw optionError('flags', `must hold IMAP flags ('\\\\Seen', '$Label'); got ${JSON.stringify(f)}`);
  }
}

function storeOptions(options) {
  if (options === undefined) return 0;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw optionError('options', 'must be an object');
  const { unchangedSince = 0 } = options;
  if (!Number.isSafeInteger(unchangedSince) || unchangedSince < 0) throw optionError('unchangedSince', 'must be a MODSEQ (a non-negative integer)');
  return unchangedSince;
}

// COPYUID's two sets pair up in order. One that names more UIDs than were
// asked for, or sets of different sizes, is not a mapping and is dropped.
function uidMap(copyUid, asked) {
  const map = {};
  if (!copyUid) return map;
  const { source, dest } = copyUid;
  if (setSize(source) !== setSize(dest) || setSize(source) > asked) return map;
  const from = expandSet(source);
  const to = expandSet(dest);
  for (let i = 0; i < from.length; i++) map[from[i]] = to[i];
  return map;
}

function install(MailEngine, checkAccountId) {
  async function store(engine, op, accountId, folder, uids, flags, options) {
    checkAccountId(accountId);
    checkFolder(folder);
    const set = uidSet(uids);
    checkFlags(flags, op);
    const unchangedSince = storeOptions(options);
    const answer = await engine._action(accountId, (id) => engine._native.storeFlags(id, accountId, folder, set, op, flags, unchangedSince));
    if (answer.errorCode) throw actionError(answer);
    if (answer.uidSet) {
      // RFC 7162: the rest were changed; these had changed since unchangedSince.
      const err = new ImapPushError('MODIFIED', `changed since MODSEQ ${unchangedSince}: ${answer.uidSet}`);
      Object.assign(err, { accountId, folder, modified: answer.uidSet, modseq: answer.modseq });
      throw err;
    }
    return answer.modseq === null ? { uids: set } : { uids: set, modseq: answer.modseq };
  }

  async function copy(engine, move, accountId, folder, uids, destination) {
    checkAccountId(accountId);
    checkFolder(folder);
    const set = uidSet(uids);
    checkFolder(destination, 'destination');
    const answer = await engine._action(accountId, (id) => engine._native.copyMessages(id, accountId, folder, set, destination, move));
    if (answer.errorCode) throw actionError(answer);
    return { destination, uidMap: uidMap(answer.copyUid, setSize(set)) };
  }

  Object.assign(MailEngine.prototype, {
    /** UID COPY: resolves { destination, uidMap: { [uid]: newUid } } (uidMap from COPYUID; {} without UIDPLUS). */
    copy(accountId, folder, uids, destination) {
      return copy(this, false, accountId, folder, uids, destination);
    },
    /** UID MOVE, else COPY + \Deleted + UID EXPUNGE of exactly these UIDs. */
    move(accountId, folder, uids, destination) {
      return copy(this, true, accountId, folder, uids, destination);
    },
    /** UID SEARCH: resolves the matching UIDs, ascending. */
    async search(accountId, folder, criteria) {
      checkAccountId(accountId);
      checkFolder(folder);
      const [kinds, texts, within] = compileCriteria(criteria, uidSet);
      const answer = await this._action(accountId, (id) => this._native.searchMessages(id, accountId, folder, kinds, texts));
      if (answer.errorCode) throw actionError(answer);
      if (!answer.uidSet) return [];
      if (setSize(answer.uidSet) > MAX_RESULT_UIDS) {
        throw Object.assign(new ImapPushError('PROTOCOL_ERROR', `the server answered with more than ${MAX_RESULT_UIDS} UIDs`), { accountId, folder });
      }
      const found = expandSet(answer.uidSet);
      // A uid set too long for the command line went as its span: keep what it names.
      return within ? withinSet(found, within) : found;
    },
    /** UID STORE +FLAGS: resolves { uids, modseq? }; MODIFIED when unchangedSince lost. */
    addFlags(accountId, folder, uids, flags, options) {
      return store(this, 'add', accountId, folder, uids, flags, options);
    },
    removeFlags(accountId, folder, uids, flags, options) {
      return store(this, 'remove', accountId, folder, uids, flags, options);
    },
    setFlags(accountId, folder, uids, flags, options) {
      return store(this, 'set', accountId, folder, uids, flags, options);
    },
    /** Marks exactly these UIDs \Deleted and UID EXPUNGEs exactly them (needs UIDPLUS). */
    async deleteMessages(accountId, folder, uids) {
      checkAccountId(accountId);
      checkFolder(folder);
      const set = uidSet(uids);
      const answer = await this._action(accountId, (id) => this._native.deleteMessages(id, accountId, folder, set));
      if (answer.errorCode) throw actionError(answer);
      return { uids: set };
    },
  });
}

module.exports = { install, uidSet, checkFlags, checkFolder };
