'use strict';

// Mailbox actions on MailEngine (issue 16, first part: flags and deletion).
// They run on the engine's pooled connections, never the IDLE ones; what
// they change comes back as the usual flagsChanged / messageDeleted events
// from the IDLE watchers, once, like any other client's change.

const { ImapPushError, optionError } = require('./errors');

const MAX_UID = 0xffffffff;
// RFC 3501 flag: an atom, or "\" and an atom. The engine checks again.
const FLAG = /^\\?[^\x00-\x20\x7f-\uffff(){%*"\\\]]+$/;
// No leading zeros: the engine parses sets by RFC 3501 nz-number.
const UID_SET = /^([1-9]\d*(:[1-9]\d*)?)(,[1-9]\d*(:[1-9]\d*)?)*$/;

function checkUid(n, path) {
  if (!Number.isInteger(n) || n < 1 || n > MAX_UID) throw optionError(path, 'must hold integer UIDs between 1 and 4294967295');
}

/** A number, an array of numbers or a UID set string -> a compressed UID set string. */
function uidSet(uids) {
  if (typeof uids === 'string') {
    if (!UID_SET.test(uids)) throw optionError('uids', "must be a UID, an array of UIDs or a UID set like '1:5,9'");
    for (const part of uids.split(/[,:]/)) checkUid(Number(part), 'uids');
    return uids;
  }
  const list = typeof uids === 'number' ? [uids] : uids;
  if (!Array.isArray(list) || list.length === 0) throw optionError('uids', "must be a UID, a non-empty array of UIDs or a UID set like '1:5,9'");
  for (const n of list) checkUid(n, 'uids');
  const sorted = [...new Set(list)].sort((a, b) => a - b);
  const ranges = [];
  for (const n of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && n === last[1] + 1) last[1] = n;
    else ranges.push([n, n]);
  }
  return ranges.map(([a, b]) => (a === b ? `${a}` : `${a}:${b}`)).join(',');
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

function actionError(answer) {
  const err = new ImapPushError(answer.errorCode, answer.errorMessage);
  err.accountId = answer.accountId;
  err.folder = answer.folder;
  return err;
}

function install(MailEngine, checkAccountId) {
  async function store(engine, op, accountId, folder, uids, flags, options) {
    checkAccountId(accountId);
    checkFolder(folder);
    const set = uidSet(uids);
    checkFlags(flags, op);
    const unchangedSince = storeOptions(options);
    engine._checkAccount(accountId);
    const answer = await engine._request(accountId, (id) => engine._native.storeFlags(id, accountId, folder, set, op, flags, unchangedSince));
    if (answer.errorCode) throw actionError(answer);
    if (answer.modified) {
      // RFC 7162: the rest were changed; these had changed since unchangedSince.
      const err = new ImapPushError('MODIFIED', `changed since MODSEQ ${unchangedSince}: ${answer.modified}`);
      Object.assign(err, { accountId, folder, modified: answer.modified, modseq: answer.modseq });
      throw err;
    }
    return answer.modseq === null ? { uids: set } : { uids: set, modseq: answer.modseq };
  }

  Object.assign(MailEngine.prototype, {
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
      this._checkAccount(accountId);
      const answer = await this._request(accountId, (id) => this._native.deleteMessages(id, accountId, folder, set));
      if (answer.errorCode) throw actionError(answer);
      return { uids: set };
    },
  });
}

module.exports = { install, uidSet };
