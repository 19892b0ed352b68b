#!/usr/bin/env node
'use strict';
// Push latency in two settings push-latency.js does not cover:
//
//   --server mock --idle N   one measured imap-push account on the mock server
//       child (as push-latency.js), while the SAME MailEngine also holds N idle
//       implicit-TLS accounts on bench/build/scale_server (added in batches of
//       --batch). Latency: append in the mock child -> newMessage with envelope.
//   --server dovecot [--client imap-push|imapflow]   the measured account on a
//       throwaway Dovecot (test/support/dovecot.js); messages are delivered into
//       the Maildir with deliver(); latency: just before deliver() -> envelope
//       in JS. Dovecot's IDLE reports new mail after its own delay (mailbox_idle
//       check / inotify coalescing, ~0.5 s), which is included.
//
//   bash -c 'ulimit -n 20000; exec node bench/latency-extra.js --idle 10000'
//   node bench/latency-extra.js --server dovecot [--client imapflow] [--messages 20] [--gap 1000]
//
// Prints one JSON line on stdout. No assertions.
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { parseArgs } = require('util');
const { forkIpc } = require('./child-ipc');

const { values: opt } = parseArgs({
  options: {
    server: { type: 'string', default: 'mock' },
    client: { type: 'string', default: 'imap-push' },
    idle: { type: 'string', default: '0' },
    messages: { type: 'string' },
    warmup: { type: 'string' },
    gap: { type: 'string' },
    batch: { type: 'string', default: '500' },
  },
});
const DOVECOT = opt.server === 'dovecot';
const MESSAGES = Number(opt.messages || (DOVECOT ? 20 : 200));
const WARMUP = Number(opt.warmup || (DOVECOT ? 2 : 20));
const GAP = Number(opt.gap || (DOVECOT ? 1000 : 3));
const USER = 'bench';
const PASS = 'bench-password';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (s) => process.stderr.write(`[latency-extra ${opt.server}/${opt.client}/idle=${opt.idle}] ${s}\n`);

function stats(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s[s.length - 1], min: s[0], mean: s.reduce((a, b) => a + b, 0) / s.length };
}

function startMock() {
  const { child, call } = forkIpc(path.join(__dirname, 'mock-server-child.js'), []);
  return { child, call };
}

function startScaleServer(certFile) {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(__dirname, 'build', 'scale_server'), ['--cert-out', certFile], { stdio: ['pipe', 'pipe', 'inherit'] });
    const waiting = [];
    let buf = '';
    let info = null;
    child.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!line.startsWith('{')) continue;
        const msg = JSON.parse(line);
        if (!info) { info = msg; resolve(srv); } else if (waiting.length) waiting.shift()(msg);
      }
    });
    child.on('error', reject);
    const srv = {
      get info() { return info; },
      stats: () => new Promise((res) => { waiting.push(res); child.stdin.write('stats\n'); }),
      stop: () => new Promise((res) => {
        if (child.exitCode !== null) return res();
        child.once('exit', () => res());
        child.stdin.end('quit\n');
      }),
    };
  });
}

