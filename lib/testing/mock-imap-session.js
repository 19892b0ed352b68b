'use strict';
// One client connection of MockImapServer: input framing (lines + literals),
// a delayed/stallable output queue, per-connection mailbox view, commands.
const tls = require('tls');
const syn = require('./imap-syntax');
const { copyCommands, compactSet } = require('./mock-imap-copy');
const { folderCommands } = require('./mock-imap-folders');
const mime = require('./mime');
const { runSearch } = require('./mock-imap-search');

const { ImapSyntaxError, astring } = syn;
const MAX_LINE = 64 * 1024;
const MAX_LITERAL = 64 * 1024 * 1024;
const SYSTEM_FLAGS = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft', '\\Recent'];

function normFlag(f) {
  return SYSTEM_FLAGS.find((s) => s.toLowerCase() === String(f).toLowerCase()) || String(f);
}
function normFlags(list) {
  return [...new Set((list || []).map(normFlag))];
}

const ANY = ['CAPABILITY', 'NOOP', 'LOGOUT'];
const NOT_AUTH = new Set([...ANY, 'STARTTLS', 'LOGIN', 'AUTHENTICATE']);
const AUTH = new Set([...ANY, 'SELECT', 'EXAMINE', 'LIST', 'LSUB', 'STATUS', 'ENABLE', 'IDLE', 'APPEND',
  'CREATE', 'DELETE', 'RENAME', 'SUBSCRIBE', 'UNSUBSCRIBE', 'GETQUOTAROOT']);
const SELECTED = new Set([...AUTH, 'FETCH', 'STORE', 'EXPUNGE', 'SEARCH', 'UID FETCH', 'UID STORE',
  'UID SEARCH', 'UID EXPUNGE', 'UID COPY', 'UID MOVE', 'CLOSE', 'UNSELECT', 'CHECK']);
const STATE_COMMANDS = { notauth: NOT_AUTH, auth: AUTH, selected: SELECTED };
const ALL_COMMANDS = new Set([...NOT_AUTH, ...SELECTED]);
// Commands a strict server rejects as unknown when the extension is off.
const NEEDS_CAP = { IDLE: 'IDLE', ENABLE: 'ENABLE', 'UID EXPUNGE': 'UIDPLUS', 'UID MOVE': 'MOVE', GETQUOTAROOT: 'QUOTA' };

class Session {
  constructor(server, socket, isTls) {
    this.server = server;
    this.id = ++server._connSeq;
    this.tls = isTls;
    this.state = 'notauth';
    this.user = null;
    this.mailbox = null;
    this.readOnly = false;
    this.view = []; // message objects in this client's sequence-number order
    this.pending = []; // updates not yet told to this client
    this.enabled = new Set();
    this.condstore = false;
    this.idleTag = null;
    this.lineHandler = null;
    this.buf = Buffer.alloc(0);
    this.parts = [];
    this.literalLeft = 0;
    this.nonSyncLiteral = false;
    this.upgrading = false;
    this.ending = false;
    this.closed = false;
    this.out = [];
    this.timer = null;
    this.attach(socket);
    if (server._stalled) socket.pause();
  }

  attach(socket) {
    this.socket = socket;
    if (socket.setNoDelay) socket.setNoDelay(true);
    socket.on('data', (d) => this.onData(d));
    socket.on('error', (e) => { this.lastError = e; });
    socket.on('close', () => this.onClose());
  }

