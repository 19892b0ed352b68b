'use strict';

// Runs inside the network namespace made by test/blackhole.test.js: a mock
// IMAP server and a MailEngine with default options, both on the
// namespace's loopback. Engine events go to the parent over IPC; the parent
// appends mail through IPC too, so delivery never needs the blocked port.

const { MailEngine } = require('../..');
const { MockImapServer } = require('imap-push/testing');

const PASSWORD = 'blackhole-secret';

async function main() {
  const server = new MockImapServer({ users: { alice: PASSWORD } });
  await server.listen();
  // Default options on purpose: the 60 s bound must hold without tuning.
  const engine = new MailEngine();
  for (const name of ['connectionStatus', 'newMessage']) {
    engine.on(name, (payload) => {
      // An Error's message is not enumerable: IPC would drop it.
      const error = payload.error && { code: payload.error.code, message: payload.error.message };
      process.send({ type: 'event', name, payload: { ...payload, ...(error && { error }) }, at: Date.now() });
    });
  }

  let closing = false;
  async function shutdown() {
    if (closing) return;
    closing = true;
    await engine.close();
    await server.close();
    if (process.connected) process.disconnect();
  }
  process.on('disconnect', () => shutdown().catch(() => process.exit(1)));
  process.on('message', (m) => {
    if (m.cmd === 'append') process.send({ type: 'appended', uid: server.appendMessage('INBOX', { subject: m.subject }) });
    else if (m.cmd === 'close') shutdown().catch(() => process.exit(1));
  });

  process.send({ type: 'ready', port: server.port });
  await engine.addAccount({
    id: 'bh', host: '127.0.0.1', port: server.port, tls: 'none', allowInsecureAuth: true, user: 'alice', pass: PASSWORD,
  });
}

main().catch((e) => {
  process.send({ type: 'fatal', message: String(e && e.stack) });
  process.exit(1);
});
