#!/usr/bin/env node
'use strict';
// Mailbox actions on a real Dovecot (test/support/dovecot.js), imap-push and
// ImapFlow doing the same work over implicit TLS on 127.0.0.1, next to a raw
// socket that sends the bare commands and parses nothing (the server's floor):
//
//   page    every message of a --messages INBOX: imap-push
//           `for await (const m of engine.messages(id, 'INBOX', { batchSize: --page-batch }))`,
//           ImapFlow `for await (const m of client.fetch('1:*', { uid, flags, envelope, internalDate, size }))`;
//           time, messages/s, and the process's peak RSS (getrusage maxrss)
//   search  three searches of that INBOX: unseen (1 in 10), SUBJECT "Invoice" (1 in 10) and ALL
//   flag    +\Flagged on --batch messages of a folder of their own, one call with every UID
//   move    the same --batch messages to another folder, one call
//
// Each (run, client) works on a flag/move folder written for it, and INBOX
// is only read; imap-push and ImapFlow each run in a fresh child process (so
// its peak RSS is its own), raw in this one. The mailboxes are written straight into the
// Maildir (bench/maildir.js) and indexed by a raw FETCH before any client
// sees them, so no client pays for Dovecot's first look at new files. Opening
// a folder (ImapFlow's mailboxOpen, imap-push's first request on it) is
// untimed. Every count is checked (found, paged, flagged, moved; flags and
// moved files also in the Maildir itself): a wrong one fails the run.
//
//   node bench/actions.js [--messages 100000] [--batch 10000] [--page-batch 1000] [--runs 3]
//        [--clients raw,imap-push,imapflow]
//
// Prints progress on stderr and one JSON line (all samples + medians) on stdout.
const { fork } = require('child_process');
const { parseArgs } = require('util');
const { median } = require('./stats');
const maildir = require('./maildir');

const { values: opt } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '10000' },
    'page-batch': { type: 'string', default: '1000' },
    runs: { type: 'string', default: '3' },
    clients: { type: 'string', default: 'raw,imap-push,imapflow' },
    timeout: { type: 'string', default: '600000' },
    child: { type: 'boolean' },
  },
});
const N = Number(opt.messages);
const B = Number(opt.batch);
const PAGE_BATCH = Number(opt['page-batch']);
const RUNS = Number(opt.runs);
const CLIENTS = opt.clients.split(',').map((s) => s.trim()).filter(Boolean);
const TIMEOUT_MS = Number(opt.timeout);
for (const [k, v] of [['messages', N], ['batch', B], ['page-batch', PAGE_BATCH], ['runs', RUNS]]) {
  if (!Number.isSafeInteger(v) || v < 1) throw new TypeError(`--${k} must be a positive integer`);
}
if (!CLIENTS.length || CLIENTS.some((c) => !['raw', 'imap-push', 'imapflow'].includes(c))) {
  throw new TypeError(`--clients takes raw, imap-push and/or imapflow, not '${opt.clients}'`);
}
const USER = 'actbench';
const PASS = 'bench-password';
const ID = 'bench';
const now = () => process.hrtime.bigint();
const msSince = (t0) => Number(now() - t0) / 1e6;
const log = (s) => process.stderr.write(`[actions] ${s}\n`);

// INBOX message i is unseen when i % 10 === 7; its subject is TOPICS[i % 10].
const UNSEEN = (i) => i % 10 === 7;
const SUBJECT = maildir.TOPICS[0];
const SUBJECT_INDEX = 0;
const SEARCHES = {
  unseen: { push: { seen: false }, flow: { seen: false }, raw: 'UNSEEN', expect: (i) => UNSEEN(i) },
  subject: { push: { subject: SUBJECT }, flow: { subject: SUBJECT }, raw: `SUBJECT "${SUBJECT}"`, expect: (i) => i % maildir.TOPICS.length === SUBJECT_INDEX },
  all: { push: {}, flow: { all: true }, raw: 'ALL', expect: () => true },
};

function check(what, got, want) {
  if (got !== want) throw new Error(`${what}: got ${got}, expected ${want}`);
}

