'use strict';

// A real Redis (Debian's redis-server) on 127.0.0.1 under a temp dir, for the
// cluster tests, started and stopped like test/support/dovecot.js: a free
// port, bounded waits. No persistence unless asked for: { persist: true } is
// an append-only file fsynced on every write, as a production Redis holding
// leases and sync state would run; crash() and start() bring it down and back
// on the same port.

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const REDIS_BIN = '/usr/bin/redis-server';

function redisAvailable() {
  return fs.existsSync(REDIS_BIN);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function ping(port, timeoutMs) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

async function startRedis({ persist = false } = {}) {
  if (!redisAvailable()) throw new Error(`redis-server not found at ${REDIS_BIN} (apt-get install redis-server)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-redis-'));
  const durability = persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  let child;
  let port;
  async function start() {
    if (!port) port = await freePort();
    child = spawn(REDIS_BIN, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...durability,
      '--protected-mode', 'yes', '--loglevel', 'warning'], { stdio: ['ignore', 'ignore', 'inherit'] });
    for (let i = 0; i < 100; i++) {
      if (await ping(port, 200)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    throw new Error('redis-server did not answer within 5 s');
  }
  await start();
  const stopChild = (signal = 'SIGTERM') => new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
  return {
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    /** A crash and a restart on the same port: without persistence nothing is kept. */
    async restart() {
      await stopChild('SIGKILL');
      await start();
    },
    /** Killed (SIGKILL, no shutdown save) and left down until start(). */
    crash: () => stopChild('SIGKILL'),
    /** Up again on the same port, from the append-only file when persistent. */
    start,
    async stop() {
      await stopChild();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    cli(...args) {
      return execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' });
    },
  };
}

module.exports = { startRedis, redisAvailable };
