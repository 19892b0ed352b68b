#!/usr/bin/env node
'use strict';
// Envelope-fetch throughput: UID FLAGS ENVELOPE INTERNALDATE RFC822.SIZE of
// every message of one large INBOX on a real Dovecot (test/support/dovecot.js),
// three clients side by side in the same run, over implicit TLS on 127.0.0.1:
//
//   raw        the limit: a node tls socket, LOGIN, SELECT INBOX, then
//              `A3 UID FETCH 1:* (UID FLAGS ENVELOPE INTERNALDATE RFC822.SIZE)`;
//              bytes are read until the tagged `A3 OK`, untagged FETCH
//              responses are counted, never parsed. Timed from sending the
//              FETCH to the OK.
//   imap-push  new MailEngine({ sync: { initial: { last: N } } }), addAccount;
//              timed from addAccount() to the Nth `newMessage` event (the engine
//              parses every envelope). With --state file the engine also keeps
//              a state file, started from one doctored to say "UIDNEXT 1, no
//              messages" (see the imap-push section below), so the run pays
//              for persistence too.
//   imapflow   ImapFlow 2.1.0: connect, mailboxOpen('INBOX'), then
//              `for await (const m of client.fetch('1:*', { uid, flags, envelope, internalDate, size }))`;
//              timed from the fetch() call to the end of the loop.
//
// The mailbox is created by writing the maildir directly (bench/maildir.js: cur/, flag S, as
// the dovecot uid when running as root), then warmed by two raw FETCHes so
// every client sees a built index and a populated dovecot.index.cache.
//
//   node bench/envelope.js [--messages 100000] [--runs 3] [--clients raw,imap-push,imapflow]
//        [--state none|file]
//        [--perf perf.data]   also `perf record -g -p <this pid>` around the imap-push runs
//
// Prints progress on stderr and one JSON line (all samples + medians) on stdout.
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { parseArgs } = require('util');
const { median, threadCpuMs } = require('./stats');
const maildir = require('./maildir');

