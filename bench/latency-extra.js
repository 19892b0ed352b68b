#!/usr/bin/env node
'use strict';
// Push latency in two settings push-latency.js does not cover:
//
//   --server mock --idle N   one measured connection on the mock server child
//       (plain TCP, as push-latency.js), while the SAME process also holds N
//       idle implicit-TLS connections on bench/build/scale_server, opened in
//       batches of --batch: for imap-push N more accounts in the same
//       MailEngine, for ImapFlow N more ImapFlow clients (as bench/scale.js
//       opens them). Latency: append in the mock child -> envelope in JS
//       (imap-push: newMessage; ImapFlow: 'exists' -> fetchOne(envelope)).
//   --server dovecot   the measured connection on a throwaway Dovecot
//       (test/support/dovecot.js); messages are delivered into the Maildir
//       with deliver(); latency: just before deliver() -> envelope in JS.
//       Dovecot's IDLE reports new mail after its own delay (mailbox_idle
//       check / inotify coalescing, ~0.5 s), which is included.
//
//   node --expose-gc bench/latency-extra.js [--client imap-push|imapflow] [--idle 10000] [--batch 500]
//        [--runs 1] [--messages 200] [--warmup 20] [--gap 3]
//   node bench/latency-extra.js --server dovecot [--client imapflow] [--runs 1] [--messages 20] [--gap 1000]
//
// --runs R repeats the measured series R times in the same process; the idle
// connections are opened once and the warm-up messages go before the first
// run only. Node raises its descriptor limit to the hard limit by itself, and
// each idle connection takes one descriptor; the script says so on stderr
// when the hard limit is too low for --idle. With --expose-gc, the RSS in
// idleInfo is read after a full GC.
//
// Prints one JSON line on stdout: per-run latency stats in ms (runs), the
// idle connections' setup (idleInfo, null with --idle 0), and with Dovecot
// every sample. No assertions.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { parseArgs } = require('util');
const { forkIpc } = require('./child-ipc');
const { stats, rss } = require('./stats');
const {
  ensureBuilt, fdLimits, startScaleServer, waitStats, imapPushIdle, imapFlowIdle, connectInBatches,
} = require('./scale-server');

const { values: opt } = parseArgs({
  options: {
    server: { type: 'string', default: 'mock' },
    client: { type: 'string', default: 'imap-push' },
    idle: { type: 'string', default: '0' },
    runs: { type: 'string', default: '1' },
    messages: { type: 'string' },
    warmup: { type: 'string' },
    gap: { type: 'string' },
    batch: { type: 'string', default: '500' },
  },
});
const DOVECOT = opt.server === 'dovecot';
const IDLE_N = Number(opt.idle);
const RUNS = Number(opt.runs);
const MESSAGES = Number(opt.messages || (DOVECOT ? 20 : 200));
const WARMUP = Number(opt.warmup || (DOVECOT ? 2 : 20));
const GAP = Number(opt.gap || (DOVECOT ? 1000 : 3));
const BATCH = Number(opt.batch);
const USER = 'bench';
const PASS = 'bench-password';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (s) => process.stderr.write(`[latency-extra ${opt.server}/${opt.client}/idle=${IDLE_N}] ${s}\n`);

// ---- clients under test -----------------------------------------------------
// Each: { idle(port) -> the idle connections' client (bench/scale-server.js),
//         measure({ host, port, tls }, onArrive) connects the measured
//         connection; onArrive(messageId) once a new message's envelope is in JS,
//         close() closes the measured and the idle connections }.

function imapPushClient() {
  const { MailEngine } = require('..');
  const engine = new MailEngine();
  engine.on('error', (e) => log(`engine error: ${e.message}`));
  return {
    idle: (port) => imapPushIdle({ engine, port, tlsOptions: { rejectUnauthorized: false } }),
    async measure({ host, port, tls }, onArrive) {
      engine.on('newMessage', (m) => m.envelope && onArrive(m.envelope.messageId));
      await engine.addAccount({
        id: 'measured', host, port, tls, user: USER, pass: PASS, folders: ['INBOX'],
        ...(tls === 'none' ? { allowInsecureAuth: true } : { tlsOptions: { rejectUnauthorized: false } }),
      });
    },
    close: () => engine.close(),
  };
}

