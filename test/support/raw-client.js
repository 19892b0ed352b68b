'use strict';
// Minimal line-level IMAP client for poking servers in tests. Responses are
// "logical lines": a line ending in {n} is joined with its literal and the
// rest of the line, so one FETCH response is one string (latin1).
const net = require('net');
const tls = require('tls');

const DEFAULT_TIMEOUT = 5000;

class RawClient {
  static connect({ port, host = '127.0.0.1', tls: useTls = false, ca, servername = 'localhost', timeout = DEFAULT_TIMEOUT } = {}) {
    const c = new RawClient(timeout);
    return new Promise((resolve, reject) => {
      const sock = useTls
        ? tls.connect({ port, host, ca, servername })
        : net.connect(port, host);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeout);
      sock.once(useTls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve(c);
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      c._attach(sock);
    });
  }

  constructor(timeout) {
    this.timeout = timeout;
    this.lines = []; // unread logical lines
    this.transcript = []; // everything received, for error messages
    this.buf = Buffer.alloc(0);
    this.tagSeq = 0;
    this.closed = false;
    this.waiters = [];
    this.closedPromise = new Promise((r) => { this._resolveClosed = r; });
  }

  _attach(sock) {
    this.socket = sock;
    if (sock.setNoDelay) sock.setNoDelay(true);
    sock.on('data', (d) => this._onData(d));
    sock.on('error', (e) => { this.error = e; });
    sock.on('close', () => {
      if (this.socket !== sock) return;
      this.closed = true;
      this._resolveClosed();
      this._wake();
    });
  }

  _onData(d) {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      const line = this._takeLogicalLine();
      if (line === null) break;
      this.lines.push(line);
      this.transcript.push(line);
    }
    this._wake();
  }

  _takeLogicalLine() {
    let pos = 0;
    for (;;) {
      const nl = this.buf.indexOf('\r\n', pos);
      if (nl < 0) return null;
      const m = /\{(\d+)\+?\}$/.exec(this.buf.subarray(pos, nl).toString('latin1'));
      if (!m) {
        const line = this.buf.subarray(0, nl).toString('latin1');
        this.buf = this.buf.subarray(nl + 2);
        return line;
      }
      const end = nl + 2 + Number(m[1]);
      if (this.buf.length < end) return null;
      pos = end;
    }
  }

  _wake() {
    const ws = this.waiters;
    this.waiters = [];
    ws.forEach((w) => w());
  }

  _context() {
    return this.transcript.slice(-15).map((l) => `  < ${l.length > 200 ? `${l.slice(0, 200)}...` : l}`).join('\n');
  }

  // Resolves with the first unread line satisfying pred; earlier unread lines
  // are consumed (see .transcript); rejects on timeout or close.
  async waitForLine(pred = () => true, timeout = this.timeout) {
    const test = pred instanceof RegExp ? (l) => pred.test(l) : pred;
    const deadline = Date.now() + timeout;
    for (;;) {
      while (this.lines.length) {
        const l = this.lines.shift();
        if (test(l)) return l;
      }
      if (this.closed) throw new Error(`connection closed while waiting for ${pred}\n${this._context()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeout} ms waiting for ${pred}\n${this._context()}`);
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  readLine(timeout) {
    return this.waitForLine(() => true, timeout);
  }

  // Greeting: skips transient "* OK Waiting for..." lines Dovecot sends on startup.
  async greeting(timeout) {
    return this.waitForLine(/^\* (OK \[CAPABILITY|PREAUTH|BYE|OK (?!Waiting))/, timeout);
  }

  send(text) {
    this.socket.write(Buffer.isBuffer(text) ? text : Buffer.from(`${text}\r\n`, 'latin1'));
  }

  nextTag() {
    this.tagSeq += 1;
    return `T${this.tagSeq}`;
  }

  // Sends "<tag> <cmd>" and collects untagged lines until the tagged reply.
  // `cmd` may be an array of strings and { literal: string, sync?: bool }:
  // synchronizing literals wait for the server's "+" before sending data.
  // onContinue(line) is called for other "+" lines and may return text to send.
  async command(cmd, { timeout = this.timeout, onContinue } = {}) {
    const tag = this.nextTag();
    const deadline = Date.now() + timeout;
    const parts = Array.isArray(cmd) ? cmd : [cmd];
    let pending = `${tag} `;
    for (const p of parts) {
      if (typeof p === 'string') {
        pending += p;
        continue;
      }
      const data = Buffer.from(p.literal, 'utf8');
      const sync = p.sync !== false;
      this.socket.write(Buffer.from(`${pending}{${data.length}${sync ? '' : '+'}}\r\n`, 'latin1'));
      if (sync) await this.waitForLine(/^\+/, Math.max(1, deadline - Date.now()));
      this.socket.write(data);
      pending = '';
    }
    this.socket.write(Buffer.from(`${pending}\r\n`, 'latin1'));
    const untagged = [];
    for (;;) {
      const line = await this.waitForLine(() => true, Math.max(1, deadline - Date.now()));
      if (line.startsWith(`${tag} `)) {
        const m = /^\S+ (OK|NO|BAD) ?(.*)$/.exec(line);
        return { tag, status: m ? m[1] : '?', text: m ? m[2] : line, line, untagged };
      }
      if (line.startsWith('+') && onContinue) {
        const reply = await onContinue(line);
        if (reply !== undefined && reply !== null) this.send(reply);
        continue;
      }
      untagged.push(line);
    }
  }

  // Like command() but throws unless the tagged status is OK.
  async ok(cmd, opts) {
    const r = await this.command(cmd, opts);
    if (r.status !== 'OK') throw new Error(`expected OK for ${JSON.stringify(cmd)}, got: ${r.line}\n${this._context()}`);
    return r;
  }

  async startTls({ ca, servername = 'localhost', timeout = this.timeout } = {}) {
    const r = await this.command('STARTTLS', { timeout });
    if (r.status !== 'OK') throw new Error(`STARTTLS refused: ${r.line}`);
    const plain = this.socket;
    plain.removeAllListeners('data');
    this.buf = Buffer.alloc(0);
    this.lines = [];
    return new Promise((resolve, reject) => {
      const secure = tls.connect({ socket: plain, ca, servername });
      const timer = setTimeout(() => {
        secure.destroy();
        reject(new Error('TLS handshake timed out'));
      }, timeout);
      secure.once('secureConnect', () => {
        clearTimeout(timer);
        resolve(this);
      });
      secure.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      this._attach(secure);
    });
  }

  get encrypted() {
    return !!this.socket.encrypted;
  }

  // Resolves true once the server closes the connection (false on timeout).
  waitClosed(timeout = this.timeout) {
    return Promise.race([
      this.closedPromise.then(() => true),
      new Promise((r) => { const t = setTimeout(() => r(false), timeout); t.unref(); }),
    ]);
  }

  close() {
    this.socket.destroy();
    return this.waitClosed(1000);
  }
}

module.exports = { RawClient };
