'use strict';
const { MockImapServer } = require('imap-push/testing');
const { RawClient } = require('./support/raw-client');

jest.setTimeout(15000);

const b64 = (s) => Buffer.from(s, 'utf8').toString('base64');
let servers = [];
let clients = [];

async function server(opts = {}) {
  const srv = new MockImapServer({ users: { alice: 'secret' }, tokens: { alice: 'tok' }, ...opts });
  await srv.listen();
  servers.push(srv);
  return srv;
}

async function client(srv, opts = {}) {
  const c = await RawClient.connect({ port: srv.port, ca: srv.opts.tls === 'implicit' ? srv.caPem : undefined, ...opts });
  clients.push(c);
  await c.greeting();
  return c;
}

async function selected(srv, folder = 'INBOX') {
  const c = await client(srv);
  await c.ok('LOGIN alice secret');
  const sel = await c.ok(`SELECT ${folder}`);
  return { c, sel };
}

afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(servers.map((s) => s.close()));
  for (const s of servers) expect(s.errors).toEqual([]);
  clients = [];
  servers = [];
});

describe('session basics', () => {
  test('greeting advertises default capabilities, LOGIN works and is redacted in the log', async () => {
    const srv = await server();
    const c = await RawClient.connect({ port: srv.port });
    clients.push(c);
    const greet = await c.greeting();
    expect(greet).toMatch(/^\* OK \[CAPABILITY IMAP4rev1 IDLE CONDSTORE UIDPLUS MOVE ESEARCH QUOTA ENABLE LITERAL\+ SASL-IR AUTH=PLAIN AUTH=XOAUTH2 AUTH=OAUTHBEARER\] Mock IMAP ready$/);
    const bad = await c.command('LOGIN alice wrong');
    expect(bad.line).toMatch(/NO \[AUTHENTICATIONFAILED\] Authentication failed\./);
    const ok = await c.command('LOGIN alice secret');
    expect(ok.status).toBe('OK');
    expect(ok.text).not.toMatch(/AUTH=/);
    expect(srv.loginAttempts).toBe(2);
    const logins = srv.commandLog.filter((e) => e.command === 'LOGIN');
    expect(logins).toHaveLength(2);
    expect(logins[0]).toMatchObject({ args: '[redacted]', plaintext: true, user: 'alice' });
    expect(JSON.stringify(srv.commandLog)).not.toMatch(/secret/);
    expect((await c.command('FROB')).status).toBe('BAD');
    expect((await c.command('LOGOUT')).untagged).toEqual(['* BYE Logging out']);
    expect(await c.waitClosed(2000)).toBe(true);
  });

  test('literals: synchronizing gets "+", LITERAL+ does not, and quoted strings parse', async () => {
    const srv = await server({ users: { 'al ice': 'p"w\\x' } });
    const c = await client(srv);
    const r = await c.command(['LOGIN ', { literal: 'al ice' }, ' ', { literal: 'p"w\\x', sync: false }]);
    expect(r.status).toBe('OK');
    const c2 = await client(srv);
    expect((await c2.command('LOGIN "al ice" "p\\"w\\\\x"')).status).toBe('OK');
    srv.setCapability('LITERAL+', false);
    const c3 = await client(srv);
    expect((await c3.command(['LOGIN ', { literal: 'al ice', sync: false }, ' x'])).status).toBe('BAD');
  });

  test('SELECT reports UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ; missing folder is NO', async () => {
    const srv = await server();
    srv.appendMessage({ subject: 'one' });
    srv.appendMessage('INBOX', { subject: 'two' });
    const { c, sel } = await selected(srv);
    expect(sel.untagged).toEqual(expect.arrayContaining([
      '* 2 EXISTS', '* OK [UIDVALIDITY 1700000000] UIDs valid', '* OK [UIDNEXT 3] Predicted next UID',
      '* OK [HIGHESTMODSEQ 3] Highest',
    ]));
    expect(sel.text).toMatch(/^\[READ-WRITE\]/);
    expect((await c.command('SELECT Nope')).line).toMatch(/NO \[NONEXISTENT\]/);
    srv.setCapability('CONDSTORE', false);
    const { sel: sel2 } = await selected(srv);
    expect(sel2.untagged.join('\n')).not.toMatch(/HIGHESTMODSEQ/);
  });

  test('LIST and STATUS', async () => {
    const srv = await server();
    srv.createMailbox('Archive');
    srv.createMailbox('Archive/2024');
    srv.appendMessage('Archive', { subject: 'x' });
    const c = await client(srv);
    await c.ok('LOGIN alice secret');
    const list = await c.ok('LIST "" "*"');
    expect(list.untagged).toEqual([
      '* LIST (\\HasNoChildren) "/" INBOX',
      '* LIST (\\HasChildren) "/" Archive',
      '* LIST (\\HasNoChildren) "/" Archive/2024',
    ]);
    expect((await c.ok('LIST "" %')).untagged).toHaveLength(2);
    const st = await c.ok('STATUS Archive (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)');
    expect(st.untagged).toEqual(['* STATUS Archive (MESSAGES 1 UIDNEXT 2 UIDVALIDITY 1700000000 UNSEEN 1)']);
  });
});

