'use strict';

// engine.downloadPart() (issue 16): one body part, decoded, as a Readable.
// The mock has no BINARY, so the engine decodes base64 and quoted-printable
// itself; Dovecot offers BINARY and decodes on the server.

const crypto = require('crypto');
const { dovecotAvailable } = require('./support/dovecot');
const { useEngineFixture } = require('./support/engine-fixture');
const { waitUntil } = require('./support/wait');

const ATTACHMENT = crypto.createHash('sha512').update('seed').digest(); // 64 bytes, any values
const TEXT = 'Grüße aus Köln: the booking is confirmed.';

function multipart() {
  const b64 = ATTACHMENT.toString('base64').replace(/.{1,76}/g, '$&\r\n');
  const qp = 'Gr=C3=BC=C3=9Fe aus K=C3=B6ln: the booking is =\r\nconfirmed.';
  return ['From: a@example.com', 'Subject: with attachment', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"', '', '--b1',
    'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', '', qp, '--b1',
    'Content-Type: application/octet-stream; name="ticket.bin"', 'Content-Transfer-Encoding: base64', '', b64 + '--b1--', ''].join('\r\n');
}

async function read(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

describe('downloadPart against the mock server', () => {
  const fx = useEngineFixture();
  let engine;
  let server;

  async function start() {
    let uid;
    await fx.mock({ setup: (s) => { uid = s.appendMessage('INBOX', { raw: multipart() }); } });
    ({ engine, server } = fx);
    return uid;
  }

  test('a base64 attachment and a quoted-printable text come back decoded', async () => {
    const uid = await start();
    const att = await engine.downloadPart('a', 'INBOX', uid, '2');
    expect(att).toMatchObject({ contentType: 'application/octet-stream', transferEncoding: 'base64', truncated: false, size: 64 });
    expect((await read(att)).equals(ATTACHMENT)).toBe(true);
    const text = await engine.downloadPart('a', 'INBOX', uid, '1');
    expect(text).toMatchObject({ contentType: 'text/plain', transferEncoding: 'quoted-printable', truncated: false });
    expect((await read(text)).toString('utf8')).toBe(TEXT);
    expect(server.commandLog.filter((c) => c.command === 'UID FETCH').some((c) => /BODY\.PEEK\[2\]<0\.\d+>/.test(c.args))).toBe(true);
  });

  test('maxBytes cuts and says so', async () => {
    const uid = await start();
    const cut = await engine.downloadPart('a', 'INBOX', uid, '2', { maxBytes: 10 });
    expect(cut).toMatchObject({ truncated: true, size: 10 });
    expect((await read(cut)).equals(ATTACHMENT.subarray(0, 10))).toBe(true);
  });

  test('a missing part or message is NOT_FOUND; bad arguments are TypeErrors', async () => {
    const uid = await start();
    await expect(engine.downloadPart('a', 'INBOX', uid, '3')).rejects.toMatchObject({ code: 'NOT_FOUND', what: 'part' });
    await expect(engine.downloadPart('a', 'INBOX', uid, '2.1')).rejects.toMatchObject({ code: 'NOT_FOUND', what: 'part' });
    await expect(engine.downloadPart('a', 'INBOX', 999, '1')).rejects.toMatchObject({ code: 'NOT_FOUND', what: 'message' });
    await expect(engine.downloadPart('a', 'Nowhere', uid, '1')).rejects.toMatchObject({ code: 'NOT_FOUND', what: 'folder' });
    for (const bad of ['', 'x', '0', '1.', '1..2', '12345', '1 2', 'TEXT']) {
      await expect(engine.downloadPart('a', 'INBOX', uid, bad)).rejects.toThrow(/part/);
    }
    await expect(engine.downloadPart('a', 'INBOX', uid, '1', { maxBytes: 0 })).rejects.toThrow(/maxBytes/);
    await expect(engine.downloadPart('a', 'INBOX', 0, '1')).rejects.toThrow(/uid/);
  });
});

const describeDovecot = dovecotAvailable() ? describe : describe.skip;
describeDovecot('downloadPart against Dovecot (BINARY)', () => {
  const fx = useEngineFixture();

  test('the attachment and the text, decoded by the server', async () => {
    await fx.dovecotAccount({ setup: (d) => d.deliver('alice', multipart()) });
    const { engine } = fx;
    await waitUntil(async () => (await engine.search('a', 'INBOX', {})).length === 1, 15000, 'the message');
    const [uid] = await engine.search('a', 'INBOX', {});
    const att = await engine.downloadPart('a', 'INBOX', uid, '2');
    expect(att).toMatchObject({ contentType: 'application/octet-stream', truncated: false });
    expect((await read(att)).equals(ATTACHMENT)).toBe(true);
    expect((await read(await engine.downloadPart('a', 'INBOX', uid, '1'))).toString('utf8')).toBe(TEXT);
    const cut = await engine.downloadPart('a', 'INBOX', uid, '2', { maxBytes: 10 });
    expect(cut.truncated).toBe(true);
    expect((await read(cut)).equals(ATTACHMENT.subarray(0, 10))).toBe(true);
  }, 60000);
});
