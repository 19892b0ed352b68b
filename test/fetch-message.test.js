'use strict';

// Messages through the engine: fetchMessage, previews and fetchBodies on
// newMessage, against the mock server.

const { MailEngine } = require('..');
const { MockImapServer } = require('imap-push/testing');
const { waitForEvent, recordEvents, waitUntil } = require('./support/wait');

const ALTERNATIVE = [
  'From: "Booking Desk" <desk@example.com>',
  'To: ops@example.com',
  'Subject: =?UTF-8?Q?Reservierung_best=C3=A4tigt?=',
  'Message-ID: <r1@example.com>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="outer"',
  '',
  '--outer',
  'Content-Type: multipart/alternative; boundary="alt"',
  '',
  '--alt',
  'Content-Type: text/plain; charset=iso-8859-1',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Ihre Reservierung f=FCr Zimmer 12   ist best=E4tigt.',
  'Ankunft: Montag.',
  '--alt',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<p>Ihre Reservierung f&uuml;r Zimmer 12</p>',
  '--alt--',
  '--outer',
  'Content-Type: application/pdf; name="invoice.pdf"',
  'Content-Disposition: attachment; filename="invoice.pdf"',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('%PDF-1.4 fake invoice').toString('base64'),
  '--outer--',
  '',
].join('\r\n');

const HTML_ONLY = [
  'From: news@example.com',
  'Subject: html only',
  'Content-Type: text/html; charset=utf-8',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('<html><style>p{color:red}</style><body><p>Hello&nbsp;<b>world</b> &amp; friends</p></body></html>').toString('base64'),
  '',
].join('\r\n');

describe('messages', () => {
  let server;
  let engine;
  afterEach(async () => {
    if (engine) await engine.close();
    if (server) await server.close();
    engine = server = null;
  });

  async function start(engineOptions = {}, accountExtra = {}) {
    server = new MockImapServer({ users: { u: 'p' } });
    await server.listen();
    engine = new MailEngine({ reconnect: { initialDelayMs: 50 }, ...engineOptions });
    await engine.addAccount({ id: 'a', host: '127.0.0.1', port: server.port, tls: 'none', allowInsecureAuth: true, user: 'u', pass: 'p', ...accountExtra });
  }

  test('fetchMessage returns the parsed message without marking it seen', async () => {
    await start();
    const uid = server.appendMessage('INBOX', { raw: ALTERNATIVE });
    const m = await engine.fetchMessage('a', 'INBOX', uid);
    expect(m).toMatchObject({
      subject: 'Reservierung bestätigt',
      from: [{ name: 'Booking Desk', address: 'desk@example.com' }],
      messageId: '<r1@example.com>',
    });
    expect(m.text).toContain('Ihre Reservierung für Zimmer 12   ist bestätigt.');
    expect(m.html).toContain('<p>Ihre Reservierung');
    expect(m.attachments).toHaveLength(1);
    expect(m.attachments[0]).toMatchObject({ filename: 'invoice.pdf', contentType: 'application/pdf', disposition: 'attachment' });
    expect(m.attachments[0].content.toString()).toBe('%PDF-1.4 fake invoice');
    expect(server.mailbox('INBOX').messages[0].flags).not.toContain('\\Seen');
  });

  test('fetchMessage with maxBytes returns a truncated best effort', async () => {
    await start();
    const uid = server.appendMessage('INBOX', { raw: ALTERNATIVE });
    const m = await engine.fetchMessage('a', 'INBOX', uid, { maxBytes: 200 });
    expect(m.truncated).toBe(true);
    expect(m.subject).toBe('Reservierung bestätigt');
  });

  test('fetchMessage errors carry codes', async () => {
    await start();
    await expect(engine.fetchMessage('a', 'INBOX', 999)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(engine.fetchMessage('a', 'Nope', 1)).rejects.toMatchObject({ code: 'SELECT_FAILED' });
    await expect(engine.fetchMessage('zzz', 'INBOX', 1)).rejects.toMatchObject({ code: 'UNKNOWN_ACCOUNT' });
    expect(() => engine.fetchMessage('a', 'INBOX', 0)).rejects.toMatchObject({ option: 'uid' });
  });

  test('notifications.preview adds a preview from a partial fetch of the text part', async () => {
    await start({ notifications: { preview: 40, healthIntervalMs: 0 } });
    const got = waitForEvent(engine, 'newMessage');
    server.appendMessage('INBOX', { raw: ALTERNATIVE });
    const msg = await got;
    expect(msg.preview).toBe('Ihre Reservierung für Zimmer 12 ist best');
    expect(msg.message).toBeUndefined();
    const fetches = server.commandLog.filter((c) => c.command === 'UID FETCH').map((c) => c.args);
    expect(fetches.some((a) => /BODYSTRUCTURE/.test(a))).toBe(true);
    // Only the text part, and only its beginning: never BODY[] whole.
    expect(fetches.some((a) => /BODY\.PEEK\[1\.1\]<0\.\d+>/.test(a))).toBe(true);
    expect(fetches.some((a) => /BODY(\.PEEK)?\[\]/.test(a))).toBe(false);
  });

  test('a preview falls back to the HTML part as text', async () => {
    await start({ notifications: { preview: 100, healthIntervalMs: 0 } });
    const got = waitForEvent(engine, 'newMessage');
    server.appendMessage('INBOX', { raw: HTML_ONLY });
    expect((await got).preview).toBe('Hello world & friends');
  });

  test('fetchBodies: a new message is fetched whole on a pooled connection that already has the folder selected', async () => {
    await start({}, { fetchBodies: true });
    await engine.sync('a'); // leaves a pooled connection with INBOX selected
    const got = waitForEvent(engine, 'newMessage');
    server.appendMessage('INBOX', { subject: 'after a sync', body: 'the body' });
    const msg = await got;
    expect(msg.message && msg.message.text).toContain('the body');
  });

  test('fetchBodies: true puts the parsed message on newMessage, in arrival order', async () => {
    await start({}, { fetchBodies: true });
    const events = recordEvents(engine);
    const uids = [];
    for (let i = 0; i < 5; i++) uids.push(server.appendMessage('INBOX', { subject: `body ${i}`, body: `text number ${i}` }));
    await waitUntil(() => events.of('newMessage').length === 5, 10000, 'five messages');
    const got = events.of('newMessage');
    expect(got.map((m) => m.uid)).toEqual(uids);
    got.forEach((m, i) => {
      expect(m.message.subject).toBe(`body ${i}`);
      expect(m.message.text).toContain(`text number ${i}`);
    });
  });
});
