'use strict';

// Exact orderings that matter for correctness, against a line-scripted peer.

const { MailEngine } = require('..');
const { ScriptServer } = require('./support/script-server');
const { makeCerts } = require('imap-push/testing');
const { waitForEvent, recordEvents, sleep } = require('./support/wait');

const ENVELOPE = '("Tue, 1 Jul 2003 10:52:37 +0200" "early bird" (("Ann" NIL "ann" "example.com")) NIL NIL NIL NIL NIL NIL "<e@x>")';

function tagOf(line) {
  return line.split(' ')[0];
}

// Replies shared by every script: capabilities after login, LOGOUT, and OK.
function standard(line, c) {
  const tag = tagOf(line);
  if (/^\S+ CAPABILITY/i.test(line)) c.send('* CAPABILITY IMAP4rev1 IDLE', `${tag} OK`);
  else if (/^\S+ LOGOUT/i.test(line)) c.send('* BYE bye', `${tag} OK bye`);
  else c.send(`${tag} OK`);
}

describe('protocol orderings', () => {
  let server;
  let engine;
  afterEach(async () => {
    if (engine) await engine.close();
    if (server) await server.close();
    engine = server = null;
  });

  const account = (extra = {}) => ({
    id: 'edge', host: '127.0.0.1', port: server.port, tls: 'none', allowInsecureAuth: true, user: 'u', pass: 'p', ...extra,
  });

  test('EXISTS, EXPUNGE and FETCH sent before the IDLE continuation are not lost', async () => {
    let idles = 0;
    server = new ScriptServer((line, c) => {
      const tag = tagOf(line);
      if (/AUTHENTICATE/i.test(line)) c.send(`${tag} OK done`);
      else if (/^\S+ SELECT/i.test(line)) {
        c.send('* 2 EXISTS', '* OK [UIDVALIDITY 7] ok', '* OK [UIDNEXT 10] ok', `${tag} OK [READ-WRITE] selected`);
      } else if (/^\S+ IDLE/i.test(line)) {
        idles += 1;
        c.idleTag = tag;
        // Everything arrives before '+', in one write.
        if (idles === 1) c.send('* 1 EXPUNGE', '* 1 FETCH (UID 9 FLAGS (\\Seen))', '* 2 EXISTS', '+ idling');
        else c.send('+ idling');
      } else if (line === 'DONE') c.send(`${c.idleTag} OK idle done`);
      else if (/UID FETCH 10:\*/i.test(line)) {
        c.send(`* 2 FETCH (UID 10 FLAGS () ENVELOPE ${ENVELOPE} INTERNALDATE "01-Jul-2003 10:52:37 +0200" RFC822.SIZE 42)`, `${tag} OK fetched`);
      } else standard(line, c);
    });
    await server.listen();
    engine = new MailEngine();
    const events = recordEvents(engine);
    const got = waitForEvent(engine, 'newMessage', () => true, 5000);
    await engine.addAccount(account());
    const msg = await got;
    expect(msg).toMatchObject({ uid: 10, uidValidity: 7, size: 42, envelope: { subject: 'early bird', from: [{ name: 'Ann', address: 'ann@example.com' }] } });
    // The EXPUNGE counted (2 - 1 + the new one); its UID is left to a sync.
    expect(engine.status('edge').folders[0].exists).toBe(2);
    expect(events.of('flagsChanged')).toEqual([expect.objectContaining({ uid: 9, flags: ['\\Seen'] })]);
  });

  test('anything the server sends after STARTTLS OK and before the handshake is discarded', async () => {
    const { key, cert } = makeCerts();
    server = new ScriptServer((line, c) => {
      const tag = tagOf(line);
      if (/^\S+ STARTTLS/i.test(line)) {
        // A man in the middle appends a BYE to the plaintext OK: it must be
        // ignored, or the engine would drop the connection.
        c.upgradeAfter(`${tag} OK begin TLS\r\n* BYE injected\r\n`, { key, cert });
      } else if (/^\S+ CAPABILITY/i.test(line)) {
        c.send(`* CAPABILITY IMAP4rev1 IDLE ${c.socket.encrypted ? 'AUTH=PLAIN' : 'STARTTLS LOGINDISABLED'}`, `${tag} OK`);
      } else if (/AUTHENTICATE/i.test(line)) c.send(`${tag} OK done`);
      else if (/^\S+ SELECT/i.test(line)) c.send('* 0 EXISTS', '* OK [UIDVALIDITY 1] ok', '* OK [UIDNEXT 1] ok', `${tag} OK [READ-WRITE] selected`);
      else if (/^\S+ IDLE/i.test(line)) { c.idleTag = tag; c.send('+ idling'); }
      else if (line === 'DONE') c.send(`${c.idleTag} OK`);
      else c.send(`${tag} OK`);
    }, { greeting: '* OK script ready' });
    await server.listen();
    engine = new MailEngine();
    const events = recordEvents(engine);
    await engine.addAccount(account({ tls: 'starttls', tlsOptions: { ca: cert }, allowInsecureAuth: false }));
    const after = server.lines.filter((l) => l.secure).map((l) => l.line.split(' ').slice(1, 2)[0] || l.line);
    expect(after[0]).toBe('CAPABILITY');
    expect(server.lines.filter((l) => !l.secure).map((l) => l.line.split(' ')[1])).toEqual(['CAPABILITY', 'STARTTLS']);
    await sleep(100);
    expect(events.of('connectionStatus').filter((e) => e.error)).toEqual([]);
  });

  test('an IDLE answered with NO is a PROTOCOL_ERROR, not a crash', async () => {
    server = new ScriptServer((line, c) => {
      const tag = tagOf(line);
      if (/^\S+ SELECT/i.test(line)) c.send('* 0 EXISTS', '* OK [UIDVALIDITY 1] ok', '* OK [UIDNEXT 1] ok', `${tag} OK selected`);
      else if (/^\S+ IDLE/i.test(line)) c.send(`${tag} NO not now`);
      else standard(line, c);
    });
    await server.listen();
    engine = new MailEngine();
    await expect(engine.addAccount(account())).rejects.toMatchObject({ code: 'PROTOCOL_ERROR' });
  });
});
