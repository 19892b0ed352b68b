'use strict';
// The mock IMAP server in its own process for bench/sync.js (like
// bench/mock-server-child.js, which serves the latency benchmark), with the
// counters the sync benchmark checks: logins, accepted connections and the
// commands the server saw since the last `mark`.
//
// Requests: { id, cmd, ...args } -> replies { id, result } or { id, error }.
//   listen { opts, messages }  -> port (opts.users: every account's login;
//                                 `messages` are appended to INBOX first, which
//                                 every user of the mock shares)
//   mark                       -> null; starts a new command count
//   stats                      -> { loginAttempts, acceptedConnections, connections,
//                                   idling, commands: { NAME: count since mark } }
//   close                      -> null, then the process exits
const { MockImapServer } = require('imap-push/testing');
const { serveIpc } = require('./child-ipc');

let server = null;
let commands = {};

const handlers = {
  async listen({ opts, messages = 0 }) {
    server = new MockImapServer(opts);
    for (let i = 1; i <= messages; i++) {
      server.appendMessage('INBOX', {
        subject: `Sync bench message ${i}`, from: 'Bench Sender <sender@example.com>', to: 'bench@example.com',
        messageId: `<sync-bench-${i}@imap-push.bench>`,
      });
    }
    server.on('command', (e) => {
      commands[e.command] = (commands[e.command] || 0) + 1;
      // The mock keeps every command for its tests' waitFor(); nothing here
      // waits, and 1,000 accounts × many cycles would only grow it.
      server.commandLog.length = 0;
    });
    return server.listen();
  },
  mark() {
    commands = {};
    return null;
  },
  stats() {
    const clients = server.clients();
    return {
      loginAttempts: server.loginAttempts,
      acceptedConnections: server.acceptedConnections,
      connections: clients.length,
      idling: clients.filter((c) => c.idling).length,
      commands: { ...commands },
    };
  },
  async close() {
    if (server) await server.close();
    return null;
  },
};

serveIpc(handlers);
