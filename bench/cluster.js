#!/usr/bin/env node
'use strict';
// imap-push/cluster on a real Redis (Debian's redis-server on loopback, under
// a temp dir) and mock IMAP servers in processes of their own, with every
// ClusterWorker in a process of its own. Prints one JSON line on stdout.
//
//   node bench/cluster.js --scenario core [--workers 3] [--accounts 300] [--servers 3] [--lease-ms 3000]
//        [--messages 10] [--gap 3]
//     Redis memory per account (used_memory before the accounts, after they are stored, after they are
//     watched, after --messages entries each), EmailNewMessage throughput (--messages appends per server,
//     a new message for each of its accounts: first append to last stream entry), then failover: one
//     worker SIGKILLed, --gap appends per server spread over one lease, and the time until each of its
//     accounts is watched by another worker, with every gap message checked in the stream.
//   node bench/cluster.js --scenario sim --workers 10 --accounts 10000 [--servers 2] [--lease-ms 10000]
//        [--watch-limit-ms 300000] [--hold-ms 20000] [--messages 1] [--max-accounts 15000]
//     One step of the many-accounts simulation: every worker starts at once; time until every account
//     is watched (or how far it got), then a hold of --hold-ms with every tick timed (and the lease
//     renewals in it), RSS per worker, Redis memory, one message per account through the stream.
//   node bench/cluster.js --scenario tick [--leases 100,1000,3000,10000] [--accounts-list 1000,10000,30000,100000]
//     What one tick costs as the accounts grow, measured alone (bench/cluster-tick.js): K lease renewals one
//     round trip at a time (as the tick does) and all at once, and the rendezvous pass over N accounts.
//   --limit-ms N    the whole run gives up (cleaning up) after N ms; default 14 min
const os = require('os');
const { parseArgs } = require('util');
const { startRig, addAccounts, until, sleep, usedMemory, keyMemory, streamAdded, readStream, PREFIX, SECRET } = require('./cluster-rig');
const { median } = require('./stats');
const { tickCosts } = require('./cluster-tick');

const { values: opt } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'core' },
    workers: { type: 'string' },
    accounts: { type: 'string' },
    servers: { type: 'string' },
    'lease-ms': { type: 'string' },
    messages: { type: 'string' },
    gap: { type: 'string', default: '3' },
    'watch-limit-ms': { type: 'string', default: '300000' },
    'hold-ms': { type: 'string', default: '20000' },
    'max-accounts': { type: 'string', default: '15000' },
    'limit-ms': { type: 'string', default: String(14 * 60 * 1000) },
    leases: { type: 'string', default: '100,1000,3000,10000' },
    'accounts-list': { type: 'string', default: '1000,10000,30000,100000' },
  },
});
const SIM = opt.scenario === 'sim';
const TICK = opt.scenario === 'tick';
const num = (v, d) => (v === undefined ? d : Number(v));
const W = num(opt.workers, SIM ? 10 : 3);
const N = num(opt.accounts, SIM ? 1000 : 300);
const S = TICK ? 0 : num(opt.servers, SIM ? Math.max(2, Math.ceil(N / 10000)) : 3);
const LEASE = num(opt['lease-ms'], SIM ? 10000 : 3000);
const MESSAGES = num(opt.messages, SIM ? 1 : 10);
const GAP = Number(opt.gap);
const log = (s) => process.stderr.write(`[cluster ${opt.scenario}${TICK ? '' : ` n=${N}`}] ${s}\n`);
const summary = (xs) => (xs.length ? { n: xs.length, min: Math.min(...xs), median: median(xs), max: Math.max(...xs) } : { n: 0 });
// The loop's timers must not hold ticks up: engine polling is not the thing measured.
const ENGINE = { reconnect: { initialDelayMs: 200, maxDelayMs: 2000 } };

