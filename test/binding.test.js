'use strict';

// The raw native binding, without lib/'s validation in front: bad arguments
// throw, they never abort the process. Each case runs in its own node
// process, so an abort fails that case instead of killing the test runner.

const { spawnSync } = require('child_process');
const os = require('os');
const path = require('path');

const ROOT = path.join(__dirname, '..');

// Runs `body` (statements using NativeEngine, cb, make) in a child process and
// returns what it printed as JSON: every outcome the body reports via out().
function run(body) {
  const script = `
    const { NativeEngine } = require('./lib/binding');
    const cb = () => {};
    const make = () => ({});
    const results = [];
    const out = (v) => results.push(v);
    const attempt = (what, fn) => {
      try { fn(); out({ what, threw: false }); }
      catch (e) { out({ what, threw: true, name: e.name, message: e.message, code: e.code }); }
    };
    (async () => { ${body} })().then(
      () => { process.stdout.write(JSON.stringify(results)); },
      (e) => { console.error(e); process.exitCode = 3; });
  `;
  const child = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 20000 });
  const detail = `status ${child.status} signal ${child.signal}\n${child.stderr}`;
  expect({ status: child.status, signal: child.signal, detail }).toMatchObject({ status: 0, signal: null });
  return JSON.parse(child.stdout);
}

describe('raw NativeEngine construction', () => {
  test.each([
    ['no arguments', 'new NativeEngine()', 'TypeError', /event callback/],
    ['a call without new', 'NativeEngine(cb, {}, make)', 'TypeError', /without 'new'/],
    ['a non-function callback', 'new NativeEngine(42, {}, make)', 'TypeError', /event callback/],
    ['a non-function newMessage builder', 'new NativeEngine(cb, {}, 5)', 'TypeError', /newMessage builder/],
    ['a config that is not an object', 'new NativeEngine(cb, 5, make)', 'TypeError', /config must be an object/],
    ['a config value of the wrong type', "new NativeEngine(cb, { pool: { maxTotal: 'x' } }, make)", 'TypeError', /maxTotal/],
    ['a negative config number', 'new NativeEngine(cb, { sync: { debounceMs: -1 } }, make)', 'TypeError', /debounceMs/],
    ['a NaN config number', 'new NativeEngine(cb, { pool: { idleTimeoutMs: NaN } }, make)', 'TypeError', /idleTimeoutMs/],
    ['an infinite config number', 'new NativeEngine(cb, { pool: { maxTotal: Infinity } }, make)', 'TypeError', /maxTotal/],
    ['a config number past 2^53', 'new NativeEngine(cb, { auth: { refreshBeforeMs: 1e300 } }, make)', 'TypeError', /refreshBeforeMs/],
    ['a config whose getter throws', "new NativeEngine(cb, { get pool() { throw new Error('getter boom'); } }, make)", 'Error', /getter boom/],
  ])('%s throws', (_, expr, name, message) => {
    const [r] = run(`attempt('construct', () => ${expr});`);
    expect(r).toMatchObject({ threw: true, name });
    expect(r.message).toMatch(message);
  });

  test('a state file that cannot be opened throws a coded Error', () => {
    const file = path.join(os.tmpdir(), 'imap-push-no-such-dir', 'x', 'state.db');
    const [r] = run(`attempt('construct', () => new NativeEngine(cb, { stateFile: ${JSON.stringify(file)} }, make));`);
    expect(r).toMatchObject({ threw: true, name: 'Error', code: 'STATE_FILE_FAILED' });
    expect(r.message).toContain(file);
  });

  test('a failed construction leaves nothing running: the process exits by itself', () => {
    // Many failures in one process: each must free what it built.
    const results = run(`
      for (let i = 0; i < 20; i++) {
        attempt('bad', () => new NativeEngine(cb, { pool: { maxTotal: 'x' } }, make));
        attempt('file', () => new NativeEngine(cb, { stateFile: '/proc/imap-push/none.db' }, make));
      }
    `);
    expect(results).toHaveLength(40);
    for (const r of results) expect(r.threw).toBe(true);
  });
});

