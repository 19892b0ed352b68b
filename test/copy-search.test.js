'use strict';

// move / copy / search (issue 16, second part), against the mock server with
// its capabilities toggled (MOVE, UIDPLUS, ESEARCH) and against Dovecot. An
// app's own move must come back as exactly the events another client's move
// produces: one messageDeleted in the source, one newMessage in a watched
// destination.

const { DEFAULT_CAPS } = require('imap-push/testing');
const { compileCriteria, setSize, expandSet, withinSet } = require('../lib/search');
const { uidSet } = require('../lib/actions');
const { dovecotAvailable } = require('./support/dovecot');
const { useEngineFixture } = require('./support/engine-fixture');
const { waitUntil } = require('./support/wait');

const settle = (ms) => new Promise((r) => setTimeout(r, ms));
const without = (...caps) => DEFAULT_CAPS.filter((c) => !caps.includes(c));

describe('search criteria', () => {
  test('keys become keywords, and every typed value a string token', () => {
    const [kinds, texts] = compileCriteria({ seen: false, from: 'a"b', since: new Date(Date.UTC(2026, 1, 3)), larger: 10, uid: [1, 2, 3, 7] }, uidSet);
    expect(kinds).toBe('aasaaaaaa');
    expect(texts).toEqual(['UNSEEN', 'FROM', 'a"b', 'SINCE', '3-Feb-2026', 'LARGER', '10', 'UID', '1:3,7']);
  });

  test('or, not and header nest as groups', () => {
    const [kinds, texts] = compileCriteria({ or: [{ subject: 'x' }, { flagged: true }, { not: { header: { 'X-Tag': 'y' } } }] }, uidSet);
    expect(kinds).toBe('a(as)a(a)(a(ass))');
    expect(texts.filter(Boolean)).toEqual(['OR', 'SUBJECT', 'x', 'OR', 'FLAGGED', 'NOT', 'HEADER', 'X-Tag', 'y']);
    expect(compileCriteria({}, uidSet)).toEqual(['a', ['ALL']]);
  });

  test.each([
    [{ colour: 'red' }, /criteria\.colour/],
    [{ seen: 'yes' }, /criteria\.seen/],
    [{ subject: 'a\r\nA1 LOGOUT' }, /criteria\.subject.*CR, LF/],
    [{ since: 'not a date' }, /criteria\.since/],
    [{ or: [{ seen: true }] }, /criteria\.or/],
    [{ header: { 'Bad Name': 'x' } }, /criteria\.header\.Bad Name/],
    [{ larger: -1 }, /criteria\.larger/],
    [[], /criteria/],
  ])('%p is a TypeError naming the key', (criteria, re) => {
    expect(() => compileCriteria(criteria, uidSet)).toThrow(TypeError);
    expect(() => compileCriteria(criteria, uidSet)).toThrow(re);
  });

  test('nesting and size are bounded', () => {
    let deep = { seen: true };
    for (let i = 0; i < 20; i++) deep = { not: deep };
    expect(() => compileCriteria(deep, uidSet)).toThrow(/deeper than 16/);
    expect(() => compileCriteria({ or: Array.from({ length: 600 }, () => ({ seen: true })) }, uidSet)).toThrow(/too large/);
  });

  test('a uid set string is sent compressed; one still too long goes as its span, with the set to cut the answer to', () => {
    expect(compileCriteria({ uid: '5,1,2,3,4,9' }, uidSet)).toEqual(['aa', ['UID', '1:5,9']]);
    const long = Array.from({ length: 1500 }, (_, i) => 10 * i + 1);
    const [kinds, texts, within] = compileCriteria({ uid: long, flagged: true }, uidSet);
    expect([kinds, texts]).toEqual(['aaa', ['UID', '1:14991', 'FLAGGED']]);
    expect(within).toBe(uidSet(long));
    expect(withinSet([1, 2, 11, 12, 21, 14991, 15000], within)).toEqual([1, 11, 21, 14991]);
    expect(() => compileCriteria({ or: [{ uid: long }, { seen: true }] }, uidSet)).toThrow(/criteria\.or\[0\]\.uid.*top-level/);
  });

  test('sets are sized without expanding them', () => {
    expect(setSize('1:4294967295')).toBe(4294967295);
    expect(expandSet('5:3,9')).toEqual([3, 4, 5, 9]);
  });
});