// Waits until every account is watched, by as many workers as run and (when
// `owners`) by the worker Redis says holds its lease; returns ms or null.
async function settle(rig, fl, limitMs, t0, { owners = false, progress = [] } = {}) {
  let lastLog = 0;
  const ok = await until(async () => {
    const now = Date.now();
    if (now - lastLog > 5000) {
      lastLog = now;
      const c = await rig.mockCount();
      progress.push({ s: Math.round((now - t0) / 1000), watched: fl.watched.size, idling: c.idling, connections: c.connections, lost: fl.stats.lost });
      log(`${fl.watched.size} watched, ${c.idling} in IDLE on the mocks, ${fl.stats.lost} leases lost, ${fl.stats.warnings} warnings`);
    }
    // Thrashing: more leases lost than there are accounts. It does not settle; waiting longer only costs time.
    if (fl.stats.lost > N) return 'thrashing';
    if (fl.watched.size < N) return false;
    if (new Set([...fl.watched.values()].map((v) => v.worker)).size < fl.workers.filter((w) => !w.exited).length) return false;
    if ((await rig.mockCount()).idling !== N) return false;
    if (!owners) return true;
    const o = await rig.cluster.owners();
    return [...fl.watched].every(([id, v]) => o[id] === v.worker);
  }, limitMs, SIM ? 1000 : 50);
  return ok === true ? Date.now() - t0 : null;
}

async function memory(redis, base, ids) {
  const used = await usedMemory(redis);
  return { used, perAccount: (used - base) / N, keys: await keyMemory(redis, ids) };
}

// Appends `count` messages to every server (each one a new message for each of
// its accounts) and waits for all of them in the stream: events/s from the
// first append to the last entry, with missing and duplicated deliveries.
async function burst(rig, label, count, limitMs) {
  const r = rig.cluster.redis;
  const added0 = await streamAdded(r);
  const t0 = Date.now();
  for (let i = 0; i < count; i++) await Promise.all(rig.mocks.map((m) => m.call('append', { folder: 'INBOX', msg: { subject: `${label} ${i}` } })));
  const expected = N * count;
  // Duplicates (at least once) can make up the count before the last message is in: below 200,000 the entries themselves are checked.
  const checkable = expected <= 200000;
  const done = await until(async () => (await streamAdded(r)) - added0 >= expected
    && (!checkable || check(await readStream(r, `${t0}-0`), label, count).missing === 0), limitMs, checkable ? 500 : 100);
  const last = await r.xrevrange(`${PREFIX}:EmailNewMessage`, '+', '-', 'COUNT', 1);
  const lastMs = last.length ? Number(last[0][0].split('-')[0]) : t0; // no entry at all: nothing got through
  const added = (await streamAdded(r)) - added0;
  const out = { expected, added, complete: done, spanMs: lastMs - t0, eventsPerSec: (added / Math.max(1, lastMs - t0)) * 1000 };
  if (checkable && (await r.xlen(`${PREFIX}:EmailNewMessage`)) >= added) Object.assign(out, check(await readStream(r, `${t0}-0`), label, count));
  return out;
}

// Which (account, message) pairs of `label` are missing from the stream entries, and which came twice.
function check(entries, label, count) {
  const seen = new Map();
  for (const e of entries) if (e.subject.startsWith(`${label} `)) seen.set(`${e.accountId}\0${e.subject}`, (seen.get(`${e.accountId}\0${e.subject}`) || 0) + 1);
  let missing = 0;
  for (let i = 0; i < N; i++) for (let j = 0; j < count; j++) if (!seen.has(`u${i}\0${label} ${j}`)) missing++;
  return { missing, duplicated: [...seen.values()].filter((v) => v > 1).length };
}

function tickSummary(statsList) {
  const per = statsList.map((s) => s.ticks);
  const all = per.flat();
  return {
    ticks: all.length,
    ms: summary(all.map((t) => t.ms)),
    cpuMs: summary(all.map((t) => t.cpuMs)),
    renewMs: summary(all.map((t) => t.renewMs)),
    renews: summary(all.map((t) => t.renews)),
    // The renewal round trip, per lease: what a tick of renewals costs per account held.
    renewUsEach: summary(all.filter((t) => t.renews).map((t) => (t.renewMs * 1000) / t.renews)),
  };
}