describe('raw NativeEngine methods', () => {
  const METHODS = `
    const calls = {
      addAccount: (e) => e.addAccount({ id: 'a', host: '127.0.0.1', port: 1, user: 'u', pass: 'p', tls: 'none', folders: ['INBOX'] }),
      removeAccount: (e) => e.removeAccount('a'),
      provideToken: (e) => e.provideToken('a', 'tok', 0, null),
      sync: (e) => e.sync(1, 'a', []),
      listFolders: (e) => e.listFolders(2, 'a', false),
      fetchMessage: (e) => e.fetchMessage(3, 'a', 'INBOX', 1, 1024),
      status: (e) => { if (!Array.isArray(e.status())) throw new Error('status is not an array'); },
      poolStats: (e) => { if (e.poolStats().open !== 0) throw new Error('poolStats'); },
      syncStats: (e) => { if (e.syncStats().active !== 0) throw new Error('syncStats'); },
      ref: (e) => e.ref(),
      unref: (e) => e.unref(),
      close: (e) => e.close(),
    };
  `;

  test('after close every method throws a CLOSED Error or is a documented no-op; none crashes', () => {
    const results = run(`
      ${METHODS}
      let engine;
      await new Promise((resolve) => {
        engine = new NativeEngine((list) => { if (list.includes('closed')) resolve(); }, {}, make);
        engine.close();
      });
      for (const [what, fn] of Object.entries(calls)) attempt(what, () => fn(engine));
      attempt('close again', () => engine.close());
    `);
    const byName = Object.fromEntries(results.map((r) => [r.what, r]));
    for (const what of ['addAccount', 'removeAccount', 'sync', 'listFolders', 'fetchMessage']) {
      expect(byName[what]).toMatchObject({ threw: true, name: 'Error', code: 'CLOSED', message: 'engine is closed' });
    }
    // An answer or a ref change racing close() is moot, and close() is idempotent.
    for (const what of ['provideToken', 'status', 'poolStats', 'syncStats', 'ref', 'unref', 'close', 'close again']) {
      expect(byName[what]).toMatchObject({ threw: false });
    }
  });

  test('an engine collected right after close(), its Closed batch still queued, does not crash the process', () => {
    // close() from an I/O callback, then a GC whose finalizer runs in the same
    // loop pass, before the batch is dispatched: callJs used to run on the
    // freed NativeEngine (SIGSEGV in most runs).
    const script = `
      const fs = require('fs');
      const { NativeEngine } = require('./lib/binding');
      let n = 0;
      function once() {
        let engine = new NativeEngine(() => {}, {}, () => ({}));
        fs.stat('package.json', () => {
          engine.close();
          engine = null;
          global.gc();
          if (++n < 200) setTimeout(once, 2);
          else setTimeout(() => process.stdout.write('survived'), 100);
        });
      }
      once();
    `;
    const child = spawnSync(process.execPath, ['--expose-gc', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60000 });
    expect({ status: child.status, signal: child.signal, stdout: child.stdout, stderr: child.stderr })
      .toEqual({ status: 0, signal: null, stdout: 'survived', stderr: '' });
  });

  test('bad method arguments throw TypeErrors', () => {
    const results = run(`
      const engine = new NativeEngine(cb, {}, make);
      attempt('addAccount()', () => engine.addAccount());
      attempt('addAccount(port)', () => engine.addAccount({ id: 'a', host: 'h', user: 'u', pass: 'p', folders: [1] }));
      attempt('removeAccount(1)', () => engine.removeAccount(1));
      attempt('provideToken()', () => engine.provideToken());
      attempt('sync()', () => engine.sync());
      attempt('sync(folders)', () => engine.sync(1, 'a', 'INBOX'));
      attempt('listFolders()', () => engine.listFolders());
      attempt('fetchMessage()', () => engine.fetchMessage(1, 'a'));
      attempt('deleteMessages(uids)', () => engine.deleteMessages(1, 'a', 'INBOX', [1]));
      attempt('getQuota()', () => engine.getQuota(1, 'a'));
      attempt('folderStatus(folder)', () => engine.folderStatus(1, 'a', 7));
      attempt('copyMessages()', () => engine.copyMessages(1));
      engine.close();
    `);
    for (const r of results) expect(r).toMatchObject({ threw: true, name: 'TypeError' });
    const usage = Object.fromEntries(results.map((r) => [r.what, r.message]));
    expect(usage['deleteMessages(uids)']).toBe('deleteMessages(requestId, accountId, folder, uids)');
    expect(usage['getQuota()']).toBe('getQuota(requestId, accountId, folder)');
    expect(usage['folderStatus(folder)']).toBe('folderStatus(requestId, accountId, folder)');
  });

  test('a method called on something that is not a NativeEngine throws', () => {
    const results = run(`
      ${METHODS}
      const fake = Object.create(NativeEngine.prototype);
      for (const [what, fn] of Object.entries(calls)) attempt(what, () => fn(fake));
    `);
    expect(results).toHaveLength(12);
    for (const r of results) expect(r).toMatchObject({ threw: true, name: 'TypeError' });
  });
});
