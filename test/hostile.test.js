'use strict';

// A broken or hostile server, scripted line by line: whatever it sends must
// cost work proportional to what the engine knows, never to numbers it picks,
// and close() must always return.

const { MailEngine } = require('..');
const { ScriptServer } = require('./support/script-server');
const { waitForEvent, waitUntil, recordEvents, sleep } = require('./support/wait');

const ENVELOPE = '("Tue, 1 Jul 2003 10:52:37 +0200" "hi" (("Ann" NIL "ann" "example.com")) NIL NIL NIL NIL NIL NIL "<e@x>")';
const MAX_U32 = 4294967295;
const MAX_BODY_BYTES = 64 * 1024 * 1024; // the parser's literal cap
const CLOSE_BOUND_MS = 15000;
// Generous: the engine and Jest together; a per-UID expansion of a 2^32
// range costs gigabytes, a bounded engine a few megabytes.
// Under ASan (npm run test:sanitize) freed memory sits in its quarantine,
// 256 MiB by default, before it can be reused: that much more is allowed.
const RSS_BOUND = (process.env.ASAN_OPTIONS ? 512 : 256) * 1024 * 1024;

function tagOf(line) {
  return line.split(' ')[0];
}

/**
 * A mailbox of `exists` messages whose UIDs the UID SEARCH reports (`search`,
 * or NO when null), and which keeps the IDLE connection for the test to
 * inject into. `fetch(line, c)` answers UID FETCH and FETCH commands.
 */
function hostileServer({ exists = 3, uidNext = 4, search = '1 2 3', fetch = null, selectExtra = [] } = {}) {
  const state = { exists, uidNext, selectExtra, idle: null, idles: 0, fetches: [] };
  const server = new ScriptServer((line, c) => {
    const tag = tagOf(line);
    if (/AUTHENTICATE/i.test(line)) c.send(`${tag} OK done`);
    else if (/^\S+ CAPABILITY/i.test(line)) c.send('* CAPABILITY IMAP4rev1 IDLE', `${tag} OK`);
    else if (/^\S+ SELECT/i.test(line)) {
      c.send(`* ${state.exists} EXISTS`, '* OK [UIDVALIDITY 7] ok', `* OK [UIDNEXT ${state.uidNext}] ok`, ...state.selectExtra,
        `${tag} OK [READ-WRITE] selected`);
    } else if (/^\S+ STATUS/i.test(line)) {
      c.send(`* STATUS INBOX (MESSAGES ${state.exists} UIDNEXT ${state.uidNext} UIDVALIDITY 7)`, `${tag} OK`);
    } else if (/^\S+ UID SEARCH/i.test(line)) {
      if (search === null) c.send(`${tag} NO search is broken`);
      else c.send(`* SEARCH ${search}`.trimEnd(), `${tag} OK`);
    } else if (/^\S+ IDLE/i.test(line)) {
      state.idles += 1;
      state.idle = c;
      c.idleTag = tag;
      c.send('+ idling');
    } else if (line === 'DONE') c.send(`${c.idleTag} OK idle done`);
    else if (/^\S+ (UID )?FETCH/i.test(line)) {
      state.fetches.push(line.slice(tag.length + 1));
      if (!fetch || !fetch(line, c)) c.send(`${tag} OK fetched`);
    } else if (/^\S+ LOGOUT/i.test(line)) c.send('* BYE bye', `${tag} OK bye`);
    else c.send(`${tag} OK`);
  });
  server.state = state;
  return server;
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms); }),
  ]);
}