async function core(rig) {
  const load0 = os.loadavg()[0];
  const r = rig.cluster.redis;
  const base = await usedMemory(r);
  await addAccounts(rig.cluster, rig.mocks, N);
  const afterStore = await usedMemory(r);
  const fl = rig.startFleet({ leaseMs: LEASE, engine: ENGINE });
  const t0 = Date.now();
  for (let i = 1; i <= W; i++) fl.spawn(`w${i}`);
  const progress = [];
  const watchedMs = await settle(rig, fl, 90000, t0, { owners: true, progress });
  if (watchedMs === null) {
    // Nothing to fail over from: what it reached is the result.
    log(`not every account watched by its owner: ${fl.watched.size} of ${N}, ${fl.stats.lost} leases lost`);
    return { load: [load0, os.loadavg()[0]], scenario: 'core', workers: W, accounts: N, servers: S, leaseMs: LEASE, messages: MESSAGES,
      watchedMs, settleLimitMs: 90000, progress, reached: { watched: fl.watched.size, lost: fl.stats.lost, ...(await rig.mockCount()) },
      warnings: fl.stats.warnings, firstWarnings: fl.stats.firstWarnings };
  }
  log(`all ${N} watched by their owners in ${watchedMs} ms`);
  const ids = Array.from({ length: N }, (_, i) => `u${i}`);
  const afterWatch = await memory(r, base, ids);
  const throughput = await burst(rig, 'burst', MESSAGES, 120000);
  log(`throughput: ${throughput.added} events in ${throughput.spanMs} ms`);
  const afterMessages = await memory(r, base, ids);

  // Failover: the worker holding the most accounts dies.
  const counts = new Map();
  for (const v of fl.watched.values()) counts.set(v.worker, (counts.get(v.worker) || 0) + 1);
  const victimName = [...counts].sort((a, b) => b[1] - a[1])[0][0];
  const victim = fl.workers.find((w) => w.name === victimName);
  const held = fl.heldBy(victimName);
  const lost0 = fl.stats.lost;
  const killedAt = Date.now();
  victim.child.kill('SIGKILL');
  const leaseTaken = new Map();
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const o = await rig.cluster.owners();
      const now = Date.now();
      for (const id of held) if (!leaseTaken.has(id) && o[id] && o[id] !== victimName) leaseTaken.set(id, now - killedAt);
      await sleep(25);
    }
  })();
  for (let j = 0; j < GAP; j++) {
    await Promise.all(rig.mocks.map((m) => m.call('append', { folder: 'INBOX', msg: { subject: `gap ${j}` } })));
    if (j < GAP - 1) await sleep(Math.floor(LEASE / GAP));
  }
  const moved = () => held.every((id) => fl.watched.has(id) && fl.watched.get(id).worker !== victimName);
  const allMoved = await until(moved, LEASE * 3 + 20000, 25);
  polling = false;
  await poll;
  const watchedAfter = held.filter((id) => fl.watched.get(id)?.worker !== victimName && fl.watched.has(id)).map((id) => fl.watched.get(id).t - killedAt);
  const gapComplete = await until(async () => check(await readStream(r, `${killedAt}-0`), 'gap', GAP).missing === 0, 30000, 250);
  const gap = check(await readStream(r, `${killedAt}-0`), 'gap', GAP);
  log(`failover: ${watchedAfter.length} of ${held.length} accounts moved; gap messages missing ${gap.missing}`);
  return {
    load: [load0, os.loadavg()[0]],
    scenario: 'core', workers: W, accounts: N, servers: S, leaseMs: LEASE, messages: MESSAGES,
    watchedMs,
    memory: { base, afterStore, afterStorePerAccount: (afterStore - base) / N, afterWatch, afterMessages, streamEntriesPerAccount: MESSAGES },
    throughput,
    failover: {
      victim: victimName, held: held.length, allMoved, leaseTakenMs: summary([...leaseTaken.values()]), watchedMs: summary(watchedAfter),
      gapMessages: GAP, gapAppendsOverMs: Math.floor(LEASE / GAP) * (GAP - 1), gapComplete, gapMissing: gap.missing, gapDuplicated: gap.duplicated,
      leasesLost: fl.stats.lost - lost0,
    },
    warnings: fl.stats.warnings, firstWarnings: fl.stats.firstWarnings,
  };
}

