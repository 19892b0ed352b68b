#!/usr/bin/env node
'use strict';
// What dead-connection detection costs at N idle TLS connections: TCP
// keepalive probes and the IDLE liveness check (DONE + IDLE after
// idle.livenessMs of server silence). Needs root: it runs in a network
// namespace of its own, so the loopback counters (bytes, packets) and the
// kernel's keepalive counter (TcpExt TCPKeepAlive) count only this run's
// traffic, however busy the machine is.
//
//   sudo node bench/liveness-cost.js --n 10000 [--window-ms 60000] [--batch 500]
//        [--liveness-ms 240000] [--keepalive-idle-ms 15000]
//
// Engine defaults otherwise (keepalive 15 s / 5 s x 3). A window shorter
// than livenessMs sees keepalive only; to measure one liveness cycle, run
// with --keepalive-idle-ms 0 and a --liveness-ms well inside the window.
// Prints one JSON line: the window's totals and per connection per hour.
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { parseArgs } = require('util');
const { ensureBuilt, startScaleServer, waitStats, imapPushIdle, connectInBatches, fdLimits } = require('./scale-server');

const { values: opt } = parseArgs({
  options: {
    n: { type: 'string', default: '10000' },
    'window-ms': { type: 'string', default: '60000' },
    batch: { type: 'string', default: '500' },
    'liveness-ms': { type: 'string' },
    'keepalive-idle-ms': { type: 'string' },
    'in-ns': { type: 'boolean' },
  },
});
const log = (s) => process.stderr.write(`[liveness-cost] ${s}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function counters() {
  const lo = (f) => Number(fs.readFileSync(`/sys/class/net/lo/statistics/${f}`, 'utf8'));
  const netstat = fs.readFileSync('/proc/net/netstat', 'utf8').split('\n');
  const names = netstat.find((l) => l.startsWith('TcpExt:')).split(/\s+/);
  const values = netstat.filter((l) => l.startsWith('TcpExt:'))[1].split(/\s+/);
  return { bytes: lo('tx_bytes'), packets: lo('tx_packets'), keepaliveProbes: Number(values[names.indexOf('TCPKeepAlive')]) };
}

async function measure() {
  const N = Number(opt.n);
  const windowMs = Number(opt['window-ms']);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-liveness-'));
  const certFile = path.join(tmp, 'server.pem');
  const server = await startScaleServer({ certFile });
  const { MailEngine } = require('..');
  const options = {};
  if (opt['liveness-ms'] !== undefined) options.idle = { livenessMs: Number(opt['liveness-ms']) };
  if (opt['keepalive-idle-ms'] !== undefined) options.keepalive = { idleMs: Number(opt['keepalive-idle-ms']) };
  const engine = new MailEngine(options);
  const client = imapPushIdle({ engine, port: server.info.port, tlsOptions: { ca: fs.readFileSync(certFile, 'utf8') } });
  try {
    const setup = await connectInBatches(client, { n: N, batch: Number(opt.batch), log });
    await waitStats(() => server.stats(), (s) => s.idling >= setup.connected, 60000);
    log(`${setup.connected} in IDLE (${setup.failed} failed) after ${(setup.connectMs / 1000).toFixed(1)} s`);
    await sleep(2000);
    const c0 = counters();
    const s0 = await server.stats();
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await sleep(windowMs);
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = process.cpuUsage(cpu0);
    const s1 = await server.stats();
    const c1 = counters();
    const perConnHour = (x) => (x / setup.connected) * (3600000 / wallMs);
    const d = { bytes: c1.bytes - c0.bytes, packets: c1.packets - c0.packets, keepaliveProbes: c1.keepaliveProbes - c0.keepaliveProbes };
    const clientCpuMs = (cpu.user + cpu.system) / 1000;
    const serverCpuMs = (s1.cpuUserUs - s0.cpuUserUs + s1.cpuSystemUs - s0.cpuSystemUs) / 1000;
    return {
      bench: 'liveness-cost', n: N, connected: setup.connected, windowMs: Math.round(wallMs), options,
      window: { ...d, serverCommands: s1.commands - s0.commands, clientCpuMs, serverCpuMs, idlingEnd: s1.idling },
      perConnectionHour: {
        bytes: perConnHour(d.bytes), packets: perConnHour(d.packets), keepaliveProbes: perConnHour(d.keepaliveProbes),
        serverCommands: perConnHour(s1.commands - s0.commands), clientCpuMs: perConnHour(clientCpuMs), serverCpuMs: perConnHour(serverCpuMs),
      },
      clientCpuPercent: (100 * clientCpuMs) / wallMs,
      fdLimit: fdLimits().hard,
    };
  } finally {
    await client.close();
    await server.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// Re-runs this script inside a fresh network namespace, always deleted.
async function inNamespace() {
  ensureBuilt(log);
  const ns = `imapcost-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    const script = 'ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"';
    const child = spawn('ip', ['netns', 'exec', ns, 'bash', '-c', script, 'bash', process.execPath, __filename, '--in-ns',
      ...process.argv.slice(2)], { stdio: 'inherit' });
    const code = await new Promise((resolve) => child.on('exit', (c, sig) => resolve(sig || c)));
    if (code !== 0) throw new Error(`measuring run failed (${code})`);
  } finally {
    execFileSync('ip', ['netns', 'delete', ns]);
  }
}

(opt['in-ns'] ? measure().then((r) => process.stdout.write(`${JSON.stringify(r)}\n`)) : inNamespace()).catch((err) => {
  process.stderr.write(`liveness-cost: ${err.stack || err}\n`);
  process.exit(1);
});
