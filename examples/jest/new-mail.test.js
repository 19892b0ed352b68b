'use strict';

// What an app's own Jest test can look like: a MailEngine watching the mock
// IMAP server from imap-push/testing. No real mail server, no network beyond
// 127.0.0.1. Run inside this project by `npm test`, so it keeps working.

const { on, once } = require('events');
const { MailEngine } = require('imap-push');
const { MockImapServer } = require('imap-push/testing');

// The next event matching `predicate`, or a rejection after `ms`.
async function nextEvent(emitter, name, predicate = () => true, ms = 10000) {
  for await (const [payload] of on(emitter, name, { signal: AbortSignal.timeout(ms) })) {
    if (predicate(payload)) return payload;
  }
  throw new Error(`no ${name}`);
}

let server;
let engine;

beforeEach(async () => {
  server = new MockImapServer({ users: { alice: 'secret' } });
  await server.listen();
  // Short backoff so a reconnect happens within the test.
  engine = new MailEngine({ reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
  await engine.addAccount({
    id: 'alice',
    host: '127.0.0.1',
    port: server.port,
    tls: 'none',
    allowInsecureAuth: true, // the mock listens in plain text here; tls: 'implicit' works too
    user: 'alice',
    pass: 'secret',
  }); // resolves once INBOX is idling
});

afterEach(async () => {
  await engine.close();
  await server.close();
});

test('a message appended to INBOX arrives as a newMessage event', async () => {
  const arrived = once(engine, 'newMessage', { signal: AbortSignal.timeout(10000) });
  const uid = server.appendMessage('INBOX', {
    subject: 'Invoice 42',
    from: 'Billing <billing@example.com>',
    to: 'alice@example.com',
    body: 'Please pay by Friday.',
    flags: ['\\Flagged'],
  });
  const [message] = await arrived;
  expect(message).toMatchObject({ accountId: 'alice', folder: 'INBOX', uid, flags: ['\\Flagged'] });
  expect(message.envelope.subject).toBe('Invoice 42');
  expect(message.envelope.from).toEqual([{ name: 'Billing', address: 'billing@example.com' }]);
});

test('after a dropped connection the engine reconnects and reports the mail that came meanwhile', async () => {
  const down = nextEvent(engine, 'connectionStatus', (e) => e.state === 'disconnected');
  server.dropAll(); // the network goes away under the IDLE connection
  expect((await down).error).toMatchObject({ code: 'CONNECTION_LOST' });

  const missed = nextEvent(engine, 'newMessage');
  const uid = server.appendMessage('INBOX', { subject: 'sent while you were away' });
  const back = nextEvent(engine, 'connectionStatus', (e) => e.state === 'idle');
  await back;
  const message = await missed;
  expect(message.uid).toBe(uid);
  expect(message.envelope.subject).toBe('sent while you were away');
});