describe('a hostile server', () => {
  let server;
  let engine;
  let rssBefore;

  beforeEach(() => {
    rssBefore = process.memoryUsage().rss;
  });

  afterEach(async () => {
    // close() returning within a bound is part of every case.
    if (engine) await withTimeout(engine.close(), CLOSE_BOUND_MS, 'close()');
    if (server) await server.close();
    engine = server = null;
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(RSS_BOUND);
  });

  const account = (extra = {}) => ({
    id: 'h', host: '127.0.0.1', port: server.port, tls: 'none', allowInsecureAuth: true, user: 'u', pass: 'p',
    reconnect: { initialDelayMs: 50, maxDelayMs: 200 }, ...extra,
  });

  // Adds the account and waits for its first sync, so that what the engine
  // knows (the UID list, or the lack of one) is settled before the test.
  async function start(opts = {}) {
    server = hostileServer(opts);
    await server.listen();
    engine = new MailEngine();
    const events = recordEvents(engine);
    const firstSync = waitForEvent(engine, 'syncCompleted', () => true, 10000);
    await engine.addAccount(account());
    await firstSync;
    return events;
  }

  // The engine still works: new mail makes it leave IDLE and fetch.
  async function stillServes(from) {
    const before = server.state.fetches.length;
    server.state.exists += 1;
    server.state.idle.send(`* ${server.state.exists} EXISTS`);
    await waitUntil(() => server.state.fetches.slice(before).some((f) => f.startsWith(`UID FETCH ${from}:*`)), 10000,
      `a UID FETCH ${from}:*`);
  }

  test('VANISHED 1:4294967295 during IDLE reports only the UIDs the engine knows', async () => {
    const events = await start({ uidNext: MAX_U32 });
    server.state.idle.send(`* VANISHED 1:${MAX_U32}`);
    await waitUntil(() => events.of('messageDeleted').length >= 3, 10000, 'three deletions');
    await stillServes(MAX_U32);
    expect(events.of('messageDeleted').map((e) => e.uid)).toEqual([1, 2, 3]);
  });

  test('VANISHED 1:4294967295 without a known UID list costs no per-UID work', async () => {
    // The UID SEARCH fails, so the engine has no list: every UID below
    // UIDNEXT might exist, four billion of them.
    const events = await start({ uidNext: MAX_U32, search: null });
    server.state.idle.send(`* VANISHED 1:${MAX_U32}`);
    await stillServes(MAX_U32);
    expect(events.of('messageDeleted')).toEqual([]);
  });

  test('a small VANISHED without a known UID list is still reported', async () => {
    const events = await start({ uidNext: 4, search: null });
    server.state.idle.send('* VANISHED 2:3,9:4294967295');
    await waitUntil(() => events.of('messageDeleted').length >= 2, 10000, 'two deletions');
    await stillServes(4);
    expect(events.of('messageDeleted').map((e) => e.uid)).toEqual([2, 3]);
  });

  test('VANISHED (EARLIER) 1:4294967295 during IDLE and during a sync is bounded and reported once', async () => {
    const events = await start({ uidNext: MAX_U32 });
    server.state.idle.send(`* VANISHED (EARLIER) 1:${MAX_U32}`);
    await waitUntil(() => events.of('messageDeleted').length >= 3, 10000, 'three deletions');
    // A sync that SELECTs again hears the same range: nothing is new.
    server.state.exists = 0;
    server.state.selectExtra.push(`* VANISHED (EARLIER) 1:${MAX_U32}`);
    const r = await withTimeout(engine.sync('h'), 10000, 'sync()');
    expect(r.ok).toBe(true);
    server.state.exists = 3; // EARLIER changes no count: the IDLE connection still sees 3
    await stillServes(MAX_U32);
    expect(events.of('messageDeleted').map((e) => e.uid)).toEqual([1, 2, 3]);
  });

  test('VANISHED (EARLIER) 1:4294967295 answering a sync SELECT reports what the engine knows', async () => {
    const events = await start({ uidNext: MAX_U32 });
    server.state.exists = 0;
    server.state.selectExtra.push(`* VANISHED (EARLIER) 1:${MAX_U32}`);
    const r = await withTimeout(engine.sync('h'), 10000, 'sync()');
    expect(r.ok).toBe(true);
    expect(r.folders[0].deleted).toBe(3);
    expect(events.of('messageDeleted').map((e) => e.uid)).toEqual([1, 2, 3]);
  });

  test('UIDs at and beyond 2^32-1 neither wrap UIDNEXT nor become UID 0', async () => {
    const fetch = (line, c) => {
      if (!/^\S+ UID FETCH \d+:\* \(UID FLAGS ENVELOPE/i.test(line)) return false;
      c.send(
        `* 1 FETCH (UID ${MAX_U32} FLAGS () ENVELOPE ${ENVELOPE} INTERNALDATE "01-Jul-2003 10:52:37 +0200" RFC822.SIZE 42)`,
        `* 1 FETCH (UID ${MAX_U32 + 1} FLAGS (\\Seen) ENVELOPE ${ENVELOPE} INTERNALDATE "01-Jul-2003 10:52:37 +0200" RFC822.SIZE 42)`,
        `* 1 FETCH (UID ${MAX_U32 + 1} FLAGS (\\Flagged))`,
        `${tagOf(line)} OK fetched`,
      );
      return true;
    };
    const events = await start({ exists: 0, uidNext: MAX_U32, search: '', fetch });
    await stillServes(MAX_U32);
    await sleep(100);
    // UIDNEXT cannot go past 2^32-1, so UID 4294967295 is one the engine
    // cannot follow: it is not reported, and the watermark stays put.
    expect(engine.status('h').folders[0].uidNext).toBe(MAX_U32);
    await stillServes(MAX_U32);
    expect(server.state.fetches.filter((f) => /^UID FETCH (0|1):\*/.test(f))).toEqual([]);
    expect(events.filter((e) => ['newMessage', 'flagsChanged', 'messageDeleted'].includes(e.name))).toEqual([]);
  });

  test('a FETCH for a UID never announced is not reported', async () => {
    const events = await start({ exists: 2, uidNext: 5, search: '1 3' });
    const lines = ['* 1 FETCH (UID 2 FLAGS (\\Seen))', '* 1 FETCH (UID 0 FLAGS (\\Seen))', `* 1 FETCH (UID ${MAX_U32 + 1} FLAGS (\\Seen))`];
    for (let uid = 5; uid < 20005; uid++) lines.push(`* 2 FETCH (UID ${uid} FLAGS (\\Seen))`);
    lines.push('* 2 FETCH (UID 3 FLAGS (\\Flagged))');
    server.state.idle.send(...lines);
    await waitForEvent(engine, 'flagsChanged', () => true, 10000);
    await stillServes(5);
    expect(events.of('flagsChanged')).toEqual([expect.objectContaining({ uid: 3, flags: ['\\Flagged'] })]);
  });

  test('sync.initial reports each UID it asked for once, whatever the server repeats or adds', async () => {
    const msg = (uid) => `* 1 FETCH (UID ${uid} FLAGS () ENVELOPE ${ENVELOPE} INTERNALDATE "01-Jul-2003 10:52:37 +0200" RFC822.SIZE 42)`;
    const fetch = (line, c) => {
      if (!/^\S+ UID FETCH 2:3 \(UID FLAGS ENVELOPE/i.test(line)) return false;
      c.send(msg(3), msg(3), msg(1), msg(2), msg(3), `${tagOf(line)} OK fetched`);
      return true;
    };
    server = hostileServer({ fetch });
    await server.listen();
    engine = new MailEngine({ sync: { initial: { last: 2 } } });
    const events = recordEvents(engine);
    const firstSync = waitForEvent(engine, 'syncCompleted', () => true, 10000);
    await engine.addAccount(account());
    await firstSync;
    expect(events.of('newMessage').map((e) => e.uid)).toEqual([3, 2]);
  });

  test('a fetchMessage takes the answer about its own UID, not another one the server adds', async () => {
    const body = (subject) => `Subject: ${subject}\r\n\r\nhello\r\n`;
    const fetch = (line, c) => {
      if (!/BODY\.PEEK\[\]/i.test(line)) return false;
      const mine = body('mine');
      const other = body('not mine');
      c.socket.write(`* 1 FETCH (UID 1 RFC822.SIZE ${mine.length} BODY[]<0> {${mine.length}}\r\n${mine})\r\n`
        + `* 2 FETCH (UID 2 RFC822.SIZE ${other.length} BODY[]<0> {${other.length}}\r\n${other})\r\n${tagOf(line)} OK fetched\r\n`);
      return true;
    };
    await start({ fetch });
    const m = await withTimeout(engine.fetchMessage('h', 'INBOX', 1), 10000, 'fetchMessage');
    expect(m.subject).toBe('mine');
  });

  test('a literal just over the cap drops the connection with PROTOCOL_ERROR, then reconnects', async () => {
    await start();
    const dropped = waitForEvent(engine, 'connectionStatus', (e) => e.error && e.error.code === 'PROTOCOL_ERROR', 10000);
    server.state.idle.send(`* 1 FETCH (UID 1 BODY[] {${MAX_BODY_BYTES + 1}}`);
    server.state.idle.socket.write('x'.repeat(64 * 1024));
    const e = await dropped;
    expect(e.error.message).toMatch(/literal too large/);
    await waitUntil(() => server.state.idles >= 2, 10000, 'the reconnect');
  });

  test('a fetchMessage answered with a literal over the cap rejects with PROTOCOL_ERROR', async () => {
    const fetch = (line, c) => {
      if (!/BODY\.PEEK\[\]/i.test(line)) return false;
      c.send(`* 1 FETCH (UID 1 RFC822.SIZE 10 BODY[]<0> {${MAX_BODY_BYTES + 1}}`);
      return true;
    };
    await start({ fetch });
    await expect(withTimeout(engine.fetchMessage('h', 'INBOX', 1), 10000, 'fetchMessage'))
      .rejects.toMatchObject({ code: 'PROTOCOL_ERROR' });
  });

  test('maxBytes and maxBodyBytes above the parser\'s literal cap are TypeErrors naming the option', async () => {
    expect(require('../lib/options').MAX_BODY_BYTES).toBe(MAX_BODY_BYTES);
    await start();
    await expect(engine.fetchMessage('h', 'INBOX', 1, { maxBytes: MAX_BODY_BYTES + 1 }))
      .rejects.toThrow(expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/maxBytes/) }));
    await expect(Promise.resolve().then(() => engine.addAccount(account({ id: 'h2', maxBodyBytes: MAX_BODY_BYTES + 1 }))))
      .rejects.toThrow(expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/maxBodyBytes/) }));
  });

  test('100,000 untagged lines in one burst cost bounded work per line', async () => {
    await start({ exists: 100000, uidNext: 100001, search: '' });
    const lines = [];
    // Flag changes without a UID for 100,000 different messages, each of
    // which the engine must look up, then 100,000 expunges that renumber them.
    for (let seq = 1; seq <= 100000; seq++) lines.push(`* ${seq} FETCH (FLAGS (\\Seen))`);
    for (let i = 0; i < 100000; i++) lines.push('* 1 EXPUNGE');
    for (let i = 0; i < 100000; i++) lines.push('* OK Still here');
    server.state.idle.socket.write(`${lines.join('\r\n')}\r\n`); // one write: too many lines for send(...lines)
    server.state.exists = 0;
    await stillServes(100001);
    // The status snapshot is published after the FETCH that EXISTS starts is sent: under ASan the
    // server can see that command before status() shows the count.
    await waitUntil(() => engine.status('h').folders[0].exists === 1, 10000, 'status exists 1');
  });

  test('a line that never ends drops the connection with PROTOCOL_ERROR, then reconnects', async () => {
    await start();
    const dropped = waitForEvent(engine, 'connectionStatus', (e) => e.error && e.error.code === 'PROTOCOL_ERROR', 10000);
    const chunk = 'x'.repeat(256 * 1024);
    server.state.idle.socket.write('* OK ');
    for (let i = 0; i < 16; i++) server.state.idle.socket.write(chunk); // 4 MiB, no CRLF
    const e = await dropped;
    expect(e.error.message).toMatch(/line too long/);
    await waitUntil(() => server.state.idles >= 2, 10000, 'the reconnect');
  });
});