function imapFlowClient() {
  const { ImapFlow } = require('imapflow');
  const closers = [];
  return {
    idle(port) {
      const idle = imapFlowIdle({ port, tls: { rejectUnauthorized: false } });
      closers.push(() => idle.close());
      return idle;
    },
    async measure({ host, port, tls }, onArrive) {
      const client = new ImapFlow({
        host, port, secure: tls === 'implicit', tls: { rejectUnauthorized: false }, auth: { user: USER, pass: PASS },
        // The default (15 s) re-enters IDLE only 15 s after the last command,
        // so a message arriving sooner waits for it; 0 makes it a push client.
        logger: false, autoIdleDelay: 0,
      });
      client.on('error', (e) => log(`imapflow error: ${e.message}`));
      await client.connect();
      await client.mailboxOpen('INBOX');
      client.on('exists', ({ count }) => {
        client.fetchOne(String(count), { envelope: true, uid: true })
          .then((m) => onArrive(m.envelope.messageId), (e) => log(`fetchOne failed: ${e.message}`));
      });
      closers.push(() => client.logout().catch(() => client.close()));
    },
    close: () => Promise.all(closers.map((c) => c())),
  };
}

// ---- servers for the measured connection -----------------------------------
// Each: { host, port, tls, settle() (until the client idles), deliver(n,
// messageId) -> t0 (process.hrtime.bigint()), stop() }.

async function mockServer() {
  const { call } = forkIpc(path.join(__dirname, 'mock-server-child.js'), []);
  const port = await call('listen', { opts: { tls: 'none', users: { [USER]: PASS } } });
  return {
    host: '127.0.0.1', port, tls: 'none',
    async settle() {
      for (let i = 0; ; i++) {
        if ((await call('count')).idling >= 1) return;
        if (i > 200) throw new Error('measured connection never reached IDLE');
        await sleep(50);
      }
    },
    async deliver(n, messageId) {
      const msg = { subject: `Bench message ${n}`, from: 'Bench Sender <sender@example.com>', to: 'bench@example.com', messageId };
      const { t0 } = await call('append', { folder: 'INBOX', msg });
      return BigInt(t0);
    },
    stop: () => call('close'),
  };
}

async function dovecotServer() {
  const { startDovecot } = require('../test/support/dovecot');
  const dc = await startDovecot({ users: { [USER]: PASS } });
  return {
    host: dc.host, port: dc.tlsPort, tls: 'implicit',
    settle: () => sleep(1500), // Dovecot does not say when a client idles
    async deliver(n, messageId) {
      const raw = `From: Bench Sender <sender@example.com>\nTo: bench@example.com\nSubject: Bench message ${n}\n`
        + `Message-ID: ${messageId}\nDate: ${new Date().toUTCString()}\n\nbody ${n}\n`;
      const t0 = process.hrtime.bigint();
      dc.deliver(USER, raw);
      return t0;
    },
    stop: () => dc.stop(),
  };
}

// ---- idle connections -------------------------------------------------------

// Descriptors this process needs besides the idle connections' (stdio, the
// mock's IPC, the engine's loop, node's own) with room to spare.
const FD_SPARE = 200;

function checkFdLimit() {
  const { soft, hard } = fdLimits();
  const need = IDLE_N + FD_SPARE;
  if (soft >= need) return;
  log(`WARNING: descriptor limit ${soft} (hard ${hard}) is below the ~${need} this run needs `
    + `(one per idle connection, ${FD_SPARE} spare); connections past it fail with EMFILE. `
    + 'Raise the hard limit (as root `ulimit -Hn`, LimitNOFILE= or /etc/security/limits.conf) or lower --idle.');
}

