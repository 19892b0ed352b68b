'use strict';

// A real Redis (Debian's redis-server) on 127.0.0.1 under a temp dir, for the
// cluster tests, started and stopped like test/support/dovecot.js: no
// persistence, a free port, bounded waits.

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

async function startRedis() {
  if (!redisAvailable()) throw new Error(`redis-server not found at ${REDIS_BIN} (apt-get install redis-server)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-redis-'));
  let child;
  let port;
  async function start() {
    port = await freePort();
    child = spawn(REDIS_BIN, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
      '--protected-mode', 'yes', '--loglevel', 'warning'], { stdio: ['ignore', 'ignore', 'inherit'] });
    for (let i = 0; i < 100; i++) {
      if (await ping(port, 200)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    throw new Error('redis-server did not answer within 5 s');
  }
  await start();
  const stopChild = () => new Promise((resolve) => {
    if (!child || child.exitCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
  return {
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    /** A crash and a restart on the same port, with nothing kept (no persistence). */
    async restart() {
      await stopChild();
      const keep = port;
      child = spawn(REDIS_BIN, ['--port', String(keep), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
        { stdio: ['ignore', 'ignore', 'inherit'] });
      for (let i = 0; i < 100 && !(await ping(keep, 200)); i++) await new Promise((r) => setTimeout(r, 50));
    },
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
