'use strict';
// The two costs of a ClusterWorker tick that grow with the accounts, each on
// its own, in one process with nothing else running in it (bench/cluster.js
// --scenario tick):
//  - renewing K leases the way the tick does, one awaited round trip after the
//    other, against the same K renewals sent at once (ioredis then writes
//    them back to back: one pipeline), with the worker's own renew script
//    (RENEW_MANY, here one lease per call, as the tick sent them before): a
//    real ClusterWorker is started (no accounts) and its Redis client used;
//    and the worker's own renewal pass (_renewAll: RENEW_MANY, 1,000 leases
//    per round trip, as the tick renews since the batching change);
//  - the rendezvous pass: ownerOf() of N accounts against W live workers,
//    which the tick ran for every stored account (and again for the held ones)
//    before the ranking was cached, and the tick's pass through the cache
//    (RankCache): cold (the first tick after the live workers change) and warm.
const { ClusterWorker } = require('imap-push/cluster');
const { ownerOf } = require('../lib/cluster/common');
const { RankCache } = require('../lib/cluster/placement');

const cpuMs = (since) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};

async function timed(fn) {
  const c = process.cpuUsage();
  const t = process.hrtime.bigint();
  await fn();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, cpuMs: cpuMs(c) };
}

async function tickCosts({ redisUrl, prefix, secret, leaseMs, leaseCounts, accountCounts, workers, log }) {
  const worker = new ClusterWorker({ redis: redisUrl, prefix, secret, leaseMs, id: 'tick-bench' });
  await worker.start();
  const r = worker.redis;
  const renewals = [];
  try {
    for (const k of leaseCounts) {
      const keys = Array.from({ length: k }, (_, i) => `${prefix}:lease:t${i}`);
      await Promise.all(keys.map((key) => r.set(key, 'tick-bench:1', 'PX', leaseMs)));
      const renew = async (key) => (await r.imapPushrenewmany(1, key, leaseMs, 'tick-bench:1'))[0];
      const sequential = await timed(async () => {
        for (const key of keys) if (!(await renew(key))) throw new Error(`${key}: not renewed`);
      });
      const pipelined = await timed(async () => {
        const ok = await Promise.all(keys.map(renew));
        if (ok.some((x) => !x)) throw new Error('a pipelined renewal failed');
      });
      // The worker's pass, over leases it believes it holds (not started, so no engine account behind them).
      const held = keys.map((key, i) => [`t${i}`, { lease: 'tick-bench:1', renewedAt: 0 }]);
      for (const [id, h] of held) worker._owned.set(id, h);
      let worker1;
      try {
        worker1 = await timed(async () => {
          const ok = await worker._renewAll(held);
          if ([...ok.values()].some((x) => !x)) throw new Error('a batched renewal failed');
        });
      } finally {
        for (const [id, h] of held) {
          clearTimeout(h.deadline);
          worker._owned.delete(id);
        }
      }
      renewals.push({ leases: k, sequential, pipelined, worker: worker1 });
      log(`renew ${k}: sequential ${sequential.ms.toFixed(0)} ms, pipelined ${pipelined.ms.toFixed(0)} ms, worker (batched) ${worker1.ms.toFixed(0)} ms`);
      await r.del(...keys);
    }
  } finally {
    await worker.stop();
  }
  const live = Array.from({ length: workers }, (_, i) => `w${i + 1}`);
  const hashing = [];
  for (const n of accountCounts) {
    const ids = Array.from({ length: n }, (_, i) => `u${i}`);
    let mine = 0;
    const t = await timed(() => {
      for (const id of ids) if (ownerOf(id, live) === 'w1') mine++;
    });
    const cache = new RankCache();
    const pass = () => {
      const rankOf = cache.for(live);
      let m = 0;
      for (const id of ids) if (rankOf(id)[0] === 'w1') m++;
      if (m !== mine) throw new Error('the cached ranking disagrees');
    };
    const cold = await timed(pass);
    const warm = await timed(pass);
    hashing.push({ accounts: n, workers, ...t, usPerAccount: (t.cpuMs * 1000) / n, mine, cached: { cold, warm } });
    log(`rendezvous pass over ${n} accounts, ${workers} workers: ${t.ms.toFixed(0)} ms (CPU ${t.cpuMs.toFixed(0)} ms); ` +
      `cached: cold ${cold.ms.toFixed(0)} ms, warm ${warm.ms.toFixed(1)} ms`);
  }
  return { renewals, hashing };
}

module.exports = { tickCosts };