async function main() {
  const { MailEngine } = require('..');
  const engine = DOVECOT && opt.client === 'imapflow' ? null : new MailEngine();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-lx-'));
  const cleanup = [];
  let expect = null;
  const onArrive = (messageId) => {
    if (expect && messageId === expect.messageId) expect.resolve(process.hrtime.bigint());
  };
  if (engine) engine.on('newMessage', (m) => m.envelope && onArrive(m.envelope.messageId));
  if (engine) engine.on('error', (e) => log(`engine error: ${e.message}`));

  // ---- idle accounts on the scale server ----
  const idleN = Number(opt.idle);
  let idleInfo = null;
  if (idleN > 0) {
    const certFile = path.join(tmp, 'scale.pem');
    const scale = await startScaleServer(certFile);
    cleanup.push(() => scale.stop());
    const t0 = Date.now();
    let failed = 0;
    for (let i = 0; i < idleN; i += Number(opt.batch)) {
      const jobs = [];
      for (let k = i; k < Math.min(idleN, i + Number(opt.batch)); k++) {
        jobs.push(engine.addAccount({
          id: `idle-${k}`, host: '127.0.0.1', port: scale.info.port, tls: 'implicit', tlsOptions: { rejectUnauthorized: false },
          user: `${USER}-${k}`, pass: PASS, folders: ['INBOX'], timeouts: { connectMs: 120000, commandMs: 120000 },
        }).catch(() => { failed++; }));
      }
      await Promise.all(jobs);
    }
    let s;
    for (let i = 0; i < 300; i++) {
      s = await scale.stats();
      if (s.idling >= idleN - failed) break;
      await sleep(200);
    }
    idleInfo = { addMs: Date.now() - t0, failed, serverConnections: s.connections, serverIdling: s.idling };
    log(`${s.idling} idle accounts in IDLE on scale_server after ${idleInfo.addMs} ms (${failed} failed)`);
    await sleep(2000);
  }

  // ---- the measured account ----
  let deliverOne;
  let imapflowClient = null;
  if (!DOVECOT) {
    const mock = startMock();
    cleanup.push(() => mock.call('close'));
    const port = await mock.call('listen', { opts: { tls: 'none', users: { [USER]: PASS } } });
    await engine.addAccount({ id: 'measured', host: '127.0.0.1', port, tls: 'none', allowInsecureAuth: true, user: USER, pass: PASS, folders: ['INBOX'] });
    for (let i = 0; ; i++) {
      const c = await mock.call('count');
      if (c.idling >= 1) break;
      if (i > 200) throw new Error('measured account never reached IDLE');
      await sleep(50);
    }
    deliverOne = async (n, messageId) => {
      const msg = { subject: `Bench message ${n}`, from: 'Bench Sender <sender@example.com>', to: 'bench@example.com', messageId };
      const { t0 } = await mock.call('append', { folder: 'INBOX', msg });
      return BigInt(t0);
    };
  } else {
    const { startDovecot } = require('../test/support/dovecot');
    const dc = await startDovecot({ users: { [USER]: PASS } });
    cleanup.push(() => dc.stop());
    if (engine) {
      await engine.addAccount({
        id: 'measured', host: dc.host, port: dc.tlsPort, tls: 'implicit', tlsOptions: { rejectUnauthorized: false },
        user: USER, pass: PASS, folders: ['INBOX'],
      });
    } else {
      const { ImapFlow } = require('imapflow');
      imapflowClient = new ImapFlow({
        host: dc.host, port: dc.tlsPort, secure: true, tls: { rejectUnauthorized: false }, auth: { user: USER, pass: PASS },
        logger: false, autoIdleDelay: 0,
      });
      imapflowClient.on('error', (e) => log(`imapflow error: ${e.message}`));
      await imapflowClient.connect();
      await imapflowClient.mailboxOpen('INBOX');
      imapflowClient.on('exists', ({ count }) => {
        imapflowClient.fetchOne(String(count), { envelope: true, uid: true })
          .then((m) => onArrive(m.envelope.messageId), (e) => log(`fetchOne failed: ${e.message}`));
      });
      cleanup.push(() => imapflowClient.logout().catch(() => imapflowClient.close()));
    }
    await sleep(1500); // let the client settle into IDLE
    deliverOne = async (n, messageId) => {
      const raw = `From: Bench Sender <sender@example.com>\nTo: bench@example.com\nSubject: Bench message ${n}\n`
        + `Message-ID: ${messageId}\nDate: ${new Date().toUTCString()}\n\nbody ${n}\n`;
      const t0 = process.hrtime.bigint();
      dc.deliver(USER, raw);
      return t0;
    };
  }

  let n = 0;
  async function one() {
    const messageId = `<bench-${++n}@imap-push.bench>`;
    const arrived = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`message ${n} not pushed within 15 s`)), 15000);
      expect = { messageId, resolve: (t1) => { clearTimeout(timer); resolve(t1); } };
    });
    const [t0, t1] = await Promise.all([deliverOne(n, messageId), arrived]);
    return Number(t1 - t0) / 1e6;
  }
  for (let i = 0; i < WARMUP; i++) { await one(); await sleep(GAP); }
  const ms = [];
  for (let i = 0; i < MESSAGES; i++) { ms.push(await one()); await sleep(GAP); }
  const st = stats(ms);
  log(`p50 ${st.p50.toFixed(3)} ms, p99 ${st.p99.toFixed(3)} ms, max ${st.max.toFixed(3)} ms (n=${st.n})`);

  const t = Date.now();
  if (engine) await engine.close();
  const closeMs = Date.now() - t;
  for (const c of cleanup.reverse()) await c().catch(() => {});
  fs.rmSync(tmp, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify({
    bench: 'latency-extra', server: opt.server, client: engine ? 'imap-push' : 'imapflow', idleAccounts: idleN, idleInfo,
    messages: MESSAGES, gapMs: GAP, latencyMs: st, samples: DOVECOT ? ms : undefined, closeMs,
  })}\n`);
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`latency-extra: ${err.stack || err}\n`);
  process.exit(1);
});