// ---- the clients (in the child process) -------------------------------------------
// The same operations for both; the driver below times and checks them.

async function imapPushClient(cfg) {
  const { MailEngine } = require('..');
  const engine = new MailEngine();
  engine.on('error', (e) => log(`imap-push error event: ${e && e.message}`));
  // The account watches an empty folder of its own: nothing the benchmark
  // does there turns into events, as nothing does for ImapFlow.
  await engine.addAccount({
    id: ID, host: '127.0.0.1', port: cfg.tlsPort, tlsOptions: { ca: cfg.caPem, servername: 'localhost' },
    user: cfg.user, pass: cfg.pass, folders: [cfg.watched],
  });
  return {
    // Its first request on a folder selects it; a search is the cheapest.
    select: async (folder) => (await engine.search(ID, folder, {})).length,
    uids: (folder) => engine.search(ID, folder, {}),
    async page(folder, onMessage) {
      for await (const m of engine.messages(ID, folder, { batchSize: cfg.pageBatch })) onMessage(m);
    },
    search: (folder, name) => engine.search(ID, folder, SEARCHES[name].push),
    flag: (folder, uids) => engine.addFlags(ID, folder, uids, ['\\Flagged']),
    countFlagged: async (folder) => (await engine.search(ID, folder, { flagged: true })).length,
    move: async (folder, uids, dest) => Object.keys((await engine.move(ID, folder, uids, dest)).uidMap).length,
    close: () => engine.close(),
  };
}

async function imapflowClient(cfg) {
  const { ImapFlow } = require('imapflow');
  const client = new ImapFlow({
    host: '127.0.0.1', port: cfg.tlsPort, secure: true, tls: { ca: cfg.caPem, servername: 'localhost' },
    auth: { user: cfg.user, pass: cfg.pass }, logger: false,
  });
  await client.connect();
  // ImapFlow acts on the selected folder: each call opens it (a no-op when it already is).
  const select = (folder) => client.mailboxOpen(folder);
  return {
    // Only SELECT: a SEARCH ALL of 100,000 here would count in the paging's peak RSS.
    select: async (folder) => (await select(folder)).exists,
    uids: async (folder) => { await select(folder); return client.search({ all: true }, { uid: true }); },
    async page(folder, onMessage) {
      await select(folder);
      for await (const m of client.fetch('1:*', { uid: true, flags: true, envelope: true, internalDate: true, size: true })) onMessage(m);
    },
    search: async (folder, name) => { await select(folder); return client.search(SEARCHES[name].flow, { uid: true }); },
    async flag(folder, uids) {
      await select(folder);
      if ((await client.messageFlagsAdd(uids, ['\\Flagged'], { uid: true })) !== true) throw new Error('imapflow: messageFlagsAdd failed');
    },
    countFlagged: async (folder) => { await select(folder); return (await client.search({ flagged: true }, { uid: true })).length; },
    async move(folder, uids, dest) {
      await select(folder);
      const r = await client.messageMove(uids, dest, { uid: true });
      return r && r.uidMap ? r.uidMap.size : 0;
    },
    close: () => client.logout(),
  };
}

