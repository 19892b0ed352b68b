'use strict';
// Folder management (CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE) and
// QUOTA (RFC 9208: GETQUOTAROOT, one root "" over every mailbox) for the
// mock server. Installed onto Session.
const syn = require('./imap-syntax');

function quoted(s) {
  return `"${String(s).replace(/["\\]/g, '\\$&')}"`;
}

const folderCommands = {
  cmd_CREATE(tag, args) {
    const name = syn.latin1ToUtf8(this.strArg(args, 0, 'mailbox')).replace(/\/$/, '');
    if (this.server.mailbox(name)) {
      this.tagged(tag, 'NO', '[ALREADYEXISTS] Mailbox already exists');
      return;
    }
    this.server.createMailbox(name);
    this.tagged(tag, 'OK', 'Create completed.');
  },

  cmd_DELETE(tag, args) {
    const name = syn.latin1ToUtf8(this.strArg(args, 0, 'mailbox'));
    if (name.toUpperCase() === 'INBOX') {
      this.tagged(tag, 'NO', 'INBOX can\'t be deleted.');
      return;
    }
    if (!this.server.deleteMailbox(name)) {
      this.tagged(tag, 'NO', `[NONEXISTENT] Mailbox doesn't exist: ${name}`);
      return;
    }
    this.tagged(tag, 'OK', 'Delete completed.');
  },

  cmd_RENAME(tag, args) {
    const from = syn.latin1ToUtf8(this.strArg(args, 0, 'mailbox'));
    const to = syn.latin1ToUtf8(this.strArg(args, 1, 'new name'));
    if (!this.server.mailbox(from)) {
      this.tagged(tag, 'NO', `[NONEXISTENT] Mailbox doesn't exist: ${from}`);
      return;
    }
    if (this.server.mailbox(to)) {
      this.tagged(tag, 'NO', '[ALREADYEXISTS] Target mailbox already exists');
      return;
    }
    this.server.renameMailbox(from, to);
    this.tagged(tag, 'OK', 'Rename completed.');
  },

  cmd_SUBSCRIBE(tag, args) {
    this.server.subscriptions.add(syn.latin1ToUtf8(this.strArg(args, 0, 'mailbox')));
    this.tagged(tag, 'OK', 'Subscribe completed.');
  },

  cmd_UNSUBSCRIBE(tag, args) {
    this.server.subscriptions.delete(syn.latin1ToUtf8(this.strArg(args, 0, 'mailbox')));
    this.tagged(tag, 'OK', 'Unsubscribe completed.');
  },

  cmd_GETQUOTAROOT(tag, args) {
    const name = syn.latin1ToUtf8(this.strArg(args, 0, 'mailbox'));
    if (!this.server.mailbox(name)) {
      this.tagged(tag, 'NO', `[NONEXISTENT] Mailbox doesn't exist: ${name}`);
      return;
    }
    this.untagged(`QUOTAROOT ${quoted(syn.utf8ToLatin1(name))} ""`);
    const limits = this.server.quotaLimits;
    if (limits) {
      const usage = this.server.quotaUsage();
      const items = Object.entries(limits).map(([res, limit]) => `${res} ${usage[res] || 0} ${limit}`);
      this.untagged(`QUOTA "" (${items.join(' ')})`);
    }
    this.tagged(tag, 'OK', 'Getquotaroot completed.');
  },
};

module.exports = { folderCommands };
