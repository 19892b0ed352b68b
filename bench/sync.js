#!/usr/bin/env node
'use strict';
// No-change sync of N accounts: how long one "has anything changed?" cycle
// over every account takes, when nothing has.
//
//   cold (--client imapflow): what apps do today. Every cycle, for every
//     account (--max-concurrent at a time): a new ImapFlow client connects and
//     logs in, asks STATUS INBOX (MESSAGES UIDNEXT), logs out.
//   pooled (--client imap-push): one MailEngine holds the N accounts (their
//     IDLE connections, plus pooled command connections opened by the startup
//     syncs or, where the engine skips those, by the warm-up cycle); a cycle
//     is `await engine.syncAll()` with sync.maxConcurrent = --max-concurrent. Afterwards --singles sequential `engine.sync(id)` calls
//     give the per-account latency.
//
//   node bench/sync.js --server mock|dovecot --accounts N --client imapflow|imap-push
//        [--max-concurrent 50] [--cycles 5] [--warmup 1] [--singles 20] [--messages 10]
//
// Each account logs in as its own user. INBOX holds --messages messages (on
// the mock every user shares one INBOX). Everything is plain TCP on 127.0.0.1
// (imap-push: tls 'none' + allowInsecureAuth; ImapFlow: secure false,
// doSTARTTLS false, since Dovecot offers STARTTLS with a self-signed cert).
// Server-side counters (logins; on the mock also connections and commands)
// are read before and after the timed cycles. Prints one JSON line on stdout.
const fs = require('fs');
const path = require('path');
const { parseArgs } = require('util');
const { forkIpc } = require('./child-ipc');
const { stats } = require('./stats');

const { values: opt } = parseArgs({
  options: {
    server: { type: 'string', default: 'mock' },
    accounts: { type: 'string', default: '4' },
    client: { type: 'string', default: 'imap-push' },
    'max-concurrent': { type: 'string', default: '50' },
    cycles: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    singles: { type: 'string', default: '20' },
    messages: { type: 'string', default: '10' },
    batch: { type: 'string', default: '100' }, // accounts added at once (imap-push setup)
  },
});
const N = Number(opt.accounts);
const K = Number(opt['max-concurrent']);
const CYCLES = Number(opt.cycles);
const WARMUP = Number(opt.warmup);
const SINGLES = Number(opt.singles);
const MESSAGES = Number(opt.messages);
const PASS = 'bench-password';
const user = (i) => `sync${i}`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => process.hrtime.bigint();
const ms = (t0, t1 = now()) => Number(t1 - t0) / 1e6;
const log = (s) => process.stderr.write(`[sync ${opt.server}/${N}/${opt.client}${opt.client === 'imap-push' ? `/${K}` : ''}] ${s}\n`);

if (!['mock', 'dovecot'].includes(opt.server)) throw new Error(`--server must be mock or dovecot, not ${opt.server}`);
if (!['imapflow', 'imap-push'].includes(opt.client)) throw new Error(`--client must be imapflow or imap-push, not ${opt.client}`);

// ---- servers -----------------------------------------------------------------
// Each returns { host, port, counters() -> { logins, connections?, commands? }, mark(), close() }.

async function mockServer() {
  const { child, call } = forkIpc(path.join(__dirname, 'sync-mock-child.js'), []);
  const users = {};
  for (let i = 0; i < N; i++) users[user(i)] = PASS;
  const port = await call('listen', { opts: { tls: 'none', users }, messages: MESSAGES });
  return {
    host: '127.0.0.1',
    port,
    async counters() {
      const s = await call('stats');
      return { logins: s.loginAttempts, connections: s.acceptedConnections, open: s.connections, idling: s.idling, commands: s.commands };
    },
    mark: () => call('mark'),
    close: () => call('close'),
  };
}

async function dovecotServer() {
  const { startDovecot } = require('../test/support/dovecot');
  const users = {};
  for (let i = 0; i < N; i++) users[user(i)] = PASS;
  const dc = await startDovecot({ users });
  for (let i = 0; i < N; i++) {
    for (let m = 1; m <= MESSAGES; m++) {
      dc.deliver(user(i), [
        'From: Bench Sender <sender@example.com>', `To: ${user(i)}@example.com`, `Subject: Sync bench message ${m}`,
        `Message-ID: <sync-bench-${i}-${m}@imap-push.bench>`, 'Date: Sat, 21 Nov 2026 06:00:00 +0000', '', `Body ${m}`, '',
      ].join('\n'));
    }
  }
  const logFile = path.join(dc.dir, 'dovecot.log');
  return {
    host: dc.host,
    port: dc.port,
    // Dovecot logs each successful login as "imap-login: Info: Login: user=<...>".
    async counters() {
      const text = fs.readFileSync(logFile, 'utf8');
      return { logins: (text.match(/imap-login: (?:Info: )?Login: user=</g) || []).length };
    },
    async mark() {},
    close: () => dc.stop(),
  };
}

