'use strict';

// imap-push/cluster's EmailFullSync requests and EmailStatus topic, on a real
// Redis and the mock IMAP server: a full sync re-publishes every message of
// the folders asked for, in batches, and is acknowledged only once done; a
// request whose worker is SIGKILLed mid-sync stays pending under the
// account's consumer and is run by the next owner; account status
// (watched, connection changes with their code, failed) reaches EmailStatus.

const { ImapPushError } = require('imap-push');
const { redisAvailable } = require('./support/redis');
const { startCluster, exited } = require('./support/cluster-fixture');
const { waitUntil, sleep } = require('./support/wait');

if (!redisAvailable() && !process.env.CI) console.warn('\n*** cluster-sync.test.js SKIPPED: redis-server is not installed ***\n');
const maybe = redisAvailable() || process.env.CI ? describe : describe.skip;

const USERS = { user1: 'Pw-of-user1-secret', user2: 'Pw-of-user2-secret' };

maybe('cluster full sync and status', () => {
  let fx;
  afterEach(async () => {
    if (fx) await fx.close();
    fx = null;
  });

  const syncedUids = (news, requestId, accountId, folder) => new Set(news.filter((p) => p.fullSync === requestId && p.accountId === accountId)
    .flatMap((p) => p.messages).filter((m) => m.folder === folder).map((m) => m.uid));
  const doneEntry = (statuses, requestId) => statuses.find((s) => s.type === 'fullSync' && s.requestId === requestId);
  // Done, and every message it reports read from EmailNewMessage too (the two topics are read by separate consumers).
  const synced = (statuses, news, requestId) => {
    const done = doneEntry(statuses, requestId);
    return done && news.filter((p) => p.fullSync === requestId).reduce((n, p) => n + p.messages.length, 0) === done.messages;
  };

  test('requestFullSync: checked options, every message of the folders re-published in batches, acknowledged after', async () => {
    fx = await startCluster({ users: USERS });
    const { cluster, imap } = fx;
    for (let i = 1; i <= 150; i++) imap.appendMessage('INBOX', { subject: `inbox ${i}`, date: '2020-01-01T12:00:00Z' });
    imap.createMailbox('Archive');
    for (let i = 1; i <= 30; i++) imap.appendMessage('Archive', { subject: `archive ${i}` });

    await expect(cluster.requestFullSync('nobody')).rejects.toMatchObject({ code: 'UNKNOWN_ACCOUNT', accountId: 'nobody' });
    await expect(cluster.requestFullSync('nobody')).rejects.toBeInstanceOf(ImapPushError);
    await expect(cluster.requestFullSync(undefined)).rejects.toMatchObject({ name: 'TypeError', option: 'id' });
    for (const [options, option] of [[{ folders: 'INBOX' }, 'folders'], [{ folders: [] }, 'folders'], [{ folders: ['A', 'A'] }, 'folders'],
      [{ since: 'not a date' }, 'since'], [{ limit: 5 }, 'limit'], ['INBOX', 'options']]) {
      await expect(cluster.requestFullSync('user1', options)).rejects.toMatchObject({ name: 'TypeError', option });
    }
    expect(Number(fx.redis.cli('XLEN', 't:EmailFullSync'))).toBe(0); // nothing added by a refused request

    const news = fx.collect('EmailNewMessage');
    const statuses = fx.collect('EmailStatus');
    // Asked before any worker runs: it waits, pending, for whoever comes to own the account.
    const { requestId: all } = await cluster.requestFullSync('user1');
    const { requestId: archive } = await cluster.requestFullSync('user2', { folders: ['Archive'] });
    expect(fx.redis.cli('XPENDING', 't:EmailFullSync', 'owners')).toMatch(/account:user1/);
    const startedAt = Date.now();
    await fx.startWorker('w1');
    await waitUntil(() => synced(statuses, news, all) && synced(statuses, news, archive), 20000, 'both full syncs done');
    console.log(`full sync: 150 + 30 messages published ${Date.now() - startedAt} ms after the worker started (lease ${fx.leaseMs} ms)`);

    expect(doneEntry(statuses, all)).toMatchObject({ accountId: 'user1', workerId: 'w1', ok: true, messages: 150, folders: [{ folder: 'INBOX', messages: 150 }] });
    expect(doneEntry(statuses, archive)).toMatchObject({ accountId: 'user2', ok: true, messages: 30, folders: [{ folder: 'Archive', messages: 30 }] });
    const inbox = news.filter((p) => p.fullSync === all);
    expect(inbox.map((p) => p.messages.length)).toEqual([100, 50]); // batches, not one entry holding the folder
    expect([...syncedUids(news, all, 'user1', 'INBOX')].sort((a, b) => a - b)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    expect(inbox[0].messages[0]).toMatchObject({ folder: 'INBOX', uid: 1, envelope: { subject: 'inbox 1' }, id: expect.any(String) });
    expect(syncedUids(news, archive, 'user2', 'Archive').size).toBe(30);
    expect(news.some((p) => p.fullSync === archive && p.messages.some((m) => m.folder === 'INBOX'))).toBe(false);

    // The id is the one live pushes carry, so a consumer dedupes a full sync against what it has. A session learns
    // of new mail at its next command (RFC 3501 7.3.1), so the pooled connection a sync runs on may not list a
    // message that came in a moment before (IDLE publishes that one): a later sync does, at the latest the second.
    const before = news.length;
    imap.appendMessage('INBOX', { subject: 'live one' });
    await waitUntil(() => news.slice(before).some((p) => p.accountId === 'user1' && !p.fullSync), 10000, 'the live push');
    const live = news.slice(before).find((p) => p.accountId === 'user1' && !p.fullSync).messages[0];
    let resynced = [];
    for (let attempt = 0; attempt < 3 && !resynced.length; attempt++) {
      // since: of the 151 messages only the live one is newer than 2020.
      const { requestId: again } = await cluster.requestFullSync('user1', { since: new Date(Date.now() - 86400000) });
      await waitUntil(() => synced(statuses, news, again), 20000, 'a since full sync');
      expect(doneEntry(statuses, again).messages).toBeLessThanOrEqual(1);
      resynced = news.filter((p) => p.fullSync === again).flatMap((p) => p.messages);
    }
    expect(resynced.map((m) => [m.id, m.uid, m.envelope.subject])).toEqual([[live.id, live.uid, 'live one']]);

    // Acknowledged and deleted: the stream holds only what is outstanding, and nothing is pending.
    expect(Number(fx.redis.cli('XLEN', 't:EmailFullSync'))).toBe(0);
    expect(fx.redis.cli('XPENDING', 't:EmailFullSync', 'owners').split('\n')[0]).toBe('0');
  }, 60000);

  test('a worker SIGKILLed mid-sync leaves the request pending; the next owner runs it', async () => {
    fx = await startCluster({ users: { user1: USERS.user1 } });
    const { cluster, imap } = fx;
    for (let i = 1; i <= 120; i++) imap.appendMessage('INBOX', { subject: `m ${i}` });
    const news = fx.collect('EmailNewMessage');
    const statuses = fx.collect('EmailStatus');
    const w1 = fx.spawnWorker('w1');
    await waitUntil(() => statuses.some((s) => s.type === 'watched' && s.workerId === 'w1'), 15000, 'w1 watching user1');

    // w1's sync hangs on its first FETCH: it has the request but cannot finish it.
    imap.neverAnswer((e) => e.command === 'UID FETCH');
    const fetched = imap.waitForNext((e) => e.command === 'UID FETCH', 15000);
    const { requestId } = await cluster.requestFullSync('user1');
    await fetched;
    w1.child.kill('SIGKILL');
    await exited(w1.child);
    expect(doneEntry(statuses, requestId)).toBeUndefined();
    expect(fx.redis.cli('XPENDING', 't:EmailFullSync', 'owners', '-', '+', '10', 'account:user1')).toContain(requestId);

    imap.neverAnswer(null);
    const killedAt = Date.now();
    fx.spawnWorker('w2');
    await waitUntil(() => synced(statuses, news, requestId), fx.leaseMs + 20000, 'the full sync done by w2');
    console.log(`full sync failover: 120 messages published by w2 ${Date.now() - killedAt} ms after w1's SIGKILL (lease ${fx.leaseMs} ms)`);
    expect(doneEntry(statuses, requestId)).toMatchObject({ workerId: 'w2', ok: true, messages: 120 });
    expect(syncedUids(news, requestId, 'user1', 'INBOX').size).toBe(120);
    expect(Number(fx.redis.cli('XLEN', 't:EmailFullSync'))).toBe(0);
  }, 60000);

  test('fetchBodies: every path (push, catch-up after a handover, full sync) carries top-level headers, body and attachments', async () => {
    fx = await startCluster({ users: USERS, accounts: [] });
    const { cluster, imap } = fx;
    await cluster.addAccount(fx.account('user1', { fetchBodies: true }));
    await cluster.addAccount(fx.account('user2')); // without: envelopes only
    const raw = (subject) => ['From: Ann <ann@example.com>', 'To: Bob <bob@example.com>', `Subject: ${subject}`,
      'Date: Tue, 01 Dec 2026 10:00:00 +0000', 'Message-ID: <m@example.com>', 'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"', '', '--b1', 'Content-Type: text/plain; charset=utf-8', '', 'Hello body',
      '--b1', 'Content-Type: text/html; charset=utf-8', '', '<p>Hello body</p>', '--b1',
      'Content-Type: application/octet-stream; name="a.bin"', 'Content-Disposition: attachment; filename="a.bin"',
      'Content-Transfer-Encoding: base64', '', 'AAECAwQ=', '--b1--', ''].join('\r\n');
    const news = fx.collect('EmailNewMessage');
    const statuses = fx.collect('EmailStatus');
    const recorded = () => ['user1', 'user2'].every((id) => fx.redis.cli('EXISTS', `t:state:${id}`).trim() === '1');
    const entryOf = (accountId, subject, pred = () => true) => news.filter((p) => p.accountId === accountId && pred(p))
      .flatMap((p) => p.messages).find((m) => m.envelope.subject === subject);
    const checkBodies = (m, subject) => {
      expect(Object.keys(m).sort()).toEqual(['attachments', 'body', 'envelope', 'flags', 'folder', 'headers', 'id', 'uid', 'uidValidity']);
      expect(m.headers).toContainEqual(['Subject', subject]);
      expect(m.headers).toContainEqual(['From', 'Ann <ann@example.com>']);
      expect(Object.keys(m.body).sort()).toEqual(['html', 'size', 'text', 'truncated']);
      expect(m.body.text).toMatch(/^Hello body/);
      expect(m.body.html).toMatch(/^<p>Hello body<\/p>/);
      expect(m.body).toMatchObject({ truncated: false, size: expect.any(Number) });
      expect(m.attachments).toEqual([{ filename: 'a.bin', contentType: 'application/octet-stream', disposition: 'attachment',
        contentId: null, size: 5, content: Buffer.from([0, 1, 2, 3, 4]).toString('base64') }]);
    };
    const envelopeOnly = (m) => expect(Object.keys(m).sort()).toEqual(['envelope', 'flags', 'folder', 'id', 'uid', 'uidValidity']);

    // Pushed through IDLE.
    const w1 = await fx.startWorker('w1');
    await waitUntil(recorded, 15000, 'both accounts recorded');
    imap.appendMessage('INBOX', { raw: raw('pushed') });
    await waitUntil(() => entryOf('user1', 'pushed') && entryOf('user2', 'pushed'), 10000, 'the pushes');
    checkBodies(entryOf('user1', 'pushed'), 'pushed');
    envelopeOnly(entryOf('user2', 'pushed'));

    // Arrived while no worker held the accounts: the next owner's catch-up publishes it.
    await w1.stop();
    imap.appendMessage('INBOX', { raw: raw('while nobody watched') });
    await fx.startWorker('w2');
    await waitUntil(() => entryOf('user1', 'while nobody watched') && entryOf('user2', 'while nobody watched'), 15000, 'the catch-up');
    checkBodies(entryOf('user1', 'while nobody watched'), 'while nobody watched');
    envelopeOnly(entryOf('user2', 'while nobody watched'));

    // A full sync.
    const { requestId } = await cluster.requestFullSync('user1');
    await waitUntil(() => synced(statuses, news, requestId), 15000, 'the full sync');
    const synced1 = news.filter((p) => p.fullSync === requestId).flatMap((p) => p.messages);
    expect(synced1.map((m) => m.envelope.subject).sort()).toEqual(['pushed', 'while nobody watched']);
    for (const m of synced1) checkBodies(m, m.envelope.subject);
    expect(synced1.find((m) => m.envelope.subject === 'pushed').id).toBe(entryOf('user1', 'pushed').id);
  }, 60000);

  test('while no worker holds the account: an expunge and a flag change are published to EmailChanged by the next owner', async () => {
    fx = await startCluster({ users: { user1: USERS.user1 } });
    const { imap } = fx;
    for (let i = 1; i <= 3; i++) imap.appendMessage('INBOX', { subject: `old ${i}` }); // UIDs 1-3, before any owner
    const changed = fx.collect('EmailChanged');
    const news = fx.collect('EmailNewMessage');
    const statuses = fx.collect('EmailStatus');
    const watchedBy = (w) => statuses.some((st) => st.type === 'watched' && st.workerId === w);
    const state = () => JSON.parse(fx.redis.cli('HGET', 't:state:user1', 'INBOX'));
    const w1 = fx.spawnWorker('w1');
    await waitUntil(() => watchedBy('w1'), 15000, 'w1 watching user1');
    expect(state()).toMatchObject({ lastUid: 3, uids: '1:3', highestModseq: imap.mailbox('INBOX').highestModseq });
    // A flag change while w1 watches: published through IDLE, and the recorded HIGHESTMODSEQ moves past it.
    imap.setFlags('INBOX', 1, ['\\Answered']);
    await waitUntil(() => changed.some((c) => c.uid === 1), 10000, "the live flag change");
    await waitUntil(() => state().highestModseq === imap.mailbox('INBOX').highestModseq, 5000, 'the HIGHESTMODSEQ recorded');

    w1.child.kill('SIGKILL');
    await exited(w1.child);
    const mark = changed.length;
    imap.expunge('INBOX', 2);
    imap.setFlags('INBOX', 3, ['\\Seen', '\\Flagged']);
    imap.appendMessage('INBOX', { subject: 'new while down', flags: ['\\Seen'] }); // UID 4: new mail, not a change
    await fx.startWorker('w2');
    await waitUntil(() => watchedBy('w2'), fx.leaseMs + 10000, 'w2 watching user1');
    await waitUntil(() => changed.length >= mark + 2, 5000, 'the changes of the gap');
    await sleep(500); // anything more it would publish
    const gap = changed.slice(mark);
    expect(gap.map((c) => ({ ...c, ...(c.flags ? { flags: [...c.flags].sort() } : {}) }))).toEqual([
      { type: 'messageDeleted', accountId: 'user1', folder: 'INBOX', uid: 2 },
      { type: 'flagsChanged', accountId: 'user1', folder: 'INBOX', uid: 3, flags: ['\\Flagged', '\\Seen'] },
    ]);
    expect(news.flatMap((p) => p.messages).filter((m) => m.envelope.subject === 'new while down').map((m) => m.uid)).toEqual([4]);
    expect(state()).toMatchObject({ lastUid: 4, uids: '1,3:4', highestModseq: imap.mailbox('INBOX').highestModseq });

    // The next owner finds nothing more to report: the state moved on with what was published.
    await fx.workers.find((w) => w.id === 'w2').stop();
    await fx.startWorker('w3');
    await waitUntil(() => watchedBy('w3'), fx.leaseMs + 10000, 'w3 watching user1');
    await sleep(500);
    expect(changed.length).toBe(mark + 2);
  }, 60000);

  test('removeAccount drops its outstanding requests', async () => {
    fx = await startCluster({ users: USERS });
    await fx.cluster.requestFullSync('user1');
    await fx.cluster.requestFullSync('user2');
    await fx.cluster.removeAccount('user1');
    expect(Number(fx.redis.cli('XLEN', 't:EmailFullSync'))).toBe(1);
    expect(fx.redis.cli('XPENDING', 't:EmailFullSync', 'owners')).not.toMatch(/account:user1/);
  }, 30000);

  test('EmailStatus: watched, connection changes with their code, and failed, under the lease', async () => {
    fx = await startCluster({ users: USERS, accounts: ['user1'] });
    const { cluster, imap } = fx;
    const statuses = fx.collect('EmailStatus');
    await fx.startWorker('w1');
    await waitUntil(() => statuses.some((s) => s.type === 'watched'), 15000, 'watched');
    expect(statuses.find((s) => s.type === 'watched')).toMatchObject({ accountId: 'user1', workerId: 'w1', folders: ['INBOX'], at: expect.any(Number) });
    expect(statuses).toContainEqual(expect.objectContaining({ type: 'connection', accountId: 'user1', folder: 'INBOX', state: 'idle' }));

    const mark = statuses.length;
    imap.dropAll();
    await waitUntil(() => statuses.slice(mark).some((s) => s.type === 'connection' && s.error) &&
      statuses.slice(mark).some((s) => s.type === 'connection' && s.state === 'idle'), 15000, 'a lost connection and its return');
    const lost = statuses.slice(mark).find((s) => s.type === 'connection' && s.error);
    expect(lost.error.code).toEqual(expect.any(String));
    expect(lost.error.code).not.toBe('ERROR');

    // A wrong password: the worker cannot start it, says so, and lets it go.
    await cluster.addAccount(fx.account('user2', { pass: 'wrong-password' }));
    await waitUntil(() => statuses.some((s) => s.type === 'failed' && s.accountId === 'user2'), 15000, 'user2 failed');
    expect(statuses.find((s) => s.type === 'failed')).toMatchObject({ workerId: 'w1', error: { code: 'AUTH_FAILED' } });
    expect(JSON.stringify(statuses)).not.toContain('wrong-password');
    // Not tried again every tick (leaseMs / 3): after a tick, then two, four ...
    await new Promise((resolve) => setTimeout(resolve, 2.5 * fx.leaseMs));
    const failures = statuses.filter((s) => s.type === 'failed' && s.accountId === 'user2');
    expect(failures.length).toBeLessThanOrEqual(3);
    expect(failures.slice(0, 3).map((f) => f.retryInMs)).toEqual([1, 2, 4].slice(0, failures.length).map((n) => n * Math.floor(fx.leaseMs / 3)));
    expect(JSON.stringify(statuses)).not.toContain(USERS.user1);

    // Another worker holds user1's lease now (as after a pause past leaseMs): w1 publishes nothing more for it.
    const w1 = fx.workers[0];
    const lostLease = new Promise((resolve) => w1.once('leaseLost', resolve));
    fx.redis.cli('SET', 't:lease:user1', 'w9:999999', 'PX', '60000');
    const fenced = statuses.length;
    imap.dropAll();
    expect(await lostLease).toBe('user1');
    await new Promise((resolve) => setTimeout(resolve, 1000)); // what w1 might still have written would be read by now
    expect(statuses.slice(fenced).filter((s) => s.accountId === 'user1')).toEqual([]);
  }, 60000);
});
