'use strict';
// Scriptable in-process IMAP4rev1 server: the project's engine tests, the
// demo, and users' own tests (exported as `imap-push/testing`).
// Deterministic by design: no timers except the ones tests ask for
// (delay/stall/waitFor), and every fault is explicit.
const net = require('net');
const tls = require('tls');
const { EventEmitter } = require('events');
const { Session, normFlags } = require('./mock-imap-session');
const mime = require('./mime');
const { normalizeMockOptions } = require('./mock-options');
const { faultMethods } = require('./mock-imap-faults');

const DEFAULT_CAPS = ['IMAP4rev1', 'IDLE', 'CONDSTORE', 'UIDPLUS', 'MOVE', 'ESEARCH', 'QUOTA', 'ENABLE', 'LITERAL+', 'SASL-IR',
  'AUTH=PLAIN', 'AUTH=XOAUTH2', 'AUTH=OAUTHBEARER'];
const DEFAULT_UIDVALIDITY = 1700000000;

class MockImapServer extends EventEmitter {
  constructor(opts = {}) {
    super();
    this.opts = normalizeMockOptions(opts);
    this.users = { ...(opts.users || { user: 'pass' }) };
    this.tokens = { ...(opts.tokens || {}) };
    this._caps = [...(opts.capabilities || DEFAULT_CAPS)];
    if (this.opts.starttls && !this._caps.includes('STARTTLS')) this._caps.push('STARTTLS');
    this.rejectGreeting = opts.rejectGreeting || null;
    this.commandLog = [];
    this.errors = []; // internal mock bugs; tests may assert this stays empty
    this.loginAttempts = 0;
    this.acceptedConnections = 0;
    this._mailboxes = new Map();
    this.subscriptions = new Set(); // LSUB; createMailbox subscribes
    this.quotaLimits = null; // setQuota({ STORAGE: KiB, MESSAGE: n }): the QUOTA answer's limits
    this._sessions = new Set();
    this._sockets = new Set();
    this._waiters = new Set();
    this._connSeq = 0;
    this._delayMs = 0;
    this._stalled = false;
    this._failNext = 0;
    this._authFail = false;
    this._server = null;
    this.createMailbox('INBOX', { uidValidity: opts.uidValidity });
  }

  // ---- lifecycle ----------------------------------------------------------

  _tlsMaterial() {
    if (!this.opts.cert || !this.opts.key) {
      const { makeCerts } = require('./certs');
      const c = makeCerts();
      this.opts.cert = c.cert;
      this.opts.key = c.key;
    }
    return { cert: this.opts.cert, key: this.opts.key };
  }

  get caPem() {
    return this._tlsMaterial().cert;
  }

  _secureContext() {
    if (!this._ctx) this._ctx = tls.createSecureContext(this._tlsMaterial());
    return this._ctx;
  }

