'use strict';

// Mailbox actions (issue 16, first part): addFlags / removeFlags / setFlags /
// deleteMessages on the pooled connections, against the mock server and a real
// Dovecot. The app's own change must come back exactly once, as the same
// flagsChanged / messageDeleted event another client's change produces.

const { DEFAULT_CAPS } = require('imap-push/testing');
const { uidSet } = require('../lib/actions');
const { dovecotAvailable } = require('./support/dovecot');
const { useEngineFixture } = require('./support/engine-fixture');
const { waitUntil } = require('./support/wait');

const settle = (ms) => new Promise((r) => setTimeout(r, ms));
const without = (...caps) => DEFAULT_CAPS.filter((c) => !caps.includes(c));

describe('uid sets', () => {
  test('numbers, arrays and set strings become one compressed set', () => {
    expect(uidSet(7)).toBe('7');
    expect(uidSet([5, 1, 2, 3, 9, 3])).toBe('1:3,5,9');
    expect(uidSet('1:5,9')).toBe('1:5,9');
    expect(uidSet('9,5:4,1,2,3')).toBe('1:5,9'); // a string is compressed too
    expect(uidSet('7:3,1:2,10:12,11')).toBe('1:7,10:12');
  });
  test.each([[0], [[]], ['1:*'], ['1;2'], ['01'], ['0:3'], [[1.5]], [2 ** 32], ['1, 2'], [null]])('rejects %p with a TypeError naming uids', (bad) => {
    expect(() => uidSet(bad)).toThrow(TypeError);
    expect(() => uidSet(bad)).toThrow(/uids/);
  });
});

