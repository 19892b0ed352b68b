'use strict';

// Who watches which user on a MockImapServer, from its events rather than by
// sampling, so no overlap is too short to see: a session watches from its
// first IDLE until it sends LOGOUT or its connection closes (between two
// IDLEs, while it fetches, it still watches). Every change is kept with its
// time, and the highest number of watchers each user ever had.
//
// exempt(conns) sets sessions aside (a SIGSTOPped process's, still open on
// the server while the process cannot run): they are not counted, and
// stillOpen() says which of them have not closed yet.

class IdleWatch {
  constructor(server) {
    this.server = server;
    this.watchers = new Map(); // conn -> user
    this.exempted = new Set();
    this.max = new Map(); // user -> highest count of watchers that are not exempt
    this.history = []; // { at, user, conn, change: 'idle' | 'gone', count }
    this._onCommand = (e) => {
      if (e.command === 'IDLE' && !this.watchers.has(e.conn)) {
        const c = server.clients().find((x) => x.id === e.conn);
        if (c && c.user) this._change(e.conn, c.user, 'idle');
      } else if (e.command === 'LOGOUT') {
        this._gone(e.conn);
      }
    };
    this._onDisconnect = (conn) => this._gone(conn);
    server.on('command', this._onCommand);
    server.on('disconnect', this._onDisconnect);
    for (const c of server.clients()) if (c.idling && c.user) this._change(c.id, c.user, 'idle');
  }

  _gone(conn) {
    const user = this.watchers.get(conn);
    if (user !== undefined) this._change(conn, user, 'gone');
  }

  _change(conn, user, change) {
    if (change === 'idle') this.watchers.set(conn, user);
    else this.watchers.delete(conn);
    const count = this.count(user);
    this.history.push({ at: Date.now(), user, conn, change, count });
    if (count > (this.max.get(user) || 0)) this.max.set(user, count);
  }

  /** Watchers of user, not counting exempt sessions. */
  count(user) {
    let n = 0;
    for (const [conn, u] of this.watchers) if (u === user && !this.exempted.has(conn)) n++;
    return n;
  }

  conns(user) {
    return [...this.watchers].filter(([, u]) => u === user).map(([conn]) => conn);
  }

  /** The users watched right now (exempt sessions left out), one entry per watcher, sorted. */
  watched() {
    return [...this.watchers].filter(([conn]) => !this.exempted.has(conn)).map(([, u]) => u).sort();
  }

  exempt(conns) {
    for (const c of conns) this.exempted.add(c);
  }

  stillOpen() {
    return [...this.exempted].filter((c) => this.watchers.has(c));
  }

  /** Highest watcher count any user reached (0 if none ever watched). */
  highest() {
    return Math.max(0, ...this.max.values());
  }

  /** The moments a user had two watchers or more, for the failure message. */
  overlaps() {
    return this.history.filter((h) => h.count > 1);
  }

  stop() {
    this.server.off('command', this._onCommand);
    this.server.off('disconnect', this._onDisconnect);
  }
}

module.exports = { IdleWatch };
