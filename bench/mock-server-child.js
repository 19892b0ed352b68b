'use strict';
// The mock IMAP server in its own process, driven over IPC by the latency
// benchmark. In the client's process its JS would share one event loop with
// the client under test and add its own queueing to every measurement.
//
// Requests: { id, cmd, ...args } -> replies { id, result } or { id, error }.
//   listen { opts, folders }   -> port
//   append { folder, msg }     -> { t0 } (process.hrtime.bigint() just before
//                                 appendMessage, as a string; CLOCK_MONOTONIC
//                                 is shared by every process on the machine)
//   count                      -> { connections, idling }
//   stats                      -> { rss, cpuUserUs, cpuSystemUs }
//   close                      -> null, then the process exits
const { MockImapServer } = require('imap-push/testing');
const { serveIpc } = require('./child-ipc');

let server = null;

// Appends are timed from an idle client: a message that lands while the
// client is still between FETCH and IDLE would wait in the mock's queue and
// measure the client's re-IDLE, not push. Waiting happens before t0, and is
// driven by the server's command log rather than a polling loop, so the
// server is quiet when the clock starts. "Some session on the folder is in
// IDLE" is the test, because a client may keep other connections selected on
// the same folder (imap-push opens one to resync) that never IDLE.
function watchersIdle(folder) {
  return server.clients().some((c) => c.mailbox === folder && c.idling);
}

function waitIdle(folder, timeoutMs) {
  if (watchersIdle(folder)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok) => {
      clearTimeout(timer);
      server.removeListener('command', onCommand);
      resolve(ok);
    };
    // The IDLE command is logged just before the session handles it.
    const onCommand = (e) => {
      if (e.command === 'IDLE') setImmediate(() => watchersIdle(folder) && done(true));
    };
    const timer = setTimeout(() => done(watchersIdle(folder)), timeoutMs);
    server.on('command', onCommand);
  });
}

const handlers = {
  async listen({ opts, folders = [] }) {
    server = new MockImapServer(opts);
    for (const f of folders) server.createMailbox(f);
    return server.listen();
  },
  async append({ folder = 'INBOX', msg }) {
    const idle = await waitIdle(folder, 2000);
    const t0 = process.hrtime.bigint();
    server.appendMessage(folder, msg);
    return { t0: t0.toString(), idle };
  },
  count() {
    const clients = server.clients();
    return { connections: clients.length, idling: clients.filter((c) => c.idling).length };
  },
  stats() {
    const cpu = process.cpuUsage();
    return { rss: process.memoryUsage().rss, cpuUserUs: cpu.user, cpuSystemUs: cpu.system };
  },
  async close() {
    if (server) await server.close();
    return null;
  },
};

serveIpc(handlers);
