'use strict';

// One error contract for every promise-returning MailEngine method: bad
// arguments reject with a TypeError naming the option, engine state (closed,
// unknown or removed account) rejects with a coded ImapPushError, and nothing
// throws synchronously. Requests still pending when their account goes away
// or the engine closes settle too, with a SyncResult or a coded rejection.

const { MailEngine } = require('..');
const { MockImapServer } = require('imap-push/testing');
const { waitUntil } = require('./support/wait');

const fast = {
  reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
  sync: { debounceMs: 50 },
  timeouts: { logoutMs: 200 },
};
const SYNC_RESULT_KEYS = ['accountId', 'durationMs', 'error', 'folders', 'ok'];
const FOLDER_RESULT_KEYS = ['changed', 'deleted', 'durationMs', 'folder', 'highestModseq', 'newMessages', 'uidValidity'];

// Calls fn, which must return a promise (not throw), and resolves with its rejection.
async function rejection(fn) {
  let promise;
  expect(() => { promise = fn(); }).not.toThrow();
  expect(promise).toBeInstanceOf(Promise);
  return promise.then((v) => { throw new Error(`resolved with ${JSON.stringify(v)}`); }, (err) => err);
}

// Every request method, called on account `id`.
const requests = (id) => ({
  removeAccount: (e) => e.removeAccount(id),
  sync: (e) => e.sync(id),
  listFolders: (e) => e.listFolders(id),
  fetchMessage: (e) => e.fetchMessage(id, 'INBOX', 1),
});

// Every mailbox action (issue 16), called on account `id`: an unknown account is NOT_FOUND (what: 'account').
const actions = (id) => ({
  append: (e) => e.append(id, 'INBOX', 'Subject: x\r\n\r\nx\r\n'),
  search: (e) => e.search(id, 'INBOX', {}),
  addFlags: (e) => e.addFlags(id, 'INBOX', 1, ['\\Seen']),
  removeFlags: (e) => e.removeFlags(id, 'INBOX', 1, ['\\Seen']),
  setFlags: (e) => e.setFlags(id, 'INBOX', 1, ['\\Seen']),
  move: (e) => e.move(id, 'INBOX', 1, 'Archive'),
  copy: (e) => e.copy(id, 'INBOX', 1, 'Archive'),
  deleteMessages: (e) => e.deleteMessages(id, 'INBOX', 1),
  messages: (e) => e.messages(id, 'INBOX').next(),
  downloadPart: (e) => e.downloadPart(id, 'INBOX', 1, '1'),
  createFolder: (e) => e.createFolder(id, 'X'),
  renameFolder: (e) => e.renameFolder(id, 'X', 'Y'),
  deleteFolder: (e) => e.deleteFolder(id, 'X'),
  subscribeFolder: (e) => e.subscribeFolder(id, 'X'),
  unsubscribeFolder: (e) => e.unsubscribeFolder(id, 'X'),
  quota: (e) => e.quota(id, 'INBOX'),
  folderStatus: (e) => e.folderStatus(id, 'INBOX'),
});

describe('async method errors', () => {
  let engine;
  beforeEach(() => {
    engine = new MailEngine(fast);
  });
  afterEach(() => engine.close());

  test.each([
    ['addAccount(5)', 'account', (e) => e.addAccount(5)],
    ['addAccount without host', 'host', (e) => e.addAccount({ id: 'a', user: 'u', pass: 'p' })],
    ["removeAccount('')", 'id', (e) => e.removeAccount('')],
    ['sync(42)', 'accountId', (e) => e.sync(42)],
    ["sync('a', null)", 'options', (e) => e.sync('a', null)],
    ["sync('a', { folders: 'INBOX' })", 'folders', (e) => e.sync('a', { folders: 'INBOX' })],
    ['listFolders()', 'accountId', (e) => e.listFolders()],
    ["listFolders('a', 'refresh')", 'options', (e) => e.listFolders('a', 'refresh')],
    ["fetchMessage('a', '', 1)", 'folder', (e) => e.fetchMessage('a', '', 1)],
    ["fetchMessage('a', 'INBOX', 0)", 'uid', (e) => e.fetchMessage('a', 'INBOX', 0)],
    ["fetchMessage('a', 'INBOX', 1, null)", 'options', (e) => e.fetchMessage('a', 'INBOX', 1, null)],
    ["fetchMessage('a', 'INBOX', 1, { maxBytes: 0 })", 'maxBytes', (e) => e.fetchMessage('a', 'INBOX', 1, { maxBytes: 0 })],
  ])('%s rejects with a TypeError naming %s', async (_, option, call) => {
    const err = await rejection(() => call(engine));
    expect(err).toBeInstanceOf(TypeError);
    expect(err).toMatchObject({ code: 'INVALID_OPTION', option });
  });

  test.each(Object.entries(requests('nope')))('%s of an unknown account rejects with UNKNOWN_ACCOUNT', async (_, call) => {
    expect(await rejection(() => call(engine))).toMatchObject({ name: 'ImapPushError', code: 'UNKNOWN_ACCOUNT' });
  });

  test.each(Object.entries(actions('nope')))('%s of an unknown account rejects with NOT_FOUND, what: account', async (_, call) => {
    const err = await rejection(() => call(engine));
    expect(err).toMatchObject({ name: 'ImapPushError', code: 'NOT_FOUND', what: 'account', accountId: 'nope' });
    expect(err.message).toBe("no account 'nope'");
  });

  const everyCall = {
    addAccount: (e) => e.addAccount({ id: 'b', host: '127.0.0.1', user: 'u', pass: 'p' }),
    syncAll: (e) => e.syncAll(),
    ...requests('nope'),
    ...actions('nope'),
  };

  test('on a closed engine every method rejects with CLOSED; close() resolves again', async () => {
    await engine.close();
    for (const [name, call] of Object.entries(everyCall)) {
      expect([name, await rejection(() => call(engine))]).toEqual([name, expect.objectContaining({ code: 'CLOSED' })]);
    }
    await expect(engine.close()).resolves.toBeUndefined();
  });

  test('while close() runs, every method already rejects with CLOSED', async () => {
    const closing = engine.close();
    for (const [name, call] of Object.entries(everyCall)) {
      expect([name, await rejection(() => call(engine))]).toEqual([name, expect.objectContaining({ code: 'CLOSED' })]);
    }
    await closing;
  });
});

