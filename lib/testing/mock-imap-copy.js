'use strict';
// UID COPY and UID MOVE (RFC 6851) for the mock server, with UIDPLUS's
// COPYUID (RFC 4315) and TRYCREATE for a missing destination, and the
// compact set form ESEARCH answers use. Installed onto Session.
const syn = require('./imap-syntax');

/** Ascending UIDs as an IMAP set, runs joined: 1,2,3,7 -> "1:3,7". */
function compactSet(uids) {
  const out = [];
  for (let i = 0; i < uids.length; i++) {
    let j = i;
    while (j + 1 < uids.length && uids[j + 1] === uids[j] + 1) j++;
    out.push(j > i ? `${uids[i]}:${uids[j]}` : String(uids[i]));
    i = j;
  }
  return out.join(',');
}

const copyCommands = {
  cmd_UID_COPY(tag, args) {
    this.copyCmd(tag, args, false);
  },

  cmd_UID_MOVE(tag, args) {
    this.copyCmd(tag, args, true);
  },

  copyCmd(tag, args, move) {
    const setStr = this.strArg(args, 0, 'uid set');
    const destName = syn.latin1ToUtf8(this.strArg(args, 1, 'mailbox'));
    const dest = this.server.mailbox(destName);
    if (!dest) {
      this.tagged(tag, 'NO', `[TRYCREATE] Mailbox doesn't exist: ${destName}`);
      return;
    }
    if (move && this.readOnly) {
      this.tagged(tag, 'NO', '[READ-ONLY] Mailbox is read-only.');
      return;
    }
    const picked = this.resolveSet(setStr, true).map(([m]) => m);
    if (!picked.length) {
      this.tagged(tag, 'OK', 'No messages found.');
      return;
    }
    const from = [];
    const to = [];
    for (const m of picked) {
      from.push(m.uid);
      to.push(this.server._insertCopy(dest, m));
    }
    const code = this.server.hasCapability('UIDPLUS') ? `[COPYUID ${dest.uidValidity} ${compactSet(from)} ${compactSet(to)}] ` : '';
    if (!move) {
      this.tagged(tag, 'OK', `${code}Copy completed.`);
      return;
    }
    // RFC 6851: the COPYUID comes untagged, before the expunges.
    if (code) this.untagged(`OK ${code}Moved UIDs.`);
    for (const m of picked) {
      this.server._removeMessage(this.mailbox, m, this);
      this.apply({ type: 'expunge', msg: m });
    }
    this.tagged(tag, 'OK', 'Move completed.');
  },
};

module.exports = { copyCommands, compactSet };
