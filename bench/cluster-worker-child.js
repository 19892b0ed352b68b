'use strict';
// One ClusterWorker in a process of its own, for bench/cluster.js: it can be
// SIGKILLed, and its RSS is its own. Options come as JSON in argv[2].
//
// To the parent (IPC): { type: 'watched' | 'lost', id, t } per account (t is
// Date.now(), one clock for every process on the machine), { type: 'warning' }
// (counted, first few kept), and answers to requests { rid, cmd }:
//   stats    -> { rss, baseRss, heapUsed, owned, ticks: [{ at, ms, cpuMs, renewMs, renews, owned }] } (ticks since the last stats)
//   hashCost -> wall and CPU ms one rendezvous pass over every stored account takes (ownerOf against the live workers),
//               which each tick did once for the accounts it holds and once for all of them before the
//               ranking was cached (it is now worked out again only when the live workers change)
// The tick is timed from outside the worker (its _tickOnce wrapped), and so is
// the time the tick spends waiting for lease renewals (its Redis command wrapped).

const { ClusterWorker } = require('imap-push/cluster');
const { ownerOf, keys } = require('../lib/cluster/common');

const opts = JSON.parse(process.argv[2]);
const baseRss = process.memoryUsage().rss; // node and the addon loaded, no engine yet
const worker = new ClusterWorker(opts);
const send = (m) => process.connected && process.send(m);
let ticks = [];
let current = null;
let warnings = 0;

worker.on('accountWatched', (id) => send({ type: 'watched', id, t: Date.now() }));
worker.on('leaseLost', (id) => send({ type: 'lost', id, t: Date.now() }));
worker.on('warning', (err) => {
  if (++warnings <= 5) send({ type: 'warning', message: err.message, code: err.code });
});

// The tick renews in batches (imapPushrenewmany: the number of leases first): renewMs is the time its batches
// took (they run concurrently, so wall time may count twice when there are several), renews the leases.
function wrapRenew(redis) {
  const renew = redis.imapPushrenewmany.bind(redis);
  redis.imapPushrenewmany = async (...args) => {
    const t = process.hrtime.bigint();
    try {
      return await renew(...args);
    } finally {
      if (current) {
        current.renewMs += Number(process.hrtime.bigint() - t) / 1e6;
        current.renews += Number(args[0]);
      }
    }
  };
}

const tickOnce = worker._tickOnce.bind(worker);
let wrapped = false;
worker._tickOnce = async () => {
  if (!wrapped) {
    wrapRenew(worker.redis);
    wrapped = true;
  }
  const t = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  current = { at: Date.now(), ms: 0, cpuMs: 0, renewMs: 0, renews: 0, owned: 0 };
  const tick = current;
  try {
    return await tickOnce(); // when the next takeover may come (the worker's _wakeAt): dropping it made it tick every ms
  } finally {
    tick.ms = Number(process.hrtime.bigint() - t) / 1e6;
    const used = process.cpuUsage(cpu);
    tick.cpuMs = (used.user + used.system) / 1000; // the whole process's, engine thread included
    tick.owned = worker.accounts().length;
    ticks.push(tick);
    if (ticks.length > 1000) ticks.shift();
  }
};

const handlers = {
  stats() {
    const out = ticks;
    ticks = [];
    const mem = process.memoryUsage();
    return { rss: mem.rss, baseRss, heapUsed: mem.heapUsed, owned: worker.accounts().length, warnings, ticks: out };
  },
  async hashCost() {
    const k = keys(opts.prefix);
    const now = Date.now();
    const live = await worker.redis.zrangebyscore(k.workers, now - opts.leaseMs, '+inf');
    const ids = await worker.redis.hkeys(k.accounts);
    const t = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    let mine = 0;
    for (const id of ids) if (ownerOf(id, live) === worker.id) mine++;
    const used = process.cpuUsage(cpu);
    return { ms: Number(process.hrtime.bigint() - t) / 1e6, cpuMs: (used.user + used.system) / 1000, accounts: ids.length, live: live.length, mine };
  },
};

process.on('message', async (m) => {
  if (!m || !m.rid) return;
  try {
    send({ rid: m.rid, result: await handlers[m.cmd]() });
  } catch (err) {
    send({ rid: m.rid, error: err.message });
  }
});
// Never outlive the benchmark.
process.on('disconnect', () => process.exit(0));

worker.start().then(() => send({ type: 'started', id: worker.id, t: Date.now() }), (err) => {
  send({ type: 'failed', message: err.message });
  process.exit(1);
});