describe('authentication mechanisms', () => {
  test('AUTHENTICATE PLAIN with SASL-IR and via continuation', async () => {
    const srv = await server();
    const c = await client(srv);
    expect((await c.command(`AUTHENTICATE PLAIN ${b64('\0alice\0secret')}`)).status).toBe('OK');
    const c2 = await client(srv);
    const r = await c2.command('AUTHENTICATE PLAIN', { onContinue: () => b64('\0alice\0bad') });
    expect(r.line).toMatch(/NO \[AUTHENTICATIONFAILED\]/);
    const entry = srv.commandLog.find((e) => e.command === 'AUTHENTICATE');
    expect(entry).toMatchObject({ args: 'PLAIN [redacted]', plaintext: true, user: 'alice' });
    srv.setCapability('SASL-IR', false);
    const c3 = await client(srv);
    expect((await c3.command(`AUTHENTICATE PLAIN ${b64('\0alice\0secret')}`)).status).toBe('BAD');
  });

  test('XOAUTH2 success, and failure sends a JSON challenge before NO', async () => {
    const srv = await server();
    const c = await client(srv);
    expect((await c.command(`AUTHENTICATE XOAUTH2 ${b64('user=alice\x01auth=Bearer tok\x01\x01')}`)).status).toBe('OK');
    const c2 = await client(srv);
    let challenge = null;
    const r = await c2.command(`AUTHENTICATE XOAUTH2 ${b64('user=alice\x01auth=Bearer nope\x01\x01')}`, {
      onContinue: (line) => { challenge = line; return ''; },
    });
    expect(JSON.parse(Buffer.from(challenge.slice(2), 'base64').toString())).toMatchObject({ status: '400' });
    expect(r.line).toMatch(/NO \[AUTHENTICATIONFAILED\] Authentication failed\./);
  });

  test('OAUTHBEARER success; setAuthFail makes everything fail', async () => {
    const srv = await server();
    const c = await client(srv);
    const ir = b64('n,a=alice,\x01host=127.0.0.1\x01port=143\x01auth=Bearer tok\x01\x01');
    expect((await c.command(`AUTHENTICATE OAUTHBEARER ${ir}`)).status).toBe('OK');
    srv.setAuthFail(true);
    const c2 = await client(srv);
    expect((await c2.command('LOGIN alice secret')).status).toBe('NO');
    const c3 = await client(srv);
    const r = await c3.command(`AUTHENTICATE OAUTHBEARER ${ir}`, { onContinue: () => 'AQ==' });
    expect(r.status).toBe('NO');
  });
});

