#!/usr/bin/env node
'use strict';
// Connection scale: how much memory and idle CPU N idle implicit-TLS IMAP
// connections cost one client process. The server is bench/build/scale_server
// (C++, libuv + OpenSSL, built by bench/run.js or `cmake -S bench -B bench/build
// && cmake --build bench/build`), fresh for every run; the client under test
// runs in a child process of its own. Both get the highest descriptor limit
// the kernel allows (`ulimit -n`).
//
//   node bench/scale.js --client imap-push|imapflow --n 1000 [--runs 1] [--idle-ms 60000]
//        [--batch 500] [--verify ca|none] [--setup-limit-ms 300000] [--quick]
//
// Every run: connect and remove one warm-up connection, read the baseline
// (RSS after a full GC), open N connections (one account / one ImapFlow client
// each, INBOX selected, then IDLE) in batches of --batch, wait until the
// server sees N connections in IDLE, read RSS again. The first run then
// measures CPU (user+system of the whole process, every thread) over an idle
// window of --idle-ms with nothing sent or received; later runs skip it.
// Prints one JSON line on stdout.
//
// Experiments and profiling (values starting with '-' need the = form):
//   --verify none                      imap-push with rejectUnauthorized: false instead of the CA
//   --server-args="--tickets 0"        options for scale_server (--tickets N, --rsa)
//   --ca-extra=/etc/ssl/certs/ca-certificates.crt   append a PEM bundle to imap-push's ca
//   --hold-ms 30000                    stay connected that long after measuring (attach perf, gdb)
//   --exit-hard --wrap="heaptrack -o /tmp/scale"     profile the client; it is SIGKILLed with
//                                      every connection still open, so heaptrack_print's "leaked"
//                                      bytes are what the connections hold
const fs = require('fs');
const os = require('os');
const path = require('path');
const { parseArgs } = require('util');
const {
  ensureBuilt, spawnRaised, startScaleServer, waitStats, imapPushIdle, imapFlowIdle, connectInBatches,
} = require('./scale-server');
const { threadCpuMs } = require('./stats');

const { values: opt } = parseArgs({
  options: {
    client: { type: 'string', default: 'imap-push' },
    n: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '1' },
    'idle-ms': { type: 'string' },
    batch: { type: 'string', default: '500' },
    verify: { type: 'string' }, // ca (certificate checked against the server's) or none (rejectUnauthorized false)
    'setup-limit-ms': { type: 'string', default: '300000' },
    quick: { type: 'boolean' },
    // internal: the measuring child
    child: { type: 'boolean' },
    port: { type: 'string' },
    ca: { type: 'string' },
    'hold-ms': { type: 'string', default: '0' },
    'no-close': { type: 'boolean' },
    // profiling: a command prefix for the measuring child (e.g. "heaptrack -o /tmp/scale"),
    // and a SIGKILL instead of close() after the measurement, so that every
    // connection's allocations are still live when the profiler stops.
    wrap: { type: 'string' },
    'exit-hard': { type: 'boolean' },
    // experiments: extra scale_server options (e.g. "--tickets 0" or "--rsa"), and a PEM file
    // appended to the CA given to imap-push (a CA bundle, as apps often pass).
    'server-args': { type: 'string' },
    'ca-extra': { type: 'string' },
  },
});
const N = Number(opt.n);
const IDLE_MS = opt['idle-ms'] !== undefined ? Number(opt['idle-ms']) : opt.quick ? 10000 : 60000;
const BATCH = Number(opt.batch);
const VERIFY = opt.verify || (opt.client === 'imapflow' ? 'none' : 'ca');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (s) => process.stderr.write(`[scale ${opt.client} n=${N}] ${s}\n`);

// ---- server control (orchestrator) -----------------------------------------

function startServer(certFile) {
  const args = opt['server-args'] ? opt['server-args'].split(' ').filter(Boolean) : [];
  return startScaleServer({ certFile, args });
}

