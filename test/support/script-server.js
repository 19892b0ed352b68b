'use strict';

// A tiny IMAP peer driven line by line by the test, for exact byte orderings
// the general mock cannot produce (responses before a continuation, data
// injected right after STARTTLS's OK, ...). One handler answers every line.

const net = require('net');
const tls = require('tls');

class ScriptServer {
  /**
   * @param {(line: string, conn: ScriptConnection) => void} onLine called per client line
   * @param {{ greeting?: string }} opts
   */
  constructor(onLine, { greeting = '* OK [CAPABILITY IMAP4rev1 IDLE AUTH=PLAIN SASL-IR] script ready' } = {}) {
    this.lines = [];
    this.sockets = new Set();
    this.server = net.createServer((socket) => {
      const conn = new ScriptConnection(socket, this, onLine);
      conn.send(greeting);
    });
  }

  listen() {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => {
      this.port = this.server.address().port;
      resolve(this.port);
    }));
  }

  close() {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

class ScriptConnection {
  constructor(socket, server, onLine) {
    this.server = server;
    this.onLine = onLine;
    this.buffer = '';
    this.attach(socket);
  }

  attach(socket) {
    this.socket = socket;
    this.server.sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => this.server.sockets.delete(socket));
    socket.on('data', (d) => {
      this.buffer += d.toString('latin1');
      let i;
      while ((i = this.buffer.indexOf('\r\n')) >= 0) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 2);
        this.server.lines.push({ line, secure: this.socket instanceof tls.TLSSocket });
        this.onLine(line, this);
      }
    });
  }

  send(...lines) {
    this.socket.write(lines.map((l) => `${l}\r\n`).join(''));
  }

  /** Sends raw text, then upgrades the socket to TLS (server side). */
  upgradeAfter(raw, { key, cert }) {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.write(raw, () => {
      const secure = new tls.TLSSocket(plain, { isServer: true, key, cert });
      this.buffer = '';
      this.attach(secure);
    });
  }
}

module.exports = { ScriptServer };
