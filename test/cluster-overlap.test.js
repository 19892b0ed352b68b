'use strict';

// "Every account is watched by exactly one live worker", when a worker is
// slow: an account it lets go (a rebalance, a lease deadline) while its
// sessions are still being set up, or while its tick runs late. The
// IdleWatch counts, from the mock server's events, how many sessions watch
// each user: never more than one.

const { redisAvailable } = require('./support/redis');
const { startRig } = require('./support/cluster-rig');
const { waitUntil, sleep } = require('./support/wait');

const LEASE_MS = 2000;

if (!redisAvailable() && !process.env.CI) console.warn('\n*** cluster-overlap.test.js SKIPPED: redis-server is not installed ***\n');
const maybe = redisAvailable() || process.env.CI ? describe : describe.skip;

maybe('cluster: no double watching under a slow worker', () => {
  let rig;
  afterEach(async () => {
    if (rig) await rig.close();
    rig = null;
  });

  test('an account let go while its sessions are still connecting is not watched by its old worker after the new one takes it', async () => {
    rig = await startRig({ leaseMs: LEASE_MS });
    // w1's connections get their greeting 4 s late (the delay is fixed when the server queues it): w1 takes every
    // account, but none of its sessions is up when w2 joins and w1 hands w2 its share.
    rig.imap.delay(4000);
    rig.spawnWorker('w1');
    await waitUntil(() => rig.imap.clients().length >= rig.names.length, 15000, "w1's connections");
    rig.imap.delay(0);
    rig.spawnWorker('w2');
    const ownedByBoth = async () => {
      const by = new Set(Object.values(await rig.owners()));
      return (await rig.allOwned()) && by.has('w1') && by.has('w2');
    };
    await waitUntil(() => ownedByBoth(), 20000, 'every account owned, by both workers');
    await waitUntil(() => rig.allWatchedOnce(), 20000, 'one watcher per account');
    await sleep(2 * LEASE_MS); // w1's late sessions come up (or not) meanwhile
    expect(rig.watch.overlaps()).toEqual([]);
    expect(rig.allWatchedOnce()).toBe(true);
  }, 60000);
});