async function orchestrate() {
  ensureBuilt(log);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-scale-'));
  const runs = [];
  let serverInfo = null;
  try {
    for (let r = 0; r < Number(opt.runs); r++) {
      const certFile = path.join(tmp, `server-${r}.pem`);
      const server = await startServer(certFile);
      serverInfo = server.info;
      const serverBefore = await server.stats();
      const argv = [process.execPath, '--expose-gc', '--max-old-space-size=8192', __filename, '--child',
        '--client', opt.client, '--n', String(N), '--port', String(server.info.port), '--ca', certFile,
        '--idle-ms', String(r === 0 ? IDLE_MS : 0), '--batch', String(BATCH), '--verify', VERIFY,
        '--setup-limit-ms', opt['setup-limit-ms'], '--hold-ms', opt['hold-ms'], ...(opt['no-close'] ? ['--no-close'] : []),
        ...(opt['ca-extra'] ? ['--ca-extra', path.resolve(opt['ca-extra'])] : [])];
      if (opt['exit-hard']) argv.push('--exit-hard');
      const wrap = opt.wrap ? opt.wrap.split(' ').filter(Boolean) : [];
      const child = spawnRaised([...wrap, ...argv], ['ignore', 'pipe', 'inherit', 'ipc']);
      child.on('message', async (m) => {
        if (m && m.type === 'server-stats') child.send({ type: 'server-stats', id: m.id, stats: await server.stats() });
      });
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      const code = await new Promise((resolve) => child.on('exit', (c, sig) => resolve(sig || c)));
      const line = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      const serverAfter = await server.stats();
      await server.stop();
      if ((code !== 0 && !(opt['exit-hard'] && (code === 'SIGKILL' || code === 137))) || !line) throw new Error(`measuring child failed (${code})`);
      const result = JSON.parse(line);
      result.serverAfterClose = { connections: serverAfter.connections, closedByPeer: serverAfter.closedByPeer, logouts: serverAfter.logouts };
      result.serverRssBaselineKiB = serverBefore.rssKiB;
      runs.push(result);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify({
    bench: 'scale', client: opt.client, n: N, batch: BATCH, verify: VERIFY, idleMs: IDLE_MS,
    serverArgs: opt['server-args'] || null, caExtra: opt['ca-extra'] || null,
    fdLimit: serverInfo && serverInfo.fdLimit, serverKey: serverInfo && serverInfo.key, serverOpenssl: serverInfo && serverInfo.openssl,
    runs,
  })}\n`);
}

// ---- the measuring child -----------------------------------------------------

let statsSeq = 0;
const statsWaiting = new Map();
function serverStats() {
  return new Promise((resolve) => {
    const id = ++statsSeq;
    statsWaiting.set(id, resolve);
    process.send({ type: 'server-stats', id });
  });
}

// RSS after full GCs, with its anonymous part (/proc: RssAnon), which leaves
// out the pages of code (node, the addon, OpenSSL) that running new code
// paths maps in.
function mem() {
  global.gc();
  global.gc();
  const m = process.memoryUsage();
  const anon = fs.readFileSync('/proc/self/status', 'utf8').match(/^RssAnon:\s+(\d+) kB/m);
  return {
    rss: m.rss, rssAnon: anon ? Number(anon[1]) * 1024 : null,
    heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers,
  };
}

// CPU time of every thread of this process, from /proc (µs), and context switches.
function threads() {
  let ctxSwitches = 0;
  const cpu = [];
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      cpu.push({ tid, name: Number(tid) === process.pid ? `${name} (main)` : name, us: threadCpuMs(tid) * 1000 });
      const status = fs.readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
      for (const k of ['voluntary_ctxt_switches', 'nonvoluntary_ctxt_switches']) {
        const m = status.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm'));
        if (m) ctxSwitches += Number(m[1]);
      }
    } catch { /* thread exited */ }
  }
  return { ctxSwitches, cpu };
}

const waitServer = (pred, timeoutMs) => waitStats(serverStats, pred, timeoutMs);

function imapPushClient(port, ca) {
  const { MailEngine } = require('..');
  const tlsOptions = VERIFY === 'ca' ? { ca } : { rejectUnauthorized: false };
  return imapPushIdle({ engine: new MailEngine(), port, tlsOptions });
}

function imapFlowClient(port, ca) {
  const tls = VERIFY === 'ca' ? { ca, servername: 'localhost' } : { rejectUnauthorized: false };
  return imapFlowIdle({ port, tls });
}

async function child() {
  process.on('message', (m) => {
    if (m && m.type === 'server-stats') {
      const r = statsWaiting.get(m.id);
      statsWaiting.delete(m.id);
      r(m.stats);
    }
  });
  const port = Number(opt.port);
  const ca = fs.readFileSync(opt.ca, 'utf8') + (opt['ca-extra'] ? `\n${fs.readFileSync(opt['ca-extra'], 'utf8')}` : '');
  const client = opt.client === 'imapflow' ? imapFlowClient(port, ca) : imapPushClient(port, ca);

  // Warm-up: load code, start the engine thread, build the TLS context once.
  await client.connect('warmup');
  await client.remove('warmup');
  await waitServer((s) => s.connections === 0, 10000);
  await sleep(500);
  const baseline = mem();
  const server0 = await serverStats();

  const t0 = Date.now();
  const { connected, failed, firstError, batchMs, connectMs } = await connectInBatches(client, {
    n: N, batch: BATCH, limitMs: Number(opt['setup-limit-ms']), log,
  });
  const serverIdle = await waitServer((s) => s.idling >= connected, 60000);
  const idleAtMs = Date.now() - t0;
  log(`${connected} connected (${failed} failed) in ${(connectMs / 1000).toFixed(1)} s; server: ${serverIdle.connections} connections, ${serverIdle.idling} in IDLE`);
  await sleep(2000); // let the last handshakes' garbage and buffers settle
  const connectedMem = mem();
  const server1 = await serverStats();

  let idle = null;
  if (Number(opt['idle-ms']) > 0) {
    const c0 = process.cpuUsage();
    const th0 = threads();
    const s0 = await serverStats();
    const h0 = process.hrtime.bigint();
    await sleep(Number(opt['idle-ms']));
    const c = process.cpuUsage(c0);
    const wallUs = Number(process.hrtime.bigint() - h0) / 1e3;
    const th1 = threads();
    const s1 = await serverStats();
    const byThread = th1.cpu.map((t) => {
      const before = th0.cpu.find((x) => x.tid === t.tid);
      return { name: t.name, us: t.us - (before ? before.us : 0) };
    }).filter((t) => t.us > 0).sort((a, b) => b.us - a.us);
    idle = {
      wallMs: wallUs / 1000,
      cpuUserUs: c.user,
      cpuSystemUs: c.system,
      cpuPercent: (100 * (c.user + c.system)) / wallUs,
      contextSwitchesPerSec: ((th1.ctxSwitches - th0.ctxSwitches) * 1e6) / wallUs,
      busiestThreads: byThread.slice(0, 4),
      mainThreadUs: byThread.filter((t) => t.name.endsWith('(main)')).reduce((a, t) => a + t.us, 0),
      otherThreadsUs: byThread.filter((t) => !t.name.endsWith('(main)')).reduce((a, t) => a + t.us, 0),
      serverCpuPercent: (100 * (s1.cpuUserUs - s0.cpuUserUs + s1.cpuSystemUs - s0.cpuSystemUs)) / wallUs,
      serverCommands: s1.commands - s0.commands,
      serverConnectionsEnd: s1.connections,
      serverIdlingEnd: s1.idling,
    };
    log(`idle ${(wallUs / 1e6).toFixed(0)} s: client CPU ${idle.cpuPercent.toFixed(3)} %, server CPU ${idle.serverCpuPercent.toFixed(3)} %`);
  }
  const afterIdle = idle ? mem() : null;
  const statusMs = client.statusMs ? client.statusMs() : null;
  if (Number(opt['hold-ms']) > 0) await sleep(Number(opt['hold-ms'])); // for an outside profiler

  let closeMs = null;
  if (!opt['no-close'] && !opt['exit-hard']) {
    const c0 = Date.now();
    await client.close();
    closeMs = Date.now() - c0;
  }
  process.stdout.write(`${JSON.stringify({
    client: client.name,
    n: N,
    connected,
    failed,
    firstError,
    clientErrors: client.errors || 0,
    connectMs,
    idleReachedMs: idleAtMs,
    batchMs,
    baseline,
    connectedMem,
    afterIdle,
    server: {
      connections: server1.connections,
      idling: server1.idling,
      handshakes: server1.handshakes - server0.handshakes,
      tlsFailures: server1.tlsFailures - server0.tlsFailures,
      commands: server1.commands - server0.commands,
      rssKiB: server1.rssKiB,
      rssBaselineKiB: server0.rssKiB,
    },
    idle,
    statusMs,
    closeMs,
  })}\n`);
  if (opt['exit-hard']) process.stdout.write('', () => process.kill(process.pid, 'SIGKILL'));
  else if (opt['no-close']) process.exit(0);
  else process.disconnect(); // the IPC channel would keep this process alive
}

(opt.child ? child() : orchestrate()).catch((err) => {
  process.stderr.write(`scale: ${err.stack || err}\n`);
  process.exit(1);
});