describe('requests against a server', () => {
  let srv;
  let engine;
  beforeEach(async () => {
    srv = new MockImapServer({ users: { alice: 'pw', bob: 'pw' } });
    await srv.listen();
    engine = new MailEngine(fast);
  });
  afterEach(async () => {
    await engine.close();
    await srv.close();
  });

  const add = (id, user = 'alice') => engine.addAccount({
    id, host: '127.0.0.1', port: srv.port, tls: 'none', allowInsecureAuth: true, user, pass: 'pw',
  });
  const settled = () => waitUntil(() => engine.syncStats().active === 0 && engine.syncStats().pending === 0, 10000, 'syncs to settle');

  // One sync running on a connection that never answers, one queued behind it.
  async function hangingSyncs() {
    await add('acc');
    await settled();
    srv.stall();
    const running = engine.sync('acc');
    await waitUntil(() => engine.syncStats().active === 1, 5000, 'the sync to start');
    const queued = engine.sync('acc');
    await waitUntil(() => engine.syncStats().pending === 1, 5000, 'the second sync to queue');
    return { running, queued };
  }

  const expectSyncResult = (r) => {
    expect(Object.keys(r).sort()).toEqual(SYNC_RESULT_KEYS);
    for (const f of r.folders) expect(Object.keys(f).filter((k) => k !== 'error').sort()).toEqual(FOLDER_RESULT_KEYS);
  };

  test('a sync result has exactly the fields of SyncResult', async () => {
    await add('acc');
    const r = await engine.sync('acc');
    expectSyncResult(r);
    expect(r).toMatchObject({ accountId: 'acc', ok: true, error: null });
    expect(r.folders).toHaveLength(1);
  });

  test('at close, a queued sync rejects with CLOSED and the running one settles as a SyncResult or CLOSED', async () => {
    const { running, queued } = await hangingSyncs();
    await engine.close();
    await expect(queued).rejects.toMatchObject({ name: 'ImapPushError', code: 'CLOSED' });
    const first = await running.catch((err) => err);
    if (first instanceof Error) expect(first).toMatchObject({ code: 'CLOSED' });
    else expectSyncResult(first);
  });

  test('a sync queued when its account is removed rejects with UNKNOWN_ACCOUNT instead of never settling', async () => {
    const { running, queued } = await hangingSyncs();
    const removed = engine.removeAccount('acc');
    const outcome = await Promise.race([
      queued.then(() => 'resolved', (err) => err),
      new Promise((r) => setTimeout(() => r('still pending'), 5000).unref()),
    ]);
    expect(outcome).toMatchObject({ name: 'ImapPushError', code: 'UNKNOWN_ACCOUNT' });
    await removed;
    expectSyncResult(await running); // it ran: its failure is a result
  });

  // A change in flight may have happened: that stays CONNECTION_LOST (actions.test.js); a search is simply gone.
  test('a search pending when its account is removed rejects with NOT_FOUND, what: account', async () => {
    await add('acc');
    await settled();
    srv.stall();
    const pending = engine.search('acc', 'INBOX', {}).then(() => 'resolved', (err) => err);
    await new Promise((r) => setTimeout(r, 100));
    await engine.removeAccount('acc');
    expect(await pending).toMatchObject({ name: 'ImapPushError', code: 'NOT_FOUND', what: 'account', accountId: 'acc' });
  });

  test('syncAll: an account removed meanwhile is a failed SyncResult of its own', async () => {
    await engine.close();
    engine = new MailEngine({ ...fast, sync: { ...fast.sync, maxConcurrent: 1 } });
    await add('a');
    await add('b', 'bob');
    await settled();
    const all = engine.syncAll();
    const removed = engine.removeAccount('b');
    const [a, b] = await all;
    await removed;
    expectSyncResult(a);
    expect(a).toMatchObject({ accountId: 'a', ok: true });
    expectSyncResult(b);
    expect(b).toMatchObject({ accountId: 'b', ok: false, error: { code: 'UNKNOWN_ACCOUNT' } });
  });
});
