'use strict';
// The cluster section of bench/run.js: bench/cluster.js's core scenario
// (failover, EmailNewMessage throughput, Redis memory per account) and the
// many-accounts simulation, stepped up until a step no longer holds; its own
// block of BENCHMARKS.md.
const { markers, writeBlock, measure, render } = require('./blocks');

const MARKERS = markers('cluster');

const watchLimit = (accounts) => (accounts <= 1000 ? 90000 : accounts <= 3000 ? 120000 : 150000);

function config(quick) {
  return quick
    ? { core: [{ workers: 3, accounts: 30, leaseMs: 2000, messages: 3 }], tick: { leases: [100, 1000], accounts: [1000, 10000] },
      sim: [[{ accounts: 200, leaseMs: 10000, watchLimitMs: 60000 }]], holdMs: 5000 }
    : {
      core: [3000, 5000, 10000].map((leaseMs) => ({ workers: 3, accounts: 300, leaseMs, messages: 10 })),
      tick: { leases: [100, 1000, 3000, 10000], accounts: [1000, 10000, 30000, 100000] },
      // Two series, the default lease and a 60 s one, each stepped up until a step does not hold. Bounded:
      // a step that loses more leases than it has accounts stops waiting for them.
      sim: [
        [1000, 3000, 10000, 30000, 100000].map((accounts) => ({ accounts, leaseMs: 10000, watchLimitMs: watchLimit(accounts) })),
        [3000, 10000, 30000, 100000].map((accounts) => ({ accounts, leaseMs: 60000, watchLimitMs: watchLimit(accounts) })),
      ],
      holdMs: 20000,
    };
}

const coreArgs = (c) => ['bench/cluster.js', '--scenario', 'core', '--workers', String(c.workers), '--accounts', String(c.accounts),
  '--lease-ms', String(c.leaseMs), '--messages', String(c.messages)];
// The hold lasts at least two tick periods, so that every worker ticks in it at least once whole.
const holdFor = (s, holdMs) => Math.max(holdMs, Math.ceil((s.leaseMs * 2) / 3));
const simArgs = (s, holdMs) => ['bench/cluster.js', '--scenario', 'sim', '--workers', '10', '--accounts', String(s.accounts),
  '--lease-ms', String(s.leaseMs), '--hold-ms', String(holdFor(s, holdMs)), '--watch-limit-ms', String(s.watchLimitMs)];
const tickArgs = (t) => ['bench/cluster.js', '--scenario', 'tick', '--leases', t.leases.join(','), '--accounts-list', t.accounts.join(',')];
// A step holds when every account was watched and no lease was lost while nothing else happened.
const holds = (r) => r.result && r.result.watchedMs !== null && r.result.held.leasesLostInHold === 0;

async function run(cfg, runJson) {
  const rows = [];
  for (const c of cfg.core) {
    const argv = coreArgs(c);
    rows.push(await measure({ kind: 'core', ...c, command: `node ${argv.join(' ')}` }, runJson, argv, 5 * 60 * 1000));
  }
  const targv = tickArgs(cfg.tick);
  rows.push(await measure({ kind: 'tick', command: `node ${targv.join(' ')}` }, runJson, targv, 5 * 60 * 1000));
  for (const series of cfg.sim) {
    let stopped = null;
    for (const s of series) {
      const argv = simArgs(s, cfg.holdMs);
      const row = { kind: 'sim', ...s, command: `node ${argv.join(' ')}` };
      rows.push(await measure(row, runJson, argv, s.watchLimitMs + 8 * 60 * 1000, stopped));
      if (!stopped && !holds(row)) stopped = `not run: the ${row.accounts.toLocaleString('en-US')}-account step did not hold`;
    }
  }
  return rows;
}

// ---- formatting ----------------------------------------------------------------

