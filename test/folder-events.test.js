'use strict';

// Issue 16, seed 000's event set: folderChanged (a watched folder's counts,
// from a debounced STATUS on the pool), folderStatus() and connectionLost /
// connectionRestored (derived from connectionStatus), against the mock server
// and a real Dovecot.

const { dovecotAvailable } = require('./support/dovecot');
const { useEngineFixture } = require('./support/engine-fixture');
const { waitUntil, waitForEvent } = require('./support/wait');

const counts = ({ exists, unseen, uidNext }) => ({ exists, unseen, uidNext });

describe('folder events against the mock server', () => {
  const fx = useEngineFixture();
  let server;
  let engine;

  async function start({ caps, setup } = {}) {
    await fx.mock({ caps, setup, engineOptions: { reconnect: { initialDelayMs: 50, maxDelayMs: 200 } } });
    ({ server, engine } = fx);
    return fx.events;
  }

  // The STATUS commands that ask for counts (the sync's own STATUS asks no UNSEEN).
  const countQueries = () => server.commandLog.filter((c) => c.command === 'STATUS' && /UNSEEN/.test(c.args));

  test('delivery, another client marking seen, and an expunge: one folderChanged each, with the new counts', async () => {
    const events = await start();
    server.appendMessage('INBOX', { subject: 'old', flags: ['\\Seen'] });
    await waitUntil(() => fx.named('folderChanged').length === 1, 5000, 'the first folderChanged');
    const before = await engine.folderStatus('a', 'INBOX');
    expect(before).toMatchObject({ accountId: 'a', folder: 'INBOX', exists: 1, unseen: 0 });
    expect(counts(fx.named('folderChanged')[0])).toEqual(counts(before));

    const uid = server.appendMessage('INBOX', { subject: 'new' });
    await waitUntil(() => fx.named('folderChanged').length === 2, 5000, 'folderChanged after the delivery');
    const delivered = fx.named('folderChanged')[1];
    expect(delivered).toMatchObject({ accountId: 'a', folder: 'INBOX', exists: before.exists + 1, unseen: before.unseen + 1,
      uidNext: uid + 1 });
    expect(delivered.highestModseq).toBeGreaterThan(before.highestModseq);

    server.setFlags('INBOX', uid, ['\\Seen']);
    await waitUntil(() => fx.named('folderChanged').length === 3, 5000, 'folderChanged after the flag change');
    expect(fx.named('folderChanged')[2]).toMatchObject({ exists: before.exists + 1, unseen: before.unseen });

    server.expunge('INBOX', uid);
    await waitUntil(() => fx.named('folderChanged').length === 4, 10000, 'folderChanged after the expunge');
    expect(fx.named('folderChanged')[3]).toMatchObject({ exists: before.exists, unseen: before.unseen, uidNext: uid + 1 });
    // Each folderChanged followed the change it reports.
    const order = events.filter((e) => e.name !== 'connectionStatus' && e.name !== 'syncCompleted').map((e) => e.name);
    expect(order).toEqual(['newMessage', 'folderChanged', 'newMessage', 'folderChanged', 'flagsChanged', 'folderChanged',
      'messageDeleted', 'folderChanged']);
  });

  test('a sync that finds nothing asks no counts and sends no folderChanged', async () => {
    const events = await start();
    server.appendMessage('INBOX', { subject: 'one' });
    await waitUntil(() => fx.named('folderChanged').length === 1, 5000, 'the first folderChanged');
    const asked = countQueries().length;
    const result = await engine.sync('a');
    expect(result.ok).toBe(true);
    expect(result.folders[0]).toMatchObject({ newMessages: 0, changed: 0, deleted: 0 });
    expect(countQueries()).toHaveLength(asked);
    // A later change is the next folderChanged: nothing came in between.
    server.appendMessage('INBOX', { subject: 'two' });
    await waitUntil(() => fx.named('folderChanged').length === 2, 5000, 'folderChanged after the second delivery');
    expect(fx.named('folderChanged')[1]).toMatchObject({ exists: 2, unseen: 2 });
  });

  test('a folder only synced, not watched, gets no folderChanged', async () => {
    const events = await start();
    server.createMailbox('Archive');
    await engine.sync('a', { folders: ['Archive'] });
    server.appendMessage('Archive', { subject: 'archived' });
    const r = await engine.sync('a', { folders: ['Archive'] });
    expect(r.folders[0]).toMatchObject({ folder: 'Archive', newMessages: 1 });
    expect(fx.named('newMessage').map((e) => e.folder)).toEqual(['Archive']);
    server.appendMessage('INBOX', { subject: 'watched' });
    await waitUntil(() => fx.named('folderChanged').length === 1, 5000, 'folderChanged of INBOX');
    expect(fx.named('folderChanged')[0]).toMatchObject({ folder: 'INBOX', exists: 1 });
    expect(countQueries().map((c) => c.args)).not.toContainEqual(expect.stringMatching(/Archive/));
  });

  test('a change that leaves the counts as they were sends no folderChanged', async () => {
    // Without CONDSTORE a keyword changes neither count nor HIGHESTMODSEQ.
    const caps = ['IMAP4rev1', 'IDLE', 'UIDPLUS', 'ENABLE', 'LITERAL+', 'SASL-IR', 'AUTH=PLAIN'];
    const events = await start({ caps });
    const uid = server.appendMessage('INBOX', { subject: 'one' });
    await waitUntil(() => fx.named('folderChanged').length === 1, 5000, 'the first folderChanged');
    expect(fx.named('folderChanged')[0].highestModseq).toBeNull();
    const asked = countQueries().length;
    server.setFlags('INBOX', uid, ['$Label']);
    await waitUntil(() => fx.named('flagsChanged').length === 1, 5000, 'the flagsChanged');
    await server.waitFor((c) => c.command === 'STATUS' && /UNSEEN/.test(c.args) && countQueries().length > asked, 5000);
    server.appendMessage('INBOX', { subject: 'two' });
    await waitUntil(() => fx.named('folderChanged').length >= 2, 5000, 'folderChanged after the second delivery');
    // The keyword's STATUS was answered before the delivery's was sent (one run at a time).
    expect(fx.named('folderChanged').map(counts)).toEqual([{ exists: 1, unseen: 1, uidNext: uid + 1 },
      { exists: 2, unseen: 2, uidNext: uid + 2 }]);
  });

  test('a burst of 10 deliveries is merged into fewer folderChanged, the last with every one counted', async () => {
    const events = await start();
    const first = await engine.folderStatus('a', 'INBOX');
    for (let i = 0; i < 10; i++) server.appendMessage('INBOX', { subject: `m${i}` });
    await waitUntil(() => fx.named('newMessage').length === 10, 5000, 'ten newMessage');
    await waitUntil(() => fx.named('folderChanged').some((e) => e.exists === first.exists + 10), 5000, 'the counts of all ten');
    const changed = fx.named('folderChanged');
    expect(changed.length).toBeLessThan(10);
    expect(changed[changed.length - 1]).toMatchObject({ exists: first.exists + 10, unseen: first.unseen + 10 });
  });

  test('folderStatus answers for a folder nobody watches, and rejects what it cannot answer', async () => {
    await start({
      setup: (s) => {
        s.createMailbox('Archive');
        s.appendMessage('Archive', { subject: 'kept', flags: ['\\Seen'] });
        s.appendMessage('Archive', { subject: 'unread' });
      },
    });
    const st = await engine.folderStatus('a', 'Archive');
    expect(st).toEqual({ accountId: 'a', folder: 'Archive', exists: 2, unseen: 1, uidNext: 3,
      highestModseq: server.mailbox('Archive').highestModseq });
    await expect(engine.folderStatus('a', 'Nope')).rejects.toMatchObject({ code: 'NOT_FOUND', what: 'folder', accountId: 'a', folder: 'Nope' });
    await expect(engine.folderStatus('b', 'INBOX')).rejects.toMatchObject({ code: 'NOT_FOUND', what: 'account', accountId: 'b' });
    await expect(engine.folderStatus('a', '')).rejects.toThrow(TypeError);
    await expect(engine.folderStatus('a', '')).rejects.toThrow(/folder/);
    await expect(engine.folderStatus('', 'INBOX')).rejects.toThrow(/accountId/);
    await expect(engine.folderStatus('a', 7)).rejects.toThrow(TypeError);
  });

  test('folderStatus of the folder its pooled connection has selected leaves it first with UNSELECT, where offered', async () => {
    const { DEFAULT_CAPS } = require('imap-push/testing');
    for (const caps of [[...DEFAULT_CAPS, 'UNSELECT'], DEFAULT_CAPS]) {
      await start({ caps });
      const uid = server.appendMessage('INBOX', { subject: 'one' });
      await waitForEvent(engine, 'folderChanged');
      expect(await engine.search('a', 'INBOX', { seen: false })).toEqual([uid]);
      const from = server.commandLog.length;
      await expect(engine.folderStatus('a', 'INBOX')).resolves.toMatchObject({ exists: 1, unseen: 1 });
      const sent = server.commandLog.slice(from).filter((c) => !['IDLE', 'DONE'].includes(c.command)).map((c) => c.command);
      expect(sent).toEqual(caps.includes('UNSELECT') ? ['UNSELECT', 'STATUS'] : ['STATUS']);
      await fx.reset();
    }
  });

  test('a dropped connection: connectionLost, then connectionRestored with the downtime', async () => {
    const events = await start();
    server.dropAll();
    const restored = await waitForEvent(engine, 'connectionRestored', () => true, 10000);
    const lost = fx.named('connectionLost');
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ accountId: 'a', folder: 'INBOX' });
    expect(lost[0].error).toBeInstanceOf(Error);
    expect(typeof lost[0].error.code).toBe('string');
    expect(restored).toEqual({ accountId: 'a', folder: 'INBOX', downtimeMs: expect.any(Number) });
    expect(restored.downtimeMs).toBeGreaterThanOrEqual(0);
    const names = events.filter((e) => /^connection/.test(e.name)).map((e) => `${e.name}:${e.state || ''}`);
    // Alongside connectionStatus: lost right after the status that left idle, restored right after idle.
    const lostAt = names.indexOf('connectionLost:');
    expect(names[lostAt - 1]).toMatch(/^connectionStatus:(error|disconnected)$/);
    expect(names[names.length - 1]).toBe('connectionRestored:');
    expect(names[names.length - 2]).toBe('connectionStatus:idle');
  });

  test('subscribe() relays folderChanged, connectionLost and connectionRestored as notifications', async () => {
    await start();
    const got = [];
    const unsubscribe = engine.subscribe({}, (item) => got.push(item));
    server.appendMessage('INBOX', { subject: 'x' });
    await waitUntil(() => got.some((i) => i.type === 'folderChanged'), 5000, 'a folderChanged notification');
    expect(got.find((i) => i.type === 'folderChanged')).toMatchObject({ accountId: 'a', folder: 'INBOX', exists: 1 });
    server.dropAll();
    await waitUntil(() => got.some((i) => i.type === 'connectionRestored'), 10000, 'a connectionRestored notification');
    expect(got.some((i) => i.type === 'connectionLost')).toBe(true);
    unsubscribe();
  });

  test('removeAccount and close log out without connectionLost', async () => {
    const events = await start();
    await engine.removeAccount('a');
    expect(fx.named('connectionStatus').some((e) => e.previous === 'idle')).toBe(true);
    await engine.addAccount({ id: 'b', host: '127.0.0.1', port: server.port, tls: 'none', allowInsecureAuth: true, user: 'u', pass: 'p' });
    await fx.reset();
    expect(fx.named('connectionLost')).toEqual([]);
    expect(fx.named('connectionRestored')).toEqual([]);
  });
});