// ---- clients -------------------------------------------------------------------

async function pool(n, size, fn) {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, n) }, worker));
}

// One ImapFlow cycle: connect + log in, STATUS INBOX, log out, per account.
async function coldCycle(server) {
  const { ImapFlow } = require('imapflow');
  const perAccount = new Array(N);
  const errors = [];
  let wrongCount = 0;
  const t0 = now();
  await pool(N, K, async (i) => {
    const a0 = now();
    const client = new ImapFlow({
      host: server.host, port: server.port, secure: false, doSTARTTLS: false, auth: { user: user(i), pass: PASS }, logger: false,
    });
    client.on('error', (err) => errors.push(`${user(i)}: ${err.message}`));
    try {
      await client.connect();
      const st = await client.status('INBOX', { uidNext: true, messages: true });
      if (st.messages !== MESSAGES) wrongCount++;
      await client.logout();
    } catch (err) {
      errors.push(`${user(i)}: ${err.message}`);
      client.close();
    }
    perAccount[i] = ms(a0);
  });
  return { cycleMs: ms(t0), perAccount, errors, wrongCount };
}

async function pooledSetup(server) {
  const { MailEngine } = require('..');
  const engine = new MailEngine({ sync: { maxConcurrent: K } });
  const startupDone = new Set();
  let syncStarted = 0;
  let syncCompleted = 0;
  engine.on('syncStarted', () => { syncStarted++; });
  engine.on('syncCompleted', (r) => {
    syncCompleted++;
    startupDone.add(r.accountId);
  });
  const ids = Array.from({ length: N }, (_, i) => `acct-${i}`);
  const t0 = now();
  for (let i = 0; i < N; i += Number(opt.batch)) {
    await Promise.all(ids.slice(i, i + Number(opt.batch)).map((id, k) => engine.addAccount({
      id, host: server.host, port: server.port, tls: 'none', allowInsecureAuth: true, user: user(i + k), pass: PASS,
    })));
  }
  const added = now();
  const addMs = ms(t0, added);
  // Startup syncs (each opens the account's pooled connection) must be over.
  // The engine skips them on QRESYNC servers when it has no saved state
  // (Dovecot here), so: every account synced, or nothing started or running
  // for 500 ms after the last addAccount().
  for (let i = 0; ; i++) {
    const s = engine.syncStats();
    const quiet = s.active === 0 && s.pending === 0 && syncStarted === syncCompleted;
    if (quiet && (startupDone.size === N || ms(added) > 500)) break;
    if (i > 1200) throw new Error(`startup syncs not done after 60 s: ${startupDone.size}/${N} completed, ${JSON.stringify(s)}`);
    await sleep(50);
  }
  const setupMs = ms(t0);
  log(`${N} accounts added in ${addMs.toFixed(0)} ms; ${startupDone.size} startup syncs, done after ${setupMs.toFixed(0)} ms`);
  return { engine, ids, addMs, setupMs, startupSyncs: startupDone.size, syncStarted: () => syncStarted };
}

function checkResults(results) {
  const bad = results.filter((r) => !r.ok || r.folders.some((f) => f.newMessages || f.changed || f.deleted));
  return bad.map((r) => `${r.accountId}: ${r.ok ? `changes ${JSON.stringify(r.folders)}` : `${r.error && r.error.code} ${r.error && r.error.message}`}`);
}

// ---- main ----------------------------------------------------------------------

// Commands are counted from server.mark(), just before the timed cycles.
function perAccountCommands(after, cycles) {
  if (!after.commands) return null;
  const out = {};
  for (const [k, v] of Object.entries(after.commands)) out[k] = Number((v / (N * cycles)).toFixed(3));
  return out;
}

