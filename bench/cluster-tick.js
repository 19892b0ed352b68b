'use strict';
// The two costs of a ClusterWorker tick that grow with the accounts, each on
// its own, in one process with nothing else running in it (bench/cluster.js
// --scenario tick):
//  - renewing K leases the way the tick does, one awaited round trip after the
//    other, against the same K renewals sent at once (ioredis then writes
//    them back to back: one pipeline), with the worker's own renew script: a
//    real ClusterWorker is started (no accounts) and its Redis client used;
//  - the rendezvous pass: ownerOf() of N accounts against W live workers,
//    which the tick runs for every stored account (and again for the held ones).
const { ClusterWorker } = require('imap-push/cluster');
const { ownerOf } = require('../lib/cluster/common');

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
      const renew = (key) => r.imapPushrenew(key, 'tick-bench:1', leaseMs);
      const sequential = await timed(async () => {
        for (const key of keys) if (!(await renew(key))) throw new Error(`${key}: not renewed`);
      });
      const pipelined = await timed(async () => {
        const ok = await Promise.all(keys.map(renew));
        if (ok.some((x) => !x)) throw new Error('a pipelined renewal failed');
      });
      renewals.push({ leases: k, sequential, pipelined });
      log(`renew ${k}: sequential ${sequential.ms.toFixed(0)} ms, pipelined ${pipelined.ms.toFixed(0)} ms`);
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
    hashing.push({ accounts: n, workers, ...t, usPerAccount: (t.cpuMs * 1000) / n, mine });
    log(`rendezvous pass over ${n} accounts, ${workers} workers: ${t.ms.toFixed(0)} ms (CPU ${t.cpuMs.toFixed(0)} ms)`);
  }
  return { renewals, hashing };
}

module.exports = { tickCosts };
