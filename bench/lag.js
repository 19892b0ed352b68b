#!/usr/bin/env node
'use strict';
// JS responsiveness under push load: a setInterval(1 ms) probe records how late
// each tick fires (lag = gap between ticks - 1 ms) while a mock IMAP server in a
// child process appends --per-tick messages every --tick-ms, spread round-robin
// over --accounts folders, each watched by one account (imap-push: one
// MailEngine; imapflow: one ImapFlow client per folder, exists -> fetchOne
// envelope). `--traffic off` measures the same probe with the
// accounts connected and idle.
//
//   node bench/lag.js [--client imap-push|imapflow] [--traffic on|off] [--seconds 10]
//        [--accounts 10] [--per-tick 10] [--tick-ms 10]
//
// Prints one JSON line on stdout. No assertions.
const path = require('path');
const { parseArgs } = require('util');
const { forkIpc } = require('./child-ipc');
const { stats } = require('./stats');

const { values: opt } = parseArgs({
  options: {
    client: { type: 'string', default: 'imap-push' },
    traffic: { type: 'string', default: 'on' },
    seconds: { type: 'string', default: '10' },
    accounts: { type: 'string', default: '10' },
    'per-tick': { type: 'string', default: '10' },
    'tick-ms': { type: 'string', default: '10' },
    child: { type: 'boolean' },
  },
});
const USER = 'bench';
const PASS = 'bench-password';
const ACCOUNTS = Number(opt.accounts);
const folders = Array.from({ length: ACCOUNTS }, (_, i) => `F${i}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (s) => process.stderr.write(`[lag ${opt.client} traffic=${opt.traffic}] ${s}\n`);

// ---- the server child: MockImapServer plus a timer-driven appender -------------
function serverChild() {
  const { MockImapServer } = require('imap-push/testing');
  const { serveIpc } = require('./child-ipc');
  let server;
  let seq = 0;
  serveIpc({
    async listen() {
      server = new MockImapServer({ tls: 'none', users: { [USER]: PASS } });
      for (const f of folders) server.createMailbox(f);
      return server.listen();
    },
    count() {
      return { idling: server.clients().filter((c) => c.idling).length };
    },
    async run({ seconds, perTick, tickMs }) {
      const until = Date.now() + seconds * 1000;
      let appended = 0;
      const t0 = Date.now();
      await new Promise((resolve) => {
        const timer = setInterval(() => {
          if (Date.now() >= until) { clearInterval(timer); resolve(); return; }
          for (let i = 0; i < perTick; i++) {
            const n = ++seq;
            server.appendMessage(folders[n % folders.length], {
              subject: `Lag message ${n}`, from: 'Bench Sender <sender@example.com>', to: 'bench@example.com',
              messageId: `<lag-${n}@imap-push.bench>`,
            });
            appended++;
          }
        }, tickMs);
      });
      return { appended, ms: Date.now() - t0 };
    },
    async close() { if (server) await server.close(); return null; },
  });
}

function startServer() {
  return forkIpc(__filename, ['--child']).call;
}

async function main() {
  const call = startServer();
  const port = await call('listen');
  let received = 0;
  let closeAll;
  if (opt.client === 'imapflow') {
    const { ImapFlow } = require('imapflow');
    const clients = [];
    for (const f of folders) {
      const c = new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user: USER, pass: PASS }, logger: false, autoIdleDelay: 0 });
      c.on('error', (e) => log(`imapflow error: ${e.message}`));
      await c.connect();
      await c.mailboxOpen(f);
      // Every EXISTS fetches the envelopes of the messages not yet fetched.
      let fetched = 0;
      let busy = false;
      let want = 0;
      const pump = async () => {
        if (busy) return;
        busy = true;
        try {
          while (fetched < want) {
            const to = want;
            for await (const m of c.fetch(`${fetched + 1}:${to}`, { envelope: true, uid: true })) {
              if (m.envelope) received++;
            }
            fetched = to;
          }
        } catch (e) { log(`fetch failed: ${e.message}`); }
        busy = false;
      };
      c.on('exists', ({ count }) => { want = count; pump(); });
      clients.push(c);
    }
    closeAll = () => Promise.all(clients.map((c) => c.logout().catch(() => c.close())));
  } else {
    const { MailEngine } = require('..');
    const engine = new MailEngine();
    engine.on('newMessage', (m) => { if (m.envelope) received++; });
    engine.on('error', (e) => log(`engine error: ${e.message}`));
    await Promise.all(folders.map((f, i) => engine.addAccount({
      id: `acct-${i}`, host: '127.0.0.1', port, tls: 'none', allowInsecureAuth: true, user: USER, pass: PASS, folders: [f],
    })));
    closeAll = () => engine.close();
  }
  for (let i = 0; ; i++) {
    const c = await call('count');
    if (c.idling >= ACCOUNTS) break;
    if (i > 200) throw new Error(`only ${c.idling} of ${ACCOUNTS} in IDLE`);
    await sleep(50);
  }
  await sleep(1000);

  const seconds = Number(opt.seconds);
  const lags = [];
  let last = process.hrtime.bigint();
  const probe = setInterval(() => {
    const now = process.hrtime.bigint();
    lags.push(Math.max(0, Number(now - last) / 1e6 - 1));
    last = now;
  }, 1);
  const c0 = process.cpuUsage();
  const h0 = process.hrtime.bigint();
  let server = null;
  if (opt.traffic === 'on') {
    server = await call('run', { seconds, perTick: Number(opt['per-tick']), tickMs: Number(opt['tick-ms']) });
  } else {
    await sleep(seconds * 1000);
  }
  const receivedInWindow = received;
  const wallMs = Number(process.hrtime.bigint() - h0) / 1e6;
  const cpu = process.cpuUsage(c0);
  clearInterval(probe);
  // let the tail drain, to report how many arrived in total
  if (server) for (let i = 0; i < 100 && received < server.appended; i++) await sleep(100);
  const st = stats(lags);
  log(`lag p50 ${st.p50.toFixed(3)} ms, p99 ${st.p99.toFixed(3)} ms, max ${st.max.toFixed(3)} ms; `
    + `${receivedInWindow} events in ${(wallMs / 1000).toFixed(1)} s (${(receivedInWindow * 1000 / wallMs).toFixed(0)}/s)`);
  await closeAll();
  await call('close').catch(() => {});
  process.stdout.write(`${JSON.stringify({
    bench: 'lag', client: opt.client, traffic: opt.traffic, accounts: ACCOUNTS, seconds,
    appended: server && server.appended, receivedInWindow, receivedTotal: received, wallMs,
    eventsPerSec: (receivedInWindow * 1000) / wallMs, ticks: lags.length, lagMs: st,
    cpuPercent: (100 * (cpu.user + cpu.system) / 1000) / wallMs,
  })}\n`);
  process.exit(0);
}

if (opt.child) serverChild();
else main().catch((err) => {
  process.stderr.write(`lag: ${err.stack || err}\n`);
  process.exit(1);
});