// IDLE_N idle connections of `client` on a fresh scale_server, all in IDLE on return.
async function holdIdle(client, tmp) {
  checkFdLimit();
  ensureBuilt(log);
  const scale = await startScaleServer({ certFile: path.join(tmp, 'scale.pem') });
  const idle = client.idle(scale.info.port);
  const rssBeforeIdle = rss();
  const t0 = Date.now();
  const { connected, failed, firstError } = await connectInBatches(idle, { n: IDLE_N, batch: BATCH, log });
  const s = await waitStats(() => scale.stats(), (x) => x.idling >= connected, 60000);
  const addMs = Date.now() - t0;
  const why = `${failed} failed${firstError ? `, first: ${firstError}` : ''}${idle.errors ? `, ${idle.errors} 'error' events` : ''}`;
  log(`${s.idling} idle connections in IDLE on scale_server after ${addMs} ms (${why})`);
  await sleep(2000); // let the last handshakes' garbage and buffers settle
  const rssWithIdle = rss();
  const mib = (b) => (b / 2 ** 20).toFixed(1);
  log(`RSS ${mib(rssBeforeIdle)} MiB before the idle connections, ${mib(rssWithIdle)} MiB with them`);
  return { scale, idleInfo: { addMs, failed, serverConnections: s.connections, serverIdling: s.idling, rssBeforeIdle, rssWithIdle } };
}

// ---- main -------------------------------------------------------------------

async function main() {
  const client = opt.client === 'imapflow' ? imapFlowClient() : imapPushClient();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-lx-'));
  const cleanup = [];

  let idleInfo = null;
  if (IDLE_N > 0) {
    const held = await holdIdle(client, tmp);
    cleanup.push(() => held.scale.stop());
    idleInfo = held.idleInfo;
  }

  let expect = null;
  const onArrive = (messageId) => {
    if (expect && messageId === expect.messageId) expect.resolve(process.hrtime.bigint());
  };
  const server = DOVECOT ? await dovecotServer() : await mockServer();
  cleanup.push(() => server.stop());
  await client.measure(server, onArrive);
  await server.settle();

  let n = 0;
  async function one() {
    const messageId = `<bench-${++n}@imap-push.bench>`;
    const arrived = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`message ${n} not pushed within 15 s`)), 15000);
      expect = { messageId, resolve: (t1) => { clearTimeout(timer); resolve(t1); } };
    });
    const [t0, t1] = await Promise.all([server.deliver(n, messageId), arrived]);
    return Number(t1 - t0) / 1e6;
  }
  for (let i = 0; i < WARMUP; i++) { await one(); await sleep(GAP); }
  const runs = [];
  const samples = [];
  for (let r = 0; r < RUNS; r++) {
    const ms = [];
    for (let i = 0; i < MESSAGES; i++) { ms.push(await one()); await sleep(GAP); }
    const st = stats(ms);
    runs.push(st);
    samples.push(...ms.map((x) => Math.round(x * 1000) / 1000));
    log(`run ${r + 1}/${RUNS}: p50 ${st.p50.toFixed(3)} ms, p99 ${st.p99.toFixed(3)} ms, max ${st.max.toFixed(3)} ms (n=${st.n})`);
  }

  const t = Date.now();
  await client.close();
  const closeMs = Date.now() - t;
  for (const c of cleanup.reverse()) await c().catch(() => {});
  fs.rmSync(tmp, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify({
    bench: 'latency-extra', server: opt.server, client: opt.client === 'imapflow' ? 'imapflow' : 'imap-push', idleAccounts: IDLE_N, idleInfo,
    messages: MESSAGES, gapMs: GAP, runs, samples: DOVECOT ? samples : undefined, closeMs,
  })}\n`);
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`latency-extra: ${err.stack || err}\n`);
  process.exit(1);
});