describe('mailbox actions against the mock server', () => {
  const fx = useEngineFixture();
  let server;
  let engine;

  async function start(caps) {
    await fx.mock({ caps, engineOptions: { reconnect: { initialDelayMs: 50 } } });
    ({ server, engine } = fx);
    return fx.events;
  }

  test('a long UID set goes as several UID STORE and UID EXPUNGE commands, each line bounded', async () => {
    const events = await start();
    const uids = [];
    for (let i = 0; i < 2000; i++) uids.push(server.appendMessage('INBOX', { subject: `m${i}` }));
    await waitUntil(() => events.filter((e) => e.name === 'newMessage').length === 2000, 30000, 'the 2000 newMessages');
    // Every other UID, so the set has no ranges: about 4,400 characters, past one command's 4,000.
    const picked = uids.filter((_, i) => i % 2 === 0);
    expect(uidSet(picked).length).toBeGreaterThan(4000);
    const lines = (name) => server.commandLog.filter((c) => c.command === name).map((c) => c.args);
    await engine.addFlags('a', 'INBOX', picked, ['$Done']);
    expect(lines('UID STORE').length).toBeGreaterThan(1);
    expect(Math.max(...lines('UID STORE').map((l) => l.length))).toBeLessThan(4100);
    expect(server.mailbox('INBOX').messages.filter((m) => m.flags.includes('$Done')).length).toBe(1000);
    await engine.deleteMessages('a', 'INBOX', picked);
    expect(lines('UID EXPUNGE').length).toBeGreaterThan(1);
    expect(Math.max(...lines('UID EXPUNGE').map((l) => l.length))).toBeLessThan(4100);
    expect(server.mailbox('INBOX').messages.map((m) => m.uid)).toEqual(uids.filter((_, i) => i % 2 === 1));
    await waitUntil(() => events.filter((e) => e.name === 'messageDeleted').length === 1000, 15000, 'the 1000 messageDeleted');
  }, 60000);

  test('addFlags changes the server and yields exactly one flagsChanged, from IDLE', async () => {
    const events = await start();
    const uid = server.appendMessage('INBOX', { subject: 'booking 1' });
    await waitUntil(() => events.some((e) => e.name === 'newMessage' && e.uid === uid), 5000, 'the newMessage');
    const result = await engine.addFlags('a', 'INBOX', uid, ['\\Seen', '$Processed']);
    expect(result.uids).toBe(String(uid));
    expect(typeof result.modseq).toBe('number');
    expect(server.mailbox('INBOX').messages[0].flags).toEqual(expect.arrayContaining(['\\Seen', '$Processed']));
    await waitUntil(() => events.some((e) => e.name === 'flagsChanged'), 5000, 'flagsChanged');
    await settle(300);
    const changes = events.filter((e) => e.name === 'flagsChanged');
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ accountId: 'a', folder: 'INBOX', uid });
    expect(changes[0].flags).toEqual(expect.arrayContaining(['\\Seen', '$Processed']));
    // The STORE went over a pooled connection, never the IDLE one.
    const stores = server.commandLog.filter((c) => c.command === 'UID STORE');
    expect(stores).toHaveLength(1);
    expect(stores[0].args).toMatch(/\+FLAGS\.SILENT \(\\Seen \$Processed\)/);
  });

  test('removeFlags and setFlags, over a run of UIDs with one SELECT', async () => {
    const events = await start();
    const uids = [1, 2, 3].map((i) => server.appendMessage('INBOX', { subject: `m${i}`, flags: ['\\Seen', '\\Flagged'] }));
    await waitUntil(() => events.filter((e) => e.name === 'newMessage').length === 3, 5000, 'three newMessage');
    await engine.removeFlags('a', 'INBOX', uids, ['\\Flagged']);
    await engine.setFlags('a', 'INBOX', `${uids[0]}:${uids[2]}`, ['\\Answered']);
    for (const m of server.mailbox('INBOX').messages) expect(m.flags).toEqual(['\\Answered']);
    // The second action reused the selection: one SELECT on the pooled connection.
    const poolSelects = server.commandLog.filter((c) => c.command === 'SELECT' && c.conn !== server.commandLog.find((x) => x.command === 'IDLE')?.conn);
    expect(poolSelects).toHaveLength(1);
    await waitUntil(() => events.filter((e) => e.name === 'flagsChanged').length >= 6, 5000, 'six flagsChanged');
    await settle(300);
    expect(events.filter((e) => e.name === 'flagsChanged')).toHaveLength(6);
  });

  test('a conditional STORE that lost rejects with MODIFIED and the UIDs it left', async () => {
    await start();
    const uid = server.appendMessage('INBOX', { subject: 'x' });
    await engine.addFlags('a', 'INBOX', uid, ['\\Seen']);
    const modseq = server.mailbox('INBOX').messages[0].modseq;
    await expect(engine.addFlags('a', 'INBOX', uid, ['\\Flagged'], { unchangedSince: modseq - 1 })).rejects.toMatchObject({
      code: 'MODIFIED',
      modified: String(uid),
    });
    expect(server.mailbox('INBOX').messages[0].flags).not.toContain('\\Flagged');
    await expect(engine.addFlags('a', 'INBOX', uid, ['\\Flagged'], { unchangedSince: modseq })).resolves.toMatchObject({ uids: String(uid) });
    expect(server.mailbox('INBOX').messages[0].flags).toContain('\\Flagged');
  });

  test.each(['removeFlags', 'setFlags'])('%s with unchangedSince that lost rejects with MODIFIED and changes nothing', async (method) => {
    await start();
    const uid = server.appendMessage('INBOX', { subject: 'x', flags: ['\\Seen', '\\Flagged'] });
    const before = server.mailbox('INBOX').messages[0].modseq;
    server.setFlags('INBOX', uid, ['\\Seen', '\\Flagged', '$Other']); // another client, meanwhile
    await expect(engine[method]('a', 'INBOX', uid, ['\\Flagged'], { unchangedSince: before })).rejects.toMatchObject({
      code: 'MODIFIED', modified: String(uid), accountId: 'a', folder: 'INBOX',
    });
    expect(server.mailbox('INBOX').messages[0].flags).toEqual(['\\Seen', '\\Flagged', '$Other']);
    const now = server.mailbox('INBOX').messages[0].modseq;
    await expect(engine[method]('a', 'INBOX', uid, ['\\Flagged'], { unchangedSince: now })).resolves.toMatchObject({ uids: String(uid) });
    expect(server.mailbox('INBOX').messages[0].flags).toEqual(method === 'setFlags' ? ['\\Flagged'] : ['\\Seen', '$Other']);
  });

  test('unchangedSince without CONDSTORE rejects with UNSUPPORTED before any STORE is sent', async () => {
    await start(without('CONDSTORE'));
    const uid = server.appendMessage('INBOX', { subject: 'x' });
    const mark = server.commandLog.length;
    for (const method of ['addFlags', 'removeFlags', 'setFlags']) {
      await expect(engine[method]('a', 'INBOX', uid, ['\\Seen'], { unchangedSince: 1 })).rejects.toMatchObject({
        code: 'UNSUPPORTED', message: expect.stringContaining('CONDSTORE'),
      });
    }
    expect(server.commandLog.slice(mark).filter((c) => c.command === 'UID STORE')).toHaveLength(0);
    expect(server.mailbox('INBOX').messages[0].flags).toEqual([]);
    await expect(engine.addFlags('a', 'INBOX', uid, ['\\Seen'])).resolves.toEqual({ uids: String(uid) }); // no MODSEQ without CONDSTORE
  });

  test("COMMAND_FAILED carries the server's text: a STORE answered NO, a SEARCH answered BAD", async () => {
    await start();
    const uid = server.appendMessage('INBOX', { subject: 'x' });
    server.refuse((e) => e.command === 'UID STORE', 'NO [LIMIT] Too many keywords on this message');
    await expect(engine.addFlags('a', 'INBOX', uid, ['$One'])).rejects.toMatchObject({
      code: 'COMMAND_FAILED', accountId: 'a', folder: 'INBOX', message: expect.stringContaining('[LIMIT] Too many keywords on this message'),
    });
    server.refuse((e) => e.command === 'UID SEARCH' && e.args.includes('SUBJECT'), 'BAD Search query too complex here');
    await expect(engine.search('a', 'INBOX', { subject: 'x' })).rejects.toMatchObject({
      code: 'COMMAND_FAILED', message: expect.stringContaining('Search query too complex here'),
    });
    server.refuse(null);
    expect(server.mailbox('INBOX').messages[0].flags).toEqual([]);
    expect(await engine.search('a', 'INBOX', { subject: 'x' })).toEqual([uid]); // a refusal leaves the connection usable
  });

  test('deleteMessages expunges exactly the UIDs asked for, and yields one messageDeleted each', async () => {
    const events = await start();
    const keep = server.appendMessage('INBOX', { subject: 'keep', flags: ['\\Deleted'] }); // another client's pending delete
    const gone = [server.appendMessage('INBOX', { subject: 'a' }), server.appendMessage('INBOX', { subject: 'b' })];
    await waitUntil(() => events.filter((e) => e.name === 'newMessage').length === 3, 5000, 'three newMessage');
    await engine.deleteMessages('a', 'INBOX', gone);
    expect(server.mailbox('INBOX').messages.map((m) => m.uid)).toEqual([keep]);
    await waitUntil(() => events.filter((e) => e.name === 'messageDeleted').length >= 2, 5000, 'two messageDeleted');
    await settle(300);
    expect(events.filter((e) => e.name === 'messageDeleted').map((e) => e.uid).sort()).toEqual(gone);
  });

  test('without UIDPLUS deleteMessages refuses instead of expunging other messages', async () => {
    await start(['IMAP4rev1', 'IDLE', 'CONDSTORE', 'ENABLE', 'LITERAL+']);
    const keep = server.appendMessage('INBOX', { subject: 'keep', flags: ['\\Deleted'] });
    const uid = server.appendMessage('INBOX', { subject: 'x' });
    await expect(engine.deleteMessages('a', 'INBOX', uid)).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    expect(server.mailbox('INBOX').messages.map((m) => m.uid)).toEqual([keep, uid]);
    expect(server.commandLog.some((c) => c.command === 'EXPUNGE')).toBe(false);
  });

  test('errors carry codes, and bad arguments reject with a TypeError naming the option', async () => {
    await start();
    const uid = server.appendMessage('INBOX', { subject: 'x' });
    await expect(engine.addFlags('a', 'Nope', uid, ['\\Seen'])).rejects.toMatchObject({ code: 'NOT_FOUND', what: 'folder' });
    await expect(engine.addFlags('zzz', 'INBOX', uid, ['\\Seen'])).rejects.toMatchObject({ code: 'NOT_FOUND', what: 'account' });
    await expect(engine.addFlags('a', 'INBOX', uid, ['bad flag'])).rejects.toMatchObject({ option: 'flags' });
    await expect(engine.addFlags('a', 'INBOX', uid, ['\\Seen)'])).rejects.toBeInstanceOf(TypeError);
    await expect(engine.addFlags('a', 'INBOX', uid, [])).rejects.toMatchObject({ option: 'flags' });
    await expect(engine.addFlags('a', 'INBOX', 'x', ['\\Seen'])).rejects.toMatchObject({ option: 'uids' });
    await expect(engine.addFlags('a', '', uid, ['\\Seen'])).rejects.toMatchObject({ option: 'folder' });
    await expect(engine.addFlags('a', 'INBOX', uid, ['\\Seen'], { unchangedSince: -1 })).rejects.toMatchObject({ option: 'unchangedSince' });
    await expect(engine.deleteMessages('a', 'INBOX', [])).rejects.toMatchObject({ option: 'uids' });
  });

  test('a flag change whose connection dies is retried once on a new one; a deletion is not', async () => {
    await start();
    const uid = server.appendMessage('INBOX', { subject: 'x' });
    let drops = 0;
    const dropOnStore = (entry) => {
      if (entry.command === 'UID STORE' && drops++ === 0) server.dropConnection(entry.conn);
    };
    server.on('command', dropOnStore);
    await expect(engine.addFlags('a', 'INBOX', uid, ['\\Seen'])).resolves.toMatchObject({ uids: String(uid) });
    expect(server.mailbox('INBOX').messages[0].flags).toContain('\\Seen');
    expect(drops).toBe(2); // the first STORE's connection died; the retry's went through
    expect(server.commandLog.filter((c) => c.command === 'UID STORE')).toHaveLength(2);
    server.off('command', dropOnStore);
    server.on('command', (entry) => {
      if (entry.command === 'UID STORE') server.dropConnection(entry.conn);
    });
    await expect(engine.deleteMessages('a', 'INBOX', uid)).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
  });
});

