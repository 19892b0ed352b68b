'use strict';

// append, folder management and quota (issue 16), against the mock server
// (UIDPLUS and QUOTA toggled) and Dovecot. An appended message reaches a
// watched folder as one newMessage, as anyone else's delivery would.

const { DEFAULT_CAPS } = require('imap-push/testing');
const { messageBytes, messageIdOf, imapDateTime } = require('../lib/mailbox');
const { dovecotAvailable } = require('./support/dovecot');
const { useEngineFixture } = require('./support/engine-fixture');
const { waitUntil } = require('./support/wait');

const settle = (ms) => new Promise((r) => setTimeout(r, ms));
const without = (...caps) => DEFAULT_CAPS.filter((c) => !caps.includes(c));
const RAW = 'From: a@example.com\nSubject: appended\nMessage-ID: <app-1@example.com>\n\nhello\n';

describe('append input', () => {
  test('bare LF becomes CRLF, and CRLF stays', () => {
    expect(messageBytes('a\nb\r\nc\n').toString()).toBe('a\r\nb\r\nc\r\n');
    expect(messageBytes(Buffer.from('\n')).toString()).toBe('\r\n');
  });
  test('the Message-ID comes from the header block only, unfolded', () => {
    expect(messageIdOf(messageBytes(RAW))).toBe('<app-1@example.com>');
    expect(messageIdOf(messageBytes('Subject: x\r\nMessage-ID:\r\n <folded@x>\r\n\r\nbody'))).toBe('<folded@x>');
    expect(messageIdOf(messageBytes('Subject: x\r\n\r\nMessage-ID: <in-body@x>\r\n'))).toBe('');
    expect(messageIdOf(messageBytes('Message-ID: not-an-id\r\n\r\n'))).toBe('');
  });
  test('internal dates are RFC 3501 date-times in UTC', () => {
    expect(imapDateTime(Date.UTC(2026, 11, 2, 5, 4, 3))).toBe('02-Dec-2026 05:04:03 +0000');
  });
});

