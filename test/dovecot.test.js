'use strict';

// Integration against a real Dovecot started on loopback under a temp dir.
// Dovecot delays IDLE notifications by ~500 ms, so waits allow several seconds.

const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { MailEngine } = require('..');
const { startDovecot, dovecotAvailable } = require('./support/dovecot');
const { waitForEvent, recordEvents, waitUntil, sleep } = require('./support/wait');

if (!dovecotAvailable()) {
  // CI installs dovecot-imapd; a developer machine without it is told loudly.
  console.warn('dovecot-imapd is not installed: skipping the Dovecot integration tests');
}
const describeDovecot = dovecotAvailable() ? describe : describe.skip;

function message(subject, extra = '') {
  return `From: =?UTF-8?Q?J=C3=BCrgen?= <juergen@example.com>\nTo: Alice <alice@example.com>\n` +
    `Subject: ${subject}\nDate: Tue, 1 Jul 2003 10:52:37 +0200\nMessage-ID: <${subject.replace(/\W/g, '')}@test>\n${extra}\nbody\n`;
}

describeDovecot('Dovecot', () => {
  let dovecot;
  let engine;
  let counter = 0;
  const users = { alice: 'secret', bob: 'builder', carol: 'c4rol', dave: 'd4ve', erin: 'er1n' };

  const doveadm = (...args) => execFileSync('doveadm', ['-c', path.join(dovecot.dir, 'dovecot.conf'), ...args], { encoding: 'utf8' });

  beforeAll(async () => {
    dovecot = await startDovecot({ users });
  });
  afterAll(async () => {
    if (dovecot) await dovecot.stop();
  });
  beforeEach(() => {
    engine = new MailEngine({ reconnect: { initialDelayMs: 200, maxDelayMs: 1000 } });
  });
  afterEach(async () => {
    await engine.close();
  });

  const account = (user, extra = {}) => ({
    id: `${user}-${++counter}`,
    host: '127.0.0.1',
    port: dovecot.tlsPort,
    tlsOptions: { ca: dovecot.caPem },
    user,
    pass: users[user],
    ...extra,
  });

  test('pushes a new message with its decoded envelope over implicit TLS', async () => {
    const status = await engine.addAccount(account('alice'));
    expect(status.folders[0]).toMatchObject({ folder: 'INBOX', state: 'idle', mode: 'idle' });
    const got = waitForEvent(engine, 'newMessage');
    dovecot.deliver('alice', message('=?ISO-8859-1?Q?Caf=E9_booking?='));
    const msg = await got;
    expect(msg).toMatchObject({ accountId: status.accountId, folder: 'INBOX', uidValidity: expect.any(Number) });
    expect(msg.uid).toBeGreaterThan(0);
    expect(msg.envelope.subject).toBe('Café booking');
    expect(msg.envelope.from).toEqual([{ name: 'Jürgen', address: 'juergen@example.com' }]);
    expect(msg.envelope.to).toEqual([{ name: 'Alice', address: 'alice@example.com' }]);
    expect(msg.envelope.date).toEqual(new Date('2003-07-01T08:52:37Z'));
    expect(msg.envelope.messageId).toBe('<ISO88591QCafE9_booking@test>');
    // Dates cross from the addon's realm, so instanceof against Jest's Date fails.
    expect(Object.prototype.toString.call(msg.internalDate)).toBe('[object Date]');
    expect(Math.abs(msg.internalDate.getTime() - Date.now())).toBeLessThan(10 * 60 * 1000);
    expect(msg.size).toBeGreaterThan(50);
  });

  test('STARTTLS on the plain port, then flag changes and expunges', async () => {
    const acc = account('bob', { port: dovecot.port, tls: 'starttls' });
    await engine.addAccount(acc);
    const got = waitForEvent(engine, 'newMessage');
    dovecot.deliver('bob', message('flags'));
    const { uid } = await got;

    const flagged = waitForEvent(engine, 'flagsChanged', (e) => e.flags.includes('\\Flagged'));
    doveadm('flags', 'add', '-u', 'bob', '\\Flagged', 'mailbox', 'INBOX', 'uid', String(uid));
    expect(await flagged).toMatchObject({ accountId: acc.id, folder: 'INBOX', uid });

    const deleted = waitForEvent(engine, 'messageDeleted');
    doveadm('expunge', '-u', 'bob', 'mailbox', 'INBOX', 'uid', String(uid));
    expect(await deleted).toMatchObject({ accountId: acc.id, folder: 'INBOX', uid });
  });

  test('mail delivered while the connection is down is reported once after the reconnect', async () => {
    const events = recordEvents(engine);
    const acc = account('carol');
    await engine.addAccount(acc);
    dovecot.deliver('carol', message('before'));
    await waitForEvent(engine, 'newMessage');

    const down = waitForEvent(engine, 'connectionStatus', (e) => e.state === 'disconnected');
    doveadm('kick', 'carol');
    const status = await down;
    expect(status.error).toMatchObject({ code: expect.stringMatching(/SERVER_BYE|CONNECTION_LOST/) });
    dovecot.deliver('carol', message('during1'));
    dovecot.deliver('carol', message('during2'));

    await waitUntil(() => events.of('newMessage').length >= 3, 15000, 'three messages');
    await sleep(1500); // anything reported twice would show up by now
    const subjects = events.of('newMessage').map((e) => e.envelope.subject);
    expect(subjects).toEqual(['before', 'during1', 'during2']);
    const uids = events.of('newMessage').map((e) => e.uid);
    expect(new Set(uids).size).toBe(3);
    expect(engine.status(acc.id).folders[0]).toMatchObject({ state: 'idle', uidNext: Math.max(...uids) + 1 });
  });

  test('watches several folders, each on its own connection', async () => {
    doveadm('mailbox', 'create', '-u', 'dave', 'Tickets');
    const acc = account('dave', { folders: ['INBOX', 'Tickets'] });
    const status = await engine.addAccount(acc);
    expect(status.folders.map((f) => f.folder).sort()).toEqual(['INBOX', 'Tickets']);
    const got = waitForEvent(engine, 'newMessage', (e) => e.folder === 'Tickets');
    dovecot.deliver('dave', message('ticket'), 'Tickets');
    expect((await got).envelope.subject).toBe('ticket');
  });

  test('a self-signed certificate is refused without the CA', async () => {
    const acc = account('alice', { tlsOptions: {} });
    await expect(engine.addAccount(acc)).rejects.toMatchObject({ code: 'TLS_FAILED' });
    expect(engine.status(acc.id)).toBeNull();
  });

  test('a hostname mismatch is refused', async () => {
    const acc = account('alice', { tlsOptions: { ca: dovecot.caPem, servername: 'mail.example.org' } });
    await expect(engine.addAccount(acc)).rejects.toMatchObject({ code: 'TLS_FAILED' });
  });

  test('a wrong password rejects with AUTH_FAILED and the error does not contain it', async () => {
    const acc = account('erin', { pass: 'wrong-password-123' });
    const err = await engine.addAccount(acc).catch((e) => e);
    expect(err.code).toBe('AUTH_FAILED');
    expect(err.message).not.toContain('wrong-password-123');
  });

  test('a password is not sent over plaintext unless allowed', async () => {
    const acc = account('erin', { port: dovecot.port, tls: 'none' });
    await expect(engine.addAccount(acc)).rejects.toMatchObject({ code: 'INSECURE_AUTH' });
    const allowed = account('erin', { port: dovecot.port, tls: 'none', allowInsecureAuth: true });
    await expect(engine.addAccount(allowed)).resolves.toMatchObject({ accountId: allowed.id });
  });

  test('removeAccount logs out and forgets the account', async () => {
    const acc = account('erin');
    await engine.addAccount(acc);
    await engine.removeAccount(acc.id);
    expect(engine.status(acc.id)).toBeNull();
    expect(engine.status()).toEqual([]);
  });
});

