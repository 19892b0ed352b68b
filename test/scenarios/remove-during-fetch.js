'use strict';

// Issue 10, defect 1, in a process of its own (an abort must fail the test,
// not the runner): removeAccount() while the pooled connection carrying the
// newMessage body fetch hangs, then the pool's idle timeout passes, then the
// same account is added again. Prints one JSON line and exits 0 on success.

const { MailEngine } = require('../..');
const { MockImapServer } = require('imap-push/testing');
const { waitForEvent, sleep } = require('../support/wait');

async function main() {
  const mode = process.argv[2] || 'bodies';
  const server = new MockImapServer({ users: { u: 'p' } });
  await server.listen();
  const engine = new MailEngine({
    reconnect: { initialDelayMs: 20, maxDelayMs: 50 },
    pool: { idleTimeoutMs: 200, healthCheckMs: 50 },
    ...(mode === 'preview' ? { notifications: { preview: 20, healthIntervalMs: 0 } } : {}),
  });
  const account = {
    id: 'a', host: '127.0.0.1', port: server.port, tls: 'none', allowInsecureAuth: true, user: 'u', pass: 'p',
    ...(mode === 'bodies' ? { fetchBodies: true } : {}),
  };
  await engine.addAccount(account);
  server.neverAnswer((e) => e.command === 'UID FETCH' && /BODY\.PEEK\[|BODYSTRUCTURE/.test(e.args));
  const delivered = [];
  engine.on('newMessage', (m) => delivered.push(m));
  const uid = server.appendMessage('INBOX', { subject: 'held', body: 'never fetched' });
  await server.waitFor((e) => e.command === 'UID FETCH' && /BODY\.PEEK\[|BODYSTRUCTURE/.test(e.args), 5000);
  await engine.removeAccount('a');
  // The pool's idle timeout and its sweeps pass with the hung fetch's
  // connection gone; a re-acquire for the removed account would show here.
  await sleep(800);
  server.neverAnswer(null);
  await engine.addAccount(account);
  const again = waitForEvent(engine, 'newMessage', (m) => m.uid !== uid, 5000);
  server.appendMessage('INBOX', { subject: 'after re-add', body: 'fetched' });
  const second = await again;
  await engine.close();
  await server.close();
  process.stdout.write(`${JSON.stringify({
    first: delivered.filter((m) => m.uid === uid).map((m) => ({ uid: m.uid, hasMessage: !!m.message })),
    second: { subject: second.envelope.subject, hasMessage: !!second.message, preview: second.preview ?? null },
  })}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(2);
});