const describeDovecot = dovecotAvailable() ? describe : describe.skip;
describeDovecot('folder events against Dovecot', () => {
  const fx = useEngineFixture();

  test('one delivery: one folderChanged with the right counts; folderStatus of INBOX and of a folder not watched', async () => {
    await fx.dovecotAccount({ setup: (d) => d.deliver('alice', 'Subject: archived\r\nMessage-ID: <arch@x>\r\n\r\nbody\r\n', 'Archive') });
    const { dovecot, engine, events } = fx;
    const before = await engine.folderStatus('a', 'INBOX');
    expect(before).toMatchObject({ accountId: 'a', folder: 'INBOX', exists: 0, unseen: 0 });
    dovecot.deliver('alice', 'Subject: d1\r\nMessage-ID: <d1@x>\r\n\r\nbody\r\n');
    const changed = await waitForEvent(engine, 'folderChanged', () => true, 15000);
    expect(changed).toMatchObject({ accountId: 'a', folder: 'INBOX', exists: 1, unseen: 1, uidNext: before.uidNext + 1 });
    expect(changed.highestModseq).toBeGreaterThan(0);
    await expect(engine.folderStatus('a', 'INBOX')).resolves.toEqual(changed);
    const archive = await engine.folderStatus('a', 'Archive');
    expect(archive).toMatchObject({ folder: 'Archive', exists: 1, unseen: 1, uidNext: 2 });
    await expect(engine.folderStatus('a', 'Nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // Marking it seen is one more folderChanged, with unseen 0.
    await engine.addFlags('a', 'INBOX', fx.named('newMessage')[0].uid, ['\\Seen']);
    await waitUntil(() => fx.named('folderChanged').length === 2, 15000, 'folderChanged after \\Seen');
    expect(fx.named('folderChanged')[1]).toMatchObject({ exists: 1, unseen: 0 });
    expect(fx.named('folderChanged').filter((e) => e.folder !== 'INBOX')).toEqual([]);
  }, 60000);
});
