'use strict';
// Changes the mailboxes behind the app's back and remembers what it did; the server is the truth.
// Appends are Maildir deliveries (they work while Dovecot is down, as an MTA's would); flags and
// expunges go through doveadm, which works on the storage directly. Only messages the app has
// already reported are flagged or expunged: a message appended and expunged before anyone could
// see it need not be reported.
const path = require('path');
const { execFile } = require('child_process');

const FLAGS = ['\\Flagged', '\\Seen', '$Soak'];
const DOVEADM_TIMEOUT_MS = 20000;

class Writer {
  constructor(dovecot, rand) {
    this.dovecot = dovecot;
    this.rand = rand;
    this.appends = new Map(); // messageId -> { a, f, t }
    this.ops = []; // { kind: 'flag' | 'expunge', key, start, end, flags?, ok }
    this.flags = new Map(); // key -> Set of flags the writer set
    this.gone = new Set(); // keys expunged
    this.busy = new Set(); // keys with an op in flight
    this.seq = 0;
    this.failures = 0;
  }

  doveadm(args) {
    const conf = path.join(this.dovecot.dir, 'dovecot.conf');
    return new Promise((resolve, reject) => {
      execFile('doveadm', ['-c', conf, ...args], { timeout: DOVEADM_TIMEOUT_MS, encoding: 'utf8' }, (err, out, errOut) => {
        if (err) reject(new Error(`doveadm ${args.join(' ')}: ${err.message} ${errOut}`));
        else resolve(out);
      });
    });
  }

  append(account, folder) {
    const mid = `<soak-${++this.seq}@imap-push.test>`;
    const raw = `From: Soak <soak@example.com>\nTo: ${account.user}@example.com\nSubject: soak ${this.seq}\n` +
      `Message-ID: ${mid}\nDate: ${new Date().toUTCString()}\n\nmessage ${this.seq}\n`;
    this.dovecot.deliver(account.user, raw, folder);
    this.appends.set(mid, { a: account.id, f: folder, t: Date.now() });
  }

  // known: key -> { a, f, uid, user } of reported, live messages (from the driver's view of the events)
  async mutate(known, expunge) {
    const keys = [...known.keys()].filter((k) => !this.gone.has(k) && !this.busy.has(k)).sort();
    if (keys.length === 0) return;
    const key = keys[Math.floor(this.rand() * keys.length)];
    const { f, uid, user } = known.get(key);
    const flag = FLAGS[Math.floor(this.rand() * FLAGS.length)];
    const op = { kind: expunge ? 'expunge' : 'flag', key, start: Date.now() };
    this.busy.add(key);
    try {
      if (expunge) {
        this.gone.add(key);
        await this.doveadm(['expunge', '-u', user, 'mailbox', f, 'uid', String(uid)]);
      } else {
        const set = this.flags.get(key) || new Set();
        const verb = set.has(flag) ? 'remove' : 'add';
        await this.doveadm(['flags', verb, '-u', user, flag, 'mailbox', f, 'uid', String(uid)]);
        if (verb === 'add') set.add(flag);
        else set.delete(flag);
        this.flags.set(key, set);
        op.flags = [...set].sort();
      }
      op.ok = true;
    } catch (err) {
      // What the server did is unknown; the final comparison with the server still covers it.
      op.ok = false;
      op.error = err.message;
      this.failures++;
    } finally {
      op.end = Date.now();
      this.busy.delete(key);
      this.ops.push(op);
    }
  }

  // The server's own view at the end: key -> sorted flags, per account and folder.
  async serverState(accounts, folders) {
    const out = new Map();
    for (const acc of accounts) {
      for (const f of folders) {
        const text = await this.doveadm(['-f', 'tab', 'fetch', '-u', acc.user, 'uid flags hdr.message-id', 'mailbox', f, 'all']);
        for (const line of text.split('\n').slice(1)) {
          const [uid, flags, mid] = line.split('\t');
          if (!uid) continue;
          const list = flags.split(' ').filter((x) => x && x !== '\\Recent').sort();
          out.set(`${acc.id}|${f}|${uid}`, { flags: list, mid: (mid || '').trim() });
        }
      }
    }
    return out;
  }
}

module.exports = { Writer };