describe('move, copy and search against the mock server', () => {
  const fx = useEngineFixture();
  let server;
  let engine;

  async function start(caps, account) {
    await fx.mock({ caps, account, setup: (s) => s.createMailbox('Archive'), engineOptions: { reconnect: { initialDelayMs: 50 } } });
    ({ server, engine } = fx);
    const uids = [1, 2, 3].map((i) => server.appendMessage('INBOX', { subject: `booking ${i}`, from: `guest${i}@example.com` }));
    await waitUntil(() => fx.named('newMessage').length === 3, 5000, 'three newMessage');
    return { events: fx.events, uids };
  }
  const commands = (name) => server.commandLog.filter((c) => c.command === name);
  const archived = () => server.mailbox('Archive').messages.map((m) => m.raw.match(/Subject: (.*)/)[1]);

  test.each([
    ['with MOVE', undefined, 'UID MOVE'],
    ['without MOVE: COPY, \\Deleted, UID EXPUNGE', without('MOVE'), 'UID COPY'],
  ])('move %s: the UIDs map, the source loses exactly them, one messageDeleted each', async (_, caps, verb) => {
    const { events, uids } = await start(caps);
    const r = await engine.move('a', 'INBOX', [uids[0], uids[2]], 'Archive');
    expect(r).toEqual({ destination: 'Archive', uidMap: { [uids[0]]: 1, [uids[2]]: 2 } });
    expect(commands(verb)).toHaveLength(1);
    if (!caps) expect(commands('UID EXPUNGE')).toHaveLength(0);
    else expect(commands('UID EXPUNGE').map((c) => c.args)).toEqual([`${uids[0]},${uids[2]}`]);
    expect(server.mailbox('INBOX').messages.map((m) => m.uid)).toEqual([uids[1]]);
    expect(archived()).toEqual(['booking 1', 'booking 3']);
    await waitUntil(() => events.filter((e) => e.name === 'messageDeleted').length === 2, 5000, 'two messageDeleted');
    await settle(300);
    expect(events.filter((e) => e.name === 'messageDeleted').map((e) => e.uid).sort()).toEqual([uids[0], uids[2]]);
  });

  test.each([
    ['with MOVE', undefined],
    ['without MOVE', without('MOVE')],
  ])("the app's own move %s between two watched folders: exactly one messageDeleted and one newMessage", async (_, caps) => {
    const { events, uids } = await start(caps, { folders: ['INBOX', 'Archive'] });
    const before = events.length;
    const r = await engine.move('a', 'INBOX', uids[1], 'Archive');
    expect(r.uidMap).toEqual({ [uids[1]]: 1 });
    const after = () => events.slice(before);
    await waitUntil(() => after().some((e) => e.name === 'newMessage') && after().some((e) => e.name === 'messageDeleted'),
      5000, 'the move in both folders');
    await settle(500); // a doubled event (IDLE and a sync both reporting it) would show by now
    expect(after().filter((e) => e.name === 'messageDeleted').map((e) => [e.folder, e.uid])).toEqual([['INBOX', uids[1]]]);
    expect(after().filter((e) => e.name === 'newMessage').map((e) => [e.folder, e.uid, e.envelope.subject]))
      .toEqual([['Archive', 1, 'booking 2']]);
    // Without MOVE the STORE \Deleted before the expunge may show, once, as it would for any client's fallback.
    const flagged = after().filter((e) => e.name === 'flagsChanged');
    if (!caps) expect(flagged).toEqual([]);
    else expect(flagged.length <= 1 && flagged.every((e) => e.uid === uids[1] && e.flags.includes('\\Deleted'))).toBe(true);
  });

  test('move without MOVE or UIDPLUS refuses and changes nothing', async () => {
    const { uids } = await start(without('MOVE', 'UIDPLUS'));
    await expect(engine.move('a', 'INBOX', uids[0], 'Archive')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    expect(commands('UID COPY')).toHaveLength(0);
    expect(server.mailbox('INBOX').messages).toHaveLength(3);
  });

  test('copy leaves the source alone; without UIDPLUS the map is empty', async () => {
    const { uids } = await start();
    expect(await engine.copy('a', 'INBOX', uids, 'Archive')).toEqual({ destination: 'Archive', uidMap: { 1: 1, 2: 2, 3: 3 } });
    expect(server.mailbox('INBOX').messages).toHaveLength(3);
    expect(archived()).toHaveLength(3);
    await fx.reset();
    await start(without('UIDPLUS'));
    expect(await engine.copy('a', 'INBOX', 1, 'Archive')).toEqual({ destination: 'Archive', uidMap: {} });
  });

  // An unknown account and a missing folder are both NOT_FOUND; `what` tells them apart.
  test('a missing destination is TRYCREATE, a missing source NOT_FOUND (folder), an unknown account NOT_FOUND (account)', async () => {
    const { uids } = await start();
    await expect(engine.move('a', 'INBOX', uids[0], 'Nowhere')).rejects.toMatchObject({ code: 'TRYCREATE' });
    await expect(engine.copy('a', 'Nowhere', uids[0], 'Archive')).rejects.toMatchObject({ code: 'NOT_FOUND', what: 'folder', folder: 'Nowhere' });
    await expect(engine.search('a', 'Nowhere', {})).rejects.toMatchObject({ code: 'NOT_FOUND', what: 'folder' });
    await expect(engine.move('nobody', 'INBOX', 1, 'Archive')).rejects.toMatchObject({ code: 'NOT_FOUND', what: 'account', accountId: 'nobody' });
    await expect(engine.move('a', 'INBOX', 1, '')).rejects.toThrow(/destination/);
    expect(server.mailbox('INBOX').messages).toHaveLength(3);
  });

  test.each([['with ESEARCH', undefined, true], ['without ESEARCH', without('ESEARCH'), false]])(
    'search %s', async (_, caps, esearch) => {
      const { uids } = await start(caps);
      const mark = server.commandLog.length; // the engine's own sync searches too
      server.setFlags('INBOX', uids[1], ['\\Seen']);
      expect(await engine.search('a', 'INBOX', {})).toEqual(uids);
      expect(await engine.search('a', 'INBOX', { seen: false })).toEqual([uids[0], uids[2]]);
      expect(await engine.search('a', 'INBOX', { or: [{ from: 'guest1@' }, { subject: 'booking 3' }] })).toEqual([uids[0], uids[2]]);
      expect(await engine.search('a', 'INBOX', { not: { uid: [uids[0], uids[1]] } })).toEqual([uids[2]]);
      expect(await engine.search('a', 'INBOX', { subject: 'no such thing' })).toEqual([]);
      // A typed value is one string to the server: it cannot widen the search.
      expect(await engine.search('a', 'INBOX', { subject: 'x" OR ALL "' })).toEqual([]);
      // The engine's own syncs send a plain UID SEARCH ALL; search({}) is the one like it.
      const ours = server.commandLog.slice(mark).filter((c) => c.command === 'UID SEARCH' && (esearch ? c.args !== 'ALL' : true));
      expect(ours.length).toBeGreaterThanOrEqual(6);
      expect(ours.every((c) => c.args.startsWith('RETURN (ALL)') === esearch)).toBe(true);
    });

  test('an 8-bit string goes with CHARSET UTF-8', async () => {
    await start();
    expect(await engine.search('a', 'INBOX', { subject: 'Café' })).toEqual([]);
    expect(commands('UID SEARCH').pop().args).toMatch(/^RETURN \(ALL\) CHARSET UTF-8 SUBJECT /);
  });

  test('gmailRaw needs Gmail', async () => {
    await start();
    const mark = server.commandLog.length;
    await expect(engine.search('a', 'INBOX', { gmailRaw: 'has:attachment' })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    expect(server.commandLog.slice(mark).filter((c) => c.command === 'UID SEARCH')).toHaveLength(0);
  });
});

const describeDovecot = dovecotAvailable() ? describe : describe.skip;
describeDovecot('move and search against Dovecot', () => {
  const fx = useEngineFixture();

  test("the app's own move between two watched folders: one messageDeleted, one newMessage, and the map agrees", async () => {
    await fx.dovecotAccount({ setup: (d) => d.deliver('alice', 'Subject: seed\r\n\r\nx\r\n', 'Archive'), account: { folders: ['INBOX', 'Archive'] } });
    const { dovecot, engine, events } = fx;
    for (const s of ['Zoë booking', 'plain booking', 'other']) dovecot.deliver('alice', `Subject: ${s}\r\nFrom: a@example.com\r\n\r\nbody\r\n`);
    await waitUntil(() => events.filter((e) => e.name === 'newMessage' && e.folder === 'INBOX').length === 3, 15000, 'three newMessage');
    const inbox = events.filter((e) => e.name === 'newMessage' && e.folder === 'INBOX').map((e) => e.uid);

    expect(await engine.search('a', 'INBOX', { subject: 'Zoë' })).toEqual([inbox[0]]);
    expect(await engine.search('a', 'INBOX', { subject: 'booking' })).toEqual([inbox[0], inbox[1]]);
    const before = events.length;
    const r = await engine.move('a', 'INBOX', [inbox[0], inbox[1]], 'Archive');
    expect(Object.keys(r.uidMap).map(Number)).toEqual([inbox[0], inbox[1]]);
    await waitUntil(() => events.slice(before).filter((e) => e.name === 'newMessage').length === 2, 15000, 'two newMessage in Archive');
    await settle(1500); // Dovecot delays IDLE pushes by ~500 ms: anything doubled would show by now
    const after = events.slice(before);
    expect(after.filter((e) => e.name === 'messageDeleted').map((e) => [e.folder, e.uid])).toEqual([['INBOX', inbox[0]], ['INBOX', inbox[1]]]);
    expect(after.filter((e) => e.name === 'newMessage').map((e) => [e.folder, e.uid, e.envelope.subject]))
      .toEqual([['Archive', r.uidMap[inbox[0]], 'Zoë booking'], ['Archive', r.uidMap[inbox[1]], 'plain booking']]);
    await expect(engine.copy('a', 'INBOX', inbox[2], 'Nowhere')).rejects.toMatchObject({ code: 'TRYCREATE' });
  }, 60000);
});