  onClose() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.endTimer);
    clearInterval(this.keepalive);
    this.out = [];
    this.server._sessionClosed(this);
  }

  // ---- output -------------------------------------------------------------

  write(data, then) {
    if (this.closed) return;
    this.out.push({ data, at: Date.now() + this.server._delayMs, then });
    if (!this.pumpScheduled) {
      // Deferred so a whole command response leaves in one segment.
      this.pumpScheduled = true;
      process.nextTick(() => {
        this.pumpScheduled = false;
        this.pump();
      });
    }
  }

  pump() {
    if (this.closed || this.server._stalled) return;
    clearTimeout(this.timer);
    this.timer = null;
    const now = Date.now();
    let batch = [];
    // One write per burst: many tiny writes trip Nagle/delayed-ACK stalls.
    const flush = () => {
      if (batch.length && !this.socket.destroyed) {
        this.socket.write(Buffer.concat(batch.map((d) => (Buffer.isBuffer(d) ? d : Buffer.from(d, 'latin1')))));
      }
      batch = [];
    };
    while (this.out.length) {
      const item = this.out[0];
      if (item.at > now) {
        flush();
        this.timer = setTimeout(() => this.pump(), item.at - now);
        return;
      }
      this.out.shift();
      if (item.data) batch.push(item.data);
      if (item.then) {
        flush();
        item.then();
        if (this.closed) return;
      }
    }
    flush();
  }

  end() {
    if (this.closed) return;
    this.ending = true;
    this.socket.end();
    // A client that never closes its side must not keep the server open.
    this.endTimer = setTimeout(() => this.socket.destroy(), 1000);
    this.endTimer.unref();
  }

  destroy() {
    this.socket.destroy();
  }

  untagged(line) {
    this.write(`* ${line}\r\n`);
  }

  tagged(tag, status, text, opts = {}) {
    this.flushPending(opts.noExpunge);
    this.write(`${tag} ${status} ${text}\r\n`);
  }

  // ---- mailbox updates ----------------------------------------------------

  notify(event) {
    if (this.idleTag) this.apply(event);
    else this.pending.push(event);
  }

  // RFC 3501 7.4.1: no EXPUNGE during non-UID FETCH/STORE/SEARCH, so those
  // stop at the first queued expunge to keep sequence numbers coherent.
  flushPending(noExpunge) {
    while (this.pending.length) {
      if (noExpunge && this.pending[0].type === 'expunge') return;
      this.apply(this.pending.shift());
    }
  }

  apply(ev) {
    const { msg } = ev;
    if (ev.type === 'exists') {
      if (!this.view.includes(msg)) this.view.push(msg);
      this.untagged(`${this.view.length} EXISTS`);
      return;
    }
    const idx = this.view.indexOf(msg);
    if (idx < 0) return;
    if (ev.type === 'expunge') {
      this.view.splice(idx, 1);
      if (this.enabled.has('QRESYNC')) this.untagged(`VANISHED ${msg.uid}`);
      else this.untagged(`${idx + 1} EXPUNGE`);
    } else if (ev.type === 'fetch') {
      this.untagged(`${idx + 1} FETCH (UID ${msg.uid} FLAGS (${msg.flags.join(' ')})${this.condstore ? ` MODSEQ (${msg.modseq})` : ''})`);
    }
  }

  // ---- input framing ------------------------------------------------------

  onData(chunk) {
    if (this.closed || this.upgrading) return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    this.process();
  }

  process() {
    while (!this.closed && !this.upgrading && !this.ending && !this.server._stalled) {
      if (this.literalLeft > 0) {
        if (!this.buf.length) return;
        const take = Math.min(this.literalLeft, this.buf.length);
        this.parts.push(this.buf.subarray(0, take));
        this.buf = this.buf.subarray(take);
        this.literalLeft -= take;
        continue;
      }
      const nl = this.buf.indexOf(10);
      if (nl < 0) {
        if (this.buf.length > MAX_LINE) this.fatal('Line too long');
        return;
      }
      const line = this.buf.subarray(0, nl + 1);
      this.buf = this.buf.subarray(nl + 1);
      if (this.lineHandler) {
        const h = this.lineHandler;
        this.lineHandler = null;
        h(line.toString('latin1').replace(/\r?\n$/, ''));
        continue;
      }
      this.parts.push(line);
      const m = /\{(\d+)(\+?)\}\r?\n$/.exec(line.toString('latin1'));
      if (m) {
        const len = Number(m[1]);
        if (len > MAX_LITERAL) {
          this.fatal('Literal too large');
          return;
        }
        this.literalLeft = len;
        if (m[2]) this.nonSyncLiteral = true;
        else this.write('+ Ready for literal data\r\n');
        continue;
      }
      const text = Buffer.concat(this.parts).toString('latin1');
      this.parts = [];
      const nonSync = this.nonSyncLiteral;
      this.nonSyncLiteral = false;
      this.handle(text, nonSync);
    }
  }

  fatal(text) {
    this.write(`* BYE ${text}\r\n`, () => this.end());
    this.ending = true;
  }

  // ---- dispatch -----------------------------------------------------------

  handle(text, nonSync) {
    const tagMatch = /^([^\s(){%*"\\\]]+)/.exec(text);
    if (!tagMatch || /^\s*\r?\n?$/.test(text)) {
      this.untagged('BAD Empty or invalid command');
      return;
    }
    const tag = tagMatch[1];
    let tokens;
    try {
      tokens = syn.tokenize(text);
    } catch (e) {
      this.write(`${tag} BAD Error in IMAP command: ${e.message}\r\n`);
      return;
    }
    let name = tokens[1] && tokens[1].type === 'atom' ? tokens[1].value.toUpperCase() : '';
    let args = tokens.slice(2);
    if (name === 'UID' && args[0] && args[0].type === 'atom') {
      name = `UID ${args[0].value.toUpperCase()}`;
      args = args.slice(1);
    }
    const entry = this.server._log(this, tag, name, text);
    // A hung command: read, never answered (the connection stays up).
    if (this.server._unanswered && this.server._unanswered(entry)) return;
    const refused = this.server._refused && this.server._refused(entry);
    if (refused) {
      const [status, text] = refused.split(/ (.*)/s, 2);
      this.tagged(tag, status, text);
      return;
    }
    if (!name || !ALL_COMMANDS.has(name) || !this.commandEnabled(name)) {
      this.write(`${tag} BAD Error in IMAP command ${name || ''}: Unknown command.\r\n`);
      return;
    }
    if (!STATE_COMMANDS[this.state].has(name)) {
      this.write(`${tag} BAD Error in IMAP command ${name}: Command not valid in this state.\r\n`);
      return;
    }
    if (nonSync && !this.server.hasCapability('LITERAL+')) {
      this.write(`${tag} BAD Non-synchronizing literal used without LITERAL+.\r\n`);
      return;
    }
    const method = `cmd_${name.replace(' ', '_')}`;
    try {
      this[method](tag, args, entry);
    } catch (e) {
      if (e instanceof ImapSyntaxError) {
        this.write(`${tag} BAD Error in IMAP command ${name}: ${e.message}\r\n`);
      } else {
        this.server.errors.push(e);
        this.write(`${tag} BAD Internal mock server error: ${e.message}\r\n`);
      }
    }
  }

  commandEnabled(name) {
    return !NEEDS_CAP[name] || this.server.hasCapability(NEEDS_CAP[name]);
  }

  strArg(args, i, what) {
    const t = args[i];
    if (!t || t.type === 'list') throw new ImapSyntaxError(`Missing ${what}`);
    return t.value;
  }

  // ---- not authenticated --------------------------------------------------

  cmd_CAPABILITY(tag) {
    this.untagged(`CAPABILITY ${this.server._capString(this)}`);
    this.tagged(tag, 'OK', 'Capability completed.');
  }

  cmd_NOOP(tag) {
    this.tagged(tag, 'OK', 'NOOP completed.');
  }

  cmd_CHECK(tag) {
    this.tagged(tag, 'OK', 'Check completed.');
  }

  cmd_LOGOUT(tag) {
    this.untagged('BYE Logging out');
    this.write(`${tag} OK Logout completed.\r\n`, () => this.end());
    this.ending = true;
  }

  cmd_STARTTLS(tag) {
    if (this.tls || !this.server.hasCapability('STARTTLS')) {
      this.write(`${tag} BAD Error in IMAP command STARTTLS: TLS not available.\r\n`);
      return;
    }
    // Anything pipelined after STARTTLS was sent in clear: discard it.
    this.upgrading = true;
    this.buf = Buffer.alloc(0);
    this.write(`${tag} OK Begin TLS negotiation now.\r\n`, () => this.upgrade());
  }

  upgrade() {
    const plain = this.socket;
    plain.removeAllListeners('data');
    const secure = new tls.TLSSocket(plain, { isServer: true, secureContext: this.server._secureContext() });
    this.attach(secure);
    secure.once('secure', () => {
      this.tls = true;
      this.upgrading = false;
      this.process();
    });
  }

  plaintextRefused() {
    return this.server.opts.loginDisabledWithoutTls && !this.tls;
  }

  cmd_LOGIN(tag, args, entry) {
    const user = syn.latin1ToUtf8(this.strArg(args, 0, 'user'));
    const pass = syn.latin1ToUtf8(this.strArg(args, 1, 'password'));
    entry.user = user;
    this.server.loginAttempts++;
    if (this.plaintextRefused()) {
      this.tagged(tag, 'NO', '[PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.');
      return;
    }
    if (this.server._authFail || this.server.users[user] === undefined || this.server.users[user] !== pass) {
      this.tagged(tag, 'NO', '[AUTHENTICATIONFAILED] Authentication failed.');
      return;
    }
    this.loggedIn(tag, user);
  }

  loggedIn(tag, user) {
    this.state = 'auth';
    this.user = user;
    this.tagged(tag, 'OK', `[CAPABILITY ${this.server._capString(this)}] Logged in`);
  }

  cmd_AUTHENTICATE(tag, args, entry) {
    const mech = this.strArg(args, 0, 'mechanism').toUpperCase();
    if (!['PLAIN', 'XOAUTH2', 'OAUTHBEARER'].includes(mech) || !this.server.hasCapability(`AUTH=${mech}`)) {
      this.tagged(tag, 'NO', 'Unsupported authentication mechanism.');
      return;
    }
    if (args[1] && !this.server.hasCapability('SASL-IR')) {
      this.tagged(tag, 'BAD', 'Initial response given but SASL-IR is not advertised.');
      return;
    }
    this.server.loginAttempts++;
    const onResponse = (resp) => this.saslResponse(tag, mech, resp, entry);
    if (args[1]) onResponse(args[1].value);
    else {
      this.write('+ \r\n');
      this.lineHandler = onResponse;
    }
  }

  saslResponse(tag, mech, resp, entry) {
    if (resp === '*') {
      this.tagged(tag, 'BAD', 'Authentication aborted by client.');
      return;
    }
    if (resp !== '=' && !/^[A-Za-z0-9+/]*={0,2}$/.test(resp)) {
      this.tagged(tag, 'BAD', 'Invalid base64 data in continued response');
      return;
    }
    const decoded = resp === '=' ? '' : Buffer.from(resp, 'base64').toString('utf8');
    const fail = () => this.tagged(tag, 'NO', '[AUTHENTICATIONFAILED] Authentication failed.');
    const { users, tokens } = this.server;
    if (mech === 'PLAIN') {
      const parts = decoded.split('\0');
      entry.user = parts[1];
      if (this.plaintextRefused()) {
        this.tagged(tag, 'NO', '[PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.');
        return;
      }
      const ok = parts.length === 3 && !this.server._authFail
        && users[parts[1]] !== undefined && users[parts[1]] === parts[2] && (!parts[0] || parts[0] === parts[1]);
      if (ok) this.loggedIn(tag, parts[1]);
      else fail();
      return;
    }
    let user = null;
    let token = null;
    if (mech === 'XOAUTH2') {
      const m = /^user=([^\x01]*)\x01auth=Bearer ([^\x01]*)\x01\x01$/.exec(decoded);
      if (m) [, user, token] = m;
    } else {
      const kv = decoded.split('\x01');
      const gs2 = /^n,(?:a=([^,]*))?,$/.exec(kv[0] || '');
      const auth = kv.map((x) => /^auth=Bearer (.*)$/.exec(x)).find(Boolean);
      if (gs2 && auth) [user, token] = [gs2[1] || null, auth[1]];
    }
    entry.user = user;
    if (user && token && !this.server._authFail && tokens[user] !== undefined && tokens[user] === token) {
      this.loggedIn(tag, user);
      return;
    }
    // Google/RFC 7628 style: error details in a challenge the client must
    // acknowledge (empty line / ^A) before the tagged NO arrives.
    const err = mech === 'XOAUTH2'
      ? { status: '400', schemes: 'Bearer', scope: 'https://mail.google.com/' }
      : { status: 'invalid_token', scope: 'https://mail.google.com/', 'openid-configuration': 'https://accounts.google.com/.well-known/openid-configuration' };
    this.write(`+ ${Buffer.from(JSON.stringify(err)).toString('base64')}\r\n`);
    this.lineHandler = () => fail();
  }

  // ---- authenticated ------------------------------------------------------

  cmd_ENABLE(tag, args) {
    const done = [];
    for (const a of args) {
      const ext = String(a.value).toUpperCase();
      if (!['CONDSTORE', 'QRESYNC'].includes(ext) || !this.server.hasCapability(ext)) continue;
      if (ext === 'QRESYNC' && !this.enabled.has('CONDSTORE')) this.enabled.add('CONDSTORE');
      if (!this.enabled.has(ext)) done.push(ext);
      this.enabled.add(ext);
      this.condstore = true;
    }
    this.untagged(`ENABLED${done.length ? ` ${done.join(' ')}` : ''}`);
    this.tagged(tag, 'OK', 'Enabled.');
  }

  // RFC 7162 3.1: a CONDSTORE-enabling command on a selected mailbox
  // reports HIGHESTMODSEQ first (Dovecot does this too).
  enableCondstore() {
    if (this.condstore) return;
    this.condstore = true;
    if (this.mailbox) this.untagged(`OK [HIGHESTMODSEQ ${this.mailbox.highestModseq}] Highest`);
  }

  deselect() {
    this.mailbox = null;
    this.view = [];
    this.pending = [];
    if (this.state === 'selected') this.state = 'auth';
  }

  cmd_SELECT(tag, args) {
    this.select(tag, args, false);
  }

  cmd_EXAMINE(tag, args) {
    this.select(tag, args, true);
  }

  select(tag, args, readOnly) {
    const name = syn.latin1ToUtf8(this.strArg(args, 0, 'mailbox'));
    let qresync = null;
    if (args[1] && args[1].type === 'list') {
      const p = args[1].value;
      for (let i = 0; i < p.length; i++) {
        const k = String(p[i].value).toUpperCase();
        if (k === 'CONDSTORE' && this.server.hasCapability('CONDSTORE')) this.condstore = true;
        else if (k === 'QRESYNC' && this.enabled.has('QRESYNC') && p[i + 1] && p[i + 1].type === 'list') {
          const q = p[++i].value;
          qresync = { uidValidity: Number(q[0] && q[0].value), modseq: Number(q[1] && q[1].value), known: q[2] ? q[2].value : null };
        } else {
          throw new ImapSyntaxError(`Unsupported SELECT parameter ${k}`);
        }
      }
    }
    if (this.mailbox && this.enabled.has('QRESYNC')) this.untagged('OK [CLOSED] Previous mailbox closed.');
    this.deselect();
    const mb = this.server.mailbox(name);
    if (!mb) {
      this.tagged(tag, 'NO', `[NONEXISTENT] Mailbox doesn't exist: ${name}`);
      return;
    }
    this.mailbox = mb;
    this.readOnly = readOnly;
    this.view = mb.messages.slice();
    this.state = 'selected';
    this.untagged('FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)');
    this.untagged('OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.');
    this.untagged(`${this.view.length} EXISTS`);
    this.untagged('0 RECENT');
    const unseen = this.view.findIndex((m) => !m.flags.includes('\\Seen'));
    if (unseen >= 0) this.untagged(`OK [UNSEEN ${unseen + 1}] First unseen.`);
    this.untagged(`OK [UIDVALIDITY ${mb.uidValidity}] UIDs valid`);
    this.untagged(`OK [UIDNEXT ${mb.uidNext}] Predicted next UID`);
    if (this.server.hasCapability('CONDSTORE')) this.untagged(`OK [HIGHESTMODSEQ ${mb.highestModseq}] Highest`);
    if (qresync && qresync.uidValidity === mb.uidValidity) {
      const known = qresync.known ? syn.seqSetMatcher(syn.parseSeqSet(qresync.known), mb.uidNext) : () => true;
      const gone = mb.expunged.filter((e) => e.modseq > qresync.modseq && known(e.uid)).map((e) => e.uid);
      if (gone.length) this.untagged(`VANISHED (EARLIER) ${gone.join(',')}`);
      this.view.forEach((m, i) => {
        if (m.modseq > qresync.modseq) this.untagged(`${i + 1} FETCH (UID ${m.uid} FLAGS (${m.flags.join(' ')}) MODSEQ (${m.modseq}))`);
      });
    }
    this.tagged(tag, 'OK', `[${readOnly ? 'READ-ONLY' : 'READ-WRITE'}] ${readOnly ? 'Examine' : 'Select'} completed.`);
  }

  cmd_LIST(tag, args) {
    this.list(tag, args, 'LIST');
  }

  cmd_LSUB(tag, args) {
    this.list(tag, args, 'LSUB');
  }

  list(tag, args, kind) {
    const ref = syn.latin1ToUtf8(this.strArg(args, 0, 'reference'));
    const pat = syn.latin1ToUtf8(this.strArg(args, 1, 'pattern'));
    if (pat === '') {
      this.untagged(`${kind} (\\Noselect) "/" ""`);
      this.tagged(tag, 'OK', `${kind} completed.`);
      return;
    }
    const src = `^${(ref + pat).replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/%/g, '[^/]*')}$`;
    const names = this.server.mailboxNames();
    for (const n of names) {
      if (kind === 'LSUB' && !this.server.subscriptions.has(n)) continue;
      // INBOX is case-insensitive, every other name is not.
      if (!new RegExp(src, n === 'INBOX' ? 'i' : '').test(n)) continue;
      const kids = names.some((o) => o.startsWith(`${n}/`));
      this.untagged(`${kind} (${kids ? '\\HasChildren' : '\\HasNoChildren'}) "/" ${astring(syn.utf8ToLatin1(n))}`);
    }
    this.tagged(tag, 'OK', `${kind} completed.`);
  }

  cmd_STATUS(tag, args) {
    const name = syn.latin1ToUtf8(this.strArg(args, 0, 'mailbox'));
    if (!args[1] || args[1].type !== 'list') throw new ImapSyntaxError('Missing status items');
    const mb = this.server.mailbox(name);
    if (!mb) {
      this.tagged(tag, 'NO', `[NONEXISTENT] Mailbox doesn't exist: ${name}`);
      return;
    }
    const vals = {
      MESSAGES: mb.messages.length,
      RECENT: 0,
      UIDNEXT: mb.uidNext,
      UIDVALIDITY: mb.uidValidity,
      UNSEEN: mb.messages.filter((m) => !m.flags.includes('\\Seen')).length,
      HIGHESTMODSEQ: mb.highestModseq,
    };
    const out = args[1].value.map((t) => {
      const k = String(t.value).toUpperCase();
      if (!(k in vals)) throw new ImapSyntaxError(`Unknown STATUS item ${k}`);
      return `${k} ${vals[k]}`;
    });
    this.untagged(`STATUS ${astring(syn.utf8ToLatin1(mb.name))} (${out.join(' ')})`);
    this.tagged(tag, 'OK', 'Status completed.');
  }

  cmd_APPEND(tag, args) {
    const name = syn.latin1ToUtf8(this.strArg(args, 0, 'mailbox'));
    let i = 1;
    let flags = [];
    let date;
    if (args[i] && args[i].type === 'list') flags = args[i++].value.map((t) => t.value);
    if (args[i] && args[i].type === 'string' && !args[i].literal) date = args[i++].value;
    const lit = args[i];
    if (!lit || !lit.literal) throw new ImapSyntaxError('Missing message literal');
    if (!this.server.mailbox(name)) {
      this.tagged(tag, 'NO', `[TRYCREATE] Mailbox doesn't exist: ${name}`);
      return;
    }
    const uid = this.server.appendMessage(name, {
      raw: Buffer.from(lit.value, 'latin1'),
      flags,
      internalDate: date ? new Date(date.replace(/^(\s?\d+)-(\w+)-(\d+)/, '$1 $2 $3')) : undefined,
    });
    const code = this.server.hasCapability('UIDPLUS') ? `[APPENDUID ${this.server.mailbox(name).uidValidity} ${uid}] ` : '';
    this.tagged(tag, 'OK', `${code}Append completed.`);
  }

  cmd_IDLE(tag) {
    this.write('+ idling\r\n');
    this.idleTag = tag;
    this.flushPending(false);
    const every = this.server.opts.idleKeepaliveMs;
    if (every > 0) this.keepalive = setInterval(() => this.untagged('OK Still here'), every);
    this.lineHandler = (line) => {
      clearInterval(this.keepalive);
      this.idleTag = null;
      this.server._log(this, tag, 'DONE', line);
      if (line.trim().toUpperCase() === 'DONE') this.tagged(tag, 'OK', 'Idle completed.');
      else this.tagged(tag, 'BAD', 'Expected DONE.');
    };
  }

  // ---- selected -----------------------------------------------------------

  cmd_CLOSE(tag) {
    if (!this.readOnly) {
      for (const m of this.mailbox.messages.filter((x) => x.flags.includes('\\Deleted'))) {
        this.server._removeMessage(this.mailbox, m, this);
      }
    }
    this.deselect();
    this.tagged(tag, 'OK', 'Close completed.');
  }

  cmd_UNSELECT(tag) {
    this.deselect();
    this.tagged(tag, 'OK', 'Unselect completed.');
  }

  // Messages addressed by a set, in view order, with their sequence numbers.
  resolveSet(setStr, uidMode) {
    const ranges = syn.parseSeqSet(setStr);
    if (uidMode) {
      const max = this.view.length ? this.view[this.view.length - 1].uid : 0;
      const match = syn.seqSetMatcher(ranges, max);
      return this.view.map((m, i) => [m, i + 1]).filter(([m]) => match(m.uid));
    }
    // Dovecot: any sequence number past EXISTS (or '*' on an empty mailbox) is BAD.
    if (!this.view.length || syn.maxExplicit(ranges) > this.view.length) throw new ImapSyntaxError('Invalid messageset');
    const match = syn.seqSetMatcher(ranges, this.view.length);
    return this.view.map((m, i) => [m, i + 1]).filter(([, seq]) => match(seq));
  }

  cmd_FETCH(tag, args) {
    this.fetch(tag, args, false);
  }

  cmd_UID_FETCH(tag, args) {
    this.fetch(tag, args, true);
  }

  fetch(tag, args, uidMode) {
    const setStr = this.strArg(args, 0, 'sequence set');
    if (!args[1]) throw new ImapSyntaxError('Missing fetch items');
    const items = this.parseFetchItems(args[1]);
    let changedSince = null;
    let vanished = false;
    if (args[2]) {
      if (args[2].type !== 'list') throw new ImapSyntaxError('Bad fetch modifiers');
      const mods = args[2].value;
      for (let i = 0; i < mods.length; i++) {
        const k = String(mods[i].value).toUpperCase();
        if (k === 'CHANGEDSINCE' && this.server.hasCapability('CONDSTORE') && mods[i + 1]) {
          changedSince = Number(mods[++i].value);
          if (!Number.isFinite(changedSince)) throw new ImapSyntaxError('Bad CHANGEDSINCE');
        } else if (k === 'VANISHED' && uidMode && this.enabled.has('QRESYNC')) {
          vanished = true;
        } else {
          throw new ImapSyntaxError(`Unsupported FETCH modifier ${k}`);
        }
      }
      if (vanished && changedSince === null) throw new ImapSyntaxError('VANISHED requires CHANGEDSINCE');
    }
    if (changedSince !== null || items.some((it) => it.name === 'MODSEQ')) this.enableCondstore();
    if (uidMode && !items.some((it) => it.name === 'UID')) items.unshift({ name: 'UID' });
    if (changedSince !== null && !items.some((it) => it.name === 'MODSEQ')) items.push({ name: 'MODSEQ' });
    const targets = this.resolveSet(setStr, uidMode);
    if (vanished) {
      const max = this.view.length ? this.view[this.view.length - 1].uid : 0;
      const match = syn.seqSetMatcher(syn.parseSeqSet(setStr), Math.max(max, this.mailbox.uidNext - 1));
      const gone = this.mailbox.expunged.filter((e) => e.modseq > changedSince && match(e.uid)).map((e) => e.uid);
      if (gone.length) this.untagged(`VANISHED (EARLIER) ${gone.join(',')}`);
    }
    for (const [msg, seq] of targets) {
      if (changedSince !== null && msg.modseq <= changedSince) continue;
      this.write(`* ${seq} FETCH (${this.fetchItems(msg, items).join(' ')})\r\n`);
    }
    this.tagged(tag, 'OK', 'Fetch completed.', { noExpunge: !uidMode });
  }

  parseFetchItems(tok) {
    const list = tok.type === 'list' ? tok.value : [tok];
    const macros = {
      ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
      FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
      FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
    };
    const simple = new Set(['UID', 'FLAGS', 'ENVELOPE', 'INTERNALDATE', 'RFC822.SIZE', 'RFC822',
      'RFC822.HEADER', 'RFC822.TEXT', 'BODY', 'BODYSTRUCTURE', 'MODSEQ']);
    const out = [];
    for (const t of list) {
      if (t.type !== 'atom') throw new ImapSyntaxError('Bad fetch item');
      const v = t.value.toUpperCase();
      if (macros[v] && tok.type !== 'list') {
        out.push(...macros[v].map((name) => ({ name })));
        continue;
      }
      if (simple.has(v)) {
        out.push({ name: v });
        continue;
      }
      const m = /^BODY(\.PEEK)?\[([^\]]*)\](?:<(\d+)\.(\d+)>)?$/.exec(v);
      if (!m) throw new ImapSyntaxError(`Unknown fetch item ${t.value}`);
      out.push({ name: 'BODY[]', peek: !!m[1], section: m[2], start: m[3] !== undefined ? Number(m[3]) : null, len: m[4] !== undefined ? Number(m[4]) : null });
    }
    return out;
  }

  fetchItems(msg, items) {
    const q = this.server.opts.quoteStyle;
    const parts = [];
    let flagsShown = items.some((it) => it.name === 'FLAGS');
    const markSeen = () => {
      if (this.readOnly || msg.flags.includes('\\Seen') || !this.mailbox.messages.includes(msg)) return;
      msg.flags.push('\\Seen');
      msg.modseq = ++this.mailbox.highestModseq;
      this.server._broadcast(this.mailbox, { type: 'fetch', msg }, this);
      flagsShown = true; // RFC 3501: report the implicit \Seen change
    };
    const literal = (s) => `{${s.length}}\r\n${s}`;
    for (const it of items) {
      switch (it.name) {
        case 'UID': parts.push(`UID ${msg.uid}`); break;
        case 'FLAGS':
        case 'MODSEQ': break;
        case 'ENVELOPE': parts.push(`ENVELOPE ${mime.envelope(msg.raw, q)}`); break;
        case 'INTERNALDATE': parts.push(`INTERNALDATE "${syn.imapDate(msg.internalDate)}"`); break;
        case 'RFC822.SIZE': parts.push(`RFC822.SIZE ${msg.raw.length}`); break;
        case 'BODY': parts.push(`BODY ${mime.bodyStructure(msg.raw, false)}`); break;
        case 'BODYSTRUCTURE': parts.push(`BODYSTRUCTURE ${mime.bodyStructure(msg.raw, true)}`); break;
        case 'RFC822': markSeen(); parts.push(`RFC822 ${literal(msg.raw)}`); break;
        case 'RFC822.HEADER': parts.push(`RFC822.HEADER ${literal(mime.section(msg.raw, 'HEADER'))}`); break;
        case 'RFC822.TEXT': markSeen(); parts.push(`RFC822.TEXT ${literal(mime.section(msg.raw, 'TEXT'))}`); break;
        case 'BODY[]': {
          if (!it.peek) markSeen();
          let data = mime.section(msg.raw, it.section);
          let label = `BODY[${it.section}]`;
          if (data !== null && it.start !== null) {
            data = data.slice(it.start, it.start + it.len);
            label += `<${it.start}>`;
          }
          parts.push(`${label} ${data === null ? 'NIL' : literal(data)}`);
          break;
        }
        default: break;
      }
    }
    // FLAGS and MODSEQ are emitted last so a \Seen set by BODY[] is reflected.
    if (flagsShown) parts.push(`FLAGS (${msg.flags.join(' ')})`);
    if (items.some((it) => it.name === 'MODSEQ') || (this.condstore && flagsShown)) parts.push(`MODSEQ (${msg.modseq})`);
    return parts;
  }

  cmd_STORE(tag, args) {
    this.store(tag, args, false);
  }

  cmd_UID_STORE(tag, args) {
    this.store(tag, args, true);
  }

  store(tag, args, uidMode) {
    const setStr = this.strArg(args, 0, 'sequence set');
    let i = 1;
    let unchangedSince = null;
    if (args[i] && args[i].type === 'list') {
      const mods = args[i++].value;
      if (String(mods[0] && mods[0].value).toUpperCase() !== 'UNCHANGEDSINCE' || !mods[1] || !this.server.hasCapability('CONDSTORE')) {
        throw new ImapSyntaxError('Bad STORE modifier');
      }
      unchangedSince = Number(mods[1].value);
      this.enableCondstore();
    }
    const op = /^([+-]?)FLAGS(\.SILENT)?$/.exec(String(this.strArg(args, i, 'store item')).toUpperCase());
    if (!op) throw new ImapSyntaxError('Bad store item');
    const flagToks = args[i + 1] && args[i + 1].type === 'list' ? args[i + 1].value : args.slice(i + 1);
    const flags = normFlags(flagToks.map((t) => t.value));
    if (this.readOnly) {
      this.tagged(tag, 'NO', '[READ-ONLY] Mailbox is read-only.');
      return;
    }
    const modified = [];
    for (const [msg, seq] of this.resolveSet(setStr, uidMode)) {
      if (!this.mailbox.messages.includes(msg)) continue;
      if (unchangedSince !== null && msg.modseq > unchangedSince) {
        modified.push(uidMode ? msg.uid : seq);
        continue;
      }
      let next;
      if (op[1] === '+') next = normFlags([...msg.flags, ...flags]);
      else if (op[1] === '-') next = msg.flags.filter((f) => !flags.includes(f));
      else next = flags;
      const changed = next.length !== msg.flags.length || next.some((f) => !msg.flags.includes(f));
      if (changed) {
        msg.flags = next;
        msg.modseq = ++this.mailbox.highestModseq;
        this.server._broadcast(this.mailbox, { type: 'fetch', msg }, this);
      }
      const uidPart = uidMode ? `UID ${msg.uid} ` : '';
      if (!op[2]) {
        this.untagged(`${seq} FETCH (${uidPart}FLAGS (${msg.flags.join(' ')})${this.condstore ? ` MODSEQ (${msg.modseq})` : ''})`);
      } else if (changed && this.condstore) {
        // RFC 7162: .SILENT still reports the new MODSEQ.
        this.untagged(`${seq} FETCH (${uidPart}MODSEQ (${msg.modseq}))`);
      }
    }
    const text = modified.length ? `[MODIFIED ${modified.join(',')}] Conditional STORE failed.` : 'Store completed.';
    this.tagged(tag, 'OK', text, { noExpunge: !uidMode });
  }

  cmd_EXPUNGE(tag) {
    this.expungeCmd(tag, null);
  }

  cmd_UID_EXPUNGE(tag, args) {
    this.expungeCmd(tag, this.strArg(args, 0, 'uid set'));
  }

  expungeCmd(tag, uidSet) {
    if (this.readOnly) {
      this.tagged(tag, 'NO', '[READ-ONLY] Mailbox is read-only.');
      return;
    }
    this.flushPending(false);
    let targets = this.mailbox.messages.filter((m) => m.flags.includes('\\Deleted'));
    if (uidSet) {
      const uids = new Set(this.resolveSet(uidSet, true).map(([m]) => m.uid));
      targets = targets.filter((m) => uids.has(m.uid));
    }
    for (const msg of targets) {
      this.server._removeMessage(this.mailbox, msg, this);
      this.apply({ type: 'expunge', msg });
    }
    this.tagged(tag, 'OK', 'Expunge completed.');
  }

  cmd_SEARCH(tag, args) {
    this.search(tag, args, false);
  }

  cmd_UID_SEARCH(tag, args) {
    this.search(tag, args, true);
  }

  search(tag, args, uidMode) {
    // RFC 4731: RETURN (...) asks for an ESEARCH answer; ALL (or nothing) is the set.
    let esearch = false;
    if (args[0] && args[0].type === 'atom' && args[0].value.toUpperCase() === 'RETURN' && this.server.hasCapability('ESEARCH')) {
      const opts = args[1] && args[1].type === 'list' ? args[1].value.map((t) => String(t.value).toUpperCase()) : null;
      if (!opts || opts.some((o) => o !== 'ALL')) throw new ImapSyntaxError('Unsupported RETURN options');
      esearch = true;
      args = args.slice(2);
    }
    if (args[0] && args[0].type === 'atom' && args[0].value.toUpperCase() === 'CHARSET') {
      const cs = String(args[1] && args[1].value).toUpperCase();
      if (cs !== 'UTF-8' && cs !== 'US-ASCII') {
        this.tagged(tag, 'NO', '[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset');
        return;
      }
      args = args.slice(2);
    }
    const { hits, usedModseq } = runSearch(this, args);
    if (usedModseq) this.enableCondstore();
    const nums = hits.map(([m, seq]) => (uidMode ? m.uid : seq));
    if (esearch) {
      const set = compactSet([...nums].sort((a, b) => a - b));
      this.untagged(`ESEARCH (TAG "${tag}")${uidMode ? ' UID' : ''}${set ? ` ALL ${set}` : ''}`);
      this.tagged(tag, 'OK', 'Search completed.', { noExpunge: !uidMode });
      return;
    }
    const modseq = usedModseq && hits.length ? ` (MODSEQ ${Math.max(...hits.map(([m]) => m.modseq))})` : '';
    this.untagged(`SEARCH${nums.length ? ` ${nums.join(' ')}` : ''}${modseq}`);
    this.tagged(tag, 'OK', 'Search completed.', { noExpunge: !uidMode });
  }
}

Object.assign(Session.prototype, copyCommands, folderCommands);

module.exports = { Session, normFlags };