describeDovecot('Dovecot: pool, sync and state', () => {
  let dovecot;
  const users = { frank: 'f1', grace: 'g1', heidi: 'h1' };
  const doveadm = (...args) => execFileSync('doveadm', ['-c', path.join(dovecot.dir, 'dovecot.conf'), ...args], { encoding: 'utf8' });
  const logins = (user) => dovecot.log().split('\n').filter((l) => /imap-login: (Info: )?Login:/.test(l) && l.includes(`user=<${user}>`)).length;
  const settled = (e) => waitUntil(() => e.syncStats().active === 0 && e.syncStats().pending === 0, 15000, 'syncs to settle');
  const account = (user, extra = {}) => ({
    id: user, host: '127.0.0.1', port: dovecot.tlsPort, tlsOptions: { ca: dovecot.caPem }, user, pass: users[user], ...extra,
  });

  beforeAll(async () => {
    dovecot = await startDovecot({ users });
  });
  afterAll(async () => {
    if (dovecot) await dovecot.stop();
  });

  test('syncs reuse the pooled connection: no new login per cycle', async () => {
    const engine = new MailEngine({ sync: { debounceMs: 50 } });
    try {
      await engine.addAccount(account('frank'));
      await settled(engine);
      // Dovecot has QRESYNC and nothing is remembered: no sync at start, so
      // the first sync opens the pooled connection.
      expect(logins('frank')).toBe(1);
      expect((await engine.sync('frank')).ok).toBe(true);
      const before = logins('frank');
      expect(before).toBe(2); // IDLE + pool
      for (let i = 0; i < 3; i++) expect((await engine.sync('frank')).ok).toBe(true);
      expect(logins('frank')).toBe(before);
      expect(engine.poolStats('frank')).toMatchObject({ created: 1 });
    } finally {
      await engine.close();
    }
  });

  test('after a restart from a stateFile, mail, deletions and flag changes made meanwhile are reported once', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-dovecot-state-'));
    const stateFile = path.join(dir, 'state.db');
    try {
      dovecot.deliver('grace', message('keep'));
      dovecot.deliver('grace', message('gone'));
      const first = new MailEngine({ stateFile, sync: { debounceMs: 50 } });
      await first.addAccount(account('grace'));
      await settled(first);
      await first.close();

      const uidOf = (subject) => doveadm('search', '-u', 'grace', 'mailbox', 'INBOX', 'subject', subject).trim().split(/\s+/)[1];
      const keepUid = Number(uidOf('keep'));
      const goneUid = Number(uidOf('gone'));
      doveadm('expunge', '-u', 'grace', 'mailbox', 'INBOX', 'uid', String(goneUid));
      doveadm('flags', 'add', '-u', 'grace', '\\Flagged', 'mailbox', 'INBOX', 'uid', String(keepUid));
      dovecot.deliver('grace', message('while away'));

      const second = new MailEngine({ stateFile, sync: { debounceMs: 50 } });
      const events = recordEvents(second);
      try {
        await second.addAccount(account('grace'));
        await settled(second);
        await second.sync('grace');
        await sleep(1000);
        expect(events.of('newMessage').map((e) => e.envelope.subject)).toEqual(['while away']);
        expect(events.of('messageDeleted')).toEqual([expect.objectContaining({ uid: goneUid })]);
        expect(events.of('flagsChanged')).toEqual([expect.objectContaining({ uid: keepUid, flags: ['\\Flagged'] })]);
      } finally {
        await second.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('pool limit, a UIDVALIDITY change, and a killed pooled connection being replaced', async () => {
    doveadm('mailbox', 'create', '-u', 'heidi', 'Work');
    const engine = new MailEngine({
      pool: { maxPerAccount: 1, healthCheckMs: 0 }, timeouts: { commandMs: 2000 },
      reconnect: { initialDelayMs: 100, maxDelayMs: 500 },
    });
    const events = recordEvents(engine);
    try {
      await engine.addAccount(account('heidi', { folders: ['INBOX', 'Work'] }));
      const before = logins('heidi');
      await Promise.all([engine.sync('heidi'), engine.listFolders('heidi', { refresh: true }), engine.sync('heidi', { folders: ['Work'] })]);
      expect(engine.poolStats('heidi').open).toBe(1);
      expect(logins('heidi') - before).toBe(1); // one pooled connection served all three

      doveadm('mailbox', 'update', '-u', 'heidi', '--uid-validity', '4242', 'Work');
      const reset = waitForEvent(engine, 'folderReset', (e) => e.folder === 'Work', 15000);
      const r = await engine.sync('heidi', { folders: ['Work'] });
      expect((await reset).uidValidity).toBe(4242);
      expect(r.folders[0].uidValidity).toBe(4242);
      expect(events.of('folderReset').filter((e) => e.folder === 'Work')).toHaveLength(1);

      doveadm('kick', 'heidi'); // every connection, the pooled one included
      await waitForEvent(engine, 'connectionStatus', (e) => e.state === 'idle', 15000);
      const again = await engine.sync('heidi');
      expect(again.ok).toBe(true);
      expect(engine.poolStats('heidi').created).toBe(2);
    } finally {
      await engine.close();
    }
  });

  test('listFolders reports folders with special use', async () => {
    doveadm('mailbox', 'create', '-u', 'heidi', 'Sent');
    doveadm('mailbox', 'create', '-u', 'heidi', 'Projects');
    const engine = new MailEngine();
    try {
      await engine.addAccount(account('heidi'));
      const folders = await engine.listFolders('heidi');
      const byPath = Object.fromEntries(folders.map((f) => [f.path, f]));
      expect(Object.keys(byPath)).toEqual(expect.arrayContaining(['INBOX', 'Projects', 'Sent']));
      expect(byPath.Sent.specialUse).toBe('\\Sent');
      expect(byPath.Projects.specialUse).toBeNull();
    } finally {
      await engine.close();
    }
  });
});

describeDovecot('Dovecot: messages', () => {
  let dovecot;
  let engine;
  beforeAll(async () => {
    dovecot = await startDovecot({ users: { ivan: 'i1' } });
    engine = new MailEngine({ notifications: { preview: 30, healthIntervalMs: 0 } });
    await engine.addAccount({ id: 'ivan', host: '127.0.0.1', port: dovecot.tlsPort, tlsOptions: { ca: dovecot.caPem }, user: 'ivan', pass: 'i1' });
  });
  afterAll(async () => {
    if (engine) await engine.close();
    if (dovecot) await dovecot.stop();
  });

  test('newMessage carries a preview and fetchMessage parses the whole message', async () => {
    const raw = [
      'From: =?ISO-8859-1?Q?Andr=E9?= <andre@example.com>',
      'To: ivan@example.com',
      'Subject: Ticket #42',
      'Message-ID: <t42@example.com>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'The printer on floor 3 is on fire again.',
      '--b',
      'Content-Type: text/csv; name="log.csv"',
      'Content-Disposition: attachment; filename="log.csv"',
      '',
      'a,b',
      '--b--',
      '',
    ].join('\n');
    const got = waitForEvent(engine, 'newMessage');
    dovecot.deliver('ivan', raw);
    const msg = await got;
    expect(msg.preview).toBe('The printer on floor 3 is on f');
    const parsed = await engine.fetchMessage('ivan', 'INBOX', msg.uid);
    expect(parsed).toMatchObject({ subject: 'Ticket #42', from: [{ name: 'André', address: 'andre@example.com' }], messageId: '<t42@example.com>' });
    expect(parsed.text).toContain('on fire again');
    expect(parsed.attachments.map((a) => a.filename)).toEqual(['log.csv']);
  });
});