function section(rows, cfg, { fmt, table }) {
  const s = (ms) => fmt(ms / 1000, 1);
  const mmm = (x, f = s) => (x && x.n ? `${f(x.min)} / ${f(x.median)} / ${f(x.max)}` : 'n/a');
  const KiB = 1024;
  const MiB = 1024 * 1024;
  const core = rows.filter((r) => r.kind === 'core');
  const sim = rows.filter((r) => r.kind === 'sim');
  const tick = rows.find((r) => r.kind === 'tick');
  const ms0 = (v) => fmt(v, 0);
  const renewRows = !tick ? [] : !tick.result ? [fail(tick, 3)] : tick.result.renewals.map((x) => [fmt(x.leases, 0),
    `${ms0(x.sequential.ms)} (CPU ${ms0(x.sequential.cpuMs)})`, `${ms0(x.pipelined.ms)} (CPU ${ms0(x.pipelined.cpuMs)})`,
    fmt((x.sequential.ms * 1000) / x.leases, 0)]);
  const hashRows = !tick || !tick.result ? [] : tick.result.hashing.map((x) => [fmt(x.accounts, 0), fmt(x.workers, 0),
    `${ms0(x.ms)} (CPU ${ms0(x.cpuMs)})`, fmt(x.usPerAccount, 1)]);
  const fail = (r, cols) => [`not measured: ${r.error}`, ...Array(cols).fill('')];

  const failRows = core.map((r) => {
    const head = [fmt(r.workers, 0), fmt(r.accounts, 0), fmt(r.leaseMs, 0)];
    if (!r.result) return [...head, ...fail(r, 5)];
    if (r.result.watchedMs === null) {
      const x = r.result.reached;
      return [...head, `not settled in ${s(r.result.settleLimitMs)} s: ${fmt(x.watched, 0)} watched, ${fmt(x.idling, 0)} in IDLE, ${fmt(x.lost, 0)} leases lost`, '', '', '', 'not run'];
    }
    const f = r.result.failover;
    return [...head, s(r.result.watchedMs), `${f.held} (${f.allMoved ? 'all' : 'NOT all'} moved)`, mmm(f.leaseTakenMs), mmm(f.watchedMs),
      `${f.gapMessages} × ${fmt(r.accounts, 0)} accounts over ${s(f.gapAppendsOverMs)} s: ${f.gapMissing} missing, ${f.gapDuplicated} duplicated`];
  });
  const settled = (r) => r.result && r.result.watchedMs !== null;
  const tputRows = core.filter(settled).map((r) => {
    const t = r.result.throughput;
    return [fmt(r.accounts, 0), `${r.messages} × ${r.result.servers} servers`, fmt(t.added, 0), fmt(t.spanMs, 0), fmt(t.eventsPerSec, 0),
      `${t.missing ?? 'n/a'} / ${t.duplicated ?? 'n/a'}`];
  });
  // Per account from the keys it owns: its field of the accounts hash, its lease, its state, its stream entries.
  const perKeys = (m, n) => m.keys.accountsHash / n + m.keys.leaseEach + m.keys.stateEach + m.keys.stream / n;
  const memRows = [...core, ...sim].filter(settled).map((r) => {
    const m = r.result.memory;
    const a = m.afterMessages;
    return [r.kind === 'core' ? 'core' : 'simulation', fmt(r.accounts, 0), fmt(m.afterStorePerAccount, 0), fmt(m.afterWatch.perAccount, 0),
      `${fmt(a.perAccount, 0)} (${m.streamEntriesPerAccount} ${m.streamEntriesPerAccount === 1 ? 'entry' : 'entries'} each; ${fmt(a.keys.streamLength, 0)} in the stream)`,
      `${fmt(a.keys.accountsHash / r.accounts, 0)} / ${fmt(a.keys.leaseEach, 0)} / ${fmt(a.keys.stateEach, 0)} / ${fmt(a.keys.streamLength ? a.keys.stream / a.keys.streamLength : 0, 0)}`,
      fmt(perKeys(a, r.accounts), 0), a.perAccount <= 16 * KiB ? 'met' : 'not met'];
  });
  const simRows = sim.map((r) => {
    const head = [fmt(r.accounts, 0), fmt(r.leaseMs, 0)];
    if (!r.result) return [...head, ...fail(r, 12)];
    const x = r.result;
    const ht = x.holdTicks;
    const rss = x.workerRss.map((w) => w.rss).sort((a, b) => a - b);
    const perAcc = x.workerRss.filter((w) => w.owned).map((w) => (w.rss - w.baseRss) / w.owned);
    return [...head,
      `${x.servers} / ${fmt(x.storeMs / 1000, 1)}`,
      mmm(x.workerStartMs),
      x.watchedMs === null ? `not reached in ${s(r.watchLimitMs)} s: ${fmt(x.reached.watched, 0)} watched, ${fmt(x.reached.idling, 0)} in IDLE` : s(x.watchedMs),
      `${fmt(x.reached.lost, 0)} / ${fmt(x.held.leasesLostInHold, 0)}`,
      `${fmt(x.held.leased, 0)} / ${fmt(x.held.idling, 0)}`,
      `${mmm(ht.ms, (v) => fmt(v, 0))} (CPU ${fmt(ht.cpuMs.median ?? 0, 0)})`,
      `${fmt(x.startupTicks.ms.max ?? 0, 0)}`,
      `${fmt(ht.renews.median ?? 0, 0)} in ${fmt(ht.renewMs.median ?? 0, 0)} ms (${fmt((ht.renewUsEach.median ?? 0) / 1000, 2)} ms each)`,
      `${fmt(x.hashCost.ms, 0)} / ${fmt(x.hashCost.cpuMs, 0)}`,
      `${fmt(rss[rss.length >> 1] / MiB, 0)} / ${fmt(rss[rss.length - 1] / MiB, 0)} (${fmt(perAcc.length ? perAcc.sort((a, b) => a - b)[perAcc.length >> 1] / KiB : 0, 0)} KiB per account)`,
      `${fmt(x.memory.afterMessages.used / MiB, 1)} (CPU ${fmt(x.redisCpuPercentInHold, 1)} % in the hold)`,
      x.throughput.complete ? fmt(x.throughput.eventsPerSec, 0) : `${fmt(x.throughput.added, 0)} of ${fmt(x.throughput.expected, 0)}`,
      x.load.map((l) => fmt(l, 1)).join(' → ')];
  });
  return [
    `Debian's redis-server 7.0 on 127.0.0.1 (\`test/support/redis.js\`: temp dir, no persistence), the mock IMAP server
(\`imap-push/testing\`) in processes of its own (\`bench/mock-server-child.js\`), one per loopback address
(127.0.0.2, .3, ...), and every \`ClusterWorker\` in a process of its own (\`bench/cluster-worker-child.js\`), plain
TCP, INBOX only. Account *i* is user u*i* on server *i* mod servers; a mock's users share one mailbox, so one append
there is a new message for each of its accounts. "Watched" is the worker's \`accountWatched\` (IDLE up and the
catch-up done); the cluster is settled when every account is watched, each mock counts as many sessions in IDLE as
it has accounts, every worker holds some and (core) each is held by the worker Redis names as its lease holder.
The machine is shared (other engineers' builds and tests, a fuzzer): the load average is in the simulation table.

### Failover

One worker (the one holding the most accounts) is SIGKILLed; then three messages are appended to every server,
spread over one lease. "Lease taken" is when \`Cluster.owners()\` (polled every 25 ms) first names another worker;
"watched" is that worker's \`accountWatched\` (its catch-up published what the dead worker missed). Times in s,
min / median / max over the dead worker's accounts; every gap message of every account is then looked for in
EmailNewMessage.

${table(['workers', 'accounts', 'leaseMs', 'all watched s', 'accounts of the killed worker', 'lease taken s', 'watched again s', 'gap messages'], failRows)}

### EmailNewMessage throughput

The appends go to every server at once; from just before the first append to the Redis id (ms) of the last entry.
Each entry is one message of one account (\`_publishNew\` → the fenced XADD+HSET script). Missing / duplicated:
(account, message) pairs not in the stream / there twice.

${table(['accounts', 'appends', 'events', 'first append → last entry ms', 'events/s', 'missing / duplicated'], tputRows)}

### Redis memory per account

\`INFO memory\` used_memory minus the value before any account, / accounts: after \`Cluster.addAccount\` (the sealed
account in the accounts hash), after every account is watched (plus lease and state, and the workers' own keys and
client buffers), and after the messages (plus stream entries). \`MEMORY USAGE ... SAMPLES 0\` of the keys: the
accounts hash / accounts, one lease, one state hash (200 sampled), the stream / its entries. Target ≤ 16 KiB per
account (EmailEngine documents 1–2 MiB).

${table(['run', 'accounts', 'stored B', 'watched B', 'with stream entries B', 'keys: account / lease / state / stream entry B', 'sum of its keys B', '≤ 16 KiB'], memRows)}

### What one tick costs as accounts grow

\`node bench/cluster.js --scenario tick\`: one process, nothing else in it, on the same shared machine (load
average ${tick && tick.result ? fmt(tick.result.load, 1) : 'n/a'}). Each tick renews every lease the worker holds, one awaited round trip after the
other (\`imapPushrenewmany\`, the worker's own script, one lease per call, through a real \`ClusterWorker\`'s client), and runs \`ownerOf()\`
(sha256 per live worker) for every stored account. "Pipelined": the same renewals sent at once.

${table(['leases renewed', 'one at a time ms', 'pipelined ms', 'µs per renewal, one at a time'], renewRows)}

${table(['accounts stored', 'live workers', 'rendezvous pass ms', 'CPU µs per account'], hashRows)}

### Simulation: 10 workers, stepped up

Every step starts fresh: Redis, the mocks (10,000 accounts each, at least 2), the accounts stored (500 \`addAccount\`
in flight), then 10 workers started at once (a tick every leaseMs / 3; \`maxAccounts\` 15,000, under the
20,000-descriptor limit every process here has, which root cannot raise in this container). Then a hold of
${fmt(cfg.holdMs / 1000, 0)} s or two tick periods, whichever is longer,
with nothing happening, every tick timed inside the worker (its \`_tickOnce\` wrapped; CPU is the worker process's),
and the part of it spent waiting for lease renewals (\`imapPushrenewmany\` wrapped), then one message per account.
"Hash pass" is one \`ownerOf()\` over every stored account against the live workers, in one worker: each tick does it
once for the accounts the worker holds and once for every other account. A step holds when every account was
watched and no lease was lost in the hold; after the first that does not, the larger ones are not run.

${table(['accounts', 'leaseMs', 'servers / store s', 'workers up s (min / median / max)', 'all watched s', 'leases lost: start-up / hold',
    'leased / in IDLE after the hold', 'tick ms in the hold min / median / max', 'slowest start-up tick ms', 'renewals per tick',
    'hash pass ms wall / CPU', 'worker RSS MiB median / max (over its RSS before the engine, per account held)', 'Redis used_memory MiB', 'events/s', 'load average'], simRows)}
`,
  ].join('\n');
}

function report(rows, cfg, h, meta) {
  return render(MARKERS, { title: 'Cluster', meta, quickNote: '30 accounts for failover, one 200-account simulation step', body: section(rows, cfg, h), rows });
}

const write = (file, generated) => writeBlock(file, MARKERS, generated, markers('mime').end);
const failed = (rows) => rows.some((r) => r.error && !/^not run:/.test(r.error));

module.exports = { config, run, report, write, failed };