describe('append, folders and quota against the mock server', () => {
  const fx = useEngineFixture();
  let server;
  let engine;

  async function start(caps) {
    await fx.mock({ caps, engineOptions: { reconnect: { initialDelayMs: 50 } } });
    ({ server, engine } = fx);
    return { named: fx.named };
  }

  test('append to a watched folder: APPENDUID, flags and date kept, one newMessage', async () => {
    const { named } = await start();
    const when = new Date(Date.UTC(2026, 0, 15, 10, 30, 0));
    const r = await engine.append('a', 'INBOX', RAW, { flags: ['\\Seen', '$Booked'], internalDate: when });
    expect(r).toEqual({ uid: 1, uidValidity: server.mailbox('INBOX').uidValidity });
    const [msg] = server.mailbox('INBOX').messages;
    expect(msg.flags).toEqual(['\\Seen', '$Booked']);
    expect(msg.internalDate.getTime()).toBe(when.getTime());
    expect(msg.raw).toContain('Subject: appended\r\n');
    await waitUntil(() => named('newMessage').length === 1, 5000, 'the newMessage');
    await settle(300);
    expect(named('newMessage').map((e) => [e.uid, e.envelope.subject])).toEqual([[1, 'appended']]);
  });

  test('without UIDPLUS the UID is found by Message-ID; without one it is null', async () => {
    await start(without('UIDPLUS'));
    server.appendMessage('INBOX', { subject: 'other' });
    const found = await engine.append('a', 'INBOX', RAW);
    expect(found).toEqual({ uid: 2, uidValidity: server.mailbox('INBOX').uidValidity });
    expect(server.commandLog.some((c) => c.command === 'UID SEARCH' && /HEADER "?Message-ID"? "<app-1@example.com>"/.test(c.args))).toBe(true);
    expect(await engine.append('a', 'INBOX', 'Subject: no id\r\n\r\nx\r\n')).toEqual({ uid: null, uidValidity: null });
    expect(server.mailbox('INBOX').messages).toHaveLength(3);
  });

  test('without LITERAL+ the message and an 8-bit search string wait for the server\'s continuation', async () => {
    await start(without('LITERAL+'));
    const r = await engine.append('a', 'INBOX', 'Subject: Caf\u00e9 booking\r\n\r\nbody\r\n', { flags: ['\\Seen'] });
    expect(r.uid).toBe(1);
    expect(server.mailbox('INBOX').messages[0].raw).toContain('body\r\n');
    expect(await engine.search('a', 'INBOX', { body: 'b\u00f6dy' })).toEqual([]);
    expect(await engine.search('a', 'INBOX', { seen: true })).toEqual([1]);
  });

  test('append errors: TRYCREATE, and TypeErrors naming the argument', async () => {
    await start();
    await expect(engine.append('a', 'Nowhere', RAW)).rejects.toMatchObject({ code: 'TRYCREATE' });
    await expect(engine.append('a', 'INBOX', '')).rejects.toThrow(/raw/);
    await expect(engine.append('a', 'INBOX', 42)).rejects.toThrow(/raw/);
    await expect(engine.append('a', 'INBOX', RAW, { flags: ['two words'] })).rejects.toThrow(/flags/);
    await expect(engine.append('a', 'INBOX', RAW, { internalDate: 'soon' })).rejects.toThrow(/internalDate/);
    await expect(engine.append('nobody', 'INBOX', RAW)).rejects.toMatchObject({ code: 'NOT_FOUND', what: 'account' });
    expect(server.mailbox('INBOX').messages).toHaveLength(0);
  });

  test('create, rename, subscribe, delete: the server changes and listFolders sees it at once', async () => {
    await start();
    const paths = async () => (await engine.listFolders('a')).map((f) => f.path).sort();
    expect(await paths()).toEqual(['INBOX']); // fills the folder cache
    expect(await engine.createFolder('a', 'Projects')).toEqual({ path: 'Projects' });
    expect(await paths()).toEqual(['INBOX', 'Projects']);
    await expect(engine.createFolder('a', 'Projects')).rejects.toMatchObject({
      code: 'COMMAND_FAILED', message: expect.stringContaining('[ALREADYEXISTS] Mailbox already exists'), // the server's text
    });
    expect(await engine.renameFolder('a', 'Projects', 'Done')).toEqual({ path: 'Done', from: 'Projects' });
    expect(await paths()).toEqual(['Done', 'INBOX']);
    await engine.unsubscribeFolder('a', 'Done');
    expect(server.subscriptions.has('Done')).toBe(false);
    await engine.subscribeFolder('a', 'Done');
    expect(server.subscriptions.has('Done')).toBe(true);
    expect(await engine.deleteFolder('a', 'Done')).toEqual({ path: 'Done' });
    expect(await paths()).toEqual(['INBOX']);
    await expect(engine.deleteFolder('a', 'Done')).rejects.toMatchObject({ code: 'NOT_FOUND', what: 'folder' });
    await expect(engine.renameFolder('a', 'Done', 'X')).rejects.toMatchObject({ code: 'NOT_FOUND', what: 'folder' });
    await expect(engine.createFolder('a', 'a\r\nb')).rejects.toThrow(/path/);
    await expect(engine.renameFolder('a', 'INBOX', '')).rejects.toThrow(/to/);
  });

  test('quota: the root, its resources and STORAGE in bytes; UNSUPPORTED without QUOTA', async () => {
    await start();
    server.appendMessage('INBOX', { subject: 'some', body: 'x'.repeat(3000) });
    server.setQuota({ STORAGE: 1024, MESSAGE: 100 });
    const q = await engine.quota('a', 'INBOX');
    expect(q).toEqual({
      roots: [{ root: '', resources: { STORAGE: { usage: server.quotaUsage().STORAGE, limit: 1024 }, MESSAGE: { usage: 1, limit: 100 } } }],
      storage: { usedBytes: server.quotaUsage().STORAGE * 1024, limitBytes: 1024 * 1024 },
    });
    await expect(engine.quota('a', 'Nowhere')).rejects.toMatchObject({ code: 'NOT_FOUND', what: 'folder' });
    await fx.reset();
    await start(without('QUOTA'));
    await expect(engine.quota('a')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });
});

const describeDovecot = dovecotAvailable() ? describe : describe.skip;
describeDovecot('append and folders against Dovecot', () => {
  const fx = useEngineFixture();

  test('an appended message is one newMessage with the UID append gave; folders come and go', async () => {
    await fx.dovecotAccount();
    const { engine } = fx;
    const r = await engine.append('a', 'INBOX', RAW, { flags: ['\\Seen'] });
    expect(r.uid).toBeGreaterThan(0);
    expect(r.uidValidity).toBeGreaterThan(0);
    await waitUntil(() => fx.named('newMessage').length === 1, 15000, 'the newMessage');
    await settle(1500); // Dovecot delays IDLE pushes by ~500 ms: anything doubled would show by now
    expect(fx.named('newMessage').map((e) => [e.uid, e.envelope.subject, e.flags])).toEqual([[r.uid, 'appended', ['\\Seen']]]);

    await engine.createFolder('a', 'Ärchiv');
    await engine.renameFolder('a', 'Ärchiv', 'Archive 2026');
    expect((await engine.listFolders('a')).map((f) => f.path)).toContain('Archive 2026');
    const copied = await engine.append('a', 'Archive 2026', RAW);
    expect(copied.uid).toBe(1);
    await engine.deleteFolder('a', 'Archive 2026');
    expect((await engine.listFolders('a')).map((f) => f.path)).not.toContain('Archive 2026');
    await expect(engine.append('a', 'Archive 2026', RAW)).rejects.toMatchObject({ code: 'TRYCREATE' });
    await engine.subscribeFolder('a', 'INBOX');
    await expect(engine.quota('a')).rejects.toMatchObject({ code: 'UNSUPPORTED' }); // no quota plugin here
  }, 60000);

  test("quota from Dovecot's count backend", async () => {
    await fx.dovecotAccount({ dovecot: { quota: { storageKiB: 2048, messages: 50 } } });
    await fx.engine.append('a', 'INBOX', RAW);
    await fx.engine.append('a', 'INBOX', RAW);
    const q = await fx.engine.quota('a', 'INBOX');
    expect(q.roots).toHaveLength(1);
    expect(q.roots[0].resources.MESSAGE).toEqual({ usage: 2, limit: 50 });
    expect(q.roots[0].resources.STORAGE.limit).toBe(2048);
    expect(q.storage.limitBytes).toBe(2048 * 1024);
    expect(q.storage.usedBytes).toBeGreaterThan(0);
  }, 60000);
});
