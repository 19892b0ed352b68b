'use strict';

// The notification layer: batching, bounded queues that merge on overflow,
// filtered subscriptions, async iteration and health.

const { MailEngine } = require('..');
const { Notifier } = require('../lib/notify');
const { MockImapServer } = require('imap-push/testing');
const { waitForEvent, waitUntil, sleep } = require('./support/wait');
const { engineWithNotifier } = require('./support/notifier');

const PASSWORD = 'notify-secret-pw';

const msg = (folder, uid, accountId = 'acc') => ({ accountId, folder, uid, envelope: { subject: `m${uid}` } });

/** Every batch the engine emits, flattened in order. */
function recordBatches(engine) {
  const batches = [];
  engine.on('batch', (items) => batches.push(items));
  batches.items = () => batches.flat();
  return batches;
}

describe('Notifier', () => {
  let engine;
  let notifier;
  let server;

  // Most tests drive the notifier through the engine's public emitter: it
  // only ever sees public events, so this is exactly what it gets in production.
  function setup(options) {
    ({ engine, notifier } = engineWithNotifier({}, options));
    return notifier;
  }

  async function watchMock(folders = ['INBOX']) {
    server = new MockImapServer({ users: { alice: PASSWORD } });
    for (const f of folders) if (f !== 'INBOX') server.createMailbox(f);
    await server.listen();
    await engine.addAccount({
      id: 'acc', host: '127.0.0.1', port: server.port, tls: 'none', allowInsecureAuth: true, user: 'alice', pass: PASSWORD, folders,
    });
  }

  afterEach(async () => {
    if (notifier) notifier.stop();
    if (engine) await engine.close();
    if (server) await server.close();
    engine = notifier = server = null;
  });

  describe('options', () => {
    test.each([
      [{ batchSize: 0 }, 'notifications.batchSize'],
      [{ batchIntervalMs: -1 }, 'notifications.batchIntervalMs'],
      [{ maxQueue: 1.5 }, 'notifications.maxQueue'],
      [{ healthIntervalMs: '10' }, 'notifications.healthIntervalMs'],
      [{ bogus: 1 }, 'notifications.bogus'],
      ['fast', 'notifications'],
    ])('%p is rejected naming %s', (options, name) => {
      const e = new MailEngine();
      let err;
      try {
        new Notifier(e, options); // eslint-disable-line no-new
      } catch (caught) {
        err = caught;
      }
      expect(err).toBeInstanceOf(TypeError);
      expect(err).toMatchObject({ code: 'INVALID_OPTION', option: name });
      expect(err.message).toContain(name);
      expect(() => new MailEngine({ notifications: options })).toThrow(expect.objectContaining({ option: name }));
    });

    test('defaults', () => {
      expect(setup().options).toEqual({ batchSize: 50, batchIntervalMs: 100, maxQueue: 10000, healthIntervalMs: 0, preview: 0 });
      const other = new Notifier(engine);
      expect(other.options.healthIntervalMs).toBe(30000);
      other.stop();
    });
  });

  describe('batching', () => {
    test('flushes when batchSize is reached, and stop() flushes the rest', () => {
      setup({ batchSize: 3, batchIntervalMs: 60000 });
      const batches = recordBatches(engine);
      const seen = [];
      engine.on('newMessage', (m) => seen.push(m.uid));
      for (let uid = 1; uid <= 7; uid++) engine.emit('newMessage', msg('INBOX', uid));
      expect(batches.map((b) => b.map((i) => i.uid))).toEqual([[1, 2, 3], [4, 5, 6]]);
      expect(batches[0][0]).toEqual({ type: 'newMessage', ...msg('INBOX', 1) });
      notifier.stop();
      expect(batches.map((b) => b.length)).toEqual([3, 3, 1]);
      expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]); // per-event listeners are untouched
    });

    test('flushes batchIntervalMs after the first queued item', async () => {
      setup({ batchSize: 1000, batchIntervalMs: 20 });
      const first = waitForEvent(engine, 'batch', () => true, 5000);
      engine.emit('newMessage', msg('INBOX', 1));
      engine.emit('flagsChanged', { accountId: 'acc', folder: 'INBOX', uid: 1, seq: 1, flags: ['\\Seen'] });
      expect((await first).map((i) => i.type)).toEqual(['newMessage', 'flagsChanged']);
      expect(notifier.health().queueDepth).toBe(0);
    });

    test('nothing is queued while nobody listens for batches', () => {
      setup({ batchIntervalMs: 60000 });
      engine.emit('newMessage', msg('INBOX', 1));
      expect(notifier.health().queueDepth).toBe(0);
    });

    test('real mail from the mock server arrives in order across batches', async () => {
      setup({ batchSize: 4, batchIntervalMs: 20 });
      await watchMock();
      const batches = recordBatches(engine);
      const uids = [];
      for (let i = 0; i < 10; i++) uids.push(server.appendMessage('INBOX', { subject: `burst ${i}` }));
      const received = () => batches.items().filter((i) => i.type === 'newMessage');
      await waitUntil(() => received().length === 10, 10000, '10 batched messages');
      expect(received().map((i) => i.uid)).toEqual(uids);
      expect(received()[3]).toMatchObject({ accountId: 'acc', folder: 'INBOX', envelope: { subject: 'burst 3' } });
      expect(batches.every((b) => b.length <= 4)).toBe(true);
    });
  });

  describe('overflow', () => {
    test('past maxQueue, events merge into one folderUpdated per folder and are counted', () => {
      setup({ maxQueue: 3, batchSize: 100, batchIntervalMs: 60000 });
      const batches = recordBatches(engine);
      for (let uid = 1; uid <= 3; uid++) engine.emit('newMessage', msg('INBOX', uid));
      for (let uid = 4; uid <= 8; uid++) engine.emit('newMessage', msg('INBOX', uid));
      engine.emit('messageDeleted', { accountId: 'acc', folder: 'Sent', uid: 9, seq: 1 });
      engine.emit('flagsChanged', { accountId: 'acc', folder: 'Sent', uid: 9, seq: 1, flags: [] });
      engine.emit('newMessage', msg('INBOX', 1, 'other'));
      engine.emit('push', { accountId: 'acc', source: 'gmail' });
      expect(notifier.health()).toMatchObject({ queueDepth: 7, merged: 9 });
      notifier.stop();
      expect(batches).toHaveLength(1);
      const [batch] = batches;
      expect(batch.slice(0, 3).map((i) => i.uid)).toEqual([1, 2, 3]);
      expect(batch.slice(3)).toEqual([
        { type: 'folderUpdated', accountId: 'acc', folder: 'INBOX', needsSync: true, merged: 5 },
        { type: 'folderUpdated', accountId: 'acc', folder: 'Sent', needsSync: true, merged: 2 },
        { type: 'folderUpdated', accountId: 'other', folder: 'INBOX', needsSync: true, merged: 1 },
        // An account-level event has no folder: the whole account needs a sync.
        { type: 'folderUpdated', accountId: 'acc', folder: null, needsSync: true, merged: 1 },
      ]);
      expect(notifier.health().merged).toBe(9);
    });
  });

  describe('subscribe', () => {
    test('filters by account, folder and event type; unsubscribe stops delivery', () => {
      setup();
      const got = { all: [], acc: [], sent: [], flags: [] };
      notifier.subscribe({}, (e) => got.all.push(e));
      notifier.subscribe({ accounts: ['acc'] }, (e) => got.acc.push(e));
      const unsubscribe = notifier.subscribe({ folders: ['Sent'] }, (e) => got.sent.push(e));
      notifier.subscribe({ accounts: ['acc'], events: ['flagsChanged'] }, (e) => got.flags.push(e));
      expect(notifier.health().listeners).toBe(4);

      engine.emit('newMessage', msg('INBOX', 1));
      engine.emit('newMessage', msg('Sent', 2));
      engine.emit('flagsChanged', { accountId: 'acc', folder: 'Sent', uid: 2, seq: 1, flags: ['\\Seen'] });
      engine.emit('newMessage', msg('Sent', 3, 'other'));
      engine.emit('push', { accountId: 'acc', source: 'graph' });
      unsubscribe();
      engine.emit('newMessage', msg('Sent', 4));

      const ids = (list) => list.map((e) => `${e.type}:${e.accountId}:${e.uid ?? '-'}`);
      expect(ids(got.all)).toEqual(['newMessage:acc:1', 'newMessage:acc:2', 'flagsChanged:acc:2', 'newMessage:other:3', 'push:acc:-', 'newMessage:acc:4']);
      expect(ids(got.acc)).toEqual(['newMessage:acc:1', 'newMessage:acc:2', 'flagsChanged:acc:2', 'push:acc:-', 'newMessage:acc:4']);
      // An account-level event (push) concerns every folder, so it passes a folder filter.
      expect(ids(got.sent)).toEqual(['newMessage:acc:2', 'flagsChanged:acc:2', 'newMessage:other:3', 'push:acc:-']);
      expect(ids(got.flags)).toEqual(['flagsChanged:acc:2']);
      expect(notifier.health().listeners).toBe(3);
    });

    test('invalid filters and handlers are TypeErrors naming the option', () => {
      setup();
      expect(() => notifier.subscribe({ accounts: 'acc' }, () => {})).toThrow(expect.objectContaining({ option: 'accounts' }));
      expect(() => notifier.subscribe({ events: ['newMesage'] }, () => {})).toThrow(expect.objectContaining({ option: 'events' }));
      expect(() => notifier.subscribe({}, null)).toThrow(expect.objectContaining({ option: 'handler' }));
    });

    test('receives real events from the engine', async () => {
      setup();
      const got = [];
      const all = [];
      notifier.subscribe({ folders: ['Archive'], events: ['newMessage'] }, (e) => got.push(e));
      notifier.subscribe({ events: ['newMessage'] }, (e) => all.push(e));
      await watchMock(['INBOX', 'Archive']);
      server.appendMessage('INBOX', { subject: 'not me' });
      const uid = server.appendMessage('Archive', { subject: 'archived' });
      await waitUntil(() => all.length === 2, 10000, 'both messages');
      expect(got).toEqual([expect.objectContaining({ type: 'newMessage', folder: 'Archive', uid, envelope: expect.objectContaining({ subject: 'archived' }) })]);
    });
  });

  describe('events() iterator', () => {
    test('yields matching events and ends cleanly when the signal aborts', async () => {
      setup();
      const controller = new AbortController();
      const got = [];
      const loop = (async () => {
        for await (const e of notifier.events({ accounts: ['acc'], signal: controller.signal })) got.push(e.uid);
        return 'ended';
      })();
      engine.emit('newMessage', msg('INBOX', 1));
      engine.emit('newMessage', msg('INBOX', 2, 'other'));
      engine.emit('newMessage', msg('INBOX', 3));
      await waitUntil(() => got.length === 2, 5000, 'two events');
      expect(notifier.health().listeners).toBe(1);
      controller.abort(); // the loop is parked in next(): it must resolve, not throw
      await expect(loop).resolves.toBe('ended');
      expect(got).toEqual([1, 3]);
      expect(notifier.health().listeners).toBe(0);
    });

    test('an already aborted signal yields nothing', async () => {
      setup();
      const got = [];
      for await (const e of notifier.events({ signal: AbortSignal.abort() })) got.push(e);
      expect(got).toEqual([]);
      expect(notifier.health().listeners).toBe(0);
    });

    test('breaking out of the loop unsubscribes', async () => {
      setup();
      const it = notifier.events();
      engine.emit('newMessage', msg('INBOX', 1));
      for await (const e of it) {
        expect(e.uid).toBe(1);
        break;
      }
      expect(notifier.health().listeners).toBe(0);
      await expect(it.next()).resolves.toEqual({ value: undefined, done: true });
    });

    test('its buffer is bounded and merges a slow consumer\'s backlog per folder', async () => {
      setup({ maxQueue: 2 });
      const it = notifier.events({ signal: new AbortController().signal });
      for (let uid = 1; uid <= 6; uid++) engine.emit('newMessage', msg('INBOX', uid));
      expect(notifier.health()).toMatchObject({ queueDepth: 3, merged: 4 });
      const first = await it.next();
      expect(first.value.uid).toBe(1);
      // Room again, but INBOX already has a merged entry: later INBOX events join it.
      engine.emit('newMessage', msg('INBOX', 7));
      const rest = [(await it.next()).value, (await it.next()).value];
      expect(rest).toEqual([
        expect.objectContaining({ uid: 2 }),
        { type: 'folderUpdated', accountId: 'acc', folder: 'INBOX', needsSync: true, merged: 5 },
      ]);
      expect(notifier.health()).toMatchObject({ queueDepth: 0, merged: 5 });
      await it.return();
    });

    test('stop() ends open iterators', async () => {
      setup();
      const loop = (async () => {
        for await (const e of notifier.events()) void e; // eslint-disable-line no-void
        return 'ended';
      })();
      await sleep(10);
      notifier.stop();
      await expect(loop).resolves.toBe('ended');
    });

    test('rejects a signal that is not an AbortSignal', () => {
      setup();
      expect(() => notifier.events({ signal: 'soon' })).toThrow(expect.objectContaining({ option: 'signal', code: 'INVALID_OPTION' }));
    });
  });

  describe('health', () => {
    test('an engine without accounts is healthy', () => {
      setup();
      expect(notifier.health()).toEqual({
        isHealthy: true, idleConnections: 0, pooledConnections: 0, activeSyncs: 0, pendingSyncs: 0,
        listeners: 0, queueDepth: 0, merged: 0, accounts: [],
      });
    });

    test('follows the folders\' connection state', async () => {
      setup();
      await watchMock(['INBOX', 'Archive']);
      expect(notifier.health()).toMatchObject({
        isHealthy: true,
        idleConnections: 2,
        accounts: [{ accountId: 'acc', state: 'idle', lastError: null, folders: expect.arrayContaining([expect.objectContaining({ folder: 'INBOX', state: 'idle' }), expect.objectContaining({ folder: 'Archive', state: 'idle' })]) }],
      });
      const down = waitForEvent(engine, 'connectionStatus', (e) => e.state === 'disconnected', 10000);
      await server.close();
      await down;
      const h = notifier.health();
      expect(h.isHealthy).toBe(false);
      expect(h.idleConnections).toBeLessThan(2);
      expect(h.accounts[0].state).not.toBe('idle');
      await waitUntil(() => notifier.health().accounts[0].lastError !== null, 10000, 'a recorded error');
      expect(notifier.health().accounts[0].lastError).toEqual(expect.objectContaining({ code: expect.any(String), folder: expect.any(String) }));
    });

    test('takes pool and sync figures from the engine when it has them', () => {
      setup();
      // Real values once the pool/sync layer lands; here we only check the mapping.
      engine.poolStats = () => ({ open: 3, busy: 1, idle: 2 });
      engine.syncStats = () => ({ active: 1, pending: 4 });
      expect(notifier.health()).toMatchObject({ pooledConnections: 3, activeSyncs: 1, pendingSyncs: 4 });
    });

    test('fires healthCheck every healthIntervalMs until stopped', async () => {
      setup({ healthIntervalMs: 20 });
      const h = await waitForEvent(engine, 'healthCheck', () => true, 5000);
      expect(h).toMatchObject({ isHealthy: true, accounts: [] });
      notifier.stop();
      let after = 0;
      engine.on('healthCheck', () => after++);
      await sleep(100);
      expect(after).toBe(0);
    });
  });
});