// The same work as bare commands on a raw session (bench/maildir.js), in
// this process: the compact set 1:N (a fresh folder's UIDs), STORE without
// .SILENT as ImapFlow sends it. Counted from the untagged responses.
async function rawClient(dc, cfg) {
  const session = await maildir.rawSession(dc, { user: cfg.user, pass: cfg.pass, timeoutMs: TIMEOUT_MS });
  const searched = (text) => { const m = /^\* SEARCH([^\r\n]*)/m.exec(text); return m ? m[1].trim().split(' ').filter(Boolean).length : 0; };
  const out = { search: {} };
  try {
    await session.command('SELECT INBOX');
    const page = await session.command('UID FETCH 1:* (UID FLAGS ENVELOPE INTERNALDATE RFC822.SIZE)', { count: ' FETCH (' });
    out.page = { ms: page.ms, count: page.count };
    check('messages fetched (raw)', page.count, cfg.messages);
    for (const [name, { raw }] of Object.entries(SEARCHES)) {
      const r = await session.command(`UID SEARCH ${raw}`);
      out.search[name] = { ms: r.ms, count: searched(r.text) };
      check(`search ${name} (raw)`, out.search[name].count, cfg.expected[name]);
    }
    await session.command(`SELECT "${cfg.actFolder}"`);
    check(`${cfg.actFolder} before flagging (raw)`, searched((await session.command('UID SEARCH ALL')).text), cfg.batch);
    const set = `1:${cfg.batch}`;
    const flag = await session.command(`UID STORE ${set} +FLAGS (\\Flagged)`, { count: ' FETCH (' });
    out.flag = { ms: flag.ms, count: searched((await session.command('UID SEARCH FLAGGED')).text) };
    check('messages flagged (raw)', out.flag.count, cfg.batch);
    const move = await session.command(`UID MOVE ${set} "${cfg.destFolder}"`, { count: ' EXPUNGE' });
    out.move = { ms: move.ms, count: move.count };
    check('messages moved (raw: EXPUNGE responses)', move.count, cfg.batch);
  } finally {
    await session.close();
  }
  return out;
}

async function runClient(cfg) {
  const ops = await (cfg.client === 'imap-push' ? imapPushClient : imapflowClient)(cfg);
  const out = { search: {} };
  try {
    check('INBOX before paging', await ops.select('INBOX'), cfg.messages);
    if (global.gc) global.gc();
    out.rssBeforePage = process.memoryUsage().rss;
    // Paging first: the child's peak RSS right after it is the paging peak.
    let count = 0;
    let last = 0;
    let badOrder = 0;
    const cpu0 = process.cpuUsage();
    const t0 = now();
    await ops.page('INBOX', (m) => {
      if (!m.envelope || !(m.uid > last)) badOrder++;
      else count++;
      last = m.uid;
    });
    const ms = msSince(t0);
    const cpu = process.cpuUsage(cpu0);
    out.page = { ms, count, cpuMs: (cpu.user + cpu.system) / 1000, maxRss: process.resourceUsage().maxRSS * 1024 };
    check('messages paged with an envelope, in ascending UID order', count, cfg.messages);
    check('messages paged out of order or without an envelope', badOrder, 0);

    for (const name of Object.keys(SEARCHES)) {
      const t = now();
      const uids = await ops.search('INBOX', name);
      out.search[name] = { ms: msSince(t), count: uids.length };
      check(`search ${name}`, uids.length, cfg.expected[name]);
    }

    const uids = await ops.uids(cfg.actFolder);
    check(`${cfg.actFolder} before flagging`, uids.length, cfg.batch);
    let t = now();
    await ops.flag(cfg.actFolder, uids);
    out.flag = { ms: msSince(t), count: await ops.countFlagged(cfg.actFolder) };
    check('messages flagged', out.flag.count, cfg.batch);

    t = now();
    const moved = await ops.move(cfg.actFolder, uids, cfg.destFolder);
    out.move = { ms: msSince(t), count: moved };
    check('messages moved (UIDs mapped)', moved, cfg.batch);
  } finally {
    await ops.close();
  }
  return out;
}

if (opt.child) {
  process.once('message', (cfg) => {
    runClient(cfg).then((result) => process.send({ result }), (err) => process.send({ error: err.stack || String(err) }))
      .finally(() => process.disconnect());
  });
}

// ---- the parent: server, mailboxes, runs ------------------------------------------

function inChild(cfg) {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--child'], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    let answer = null;
    child.once('message', (m) => { answer = m; });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (answer && answer.result) resolve(answer.result);
      else reject(new Error(`${cfg.client}: ${answer && answer.error ? answer.error : `child exited (${signal || code}) without a result`}`));
    });
    child.send(cfg);
  });
}

const count = (n, pred) => { let k = 0; for (let i = 0; i < n; i++) if (pred(i)) k++; return k; };
const rate = (n, ms) => (n / ms) * 1000;

