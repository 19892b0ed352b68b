'use strict';

// Pooled connections, incremental sync, tokens and persistent state against
// the mock server.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { MailEngine } = require('..');
const { MockImapServer } = require('imap-push/testing');
const { waitForEvent, recordEvents, waitUntil, sleep } = require('./support/wait');

const fast = { reconnect: { initialDelayMs: 50, maxDelayMs: 200 }, sync: { debounceMs: 50 } };

describe('pool and sync', () => {
  let servers = [];
  let engines = [];
  let dirs = [];

  async function server(opts = {}) {
    const s = new MockImapServer({ users: { alice: 'pw', bob: 'pw' }, tokens: { alice: 'tok-1' }, ...opts });
    await s.listen();
    servers.push(s);
    return s;
  }
  function engine(opts = {}) {
    const e = new MailEngine({ ...fast, ...opts });
    engines.push(e);
    return e;
  }
  const account = (srv, extra = {}) => ({
    id: 'acc', host: '127.0.0.1', port: srv.port, tls: 'none', allowInsecureAuth: true, user: 'alice', pass: 'pw', ...extra,
  });
  // The first sync runs by itself once an account is ready.
  const settled = (e) => waitUntil(() => e.syncStats().active === 0 && e.syncStats().pending === 0, 10000, 'syncs to settle');

  afterEach(async () => {
    for (const e of engines) await e.close();
    for (const s of servers) await s.close();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    servers = [];
    engines = [];
    dirs = [];
  });

  test('sync reuses a warm pooled connection: no new LOGIN across cycles', async () => {
    const srv = await server();
    const e = engine();
    await e.addAccount(account(srv));
    await settled(e);
    const logins = srv.loginAttempts;
    for (let i = 0; i < 5; i++) {
      const r = await e.sync('acc');
      expect(r).toMatchObject({ accountId: 'acc', ok: true, error: null });
      expect(r.folders).toEqual([expect.objectContaining({ folder: 'INBOX', uidValidity: 1700000000, newMessages: 0, changed: 0, deleted: 0 })]);
    }
    expect(srv.loginAttempts).toBe(logins);
    const stats = e.poolStats();
    expect(stats).toMatchObject({ created: 1, open: 1, failures: 0 });
    expect(stats.reused).toBeGreaterThanOrEqual(5);
  });

  test('a no-change sync on a warm connection costs at most two round trips', async () => {
    const srv = await server();
    const e = engine();
    await e.addAccount(account(srv));
    await settled(e);
    await e.sync('acc');
    const before = srv.commandLog.length;
    await e.sync('acc');
    const commands = srv.commandLog.slice(before).filter((c) => c.command !== 'IDLE' && c.command !== 'DONE');
    expect(commands.length).toBeLessThanOrEqual(2);
    expect(commands.map((c) => c.command)).not.toContain('AUTHENTICATE');
  });

  test('the pool limit holds: concurrent work never opens more than pool.maxPerAccount connections', async () => {
    const srv = await server();
    srv.createMailbox('A');
    srv.createMailbox('B');
    const e = engine({ pool: { maxPerAccount: 2 } });
    await e.addAccount(account(srv));
    await settled(e);
    let peak = 0;
    srv.on('command', () => { peak = Math.max(peak, srv.connections); });
    await Promise.all([
      e.sync('acc', { folders: ['A'] }), e.listFolders('acc', { refresh: true }), e.listFolders('acc', { refresh: true }),
      e.listFolders('acc', { refresh: true }), e.sync('acc', { folders: ['B'] }),
    ]);
    expect(peak).toBeLessThanOrEqual(1 + 2); // the IDLE connection plus the pool
    expect(e.poolStats('acc').open).toBeLessThanOrEqual(2);
  });

  test("one account's dead server does not disturb the others", async () => {
    const good = await server();
    const bad = await server();
    const e = engine({ reconnect: { initialDelayMs: 5000 } });
    await e.addAccount(account(good, { id: 'good' }));
    await e.addAccount(account(bad, { id: 'bad' }));
    await settled(e);
    await bad.close();
    servers = servers.filter((s) => s !== bad);
    const results = await e.syncAll();
    const byId = Object.fromEntries(results.map((r) => [r.accountId, r]));
    expect(byId.good).toMatchObject({ ok: true, error: null });
    expect(byId.bad.ok).toBe(false);
    expect(byId.bad.error).toMatchObject({ code: expect.stringMatching(/CONNECT_FAILED|CONNECTION_LOST|CLOSED/) });
    good.appendMessage('INBOX', { subject: 'still flowing' });
    await waitForEvent(e, 'newMessage', (m) => m.accountId === 'good');
  });

  test('a dead pooled connection is found by the health check and replaced', async () => {
    const srv = await server();
    const e = engine({ pool: { healthCheckMs: 0 }, timeouts: { commandMs: 300 } });
    await e.addAccount(account(srv));
    await settled(e);
    const pooled = srv.clients().find((c) => !c.idling);
    srv.stallConnection(pooled.id);
    const r = await e.sync('acc');
    expect(r.ok).toBe(true);
    const stats = e.poolStats();
    expect(stats.healthChecks).toBeGreaterThanOrEqual(1);
    expect(stats.created).toBe(2);
  });

  test('sync reports flags with CONDSTORE, deletions, and new mail, each once', async () => {
    const srv = await server();
    const e = engine();
    const events = recordEvents(e);
    await e.addAccount(account(srv));
    await settled(e);
    const u1 = srv.appendMessage('INBOX', { subject: 'one' });
    const u2 = srv.appendMessage('INBOX', { subject: 'two' });
    await waitUntil(() => events.of('newMessage').length === 2, 5000, 'two messages');
    await settled(e);
    srv.setFlags('INBOX', u1, ['\\Seen']);
    srv.expunge('INBOX', u2);
    await waitUntil(() => events.of('messageDeleted').length === 1 && events.of('flagsChanged').length === 1, 5000, 'the changes');
    await settled(e);
    await e.sync('acc');
    await sleep(200);
    expect(events.of('flagsChanged')).toEqual([expect.objectContaining({ uid: u1, flags: ['\\Seen'] })]);
    expect(events.of('messageDeleted')).toEqual([expect.objectContaining({ uid: u2 })]);
    expect(events.of('newMessage').map((m) => m.uid)).toEqual([u1, u2]);
  });

  test('with QRESYNC, a deletion IDLE reported is not reported again by a sync', async () => {
    const srv = await server();
    srv.setCapability('QRESYNC', true);
    const e = engine();
    const events = recordEvents(e);
    await e.addAccount(account(srv));
    const uid = srv.appendMessage('INBOX', { subject: 'short-lived' });
    await waitForEvent(e, 'newMessage');
    await e.sync('acc'); // the pool's baseline: HIGHESTMODSEQ before the expunge
    srv.expunge('INBOX', uid);
    await waitForEvent(e, 'messageDeleted');
    const r = await e.sync('acc');
    expect(r.ok).toBe(true);
    await sleep(200);
    expect(events.of('messageDeleted')).toEqual([expect.objectContaining({ uid })]);
  });

  test('a UIDVALIDITY change seen by sync emits folderReset once and resyncs', async () => {
    const srv = await server();
    const e = engine();
    const events = recordEvents(e);
    await e.addAccount(account(srv));
    await settled(e);
    srv.setUidValidity('INBOX', 1800000000, { disconnect: false });
    const r = await e.sync('acc');
    expect(r.folders[0].uidValidity).toBe(1800000000);
    expect(events.of('folderReset')).toEqual([expect.objectContaining({ uidValidity: 1800000000 })]);
  });

  test.each([['without QRESYNC', false], ['with QRESYNC', true]])('sync.initial reports the newest existing messages on the first sync (%s)', async (_, qresync) => {
    const srv = await server();
    if (qresync) srv.setCapability('QRESYNC', true);
    for (let i = 1; i <= 5; i++) srv.appendMessage('INBOX', { subject: `old ${i}` });
    const e = engine({ sync: { initial: { last: 2 } } });
    const events = recordEvents(e);
    await e.addAccount(account(srv));
    await settled(e);
    expect(events.of('newMessage').map((m) => m.envelope.subject).sort()).toEqual(['old 4', 'old 5']);
    await e.sync('acc');
    expect(events.of('newMessage')).toHaveLength(2);
  });

  test('IDLE events schedule one debounced sync for a burst', async () => {
    const srv = await server();
    const e = engine({ sync: { debounceMs: 200 } });
    await e.addAccount(account(srv));
    await settled(e);
    const uids = [];
    for (let i = 0; i < 5; i++) uids.push(srv.appendMessage('INBOX', { subject: `b${i}` }));
    await sleep(100);
    let syncs = 0;
    e.on('syncStarted', () => { syncs += 1; });
    for (const uid of uids) srv.expunge('INBOX', uid);
    await waitUntil(() => syncs >= 1, 5000, 'the debounced sync');
    await settled(e);
    expect(syncs).toBe(1);
  });

  test('syncStarted, syncProgress and syncCompleted describe a run', async () => {
    const srv = await server();
    srv.createMailbox('Tickets');
    const e = engine();
    await e.addAccount(account(srv, { folders: ['INBOX', 'Tickets'] }));
    await settled(e);
    const events = [];
    for (const n of ['syncStarted', 'syncProgress', 'syncCompleted']) e.on(n, (p) => events.push([n, p]));
    const result = await e.sync('acc');
    expect(events.map(([n]) => n)).toEqual(['syncStarted', 'syncProgress', 'syncProgress', 'syncCompleted']);
    expect(events[2][1]).toMatchObject({ done: 2, total: 2 });
    expect(result.folders.map((f) => f.folder)).toEqual(['INBOX', 'Tickets']);
    expect(result.durationMs).toEqual(expect.any(Number));
  });

  test('sync of an unknown account rejects with UNKNOWN_ACCOUNT, a bad id with a TypeError, never a synchronous throw', async () => {
    const e = engine();
    await expect(e.sync('nope')).rejects.toMatchObject({ code: 'UNKNOWN_ACCOUNT' });
    await expect(e.sync('')).rejects.toThrow(TypeError);
  });

  test('listFolders returns special-use folders and caches the list', async () => {
    const srv = await server();
    srv.createMailbox('Sent');
    srv.createMailbox('Trash');
    srv.createMailbox('Projects');
    const e = engine();
    await e.addAccount(account(srv));
    const folders = await e.listFolders('acc');
    const byPath = Object.fromEntries(folders.map((f) => [f.path, f]));
    expect(byPath.Sent).toMatchObject({ name: 'Sent', delimiter: '/', specialUse: '\\Sent' });
    expect(byPath.Trash.specialUse).toBe('\\Trash');
    expect(byPath.Projects.specialUse).toBeNull();
    expect(byPath.INBOX).toBeDefined();
    const lists = () => srv.commandLog.filter((c) => c.command === 'LIST').length;
    const before = lists();
    await e.listFolders('acc');
    expect(lists()).toBe(before);
    await e.listFolders('acc', { refresh: true });
    expect(lists()).toBe(before + 1);
  });

  describe('access tokens', () => {
    test('a single refresh serves every parallel connection', async () => {
      const srv = await server();
      srv.createMailbox('A');
      srv.createMailbox('B');
      let calls = 0;
      const e = engine();
      await e.addAccount(account(srv, {
        pass: undefined,
        folders: ['INBOX', 'A', 'B'],
        getAccessToken: async ({ accountId, user }) => {
          calls += 1;
          expect({ accountId, user }).toEqual({ accountId: 'acc', user: 'alice' });
          await sleep(50);
          return { accessToken: 'tok-1', expiresAt: Date.now() + 3600e3 };
        },
      }));
      await settled(e);
      expect(calls).toBe(1);
    });

    test('a token is refreshed before it expires, not on every connection', async () => {
      const srv = await server();
      let calls = 0;
      const e = engine({ auth: { refreshBeforeMs: 1000 } });
      await e.addAccount(account(srv, {
        pass: undefined,
        getAccessToken: () => {
          calls += 1;
          return { accessToken: 'tok-1', expiresAt: Date.now() + 1600 };
        },
      }));
      await settled(e);
      expect(calls).toBe(1);
      srv.dropAll(); // reconnect while the token is still fresh
      await waitForEvent(e, 'connectionStatus', (s) => s.state === 'idle');
      expect(calls).toBe(1);
      await sleep(700); // now within refreshBeforeMs of expiry
      srv.dropAll();
      await waitForEvent(e, 'connectionStatus', (s) => s.state === 'idle');
      expect(calls).toBe(2);
    });

    test('a rejected token is refreshed once and the login retried', async () => {
      const srv = await server();
      const tokens = ['revoked', 'tok-1'];
      let calls = 0;
      const e = engine();
      await e.addAccount(account(srv, {
        pass: undefined,
        getAccessToken: () => ({ accessToken: tokens[Math.min(calls++, 1)], expiresAt: Date.now() + 3600e3 }),
      }));
      expect(calls).toBe(2);
    });

    test('getAccessToken failing rejects with AUTH_FAILED naming the cause', async () => {
      const srv = await server();
      const e = engine();
      const err = await e.addAccount(account(srv, {
        pass: undefined,
        getAccessToken: async () => { throw new Error('refresh token expired'); },
      })).catch((x) => x);
      expect(err).toMatchObject({ code: 'AUTH_FAILED' });
      expect(err.message).toContain('refresh token expired');
    });
  });

  describe('persistent state', () => {
    const variants = [
      ['QRESYNC', ['QRESYNC']],
      ['CONDSTORE only', []],
      ['no CONDSTORE', null],
    ];
    test.each(variants)('after a restart (%s), what happened meanwhile is reported once', async (_, extra) => {
      const srv = await server();
      if (extra === null) srv.setCapability('CONDSTORE', false);
      else for (const cap of extra) srv.setCapability(cap, true);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-state-'));
      dirs.push(dir);
      const stateFile = path.join(dir, 'state.db');

      const keep = srv.appendMessage('INBOX', { subject: 'keep' });
      const gone = srv.appendMessage('INBOX', { subject: 'gone' });
      const e1 = engine({ stateFile });
      await e1.addAccount(account(srv));
      await settled(e1);
      await e1.close();

      // While the app is down:
      const fresh1 = srv.appendMessage('INBOX', { subject: 'fresh 1' });
      const fresh2 = srv.appendMessage('INBOX', { subject: 'fresh 2' });
      srv.expunge('INBOX', gone);
      srv.setFlags('INBOX', keep, ['\\Flagged']);

      const e2 = engine({ stateFile });
      const events = recordEvents(e2);
      await e2.addAccount(account(srv));
      await settled(e2);
      await e2.sync('acc');
      await sleep(200);
      expect(events.of('newMessage').map((m) => m.uid)).toEqual([fresh1, fresh2]);
      expect(events.of('messageDeleted')).toEqual([expect.objectContaining({ uid: gone })]);
      expect(events.of('flagsChanged')).toEqual([expect.objectContaining({ uid: keep, flags: ['\\Flagged'] })]);
      expect(events.of('folderReset')).toEqual([]);
    });

    test('without a stateFile, a new engine starts from the current state', async () => {
      const srv = await server();
      srv.appendMessage('INBOX', { subject: 'old' });
      const e = engine();
      const events = recordEvents(e);
      await e.addAccount(account(srv));
      await settled(e);
      expect(events.of('newMessage')).toEqual([]);
    });

    test('an unusable stateFile is a clear error at construction, and leaves nothing running', async () => {
      const emitted = [];
      const origEmit = MailEngine.prototype.emit;
      MailEngine.prototype.emit = function record(name, ...args) {
        emitted.push(name);
        return origEmit.call(this, name, ...args);
      };
      try {
        expect(() => new MailEngine({ stateFile: '/nonexistent/dir/state.db', notifications: { healthIntervalMs: 20 } }))
          .toThrow(expect.objectContaining({ code: 'STATE_FILE_FAILED' }));
        await sleep(100);
        expect(emitted).not.toContain('healthCheck');
      } finally {
        MailEngine.prototype.emit = origEmit;
      }
    });
  });
});