const describeDovecot = dovecotAvailable() ? describe : describe.skip;
describeDovecot('mailbox actions against Dovecot', () => {
  const fx = useEngineFixture();

  test('flags and deletion round-trip, each reported once by IDLE', async () => {
    await fx.dovecotAccount();
    const { dovecot, engine, events } = fx;
    for (let i = 0; i < 3; i++) dovecot.deliver('alice', `Subject: d${i}\r\nMessage-ID: <d${i}@x>\r\n\r\nbody\r\n`);
    await waitUntil(() => events.filter((e) => e.name === 'newMessage').length === 3, 15000, 'three newMessage');
    const uids = events.filter((e) => e.name === 'newMessage').map((e) => e.uid);
    const r = await engine.addFlags('a', 'INBOX', uids, ['\\Seen']);
    expect(r.modseq).toBeGreaterThan(0);
    await expect(engine.addFlags('a', 'INBOX', uids[0], ['\\Flagged'], { unchangedSince: 1 })).rejects.toMatchObject({ code: 'MODIFIED' });
    await waitUntil(() => events.filter((e) => e.name === 'flagsChanged').length >= 3, 15000, 'three flagsChanged');
    await engine.deleteMessages('a', 'INBOX', uids.slice(0, 2));
    await waitUntil(() => events.filter((e) => e.name === 'messageDeleted').length >= 2, 15000, 'two messageDeleted');
    await settle(1500); // Dovecot delays IDLE pushes by ~500 ms: anything doubled would show by now
    expect(events.filter((e) => e.name === 'flagsChanged')).toHaveLength(3);
    expect(events.filter((e) => e.name === 'messageDeleted').map((e) => e.uid).sort()).toEqual(uids.slice(0, 2).sort());
    const left = await engine.fetchMessage('a', 'INBOX', uids[2]);
    expect(left.subject).toBe('d2');
    await expect(engine.fetchMessage('a', 'INBOX', uids[0])).rejects.toMatchObject({ code: 'NOT_FOUND' });
  }, 60000);
});