function summarize(samples, n) {
  const med = (f) => median(samples.map(f));
  const spread = (f) => { const xs = samples.map(f); return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) }; };
  return {
    pageMs: spread((s) => s.page.ms), pageRate: rate(n, med((s) => s.page.ms)),
    ...(samples[0].page.maxRss ? { pageMaxRss: spread((s) => s.page.maxRss) } : {}),
    flagMs: spread((s) => s.flag.ms), moveMs: spread((s) => s.move.ms),
    searchMs: Object.fromEntries(Object.keys(SEARCHES).map((k) => [k, spread((s) => s.search[k].ms)])),
  };
}

async function main() {
  const { startDovecot } = require('../test/support/dovecot');
  const dc = await startDovecot({ users: { [USER]: PASS } });
  const expected = Object.fromEntries(Object.entries(SEARCHES).map(([k, s]) => [k, count(N, s.expect)]));
  const out = { messages: N, batch: B, pageBatch: PAGE_BATCH, runs: RUNS, clients: CLIENTS, expected, samples: {}, summary: {} };
  const raw = (folder) => maildir.rawFetch(dc, { user: USER, pass: PASS, folder, timeoutMs: TIMEOUT_MS });
  try {
    out.avgMessageBytes = maildir.populate(dc, USER, { n: N, flags: (i) => (UNSEEN(i) ? '' : 'S'), log });
    maildir.folderDir(dc, USER, 'Watched');
    for (let w = 1; w <= 2; w++) {
      const r = await raw('INBOX');
      log(`warm-up ${w}: raw FETCH ${r.count} messages, ${(r.bytes / 1048576).toFixed(1)} MiB, ${r.ms.toFixed(0)} ms`);
      check('INBOX warm-up FETCH', r.count, N);
    }
    for (const c of CLIENTS) out.samples[c] = [];
    for (let run = 0; run < RUNS; run++) {
      const order = CLIENTS.map((_, k) => CLIENTS[(k + run) % CLIENTS.length]);
      for (const c of order) {
        const actFolder = `Act-${run + 1}-${c}`;
        const destFolder = `Done-${run + 1}-${c}`;
        maildir.populate(dc, USER, { folder: actFolder, n: B, log });
        maildir.folderDir(dc, USER, destFolder);
        check(`${actFolder} warm-up FETCH`, (await raw(actFolder)).count, B);
        const cfg = {
          client: c, tlsPort: dc.tlsPort, caPem: dc.caPem, user: USER, pass: PASS, watched: 'Watched',
          messages: N, batch: B, pageBatch: PAGE_BATCH, expected, actFolder, destFolder,
        };
        const r = c === 'raw' ? await rawClient(dc, cfg) : await inChild(cfg);
        // What Dovecot wrote, read without IMAP: nothing left behind, everything moved and flagged.
        check(`message files left in ${actFolder}`, maildir.maildirFlags(dc, USER, actFolder).length, 0);
        const moved = maildir.maildirFlags(dc, USER, destFolder);
        check(`message files in ${destFolder}`, moved.length, B);
        check(`files in ${destFolder} without the F (\\Flagged) flag`, moved.filter((f) => !f.includes('F')).length, 0);
        out.samples[c].push(r);
        log(`run ${run + 1} ${c}: page ${r.page.ms.toFixed(0)} ms (${Math.round(rate(N, r.page.ms))} msg/s${r.page.maxRss ? `, peak RSS ${(r.page.maxRss / 1048576).toFixed(0)} MiB` : ''}), `
          + `search ${Object.entries(r.search).map(([k, v]) => `${k} ${v.ms.toFixed(0)} ms`).join(', ')}, `
          + `flag ${r.flag.ms.toFixed(0)} ms, move ${r.move.ms.toFixed(0)} ms`);
      }
    }
    for (const c of CLIENTS) out.summary[c] = summarize(out.samples[c], N);
  } finally {
    await dc.stop();
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

if (!opt.child) {
  main().catch((e) => {
    process.stderr.write(`${e.stack || e}\n`);
    process.exit(1);
  });
}