async function sim(rig) {
  const load0 = os.loadavg()[0];
  const r = rig.cluster.redis;
  const base = await usedMemory(r);
  const a0 = Date.now();
  await addAccounts(rig.cluster, rig.mocks, N);
  const storeMs = Date.now() - a0;
  const afterStore = await usedMemory(r);
  log(`${N} accounts stored in ${storeMs} ms`);
  const fl = rig.startFleet({ leaseMs: LEASE, engine: ENGINE, maxAccounts: Number(opt['max-accounts']) });
  const t0 = Date.now();
  for (let i = 1; i <= W; i++) fl.spawn(`w${i}`);
  const progress = [];
  const watchedMs = await settle(rig, fl, Number(opt['watch-limit-ms']), t0, { progress });
  const reached = { watched: fl.watched.size, ...(await rig.mockCount()), lost: fl.stats.lost, warnings: fl.stats.warnings };
  log(watchedMs === null ? `not all watched: ${JSON.stringify(reached)}` : `all ${N} watched in ${watchedMs} ms`);
  const live = fl.workers.filter((w) => !w.exited);
  const startup = await Promise.all(live.map((w) => fl.call(w, 'stats')));
  const lost0 = fl.stats.lost;
  const cpu0 = await r.info('cpu');
  await sleep(Number(opt['hold-ms']));
  const cpu1 = await r.info('cpu');
  const hold = await Promise.all(live.map((w) => fl.call(w, 'stats')));
  const redisCpuMs = (s) => ['used_cpu_sys', 'used_cpu_user'].reduce((a, k) => a + Number(new RegExp(`${k}:([\\d.]+)`).exec(s)[1]) * 1000, 0);
  const owners = await rig.cluster.owners();
  const hashCost = await fl.call(live[0], 'hashCost', 120000);
  const ids = Array.from({ length: N }, (_, i) => `u${i}`);
  const afterWatch = await memory(r, base, ids);
  const mockRss = await rig.mockRss();
  const held = { watched: fl.watched.size, leased: Object.keys(owners).length, ...(await rig.mockCount()), leasesLostInHold: fl.stats.lost - lost0 };
  log(`hold: ${JSON.stringify(held)}; ticks ${JSON.stringify(tickSummary(hold).ms)}`);
  const throughput = await burst(rig, 'sim', MESSAGES, watchedMs === null ? 15000 : Math.max(60000, N * MESSAGES));
  log(`${throughput.added} of ${throughput.expected} events in ${throughput.spanMs} ms`);
  const afterMessages = await memory(r, base, ids);
  return {
    load: [load0, os.loadavg()[0]],
    workerStartMs: summary(fl.workers.filter((w) => w.startedAt).map((w) => w.startedAt - t0)),
    scenario: 'sim', workers: W, accounts: N, servers: S, leaseMs: LEASE, tickEveryMs: Math.floor(LEASE / 3), maxAccounts: Number(opt['max-accounts']),
    storeMs, watchedMs, reached, progress,
    startupTicks: tickSummary(startup), holdMs: Number(opt['hold-ms']), holdTicks: tickSummary(hold), held,
    redisCpuPercentInHold: ((redisCpuMs(cpu1) - redisCpuMs(cpu0)) / Number(opt['hold-ms'])) * 100,
    hashCost,
    workerRss: hold.map((s) => ({ rss: s.rss, baseRss: s.baseRss, heapUsed: s.heapUsed, owned: s.owned })),
    mockRss,
    memory: { base, afterStore, afterStorePerAccount: (afterStore - base) / N, afterWatch, afterMessages, streamEntriesPerAccount: MESSAGES },
    throughput,
    warnings: fl.stats.warnings, firstWarnings: fl.stats.firstWarnings,
  };
}

async function tick(rig) {
  const list = (v) => v.split(',').map(Number);
  const out = await tickCosts({ redisUrl: rig.redisServer.url, prefix: PREFIX, secret: SECRET, leaseMs: num(opt['lease-ms'], 10000),
    leaseCounts: list(opt.leases), accountCounts: list(opt['accounts-list']), workers: num(opt.workers, 10), log });
  return { scenario: 'tick', load: os.loadavg()[0], ...out };
}

async function main() {
  const rig = await startRig({ servers: S, accounts: N });
  let stopping = null;
  const stop = () => (stopping = stopping || rig.stop());
  const limit = setTimeout(() => {
    log(`over --limit-ms ${opt['limit-ms']}: giving up`);
    stop().finally(() => process.exit(1));
  }, Number(opt['limit-ms']));
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => stop().finally(() => process.exit(1)));
  try {
    const out = SIM ? await sim(rig) : TICK ? await tick(rig) : await core(rig);
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    clearTimeout(limit);
    await stop();
  }
}

main().catch((err) => {
  log(err.stack || String(err));
  process.exit(1);
});