describe('TLS', () => {
  test('STARTTLS upgrade works and the log marks post-upgrade LOGIN as not plaintext', async () => {
    const srv = await server({ starttls: true, loginDisabledWithoutTls: true });
    const c = await client(srv);
    const caps = await c.ok('CAPABILITY');
    expect(caps.untagged[0]).toMatch(/ STARTTLS/);
    expect(caps.untagged[0]).toMatch(/ LOGINDISABLED/);
    expect((await c.command('LOGIN alice secret')).line).toMatch(/NO \[PRIVACYREQUIRED\]/);
    await c.startTls({ ca: srv.caPem });
    expect(c.encrypted).toBe(true);
    const caps2 = await c.ok('CAPABILITY');
    expect(caps2.untagged[0]).not.toMatch(/STARTTLS|LOGINDISABLED/);
    await c.ok('LOGIN alice secret');
    const logins = srv.commandLog.filter((e) => e.command === 'LOGIN');
    expect(logins.map((e) => e.plaintext)).toEqual([true, false]);
    expect(srv.clients()[0]).toMatchObject({ tls: true, state: 'auth' });
  });

  test('implicit TLS', async () => {
    const srv = await server({ tls: 'implicit' });
    const c = await client(srv, { tls: true });
    expect(c.encrypted).toBe(true);
    await c.ok('LOGIN alice secret');
    expect(srv.commandLog[0].plaintext).toBe(false);
  });

  test('STARTTLS is BAD when not advertised', async () => {
    const srv = await server();
    const c = await client(srv);
    expect((await c.command('STARTTLS')).status).toBe('BAD');
  });
});

describe('mailbox updates', () => {
  test('IDLE receives EXISTS, FETCH and EXPUNGE immediately; DONE ends it', async () => {
    const srv = await server();
    srv.appendMessage({ subject: 'a' });
    srv.appendMessage({ subject: 'b' });
    const { c } = await selected(srv);
    const tag = c.nextTag();
    c.send(`${tag} IDLE`);
    await c.waitForLine(/^\+ idling/);
    await srv.waitFor('IDLE', 2000);
    expect(srv.clients()[0].idling).toBe(true);
    const uid = srv.appendMessage({ subject: 'pushed' });
    expect(uid).toBe(3);
    expect(await c.readLine(2000)).toBe('* 3 EXISTS');
    srv.setFlags('INBOX', 3, ['\\Seen', '\\Flagged']);
    expect(await c.readLine(2000)).toBe('* 3 FETCH (UID 3 FLAGS (\\Seen \\Flagged))');
    srv.expunge('INBOX', 1);
    expect(await c.readLine(2000)).toBe('* 1 EXPUNGE');
    c.send('DONE');
    expect(await c.readLine(2000)).toBe(`${tag} OK Idle completed.`);
    expect(srv.commandLog.map((e) => e.command)).toContain('DONE');
  });

  test('idleKeepaliveMs sends "* OK Still here" while idling', async () => {
    const srv = await server({ idleKeepaliveMs: 50 });
    const { c } = await selected(srv);
    c.send('k IDLE');
    await c.waitForLine(/^\+ idling/);
    expect(await c.readLine(1000)).toBe('* OK Still here');
    c.send('DONE');
    await c.waitForLine(/^k OK/);
  });

  test('non-idle clients get queued updates before the next tagged reply', async () => {
    const srv = await server();
    const { c } = await selected(srv);
    srv.appendMessage({ subject: 'x' });
    srv.appendMessage({ subject: 'y' });
    srv.expunge('INBOX', 1);
    const r = await c.ok('NOOP');
    expect(r.untagged).toEqual(['* 1 EXISTS', '* 2 EXISTS', '* 1 EXPUNGE']);
  });

  test('QRESYNC clients get VANISHED instead of EXPUNGE', async () => {
    const srv = await server();
    srv.setCapability('QRESYNC', true);
    srv.appendMessage({ subject: 'x' });
    const c = await client(srv);
    await c.ok('LOGIN alice secret');
    expect((await c.ok('ENABLE QRESYNC')).untagged).toEqual(['* ENABLED QRESYNC']);
    await c.ok('SELECT INBOX');
    srv.expunge('INBOX', 1);
    expect((await c.ok('NOOP')).untagged).toEqual(['* VANISHED 1']);
  });

  test('STORE and EXPUNGE by one client are pushed to another', async () => {
    const srv = await server();
    srv.appendMessage({ subject: 'x' });
    srv.appendMessage({ subject: 'y' });
    const { c: a } = await selected(srv);
    const { c: b } = await selected(srv);
    const st = await a.ok('UID STORE 2 +FLAGS (\\Deleted)');
    expect(st.untagged).toEqual(['* 2 FETCH (UID 2 FLAGS (\\Deleted))']);
    expect((await a.ok('EXPUNGE')).untagged).toEqual(['* 2 EXPUNGE']);
    expect((await b.ok('NOOP')).untagged).toEqual(['* 2 FETCH (UID 2 FLAGS (\\Deleted))', '* 2 EXPUNGE']);
    expect(srv.mailbox('INBOX').messages.map((m) => m.uid)).toEqual([1]);
  });

  test('setUidValidity renumbers and kicks selected clients', async () => {
    const srv = await server();
    srv.appendMessage({ subject: 'x' });
    srv.appendMessage({ subject: 'y' });
    srv.expunge('INBOX', 1);
    const { c } = await selected(srv);
    srv.setUidValidity('INBOX', 42);
    await c.waitForLine(/^\* BYE/, 2000);
    expect(await c.waitClosed(2000)).toBe(true);
    const { sel } = await selected(srv);
    expect(sel.untagged).toEqual(expect.arrayContaining(['* OK [UIDVALIDITY 42] UIDs valid', '* OK [UIDNEXT 2] Predicted next UID']));
  });
});

