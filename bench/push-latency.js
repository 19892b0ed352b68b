#!/usr/bin/env node
'use strict';
// Push latency: the mock server (a child process) appends a message, which
// sends "* N EXISTS" to the idling client at once; the clock stops when the
// message's envelope is in JS. Messages go one at a time, each after the
// previous one arrived. Optionally `--idle N` other connections sit in IDLE
// on another folder, and the client's RSS and idle CPU are sampled.
//
//   node bench/push-latency.js --client imap-push|imapflow [--idle 1000]
//        [--messages 300] [--runs 5] [--gap 3] [--idle-windows 5] [--window-ms 2000] [--samples]
//
// Prints one JSON line (per-run latency stats, RSS, CPU) on stdout.
const path = require('path');
const { parseArgs } = require('util');
const { forkIpc } = require('./child-ipc');
const { stats, rss } = require('./stats');

const { values: opt } = parseArgs({
  options: {
    client: { type: 'string', default: 'imap-push' },
    idle: { type: 'string', default: '0' },
    messages: { type: 'string', default: '300' },
    runs: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '20' },
    gap: { type: 'string', default: '3' }, // ms between one arrival and the next append
    'idle-windows': { type: 'string', default: '5' },
    'window-ms': { type: 'string', default: '2000' },
    batch: { type: 'string', default: '100' }, // connections opened concurrently
    samples: { type: 'boolean' }, // include every measured latency in the JSON, to look at outliers
  },
});
const num = (k) => Number(opt[k]);
const USER = 'bench';
const PASS = 'bench-password';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (s) => process.stderr.write(`[${opt.client}/idle=${opt.idle}] ${s}\n`);

// ---- mock server child ------------------------------------------------------

function startServer() {
  const { child, call } = forkIpc(path.join(__dirname, 'mock-server-child.js'), []);
  return { child, call };
}

async function inBatches(n, size, fn) {
  for (let i = 0; i < n; i += size) {
    const jobs = [];
    for (let k = i; k < Math.min(n, i + size); k++) jobs.push(fn(k));
    await Promise.all(jobs);
  }
}

// ---- clients under test -----------------------------------------------------
// Each returns { connect(id, folder), onMessage(cb(messageId)), close() }.

function imapPushClient(port) {
  const { MailEngine } = require('..');
  const engine = new MailEngine();
  return {
    connect: (id, folder) => engine.addAccount({
      id, host: '127.0.0.1', port, tls: 'none', allowInsecureAuth: true, user: USER, pass: PASS, folders: [folder],
    }),
    onMessage: (cb) => engine.on('newMessage', (m) => cb(m.envelope.messageId, m.pushLatencyMs)),
    close: () => engine.close(),
  };
}

function imapFlowClient(port) {
  const { ImapFlow } = require('imapflow');
  const clients = [];
  let measured = null;
  return {
    async connect(id, folder) {
      const client = new ImapFlow({
        host: '127.0.0.1', port, secure: false, auth: { user: USER, pass: PASS }, logger: false,
        // The default (15 s) re-enters IDLE only 15 s after the last command,
        // so a message arriving sooner waits for it; 0 makes it a push client.
        autoIdleDelay: 0,
      });
      client.on('error', (err) => log(`imapflow ${id} error: ${err.message}`));
      await client.connect();
      await client.mailboxOpen(folder);
      clients.push(client);
      if (folder === 'INBOX') measured = client;
    },
    onMessage(cb) {
      measured.on('exists', ({ count }) => {
        measured.fetchOne(String(count), { envelope: true, uid: true })
          .then((msg) => cb(msg.envelope.messageId), (err) => log(`fetchOne failed: ${err.message}`));
      });
    },
    close: () => Promise.all(clients.map((c) => c.logout().catch(() => c.close()))),
  };
}

// ---- measurement -----------------------------------------------------------