async function main() {
  const server = opt.server === 'dovecot' ? await dovecotServer() : await mockServer();
  const result = {
    bench: 'sync', server: opt.server, accounts: N, client: opt.client, maxConcurrent: K, cycles: CYCLES, warmup: WARMUP, messages: MESSAGES,
  };
  try {
    if (opt.client === 'imapflow') {
      const cycles = [];
      const warmupMs = [];
      const errors = [];
      let wrong = 0;
      let c0;
      for (let c = 0; c < WARMUP + CYCLES; c++) {
        if (c === WARMUP) {
          await server.mark();
          c0 = await server.counters();
        }
        const r = await coldCycle(server);
        errors.push(...r.errors);
        wrong += r.wrongCount;
        if (c >= WARMUP) cycles.push(r);
        else warmupMs.push(r.cycleMs);
        log(`${c < WARMUP ? 'warm-up' : `cycle ${c - WARMUP + 1}`}: ${r.cycleMs.toFixed(1)} ms${r.errors.length ? `, ${r.errors.length} errors` : ''}`);
      }
      const c1 = await server.counters();
      Object.assign(result, {
        warmupMs,
        cycleMs: cycles.map((r) => r.cycleMs),
        perAccountMs: stats(cycles.flatMap((r) => r.perAccount)),
        loginsDuringTimed: c1.logins - c0.logins,
        connectionsDuringTimed: c1.connections !== undefined ? c1.connections - c0.connections : null,
        commandsPerAccount: perAccountCommands(c1, CYCLES),
        errors: errors.slice(0, 5),
        errorCount: errors.length,
        wrongStatus: wrong,
      });
    } else {
      const { engine, ids, addMs, setupMs, startupSyncs, syncStarted } = await pooledSetup(server);
      const poolBefore = engine.poolStats();
      const warmupMs = [];
      const cycles = [];
      const engineMs = [];
      const problems = [];
      let c0;
      let p0;
      let s0;
      for (let c = 0; c < WARMUP + CYCLES; c++) {
        if (c === WARMUP) {
          await server.mark();
          c0 = await server.counters();
          p0 = engine.poolStats();
          s0 = syncStarted();
        }
        const t0 = now();
        const results = await engine.syncAll();
        const cycleMs = ms(t0);
        problems.push(...checkResults(results));
        if (c < WARMUP) warmupMs.push(cycleMs);
        if (c >= WARMUP) {
          cycles.push(cycleMs);
          // The folder's own time (steady clock; SyncResult.durationMs is whole ms).
          engineMs.push(...results.map((r) => r.folders.reduce((t, f) => t + f.durationMs, 0)));
        }
        log(`${c < WARMUP ? 'warm-up' : `cycle ${c - WARMUP + 1}`}: syncAll ${cycleMs.toFixed(2)} ms`);
      }
      const c1 = await server.counters();
      const p1 = engine.poolStats();
      const s1 = syncStarted();
      // Per-account latency: one account at a time, round-robin.
      const singles = [];
      for (let i = 0; i < SINGLES; i++) {
        const t0 = now();
        const r = await engine.sync(ids[i % N]);
        singles.push(ms(t0));
        problems.push(...checkResults([r]));
      }
      const c2 = await server.counters();
      Object.assign(result, {
        addMs,
        setupMs,
        startupSyncs,
        // The first cycle opens (and logs in) the pooled connections that
        // startup syncs did not.
        warmupMs,
        poolCreatedDuringWarmup: p0.created - poolBefore.created,
        cycleMs: cycles,
        engineDurationMs: stats(engineMs),
        singleMs: singles,
        loginsDuringTimed: c1.logins - c0.logins,
        loginsDuringSingles: c2.logins - c1.logins,
        connectionsDuringTimed: c1.connections !== undefined ? c1.connections - c0.connections : null,
        commandsPerAccount: perAccountCommands(c1, CYCLES),
        poolCreatedDuringTimed: p1.created - p0.created,
        poolReusedDuringTimed: p1.reused - p0.reused,
        poolHealthChecksDuringTimed: p1.healthChecks - p0.healthChecks,
        poolWaitMsDuringTimed: p1.waitTimeMs - p0.waitTimeMs,
        pool: p1,
        // syncAll starts N syncs per cycle; anything beyond that was the
        // engine's own (an IDLE event's debounced sync) and ran in the window.
        extraSyncsDuringTimed: s1 - s0 - N * CYCLES,
        problems: problems.slice(0, 5),
        problemCount: problems.length,
      });
      const tc = now();
      await engine.close();
      result.closeMs = ms(tc);
    }
  } finally {
    await server.close();
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err) => {
  process.stderr.write(`sync: ${err.stack || err}\n`);
  process.exit(1);
});
