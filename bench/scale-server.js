'use strict';
// bench/build/scale_server (bench/scale-server.cpp) from JS, and the idle
// connections the benchmarks hold on it: bench/scale.js measures what they
// cost, bench/latency-extra.js measures push latency next to them.
//
//   build(target?)                            cmake-builds bench/build (Release)
//   ensureBuilt(log)                          builds scale_server if it is missing
//   startScaleServer({ certFile, args })      -> { child, info, stats(), stop() }
//   spawnRaised(argv, stdio)                  spawn with the descriptor limit raised
//   fdLimits()                                -> { soft, hard } of this process
//   imapPushIdle / imapFlowIdle               one account / one ImapFlow client per connection
//   connectInBatches(client, { n, batch })    opens n of them, --batch at a time
//   waitStats(statsFn, pred, timeoutMs)       polls stats until pred holds
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const SERVER = path.join(__dirname, 'build', 'scale_server');
const USER = 'bench';
const PASS = 'bench-password';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Configures and builds bench/build (Release): one target, or every one.
function build(target) {
  const dir = path.join(__dirname, 'build');
  execFileSync('cmake', ['-S', __dirname, '-B', dir, '-DCMAKE_BUILD_TYPE=Release'], { stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('cmake', ['--build', dir, '-j', String(os.cpus().length), ...(target ? ['--target', target] : [])],
    { stdio: ['ignore', 'ignore', 'inherit'] });
}

function ensureBuilt(log) {
  if (fs.existsSync(SERVER)) return;
  log('building bench/build/scale_server');
  build('scale_server');
}

// Runs argv with the descriptor limit raised as far as allowed: 1,048,576 if
// the process may raise its hard limit, else the hard limit.
function spawnRaised(argv, stdio) {
  const script = 'ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"';
  return spawn('bash', ['-c', script, 'bash', ...argv], { stdio });
}

// This process's descriptor limits. Node raises the soft limit to the hard
// one at startup, so the hard limit is what a benchmark can use.
function fdLimits() {
  const m = fs.readFileSync('/proc/self/limits', 'utf8').match(/^Max open files\s+(\S+)\s+(\S+)/m);
  const num = (s) => (s === 'unlimited' ? Infinity : Number(s));
  return m ? { soft: num(m[1]), hard: num(m[2]) } : { soft: NaN, hard: NaN };
}

// Resolves once the server listens, with `info` its first JSON line
// ({ port, fdLimit, key, openssl, pid }). Each stats() is answered by the
// next JSON line, in order.
function startScaleServer({ certFile, args = [] }) {
  return new Promise((resolve, reject) => {
    const child = spawnRaised([SERVER, '--cert-out', certFile, ...args], ['pipe', 'pipe', 'inherit']);
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
        if (!info) {
          info = msg;
          resolve(server);
        } else if (waiting.length) waiting.shift()(msg);
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (!info) reject(new Error(`scale_server exited (${code}) before listening`));
      for (const w of waiting.splice(0)) w({ error: `server exited (${code})` });
    });
    const server = {
      child,
      get info() { return info; },
      stats() {
        return new Promise((res) => {
          waiting.push(res);
          child.stdin.write('stats\n');
        });
      },
      stop() {
        return new Promise((res) => {
          if (child.exitCode !== null || child.signalCode !== null) return res();
          child.once('exit', () => res());
          child.stdin.end('quit\n');
        });
      },
    };
  });
}

async function waitStats(statsFn, pred, timeoutMs) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = await statsFn();
    if (pred(s) || Date.now() > until) return s;
    await sleep(200);
  }
}

// ---- idle connections ----------------------------------------------------------
// Each: { name, connect(id), remove(id), close() }; connect resolves once INBOX
// is selected, and the client then goes into IDLE on its own.

// Accounts in `engine`; close() closes the engine, with whatever else it holds.
function imapPushIdle({ engine, port, tlsOptions }) {
  return {
    name: 'imap-push',
    connect: (id) => engine.addAccount({
      id, host: '127.0.0.1', port, tls: 'implicit', tlsOptions, user: `${USER}-${id}`, pass: PASS, folders: ['INBOX'],
      timeouts: { connectMs: 120000, commandMs: 120000 },
    }),
    remove: (id) => engine.removeAccount(id),
    // What the JS side pays for a status() of every account (the notifier's health check does one).
    statusMs() {
      const t = process.hrtime.bigint();
      engine.status();
      return Number(process.hrtime.bigint() - t) / 1e6;
    },
    close: () => engine.close(),
  };
}

function imapFlowIdle({ port, tls }) {
  const { ImapFlow } = require('imapflow');
  const clients = new Map();
  let errors = 0;
  return {
    name: 'imapflow',
    get errors() { return errors; },
    async connect(id) {
      const client = new ImapFlow({
        host: '127.0.0.1', port, secure: true, tls, auth: { user: `${USER}-${id}`, pass: PASS }, logger: false,
        // IDLE right after the last command (the default waits 15 s).
        autoIdleDelay: 0, connectionTimeout: 120000, greetingTimeout: 120000,
      });
      client.on('error', () => { errors++; });
      await client.connect();
      await client.mailboxOpen('INBOX');
      clients.set(id, client);
    },
    async remove(id) {
      const c = clients.get(id);
      clients.delete(id);
      await c.logout();
    },
    close: () => Promise.all([...clients.values()].map((c) => c.logout().catch(() => c.close()))),
  };
}

// Connections a0..a(n-1), `batch` at a time, so that thousands of TLS
// handshakes do not all start at once; stops starting batches after limitMs.
async function connectInBatches(client, { n, batch, limitMs = Infinity, log }) {
  const t0 = Date.now();
  let connected = 0;
  let failed = 0;
  let firstError = null;
  const batchMs = [];
  for (let i = 0; i < n && Date.now() < t0 + limitMs; i += batch) {
    const b0 = Date.now();
    const jobs = [];
    for (let k = i; k < Math.min(n, i + batch); k++) {
      jobs.push(client.connect(`a${k}`).then(() => { connected++; }, (err) => {
        failed++;
        if (!firstError) firstError = `${err.code || ''} ${err.message}`.trim();
      }));
    }
    await Promise.all(jobs);
    batchMs.push(Date.now() - b0);
    if ((i / batch) % 4 === 3) log(`${connected} connected, ${failed} failed after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  return { connected, failed, firstError, batchMs, connectMs: Date.now() - t0 };
}

module.exports = {
  SERVER, build, ensureBuilt, spawnRaised, fdLimits, startScaleServer, waitStats, imapPushIdle, imapFlowIdle, connectInBatches,
};
