'use strict';
// A TCP relay in front of Dovecot that can hurt each connection on demand: cut it (RST), half-close
// it (FIN towards the app while the server side stays open), stall it (stop relaying, keep both
// sockets open, as a hung middlebox would), slow it (hold every chunk back), or refuse new
// connections for a while (server unreachable), or blackhole everything (every connection, and
// every new one, stalled until heal(): a network cut that TCP rides out). The upstream port can
// change, because a restarted Dovecot listens on a fresh port.
const net = require('net');

class FaultProxy {
  constructor() {
    this.upstreamPort = null;
    this.conns = new Set();
    this.refusing = false;
    this.blackholed = false;
    this.server = net.createServer((client) => this._accept(client));
  }

  listen(host) {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, host, () => resolve(this.server.address().port));
    });
  }

  _accept(client) {
    if (this.refusing || !this.upstreamPort) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(this.upstreamPort, '127.0.0.1');
    const conn = { client, upstream, stalled: this.blackholed, delayMs: 0, held: [], halfClosed: false };
    this.conns.add(conn);
    const drop = () => {
      if (!this.conns.delete(conn)) return;
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', drop);
      s.on('close', drop);
    }
    client.on('data', (d) => this._relay(conn, upstream, d));
    upstream.on('data', (d) => {
      if (!conn.halfClosed) this._relay(conn, client, d);
    });
  }

  // Order is kept per direction: a delayed or stalled chunk queues everything after it.
  _relay(conn, to, data) {
    if (conn.stalled || conn.held.length > 0 || conn.delayMs > 0) {
      conn.held.push({ to, data, at: Date.now() + conn.delayMs });
      this._pump(conn);
      return;
    }
    to.write(data);
  }

  _pump(conn) {
    if (conn.timer || conn.stalled) return;
    const next = conn.held[0];
    if (!next) return;
    conn.timer = setTimeout(() => {
      conn.timer = null;
      while (!conn.stalled && conn.held.length > 0 && conn.held[0].at <= Date.now()) {
        const { to, data } = conn.held.shift();
        if (!to.destroyed) to.write(data);
      }
      this._pump(conn);
    }, Math.max(0, next.at - Date.now()));
  }

  pick(rand) {
    const all = [...this.conns];
    return all.length === 0 ? null : all[Math.floor(rand() * all.length)];
  }

  cut(conn) {
    this.conns.delete(conn);
    clearTimeout(conn.timer);
    conn.client.resetAndDestroy();
    conn.upstream.destroy();
  }

  // The app sees EOF; what it still writes reaches the server, what the server answers is dropped.
  halfClose(conn) {
    conn.halfClosed = true;
    conn.client.end();
  }

  stall(conn, ms) {
    conn.stalled = true;
    setTimeout(() => {
      conn.stalled = false;
      this._pump(conn);
    }, ms).unref();
  }

  slow(conn, delayMs, forMs) {
    conn.delayMs = delayMs;
    setTimeout(() => { conn.delayMs = 0; }, forMs).unref();
  }

  refuse(ms) {
    this.refusing = true;
    setTimeout(() => { this.refusing = false; }, ms).unref();
  }

  blackhole() {
    this.blackholed = true;
    for (const conn of this.conns) conn.stalled = true;
  }

  // Ends every fault in progress (the final settle phase) without cutting anyone.
  heal() {
    this.refusing = false;
    this.blackholed = false;
    for (const conn of this.conns) {
      conn.delayMs = 0;
      conn.stalled = false;
      for (const h of conn.held) h.at = 0;
      clearTimeout(conn.timer);
      conn.timer = null;
      this._pump(conn);
    }
  }

  close() {
    for (const conn of [...this.conns]) this.cut(conn);
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

module.exports = { FaultProxy };
