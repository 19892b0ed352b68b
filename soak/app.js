'use strict';
// The app under test, in a process of its own so the driver can SIGKILL it. One MailEngine with a
// stateFile watches every account. Each event is appended to a log file with a synchronous write
// inside the listener: once the listener returns the line is in the kernel, so a SIGKILL after the
// engine counts the batch as delivered cannot lose it (the IPC channel could).
//
// usage: node soak/app.js <state-file> <event-log> <engine-options-json>   (commands over IPC)
const fs = require('fs');
const { MailEngine } = require('..');
const { signJwt } = require('../test/support/dovecot');

const [stateFile, logPath, optionsJson] = process.argv.slice(2);
// The driver's HS256 key (env, not argv: argv is visible to every process on the machine).
const oauthKey = process.env.SOAK_OAUTH_KEY ? Buffer.from(process.env.SOAK_OAUTH_KEY, 'base64') : null;
// A token fault the driver switched on: until `until`, every getAccessToken call rejects, hangs past
// auth.tokenTimeoutMs, or gives a token the server turns down as expired.
let tokenFault = { mode: null, until: 0 };
function getAccessToken({ user }) {
  const mode = Date.now() < tokenFault.until ? tokenFault.mode : null;
  if (mode === 'reject') return Promise.reject(new Error('token provider unavailable (soak fault)'));
  if (mode === 'hang') return new Promise(() => {});
  const ttl = mode === 'expired' ? -600 : 3600;
  return { accessToken: signJwt(oauthKey, user, ttl), expiresAt: Date.now() + 3600e3 };
}
const fd = fs.openSync(logPath, 'a');
const log = (obj) => fs.writeSync(fd, `${JSON.stringify({ t: Date.now(), ...obj })}\n`);

process.on('unhandledRejection', (err) => {
  log({ kind: 'violation', what: 'unhandledRejection', detail: String(err && err.stack || err) });
});

const engine = new MailEngine({ ...JSON.parse(optionsJson), stateFile });
engine.on('newMessage', (m) => log({ kind: 'new', a: m.accountId, f: m.folder, v: m.uidValidity, uid: m.uid,
  mid: m.envelope.messageId, flags: m.flags }));
engine.on('flagsChanged', (m) => log({ kind: 'flags', a: m.accountId, f: m.folder, uid: m.uid, flags: m.flags }));
engine.on('messageDeleted', (m) => log({ kind: 'deleted', a: m.accountId, f: m.folder, uid: m.uid }));
engine.on('folderReset', (m) => log({ kind: 'reset', a: m.accountId, f: m.folder, v: m.uidValidity }));
let statusEvents = 0;
engine.on('connectionStatus', () => { statusEvents++; });

function usage() {
  let fds = -1;
  try {
    fds = fs.readdirSync('/proc/self/fd').length;
  } catch (_) { /* not Linux */ }
  // The engine loop's open uv handles (a test hook of the addon; -1 once closed).
  return { rss: process.memoryUsage().rss, fds, handles: engine._native._loopHandles(), statusEvents };
}

// A request is answered with { id, ok, value | error }; the driver bounds how long it waits.
const handlers = {
  // Events after this line belong to a new incarnation of the account (see soak/check.js).
  add: (account) => {
    log({ kind: 'adding', a: account.id });
    const { oauth, ...rest } = account;
    return engine.addAccount(oauth ? { ...rest, getAccessToken } : rest).then(() => null);
  },
  remove: (id) => engine.removeAccount(id).then(() => null),
  syncAll: () => engine.syncAll().then((rs) => rs.filter((r) => !r.ok).length),
  status: () => engine.status().map((a) => ({ id: a.accountId, states: a.folders.map((f) => f.state) })),
  usage: () => usage(),
  tokenFault: ({ mode, ms }) => { tokenFault = { mode, until: Date.now() + ms }; return null; },
  close: () => engine.close().then(() => null),
};

process.on('message', ({ id, op, arg }) => {
  Promise.resolve()
    .then(() => handlers[op](arg))
    .then((value) => process.send({ id, ok: true, value }),
      (err) => process.send({ id, ok: false, error: `${err.code || ''} ${err.message}` }));
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true, pid: process.pid });
