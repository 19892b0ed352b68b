'use strict';

// A cluster to test against: a real redis-server and a MockImapServer on
// loopback, a Cluster admin, and workers either in this process (when a test
// needs a function option such as getAccessToken) or in child processes
// (when it must SIGKILL one). Topics are collected through consume().

const path = require('path');
const { fork } = require('child_process');
const { Cluster, ClusterWorker } = require('imap-push/cluster');
const { MockImapServer } = require('imap-push/testing');
const { startRedis } = require('./redis');

const CHILD = path.join(__dirname, 'cluster-worker-child.js');
const SECRET = 'cluster-test-secret-0123456789';
const FAST_ENGINE = { reconnect: { initialDelayMs: 50, maxDelayMs: 200 } };

async function startCluster({ users = {}, tokens, prefix = 't', leaseMs = 2000, accounts = Object.keys(users) } = {}) {
  const redis = await startRedis();
  const imap = new MockImapServer({ users, ...(tokens ? { tokens } : {}) });
  await imap.listen();
  const cluster = new Cluster({ redis: redis.url, prefix, secret: SECRET });
  const children = [];
  const inProcess = [];
  const consumers = [];
  const fx = {
    redis, imap, cluster, prefix, leaseMs, workers: inProcess,
    account: (user, extra = {}) => ({ id: user, host: '127.0.0.1', port: imap.port, tls: 'none', allowInsecureAuth: true, user, pass: users[user], ...extra }),
    /** Entries of a topic from now on, as an array that fills up. */
    collect(topic) {
      const got = [];
      consumers.push(cluster.consume(topic, { group: `test-${consumers.length}`, consumer: 'c', blockMs: 200 }, (p) => { got.push(p); }));
      return got;
    },
    /** A ClusterWorker in a child process: { name, child, messages } (its events over IPC). */
    spawnWorker(name, options = {}) {
      const child = fork(CHILD, [JSON.stringify({ redis: redis.url, prefix, secret: SECRET, leaseMs, id: name, engine: FAST_ENGINE, ...options })],
        { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const w = { name, child, messages: [] };
      child.on('message', (m) => w.messages.push(m));
      children.push(w);
      return w;
    },
    /** A ClusterWorker in this process, started. */
    async startWorker(name, options = {}) {
      const w = new ClusterWorker({ redis: redis.url, prefix, secret: SECRET, leaseMs, id: name, engine: FAST_ENGINE, ...options });
      w.warnings = [];
      w.on('warning', (err) => w.warnings.push(err));
      const stop = w.stop.bind(w);
      let stopped = null;
      w.stop = () => (stopped = stopped || stop()); // a test's own stop, then close()'s
      inProcess.push(w);
      await w.start();
      return w;
    },
    async close() {
      for (const w of children) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      for (const w of inProcess) await w.stop().catch(() => {});
      for (const c of consumers) await c.stop();
      await cluster.close();
      await imap.close();
      await redis.stop();
    },
  };
  for (const user of accounts) await cluster.addAccount(fx.account(user));
  return fx;
}

const exited = (child) => new Promise((resolve) => {
  if (child.exitCode !== null || child.signalCode !== null) resolve();
  else child.once('exit', resolve);
});

module.exports = { startCluster, exited, SECRET };