describe('FETCH', () => {
  test('ENVELOPE uses a literal for a subject with a quote and keeps encoded words', async () => {
    const srv = await server();
    srv.appendMessage({
      subject: 'Say "hi"',
      from: '"Doe, Jane" <jane@example.com>',
      to: '=?UTF-8?B?w6lsw6h2ZQ==?= <eleve@example.org>, bob@example.net',
      date: 'Mon, 01 Jan 2024 10:00:00 +0000',
      messageId: '<m1@example.com>',
    });
    const { c } = await selected(srv);
    const r = await c.ok('UID FETCH 1:* (UID FLAGS ENVELOPE)');
    expect(r.untagged).toHaveLength(1);
    expect(r.untagged[0]).toBe(
      '* 1 FETCH (UID 1 ENVELOPE ("Mon, 01 Jan 2024 10:00:00 +0000" {8}\r\nSay "hi" '
      + '(("Doe, Jane" NIL "jane" "example.com")) (("Doe, Jane" NIL "jane" "example.com")) '
      + '(("Doe, Jane" NIL "jane" "example.com")) '
      + '(("=?UTF-8?B?w6lsw6h2ZQ==?=" NIL "eleve" "example.org")(NIL NIL "bob" "example.net")) '
      + 'NIL NIL NIL "<m1@example.com>") FLAGS ())',
    );
  });

  test('UID N:* with N beyond the last UID still returns the highest message', async () => {
    const srv = await server();
    srv.appendMessage({ subject: 'a' });
    srv.appendMessage({ subject: 'b' });
    const { c } = await selected(srv);
    expect((await c.ok('UID FETCH 10:* (FLAGS)')).untagged).toEqual(['* 2 FETCH (UID 2 FLAGS ())']);
    expect((await c.ok('UID FETCH 3,1:1 (FLAGS)')).untagged).toEqual(['* 1 FETCH (UID 1 FLAGS ())']);
    expect((await c.command('FETCH 5 FLAGS')).status).toBe('BAD');
  });

  test('BODY.PEEK[] returns the raw message as a literal; BODY[] sets \\Seen', async () => {
    const srv = await server();
    srv.appendMessage({ raw: 'Subject: hi\nFrom: a@b.c\n\nline1\nline2\n' });
    const { c } = await selected(srv);
    const peek = await c.ok('UID FETCH 1 (BODY.PEEK[])');
    expect(peek.untagged[0]).toBe('* 1 FETCH (UID 1 BODY[] {42}\r\nSubject: hi\r\nFrom: a@b.c\r\n\r\nline1\r\nline2\r\n)');
    const hdr = await c.ok('UID FETCH 1 (BODY.PEEK[HEADER] RFC822.SIZE)');
    expect(hdr.untagged[0]).toBe('* 1 FETCH (UID 1 BODY[HEADER] {28}\r\nSubject: hi\r\nFrom: a@b.c\r\n\r\n RFC822.SIZE 42)');
    const body = await c.ok('FETCH 1 (BODY[TEXT])');
    expect(body.untagged[0]).toMatch(/BODY\[TEXT\] \{14\}\r\nline1\r\nline2\r\n FLAGS \(\\Seen\)\)$/);
  });

  test('CHANGEDSINCE returns only changed messages with MODSEQ', async () => {
    const srv = await server();
    srv.appendMessage({ subject: 'a' });
    srv.appendMessage({ subject: 'b' });
    const { c } = await selected(srv);
    const hms = srv.mailbox('INBOX').highestModseq;
    srv.setFlags('INBOX', 1, ['\\Flagged']);
    const r = await c.ok(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${hms})`);
    // CONDSTORE gets enabled (HIGHESTMODSEQ first, like Dovecot), the fetch
    // result, then the queued unsolicited update.
    expect(r.untagged).toEqual([
      `* OK [HIGHESTMODSEQ ${hms + 1}] Highest`,
      `* 1 FETCH (UID 1 FLAGS (\\Flagged) MODSEQ (${hms + 1}))`,
      `* 1 FETCH (UID 1 FLAGS (\\Flagged) MODSEQ (${hms + 1}))`,
    ]);
    const s = await c.ok('UID SEARCH UNSEEN');
    expect(s.untagged).toEqual(['* SEARCH 1 2']);
    const silent = await c.ok('UID STORE 2 +FLAGS.SILENT (\\Seen)');
    expect(silent.untagged).toEqual([`* 2 FETCH (UID 2 MODSEQ (${hms + 2}))`]);
  });

  test('sequence sets past EXISTS are BAD (as in Dovecot), UID sets are not', async () => {
    const srv = await server();
    const { c } = await selected(srv);
    expect((await c.command('FETCH 1:* (FLAGS)')).status).toBe('BAD');
    expect((await c.ok('UID FETCH 1:* (FLAGS)')).untagged).toEqual([]);
    expect((await c.ok('UID SEARCH ALL')).untagged).toEqual(['* SEARCH']);
  });
});

describe('faults', () => {
  test('dropAll closes every client abruptly', async () => {
    const srv = await server();
    const a = await client(srv);
    const b = await client(srv);
    expect(srv.connections).toBe(2);
    srv.dropAll();
    expect(await a.waitClosed(2000)).toBe(true);
    expect(await b.waitClosed(2000)).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(srv.connections).toBe(0);
  });

  test('byeAll sends BYE then closes', async () => {
    const srv = await server();
    const c = await client(srv);
    srv.byeAll('maintenance');
    expect(await c.readLine(2000)).toBe('* BYE maintenance');
    expect(await c.waitClosed(2000)).toBe(true);
  });

  test('stall holds responses until unstall; stall(ms) lifts itself', async () => {
    const srv = await server();
    const c = await client(srv);
    srv.stall();
    const pending = c.command('NOOP', { timeout: 3000 });
    await expect(c.waitForLine(/./, 300)).rejects.toThrow(/timed out/);
    srv.unstall();
    expect((await pending).status).toBe('OK');
    srv.stall(200);
    const t0 = Date.now();
    await c.ok('NOOP');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    srv.stall();
    const late = RawClient.connect({ port: srv.port });
    const c2 = await late;
    clients.push(c2);
    await expect(c2.greeting(300)).rejects.toThrow(/timed out/);
    srv.unstall();
    await c2.greeting(2000);
  });

  test('delay postpones every response', async () => {
    const srv = await server();
    const c = await client(srv);
    srv.delay(150);
    const t0 = Date.now();
    await c.ok('NOOP');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });

  test('failNextConnections, rejectGreeting and maxConnections', async () => {
    const srv = await server();
    srv.failNextConnections(1);
    const c = await RawClient.connect({ port: srv.port });
    clients.push(c);
    expect(await c.waitClosed(2000)).toBe(true);
    const ok = await client(srv);
    expect(ok.closed).toBe(false);
    srv.rejectGreeting = 'BYE';
    const c2 = await RawClient.connect({ port: srv.port });
    clients.push(c2);
    expect(await c2.readLine(2000)).toMatch(/^\* BYE/);
    expect(await c2.waitClosed(2000)).toBe(true);
    srv.rejectGreeting = null;
    srv.opts.maxConnections = 1; // `ok` already holds the only slot
    const c3 = await RawClient.connect({ port: srv.port });
    clients.push(c3);
    expect(await c3.readLine(2000)).toBe('* BYE Too many connections');
    srv.opts.maxConnections = Infinity;
    srv.setTooManyConnections(true);
    const c4 = await RawClient.connect({ port: srv.port });
    clients.push(c4);
    expect(await c4.readLine(2000)).toBe('* BYE Too many connections');
  });

  test('injectRaw and hugeLiteral reach selected clients', async () => {
    const srv = await server();
    const { c } = await selected(srv);
    const idle = await client(srv);
    srv.injectRaw('* 1 FETCH (garbage\r\n');
    expect(await c.readLine(2000)).toBe('* 1 FETCH (garbage');
    srv.hugeLiteral(1e9);
    await expect(c.readLine(300)).rejects.toThrow(/timed out/); // literal never completes
    expect(c.buf.toString()).toMatch(/^\* 1 FETCH \(BODY\[\] \{1000000000\}\r\nx+$/);
    expect(idle.lines).toEqual([]);
  });

  test('capability toggles make commands BAD', async () => {
    const srv = await server();
    srv.setCapability('IDLE', false);
    const { c } = await selected(srv);
    expect((await c.command('IDLE')).status).toBe('BAD');
    expect(srv.hasCapability('IDLE')).toBe(false);
  });

  test('client vanishing mid-literal or mid-IDLE is harmless; close() with clients resolves', async () => {
    const srv = await server();
    const c = await client(srv);
    c.send('a LOGIN {5}');
    await c.waitForLine(/^\+/);
    c.socket.write('al');
    c.socket.destroy();
    const { c: c2 } = await selected(srv);
    c2.send('b IDLE');
    await c2.waitForLine(/^\+/);
    c2.socket.destroy();
    srv.appendMessage({ subject: 'after' });
    await client(srv);
    await srv.close();
    expect(srv.connections).toBe(0);
  });

  test('waitFor resolves on a command and rejects after its timeout', async () => {
    const srv = await server();
    const c = await client(srv);
    const w = srv.waitForNext('NOOP', 2000);
    await c.ok('NOOP');
    await expect(w).resolves.toMatchObject({ command: 'NOOP' });
    await expect(srv.waitFor('SELECT', 100)).rejects.toThrow(/timed out/);
  });
});