  listen() {
    if (this._server) return Promise.resolve(this.port);
    const implicit = this.opts.tls === 'implicit';
    const srv = implicit ? tls.createServer(this._tlsMaterial()) : net.createServer();
    this._server = srv;
    srv.on('connection', (raw) => this._onRawConnection(raw));
    if (implicit) {
      srv.on('secureConnection', (sock) => {
        if (!sock.destroyed) this._startSession(sock, true);
      });
      srv.on('tlsClientError', () => { /* failed handshakes are the client's problem */ });
    }
    srv.on('error', (e) => this.emit('serverError', e));
    return new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(this.opts.port, this.opts.host, () => {
        srv.removeListener('error', reject);
        this.port = srv.address().port;
        resolve(this.port);
      });
    });
  }

  _onRawConnection(raw) {
    this.acceptedConnections++;
    this._sockets.add(raw);
    raw.on('close', () => this._sockets.delete(raw));
    raw.on('error', () => {});
    if (this._failNext > 0) {
      this._failNext--;
      raw.destroy();
      return;
    }
    if (this.opts.tls !== 'implicit') this._startSession(raw, false);
  }

  _startSession(socket, isTls) {
    const s = new Session(this, socket, isTls);
    this._sessions.add(s);
    this.emit('connection', s.id);
    if (this.rejectGreeting || this._tooMany || this._sessions.size > this.opts.maxConnections) {
      const text = this.rejectGreeting ? 'Mock server unavailable' : 'Too many connections';
      s.write(`* BYE ${text}\r\n`, () => s.end());
      s.ending = true;
      return;
    }
    s.write(`* OK [CAPABILITY ${this._capString(s)}] ${this.opts.greeting}\r\n`);
  }

  _sessionClosed(s) {
    this._sessions.delete(s);
    this.emit('disconnect', s.id);
  }

  async close() {
    clearTimeout(this._stallTimer);
    for (const w of this._waiters) w.reject(new Error('MockImapServer closed'));
    this._waiters.clear();
    for (const s of this._sessions) {
      s.destroy();
      s.onClose(); // don't wait for socket events: connections must read 0 after close()
    }
    for (const raw of this._sockets) raw.destroy();
    const srv = this._server;
    if (!srv || !srv.listening) return;
    await new Promise((resolve) => srv.close(() => resolve()));
  }

  get connections() {
    return this._sessions.size;
  }

  // Snapshot of open sessions, for assertions like "client is idling".
  clients() {
    return [...this._sessions].map((s) => ({
      id: s.id,
      state: s.state,
      user: s.user,
      tls: s.tls,
      mailbox: s.mailbox ? s.mailbox.name : null,
      idling: !!s.idleTag,
      enabled: [...s.enabled],
    }));
  }

  // ---- capabilities -------------------------------------------------------

  hasCapability(name) {
    const n = String(name).toUpperCase();
    return this._caps.some((c) => c.toUpperCase() === n);
  }

  setCapability(name, enabled) {
    const n = String(name).toUpperCase();
    this._caps = this._caps.filter((c) => c.toUpperCase() !== n);
    if (enabled) this._caps.push(n === 'IMAP4REV1' ? 'IMAP4rev1' : n);
  }

  _capString(s) {
    let caps = this._caps.filter((c) => c !== 'STARTTLS');
    if (s.state === 'notauth') {
      if (this.hasCapability('STARTTLS') && !s.tls) caps.push('STARTTLS');
      if (this.opts.loginDisabledWithoutTls && !s.tls) caps.push('LOGINDISABLED');
    } else {
      caps = caps.filter((c) => !c.startsWith('AUTH=') && c !== 'SASL-IR');
    }
    return caps.join(' ');
  }

  // ---- mailboxes ----------------------------------------------------------

  _key(name) {
    return String(name).toUpperCase() === 'INBOX' ? 'INBOX' : String(name);
  }

  mailbox(name = 'INBOX') {
    return this._mailboxes.get(this._key(name)) || null;
  }

  mailboxNames() {
    return [...this._mailboxes.keys()];
  }

  createMailbox(name, { uidValidity } = {}) {
    const key = this._key(name);
    if (!this._mailboxes.has(key)) {
      this._mailboxes.set(key, {
        name: key,
        uidValidity: uidValidity || DEFAULT_UIDVALIDITY,
        uidNext: 1,
        highestModseq: 1,
        messages: [],
        expunged: [], // [{ uid, modseq }] for QRESYNC / VANISHED (EARLIER)
      });
      this.subscriptions.add(key);
    }
    return this._mailboxes.get(key);
  }

  /** Removes a mailbox (not INBOX); false when there is none. Its sessions lose their selection. */
  deleteMailbox(name) {
    const key = this._key(name);
    const mb = this._mailboxes.get(key);
    if (!mb || key === 'INBOX') return false;
    this._mailboxes.delete(key);
    this.subscriptions.delete(key);
    for (const s of this._sessions) if (s.mailbox === mb) s.deselect();
    return true;
  }

  /** RENAME: the mailbox keeps its messages and UIDVALIDITY under the new name (children follow). */
  renameMailbox(from, to) {
    const src = this._key(from);
    for (const key of [...this._mailboxes.keys()]) {
      if (key !== src && !key.startsWith(`${src}/`)) continue;
      const mb = this._mailboxes.get(key);
      const moved = `${this._key(to)}${key.slice(src.length)}`;
      this._mailboxes.delete(key);
      mb.name = moved;
      this._mailboxes.set(moved, mb);
      if (this.subscriptions.delete(key)) this.subscriptions.add(moved);
    }
  }

  /** The limits GETQUOTAROOT reports (RFC 9208 resource -> limit; STORAGE in KiB), or null for none. */
  setQuota(limits) {
    this.quotaLimits = limits ? { ...limits } : null;
  }

  /** What QUOTA counts: KiB of every message (STORAGE) and their number (MESSAGE). */
  quotaUsage() {
    let bytes = 0;
    let count = 0;
    for (const mb of this._mailboxes.values()) {
      for (const m of mb.messages) {
        bytes += Buffer.byteLength(m.raw, 'latin1');
        count++;
      }
    }
    return { STORAGE: Math.ceil(bytes / 1024), MESSAGE: count };
  }

  _mustMailbox(name) {
    const mb = this.mailbox(name);
    if (!mb) throw new Error(`MockImapServer: no mailbox ${name}`);
    return mb;
  }

  // A new UIDVALIDITY means old UIDs are meaningless: renumber from 1 and
  // (like a real server losing its index) kick clients that had it selected.
  setUidValidity(folder, uidValidity, { renumber = true, disconnect = true } = {}) {
    const mb = this._mustMailbox(folder);
    mb.uidValidity = uidValidity;
    if (renumber) {
      mb.messages.forEach((m, i) => { m.uid = i + 1; });
      mb.uidNext = mb.messages.length + 1;
      mb.expunged = [];
    }
    if (disconnect) {
      for (const s of this._sessions) {
        if (s.mailbox === mb) {
          s.write('* BYE [UNAVAILABLE] Mailbox UIDVALIDITY changed\r\n', () => s.end());
          s.ending = true;
        }
      }
    }
  }

  appendMessage(folder = 'INBOX', msgOpts = {}) {
    if (typeof folder === 'object' && folder !== null) {
      msgOpts = folder;
      folder = 'INBOX';
    }
    const mb = this._mustMailbox(folder);
    const raw = msgOpts.raw !== undefined ? mime.toCrlf(msgOpts.raw) : mime.buildMessage(msgOpts);
    const date = msgOpts.internalDate || msgOpts.date;
    const msg = {
      uid: mb.uidNext++,
      flags: normFlags(msgOpts.flags),
      internalDate: date && !Number.isNaN(new Date(date).getTime()) ? new Date(date) : new Date(),
      raw,
      modseq: ++mb.highestModseq,
    };
    mb.messages.push(msg);
    this._broadcast(mb, { type: 'exists', msg });
    return msg.uid;
  }

  // A copy of `msg` at the end of `mb` (COPY, MOVE): a new UID, the same
  // content, flags and internal date.
  _insertCopy(mb, msg) {
    const copy = { uid: mb.uidNext++, flags: [...msg.flags], internalDate: msg.internalDate, raw: msg.raw, modseq: ++mb.highestModseq };
    mb.messages.push(copy);
    this._broadcast(mb, { type: 'exists', msg: copy });
    return copy.uid;
  }

  _find(mb, uid) {
    return mb.messages.find((m) => m.uid === uid) || null;
  }

  _removeMessage(mb, msg, exclude) {
    const i = mb.messages.indexOf(msg);
    if (i < 0) return;
    mb.messages.splice(i, 1);
    mb.expunged.push({ uid: msg.uid, modseq: ++mb.highestModseq });
    this._broadcast(mb, { type: 'expunge', msg }, exclude);
  }

  expunge(folder, uid) {
    const mb = this._mustMailbox(folder);
    const msg = this._find(mb, uid);
    if (!msg) return false;
    this._removeMessage(mb, msg, null);
    return true;
  }

  setFlags(folder, uid, flags) {
    const mb = this._mustMailbox(folder);
    const msg = this._find(mb, uid);
    if (!msg) return false;
    msg.flags = normFlags(flags);
    msg.modseq = ++mb.highestModseq;
    this._broadcast(mb, { type: 'fetch', msg });
    return true;
  }

  _broadcast(mb, event, exclude) {
    for (const s of this._sessions) {
      if (s !== exclude && s.mailbox === mb && s.state === 'selected') s.notify(event);
    }
  }

  // ---- observation --------------------------------------------------------

  _log(session, tag, command, text) {
    const entry = {
      conn: session.id,
      tag,
      command,
      tls: session.tls,
      plaintext: !session.tls,
      time: Date.now(),
    };
    // Credentials never reach the log; tests check the plaintext flag instead.
    if (command === 'LOGIN') entry.args = '[redacted]';
    else if (command === 'AUTHENTICATE') entry.args = `${(text.split(' ')[2] || '').trim().toUpperCase()} [redacted]`;
    else if (command === 'DONE') entry.args = '';
    else entry.args = text.replace(/\r?\n$/, '').split(' ').slice(command.includes(' ') ? 3 : 2).join(' ');
    this.commandLog.push(entry);
    this.emit('command', entry);
    for (const w of [...this._waiters]) {
      if (w.match(entry)) w.resolve(entry);
    }
    return entry;
  }

  // Resolves with the first matching command log entry (already logged ones
  // count unless includePast is false); rejects after timeoutMs.
  waitFor(matcher, timeoutMs = 5000, { includePast = true } = {}) {
    const match = typeof matcher === 'function'
      ? matcher
      : (e) => e.command === String(matcher).toUpperCase();
    if (includePast) {
      const hit = this.commandLog.find(match);
      if (hit) return Promise.resolve(hit);
    }
    return new Promise((resolve, reject) => {
      const w = {
        match,
        resolve: (e) => { clearTimeout(w.timer); this._waiters.delete(w); resolve(e); },
        reject: (e) => { clearTimeout(w.timer); this._waiters.delete(w); reject(e); },
      };
      w.timer = setTimeout(() => {
        const seen = this.commandLog.slice(-10).map((e) => `${e.conn}:${e.command}`).join(', ');
        w.reject(new Error(`waitFor(${typeof matcher === 'function' ? 'predicate' : matcher}) timed out after ${timeoutMs} ms; last commands: ${seen}`));
      }, timeoutMs);
      this._waiters.add(w);
    });
  }

  waitForNext(matcher, timeoutMs = 5000) {
    return this.waitFor(matcher, timeoutMs, { includePast: false });
  }
}

// Faults (drop, stall, BYE, malformed lines, refusals): lib/testing/mock-imap-faults.js.
Object.assign(MockImapServer.prototype, faultMethods);

module.exports = { MockImapServer, DEFAULT_CAPS, DEFAULT_UIDVALIDITY };