async function main() {
  const idleCount = num('idle');
  const server = startServer();
  const port = await server.call('listen', { opts: { tls: 'none', users: { [USER]: PASS } }, folders: ['Idle'] });
  const client = opt.client === 'imapflow' ? imapFlowClient(port) : imapPushClient(port);
  const rssBaseline = rss();

  const t = Date.now();
  await inBatches(idleCount, num('batch'), (k) => client.connect(`idle-${k}`, 'Idle'));
  await client.connect('measured', 'INBOX');
  const setupMs = Date.now() - t;
  for (let i = 0; ; i++) { // every connection must be in IDLE before we time anything
    const c = await server.call('count');
    if (c.idling === idleCount + 1) break;
    if (i > 200) throw new Error(`only ${c.idling} of ${idleCount + 1} connections reached IDLE`);
    await sleep(50);
  }
  log(`${idleCount + 1} connections idling after ${setupMs} ms`);
  const rssConnected = rss(); // before any message: the cost of the connections alone

  let expect = null;
  // imap-push also reports its own part (pushLatencyMs: EXISTS read -> event handed to JS), next to the outer figure.
  let engineMs = [];
  client.onMessage((messageId, pushLatencyMs) => {
    if (!expect || messageId !== expect.messageId) return;
    if (typeof pushLatencyMs === 'number') engineMs.push(pushLatencyMs);
    expect.resolve(process.hrtime.bigint());
  });
  let n = 0;
  let notIdle = 0;
  async function one() {
    const messageId = `<bench-${++n}@imap-push.bench>`;
    const arrived = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`message ${n} not pushed within 10 s`)), 10000);
      expect = { messageId, resolve: (t1) => { clearTimeout(timer); resolve(t1); } };
    });
    const msg = { subject: `Bench message ${n}`, from: 'Bench Sender <sender@example.com>', to: 'bench@example.com', messageId };
    const [{ t0, idle }, t1] = await Promise.all([server.call('append', { folder: 'INBOX', msg }), arrived]);
    if (!idle) notIdle++;
    return Number(t1 - BigInt(t0)) / 1e6;
  }

  for (let i = 0; i < num('warmup'); i++) { await one(); await sleep(num('gap')); }
  engineMs = [];
  const runs = [];
  for (let r = 0; r < num('runs'); r++) {
    const ms = [];
    for (let i = 0; i < num('messages'); i++) {
      ms.push(await one());
      await sleep(num('gap'));
    }
    const run = opt.samples ? { ...stats(ms), samples: ms } : stats(ms);
    if (engineMs.length) run.engine = stats(engineMs);
    engineMs = [];
    runs.push(run);
    log(`run ${r + 1}: p50 ${runs[r].p50.toFixed(3)} ms, p99 ${runs[r].p99.toFixed(3)} ms, max ${runs[r].max.toFixed(3)} ms`
      + (run.engine ? `; engine pushLatencyMs p50 ${run.engine.p50.toFixed(3)} ms, p99 ${run.engine.p99.toFixed(3)} ms (${run.engine.n} samples)` : ''));
  }

  // Idle cost: nothing is sent or received in these windows, so any CPU is
  // the client's own timers and bookkeeping.
  const windows = [];
  if (idleCount > 0 && num('idle-windows') > 0) {
    await sleep(1000);
    for (let w = 0; w < num('idle-windows'); w++) {
      const s0 = await server.call('stats');
      const c0 = process.cpuUsage();
      const h0 = process.hrtime.bigint();
      await sleep(num('window-ms'));
      const c = process.cpuUsage(c0);
      const wallUs = Number(process.hrtime.bigint() - h0) / 1e3;
      const s1 = await server.call('stats');
      windows.push({
        cpuPercent: (100 * (c.user + c.system)) / wallUs,
        serverCpuPercent: (100 * (s1.cpuUserUs - s0.cpuUserUs + s1.cpuSystemUs - s0.cpuSystemUs)) / wallUs,
        rss: rss(),
      });
    }
  }
  const rssAfter = rss(); // includes whatever the heap grew to while pushing
  const serverStats = await server.call('stats');
  await client.close();
  await server.call('close');
  process.stdout.write(`${JSON.stringify({
    bench: 'push-latency',
    client: opt.client,
    idleConnections: idleCount,
    messagesPerRun: num('messages'),
    gapMs: num('gap'),
    setupMs,
    notIdleAtAppend: notIdle,
    runs,
    rssBaseline,
    rssConnected,
    rssAfter,
    idleWindows: windows,
    serverRss: serverStats.rss,
  })}\n`);
}

main().catch((err) => {
  process.stderr.write(`push-latency: ${err.stack || err}\n`);
  process.exit(1);
});
