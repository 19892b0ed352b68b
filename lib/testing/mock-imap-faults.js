'use strict';
// MockImapServer's fault injection, by what the faults are called elsewhere:
// drop (dropAll, dropConnection), stall (stall, stallConnection, neverAnswer,
// delay), BYE (byeAll), malformed line (injectRaw, hugeLiteral) and refusals
// (setAuthFail, setTooManyConnections, failNextConnections, refuse).
// Installed onto MockImapServer.prototype.

const faultMethods = {
  setAuthFail(on = true) {
    this._authFail = !!on;
  },

  // New connections get "* BYE Too many connections" (like a per-user limit).
  setTooManyConnections(on = true) {
    this._tooMany = !!on;
  },

  failNextConnections(n = 1) {
    this._failNext = n;
  },

  delay(ms = 0) {
    this._delayMs = Math.max(0, ms);
  },

  stall(ms = Infinity) {
    this._stalled = true;
    clearTimeout(this._stallTimer);
    for (const s of this._sessions) s.socket.pause();
    if (Number.isFinite(ms)) this._stallTimer = setTimeout(() => this.unstall(), ms);
  },

  unstall() {
    clearTimeout(this._stallTimer);
    this._stalled = false;
    for (const s of this._sessions) {
      if (s.closed) continue;
      s.socket.resume();
      s.pump();
      s.process();
    }
  },

  // Commands matching `matcher(entry)` (a command log entry) are read and
  // never answered, like a server that hangs on one request. null: off.
  neverAnswer(matcher) {
    this._unanswered = matcher || null;
  },

  // Commands matching `matcher(entry)` are answered with `answer` (the tagged
  // status and text: 'NO [LIMIT] Too many keywords', 'BAD Bad search') and
  // not run, like a server refusing one request. null: off.
  refuse(matcher, answer = 'NO Refused by the test') {
    if (!/^(NO|BAD) \S/.test(String(answer)) || /[\r\n]/.test(answer)) {
      throw new TypeError("MockImapServer.refuse: answer must be one line starting 'NO ' or 'BAD '");
    }
    this._refused = matcher ? (entry) => (matcher(entry) ? answer : null) : null;
  },

  dropAll() {
    for (const s of this._sessions) s.destroy();
  },

  _session(id) {
    const s = [...this._sessions].find((x) => x.id === id);
    if (!s) throw new Error(`MockImapServer: no connection ${id}`);
    return s;
  },

  // One connection only, e.g. a pooled one while the IDLE one stays.
  dropConnection(id) {
    this._session(id).destroy();
  },

  // Stops reading one connection: it looks alive but never answers.
  stallConnection(id) {
    this._session(id).socket.pause();
  },

  byeAll(text = 'Server shutting down') {
    for (const s of this._sessions) {
      s.write(`* BYE ${text}\r\n`, () => s.end());
      s.ending = true;
    }
  },

  _targets(all) {
    return [...this._sessions].filter((s) => all || s.state === 'selected');
  },

  injectRaw(data, { all = false } = {}) {
    for (const s of this._targets(all)) s.write(data);
  },

  hugeLiteral(size, { all = false } = {}) {
    this.injectRaw(`* 1 FETCH (BODY[] {${size}}\r\nxxxxxxxx`, { all });
  },
};

module.exports = { faultMethods };