const { values: opt } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '3' },
    clients: { type: 'string', default: 'raw,imap-push,imapflow' },
    perf: { type: 'string' },
    state: { type: 'string', default: 'none' },
    timeout: { type: 'string', default: '600000' },
  },
});
const N = Number(opt.messages);
const RUNS = Number(opt.runs);
const CLIENTS = opt.clients.split(',').map((s) => s.trim()).filter(Boolean);
const TIMEOUT_MS = Number(opt.timeout);
if (!['none', 'file'].includes(opt.state)) throw new TypeError(`--state is none or file, not '${opt.state}'`);
const STATE_FILE = opt.state === 'file';
const USER = 'envbench';
const PASS = 'bench-password';
const now = () => process.hrtime.bigint();
const msSince = (t0, t1 = now()) => Number(t1 - t0) / 1e6;
const log = (s) => process.stderr.write(`[envelope] ${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- imap-push -------------------------------------------------------------------
// Without a state file the engine's startup sync learns the mailbox (UID
// SEARCH ALL) and, with sync.initial.last N, reports the last N messages as
// newMessage through `UID FETCH … (UID FLAGS ENVELOPE INTERNALDATE RFC822.SIZE)`.
// With --state file the engine starts from a state file that says "this
// folder (same UIDVALIDITY and HIGHESTMODSEQ) had UIDNEXT 1 and no messages",
// so the startup sync reports all N as new through the same FETCH, and the
// engine writes its state as it goes.
// Timed from addAccount() (so it includes connect + LOGIN + SELECT of the IDLE
// and the pooled connection, a few ms on loopback) to the Nth newMessage.

const os = require('os');
const { execFileSync } = require('child_process');
let stateTemplate = null;

function accountOpts(dc) {
  return {
    id: 'bench', host: '127.0.0.1', port: dc.tlsPort, tlsOptions: { ca: dc.caPem, servername: 'localhost' },
    user: USER, pass: PASS, folders: ['INBOX'],
  };
}

async function makeStateTemplate(dc) {
  const { MailEngine } = require('..');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-envbench-'));
  const file = path.join(dir, 'template.sqlite');
  const engine = new MailEngine({ stateFile: file });
  await engine.addAccount(accountOpts(dc));
  await sleep(500);
  await engine.close();
  execFileSync('sqlite3', [file, "UPDATE folders SET uid_next = 1, uids = '', flag_window = x'', initial_done = 1; PRAGMA wal_checkpoint(TRUNCATE);"]);
  const row = execFileSync('sqlite3', [file, 'SELECT account_id, folder, uid_validity, uid_next, highest_modseq, initial_done FROM folders']).toString().trim();
  log(`imap-push state template: ${row}`);
  stateTemplate = { dir, file };
}

async function imapPushFetch(dc) {
  const { MailEngine } = require('..');
  let stateFile;
  if (STATE_FILE) {
    if (!stateTemplate) await makeStateTemplate(dc);
    stateFile = path.join(stateTemplate.dir, `run-${Date.now()}-${Math.random().toString(36).slice(2)}.sqlite`);
    fs.copyFileSync(stateTemplate.file, stateFile);
  }
  const engine = new MailEngine({ ...(stateFile ? { stateFile } : {}), sync: { initial: { last: N } }, pool: { maxPerAccount: 2 } });
  let count = 0;
  let tFirst = null;
  let tLast = null;
  let tSyncStarted = null;
  let syncResult = null;
  let resolveAll;
  const all = new Promise((r) => { resolveAll = r; });
  engine.on('newMessage', (m) => {
    if (!m.envelope) return;
    if (++count === 1) tFirst = now();
    if (count === N) { tLast = now(); resolveAll(); }
  });
  engine.on('syncStarted', () => { if (!tSyncStarted) tSyncStarted = now(); });
  engine.on('syncCompleted', (r) => { syncResult = r; });
  engine.on('error', (e) => log(`imap-push error event: ${e && e.message}`));
  try {
    const t0 = now();
    await engine.addAccount(accountOpts(dc));
    const tAdded = now();
    let timer;
    await Promise.race([all, new Promise((r) => { timer = setTimeout(r, TIMEOUT_MS); })]);
    clearTimeout(timer);
    const rel = (t) => (t ? Number(t - t0) / 1e6 : null);
    return {
      ms: rel(tLast),
      count,
      addAccountMs: rel(tAdded),
      syncStartedMs: rel(tSyncStarted),
      firstEventMs: rel(tFirst),
      fromFirstEventMs: tLast && tFirst ? Number(tLast - tFirst) / 1e6 : null,
      syncOk: syncResult ? syncResult.ok : undefined,
      syncNewMessages: syncResult && syncResult.folders ? syncResult.folders.reduce((a, f) => a + (f.newMessages || 0), 0) : undefined,
    };
  } finally {
    await engine.close();
    if (stateFile) for (const ext of ['', '-wal', '-shm']) fs.rmSync(stateFile + ext, { force: true });
  }
}

// ---- ImapFlow --------------------------------------------------------------------

async function imapflowFetch(dc) {
  const { ImapFlow } = require('imapflow');
  const client = new ImapFlow({
    host: '127.0.0.1', port: dc.tlsPort, secure: true, tls: { ca: dc.caPem, servername: 'localhost' },
    auth: { user: USER, pass: PASS }, logger: false,
  });
  await client.connect();
  try {
    await client.mailboxOpen('INBOX');
    let count = 0;
    const t0 = now();
    for await (const m of client.fetch('1:*', { uid: true, flags: true, envelope: true, internalDate: true, size: true })) {
      if (m.envelope) count++;
    }
    return { ms: msSince(t0), count };
  } finally {
    await client.logout().catch(() => {});
  }
}

// ---- perf ------------------------------------------------------------------------

function startPerf(file) {
  const p = spawn('perf', ['record', '--call-graph', process.env.PERF_CG || 'fp', '-F', process.env.PERF_FREQ || '499', '-o', file, '-p', String(process.pid)], { stdio: ['ignore', 'ignore', 'inherit'] });
  return {
    async stop() {
      p.kill('SIGINT');
      await new Promise((r) => p.once('exit', r));
    },
  };
}

// ---- main ------------------------------------------------------------------------

async function main() {
  const { startDovecot } = require('../test/support/dovecot');
  const dc = await startDovecot({ users: { [USER]: PASS } });
  const out = { messages: N, runs: RUNS, clients: CLIENTS, state: opt.state, samples: {}, summary: {} };
  try {
    out.avgMessageBytes = maildir.populate(dc, USER, { n: N, log });
    const rawFetch = () => maildir.rawFetch(dc, { user: USER, pass: PASS, timeoutMs: TIMEOUT_MS });
    for (let w = 1; w <= 2; w++) {
      const r = await rawFetch();
      log(`warm-up ${w}: raw FETCH ${r.count} messages, ${(r.bytes / 1048576).toFixed(1)} MiB, ${r.ms.toFixed(0)} ms`);
      if (r.count !== N) throw new Error(`warm-up saw ${r.count} messages, expected ${N}`);
    }
    const fns = { raw: rawFetch, 'imap-push': imapPushFetch, imapflow: imapflowFetch };
    for (const c of CLIENTS) out.samples[c] = [];
    for (let run = 0; run < RUNS; run++) {
      // Rotate the order so no client always runs first (or right after another).
      const order = CLIENTS.map((_, k) => CLIENTS[(k + run) % CLIENTS.length]);
      for (const c of order) {
        if (global.gc) global.gc();
        await sleep(300);
        const perf = c === 'imap-push' && opt.perf ? startPerf(opt.perf) : null;
        if (perf) await sleep(500);
        const cpu0 = process.cpuUsage();
        const js0 = threadCpuMs();
        const r = await fns[c](dc);
        const cpu = process.cpuUsage(cpu0);
        r.jsThreadCpuMs = threadCpuMs() - js0;
        if (perf) await perf.stop();
        r.cpuMs = (cpu.user + cpu.system) / 1000;
        r.rate = r.ms ? (r.count / r.ms) * 1000 : null;
        out.samples[c].push(r);
        log(`run ${run + 1} ${c}: ${r.count} messages, ${r.ms === null ? 'incomplete' : `${r.ms.toFixed(0)} ms, ${Math.round(r.rate)} msg/s`}, client-process CPU ${r.cpuMs.toFixed(0)} ms (JS thread ${r.jsThreadCpuMs})${r.addAccountMs !== undefined ? `, addAccount ${r.addAccountMs.toFixed(0)} ms, sync started ${r.syncStartedMs && r.syncStartedMs.toFixed(0)} ms, first event ${r.firstEventMs && r.firstEventMs.toFixed(0)} ms, first->last ${r.fromFirstEventMs && r.fromFirstEventMs.toFixed(0)} ms, syncCompleted ok=${r.syncOk} newMessages=${r.syncNewMessages}` : ''}`);
      }
    }
    for (const c of CLIENTS) {
      const ok = out.samples[c].filter((r) => r.ms !== null && r.count === N);
      if (!ok.length) { out.summary[c] = { complete: 0 }; continue; }
      const ms = ok.map((r) => r.ms);
      out.summary[c] = {
        complete: ok.length,
        medianMs: median(ms), minMs: Math.min(...ms), maxMs: Math.max(...ms),
        medianRate: (N / median(ms)) * 1000,
        medianCpuMs: median(ok.map((r) => r.cpuMs)),
        medianJsThreadCpuMs: median(ok.map((r) => r.jsThreadCpuMs)),
      };
    }
    if (out.summary.raw && out.summary.raw.medianMs) {
      for (const c of CLIENTS) {
        const s = out.summary[c];
        if (s.medianMs) s.ofRaw = out.summary.raw.medianMs / s.medianMs;
      }
    }
    for (const c of CLIENTS) {
      const s = out.summary[c];
      if (!s.medianMs) log(`${c}: no complete run`);
      else log(`${c}: median ${s.medianMs.toFixed(0)} ms (${s.minMs.toFixed(0)}–${s.maxMs.toFixed(0)}), ${Math.round(s.medianRate)} msg/s, ${s.ofRaw ? `${(s.ofRaw * 100).toFixed(0)}% of raw` : ''}`);
    }
  } finally {
    await dc.stop();
    if (stateTemplate) fs.rmSync(stateTemplate.dir, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
