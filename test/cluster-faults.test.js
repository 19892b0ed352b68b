'use strict';

// imap-push/cluster under faults, with a real Redis and workers in processes
// of their own: SIGKILL, SIGSTOP past the lease, Redis crashing (with and
// without persistence) and a network cut between one worker and Redis.
// Throughout each test an IdleWatch counts, from the mock server's own
// events, how many sessions watch each account: never more than one.

const { Cluster, ClusterWorker } = require('imap-push/cluster');
const { FaultProxy } = require('../soak/proxy');
const { startRedis, redisAvailable } = require('./support/redis');
const { startRig } = require('./support/cluster-rig');
const { waitUntil, sleep } = require('./support/wait');

const LEASE_MS = 2000;
const TARGET_MS = LEASE_MS + 2000; // the bound for a failover

if (!redisAvailable() && !process.env.CI) console.warn('\n*** cluster-faults.test.js SKIPPED: redis-server is not installed ***\n');
const maybe = redisAvailable() || process.env.CI ? describe : describe.skip;

maybe('cluster faults on Redis', () => {
  let rig;
  afterEach(async () => {
    if (rig) await rig.close();
    rig = null;
  });

  /** Two workers (the second through redisUrl if given) sharing the six accounts, each watched once. */
  async function twoWorkers(opts = {}) {
    rig = await startRig({ leaseMs: opts.leaseMs || LEASE_MS, persist: opts.persist });
    const w1 = rig.spawnWorker('w1', { redisUrl: opts.w1Redis && opts.w1Redis(rig) });
    const w2 = rig.spawnWorker('w2');
    await waitUntil(() => ownedByBoth(), 15000, 'every account owned, by both workers');
    await waitUntil(() => rig.allWatchedOnce(), 15000, 'one watcher per account');
    await waitUntil(() => rig.allRecorded(), 15000, "every account's sync state in Redis");
    return { w1, w2 };
  }
  const ownedByBoth = async () => {
    const by = new Set(Object.values(await rig.owners()));
    return (await rig.allOwned()) && by.has('w1') && by.has('w2');
  };
  const w1Accounts = async () => Object.entries(await rig.owners()).filter(([, w]) => w === 'w1').map(([id]) => id);
  const noOverlap = () => expect(rig.watch.overlaps()).toEqual([]);

  test('SIGKILL: the accounts are watched again elsewhere within leaseMs + 2 s, with the mail of the gap', async () => {
    const { w1 } = await twoWorkers();
    rig.imap.appendMessage('INBOX', { subject: 'before the kill' });
    await rig.waitPublished('before the kill');
    const killedAt = Date.now();
    w1.child.kill('SIGKILL');
    rig.imap.appendMessage('INBOX', { subject: 'during the gap' });
    await waitUntil(async () => rig.allWatchedOnce() && (await rig.allOwned(['w2'])), TARGET_MS + 6000, 'w2 watching everything');
    const watchedMs = Date.now() - killedAt;
    await rig.waitPublished('during the gap');
    console.log(`SIGKILL: every account watched by w2 again ${watchedMs} ms after the kill, the gap's mail published ` +
      `${Date.now() - killedAt} ms after it (lease ${LEASE_MS} ms)`);
    expect(watchedMs).toBeLessThanOrEqual(TARGET_MS);
    noOverlap();
  }, 60000);

  test('SIGKILL at a 9 s lease: the survivor takes the leases as they end, not a tick later, within leaseMs + 2 s', async () => {
    const lease = 9000;
    const period = lease / 3; // the regular tick
    rig = await startRig({ leaseMs: lease });
    // When each worker ticks (its heartbeat): the victim is the worker whose survivor ticks furthest from the moment
    // its leases end, so that a takeover left to the survivor's regular tick would come at least period / 2 late.
    const beat = async (name) => Number(await rig.cluster.redis.hget(`t:worker:${name}`, 'heartbeatAt'));
    const nextBeat = async (name) => {
      const before = await beat(name);
      await waitUntil(async () => (await beat(name)) !== before, period + 5000, `a tick of ${name}`);
      return beat(name);
    };
    rig.spawnWorker('w1');
    await waitUntil(async () => rig.allWatchedOnce() && (await rig.allOwned(['w1'])), 15000, 'w1 watching everything');
    let w2After;
    for (let attempt = 0; ; attempt++) {
      // Started just after a tick of w1, w2 ticks its start-up time (about 0.5-2 s) after w1 does.
      await nextBeat('w1');
      const w2 = rig.spawnWorker('w2');
      await waitUntil(() => ownedByBoth(), 20000, 'every account owned, by both workers');
      const t1 = await nextBeat('w1');
      const t2 = await nextBeat('w2');
      w2After = (((t2 - t1) % period) + period) % period;
      // Ticks less than 400 ms apart could each come first (timers drift): no telling which one takes over.
      if ((w2After >= 400 && w2After <= period - 400) || attempt === 3) break;
      w2.child.send('stop');
      await new Promise((resolve) => w2.child.once('exit', resolve));
    }
    await waitUntil(() => rig.allWatchedOnce(), 15000, 'one watcher per account');
    await waitUntil(() => rig.allRecorded(), 15000, "every account's sync state in Redis");
    const [victim, survivor, lateBy] = w2After >= period / 2 ? ['w1', 'w2', w2After] : ['w2', 'w1', period - w2After];
    const mine = Object.entries(await rig.owners()).filter(([, w]) => w === victim).map(([id]) => id);
    expect(mine.length).toBeGreaterThan(0);
    await nextBeat(victim);
    await sleep(200); // its renewals, which follow the heartbeat
    rig.workers.find((w) => w.name === victim && w.child.exitCode === null).child.kill('SIGKILL');
    const killedAt = Date.now();
    const leaseEnds = Math.max(...await Promise.all(mine.map(async (id) => Date.now() + await rig.cluster.redis.pttl(`t:lease:${id}`))));
    rig.imap.appendMessage('INBOX', { subject: 'during the long gap' });
    await waitUntil(() => rig.allOwned([survivor]), lease + 8000, `${survivor} holding every lease`);
    const takenAt = Date.now();
    await waitUntil(async () => rig.allWatchedOnce(), lease + 8000, `${survivor} watching everything`);
    const watchedMs = Date.now() - killedAt;
    await rig.waitPublished('during the long gap');
    console.log(`SIGKILL (lease ${lease} ms): the leases ended ${leaseEnds - killedAt} ms after the kill, ${survivor} held them ` +
      `${takenAt - leaseEnds} ms later (its regular tick would have come ~${Math.round(lateBy)} ms later) and watched ` +
      `everything ${watchedMs} ms after the kill`);
    expect(takenAt - leaseEnds).toBeLessThan(1000);
    expect(watchedMs).toBeLessThanOrEqual(lease + 2000);
    noOverlap();
  }, 120000);

  test('SIGSTOP past the lease: taken over, then fenced: no entry from the paused worker, its sessions closed, nothing lost', async () => {
    const { w1 } = await twoWorkers();
    const lost = await w1Accounts();
    const staleLease = Object.fromEntries(lost.map((id) => [id, rig.redis.cli('GET', `t:lease:${id}`).trim()]));
    // The paused process's IDLE sessions stay open on the server: it cannot close them while it cannot run.
    const stale = lost.flatMap((id) => rig.watch.conns(id));
    rig.watch.exempt(stale);
    const stoppedAt = Date.now();
    w1.child.kill('SIGSTOP');
    // Its sockets get these EXISTS while it is stopped, and read them when it runs again.
    rig.imap.appendMessage('INBOX', { subject: 'during the pause' });
    await waitUntil(async () => rig.allWatchedOnce() && (await rig.allOwned(['w2'])), TARGET_MS + 6000, 'w2 watching everything');
    console.log(`SIGSTOP: every account watched by w2 ${Date.now() - stoppedAt} ms after the stop (lease ${LEASE_MS} ms)`);
    await rig.waitPublished('during the pause');
    const resumedAt = Date.now();
    w1.child.kill('SIGCONT');
    await waitUntil(() => rig.watch.stillOpen().length === 0, 5000, "the paused worker's old sessions closing");
    console.log(`SIGCONT: the paused worker's ${stale.length} old sessions closed ${Date.now() - resumedAt} ms after it resumed`);
    await waitUntil(() => w1.messages.filter((m) => m.type === 'leaseLost').length >= lost.length, 5000, 'leaseLost for each account');
    rig.imap.appendMessage('INBOX', { subject: 'after the resume' });
    await rig.waitPublished('after the resume');
    // Back in the cluster, w1 gets its share again, without two watchers at any moment.
    await waitUntil(async () => rig.allWatchedOnce() && (await ownedByBoth()), 15000, 'w1 back');
    noOverlap();
    const entries = await rig.streamEntries();
    for (const id of lost) {
      const mine = entries.filter((e) => e.payload.accountId === id);
      const firstOther = mine.findIndex((e) => e.owner !== staleLease[id]);
      expect(firstOther).toBeGreaterThanOrEqual(0);
      // Once another lease has written for the account, the stale one never writes again.
      expect(mine.slice(firstOther).filter((e) => e.owner === staleLease[id])).toEqual([]);
      const paused = mine.filter((e) => e.payload.messages[0].envelope.subject === 'during the pause');
      expect(paused.length).toBeGreaterThan(0);
      expect(paused.filter((e) => e.owner === staleLease[id])).toEqual([]);
    }
  }, 90000);

  test('fencing: a write under a lease another worker holds now is refused, and the account is dropped at once', async () => {
    rig = await startRig({ leaseMs: LEASE_MS });
    // In this process, with a lease long enough that no renewal (which would notice first) comes before the write.
    const solo = new ClusterWorker(rig.workerOptions('solo', { lease: 60000 }));
    const lost = [];
    solo.on('leaseLost', (id) => lost.push(id));
    try {
      await solo.start();
      await waitUntil(async () => rig.allWatchedOnce() && (await rig.allRecorded()), 15000, 'solo watching every account');
      rig.redis.cli('SET', 't:lease:user1', 'intruder:999999', 'PX', '60000'); // as if another worker had taken it meanwhile
      rig.imap.appendMessage('INBOX', { subject: 'under a stolen lease' });
      await rig.waitPublished('under a stolen lease', rig.names.filter((id) => id !== 'user1'));
      await waitUntil(() => lost.includes('user1') && rig.watch.count('user1') === 0, 5000, 'user1 lost and no longer watched');
      const entries = await rig.streamEntries();
      expect(entries.filter((e) => e.payload.accountId === 'user1' && e.payload.messages[0].envelope.subject === 'under a stolen lease')).toEqual([]);
      expect(entries.every((e) => /^solo:\d+$/.test(e.owner))).toBe(true);
      expect(rig.redis.cli('GET', 't:lease:user1').trim()).toBe('intruder:999999');
      expect(solo.accounts()).not.toContain('user1');
    } finally {
      await solo.stop();
    }
  }, 60000);

  test('a network cut between a worker and Redis: it stops watching before its leases end, the other takes over, it rejoins', async () => {
    const proxy = new FaultProxy();
    const proxyPort = await proxy.listen('127.0.0.1');
    try {
      const { w1 } = await twoWorkers({ w1Redis: (r) => {
        proxy.upstreamPort = r.redis.port;
        return `redis://127.0.0.1:${proxyPort}`;
      } });
      const lost = await w1Accounts();
      const cutAt = Date.now();
      proxy.blackhole();
      rig.imap.appendMessage('INBOX', { subject: 'during the cut' });
      await waitUntil(() => lost.every((id) => rig.watch.count(id) === 0), LEASE_MS + 2000, 'the cut worker no longer watching');
      const stoppedMs = Date.now() - cutAt;
      await waitUntil(async () => rig.allWatchedOnce() && (await rig.allOwned(['w2'])), TARGET_MS + 6000, 'w2 watching everything');
      const takenMs = Date.now() - cutAt;
      await rig.waitPublished('during the cut');
      console.log(`network cut: w1 stopped watching ${stoppedMs} ms after the cut, w2 watched everything after ${takenMs} ms ` +
        `(lease ${LEASE_MS} ms)`);
      expect(takenMs).toBeLessThanOrEqual(TARGET_MS);
      expect(w1.child.exitCode).toBe(null);
      const healedAt = Date.now();
      proxy.heal();
      await waitUntil(async () => rig.allWatchedOnce() && (await ownedByBoth()), 15000, 'w1 rejoining with its share');
      console.log(`network cut healed: w1 watching its share again ${Date.now() - healedAt} ms later`);
      rig.imap.appendMessage('INBOX', { subject: 'after the heal' });
      await rig.waitPublished('after the heal');
      noOverlap();
    } finally {
      await proxy.close();
    }
  }, 90000);

  test('Redis down for less than the lease (persistent): the workers keep watching, and the outage\'s mail is published after', async () => {
    // A longer lease, so the outage outlasts ioredis's own resending (it gives up on a command after 4 reconnect attempts,
    // about 0.5 s) yet ends before any lease could: the pushes that arrive meanwhile fail to write and must not be lost.
    await twoWorkers({ persist: true, leaseMs: 6000 });
    const since = rig.watch.history.length;
    await rig.redis.crash();
    rig.imap.appendMessage('INBOX', { subject: 'while Redis is down' });
    await sleep(1500);
    const backAt = Date.now();
    await rig.redis.start();
    await rig.waitPublished('while Redis is down');
    console.log(`Redis down 1.5 s: the outage's mail published ${Date.now() - backAt} ms after it was back (lease 6000 ms)`);
    expect(rig.watch.history.slice(since).filter((h) => h.change === 'gone')).toEqual([]);
    noOverlap();
  }, 60000);

  test('Redis down past the lease (persistent): the workers stop watching, then take their accounts back and catch up', async () => {
    await twoWorkers({ persist: true });
    const downAt = Date.now();
    await rig.redis.crash();
    rig.imap.appendMessage('INBOX', { subject: 'during the long outage' });
    await waitUntil(() => rig.watch.watched().length === 0, LEASE_MS + 2000, 'no one watching while no lease can be renewed');
    console.log(`Redis down: the last account stopped being watched ${Date.now() - downAt} ms after the crash (lease ${LEASE_MS} ms)`);
    await sleep(LEASE_MS);
    const backAt = Date.now();
    await rig.redis.start();
    expect(Number(rig.redis.cli('HLEN', 't:accounts'))).toBe(6); // the accounts survived in the append-only file
    await waitUntil(() => rig.allWatchedOnce(), TARGET_MS + 6000, 'one watcher per account again');
    const watchedMs = Date.now() - backAt;
    await rig.waitPublished('during the long outage');
    console.log(`Redis back: every account watched again ${watchedMs} ms later, the outage's mail published after ${Date.now() - backAt} ms`);
    noOverlap();
  }, 60000);

  test('Redis restarted without persistence: the workers survive, watch nothing, and take accounts added again', async () => {
    const { w1, w2 } = await twoWorkers();
    await rig.redis.restart(); // empty: accounts, leases, state and streams are gone
    await waitUntil(() => rig.watch.watched().length === 0, LEASE_MS + 4000, 'no watchers for accounts Redis forgot');
    await waitUntil(async () => (await rig.cluster.workers()).length === 2, 10000, 'both workers heartbeating again');
    expect([w1.child.exitCode, w2.child.exitCode]).toEqual([null, null]);
    await rig.addAccounts();
    await waitUntil(() => rig.allWatchedOnce(), 15000, 'one watcher per account added again');
    rig.imap.appendMessage('INBOX', { subject: 'after the re-add' });
    await rig.waitPublished('after the re-add');
    noOverlap();
  }, 60000);

  test('Cluster.close() returns while Redis is down, its consumers stopped; the outage is one warning, not a log line per retry', async () => {
    const redis = await startRedis();
    const cluster = new Cluster({ redis: redis.url, prefix: 't', secret: 'cluster-faults-secret-0123456789' });
    const warnings = [];
    cluster.on('warning', (w) => warnings.push(w));
    const logged = jest.spyOn(console, 'error').mockImplementation(() => {});
    cluster.consume('EmailNewMessage', { group: 'store', consumer: 'c1', blockMs: 200 }, () => {});
    let timer;
    try {
      await sleep(300);
      await redis.crash();
      await sleep(4000); // long enough that ioredis sits between two reconnect attempts, not in one
      const tooLong = new Promise((resolve) => { timer = setTimeout(resolve, 5000, 'still closing after 5 s'); });
      const closed = await Promise.race([cluster.close().then(() => 'closed'), tooLong]);
      expect(closed).toBe('closed');
      expect(warnings.map((w) => w.code)).toEqual(['REDIS_UNAVAILABLE']);
      expect(logged).not.toHaveBeenCalled(); // ioredis' "[ioredis] Unhandled error event" for each attempt
    } finally {
      clearTimeout(timer);
      logged.mockRestore();
      await redis.stop();
    }
  }, 30000);
});
