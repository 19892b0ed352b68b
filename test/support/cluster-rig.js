'use strict';

// A cluster under test (test/cluster-faults.test.js): a real Redis, the mock
// IMAP server with one account per user, a Cluster consuming
// EmailNewMessage, an IdleWatch counting who watches whom, and workers as
// child processes (test/support/cluster-worker-child.js) that a test can
// SIGKILL, SIGSTOP or cut off from Redis.

const path = require('path');
const { fork } = require('child_process');
const { Cluster } = require('imap-push/cluster');
const { MockImapServer } = require('imap-push/testing');
const { startRedis } = require('./redis');
const { IdleWatch } = require('./idle-watch');
const { waitUntil } = require('./wait');

const CHILD = path.join(__dirname, 'cluster-worker-child.js');
const SECRET = 'cluster-faults-secret-0123456789';
const PREFIX = 't';

async function startRig({ leaseMs, accounts = 6, persist = false }) {
  const users = Object.fromEntries(Array.from({ length: accounts }, (_, i) => [`user${i + 1}`, `Pw-of-user${i + 1}-secret`]));
  const redis = await startRedis({ persist });
  const imap = new MockImapServer({ users });
  await imap.listen();
  const cluster = new Cluster({ redis: redis.url, prefix: PREFIX, secret: SECRET });
  const received = [];
  const consumer = cluster.consume('EmailNewMessage', { group: 'store', consumer: 'c1', blockMs: 200 }, (p) => { received.push(p); });
  const workers = [];
  const rig = {
    redis, imap, cluster, users, received, workers, leaseMs,
    names: Object.keys(users).sort(),
    watch: new IdleWatch(imap),

    async addAccounts() {
      for (const user of Object.keys(users)) {
        await cluster.addAccount({ id: user, host: '127.0.0.1', port: imap.port, tls: 'none', allowInsecureAuth: true, user, pass: users[user] });
      }
    },

    /** A worker process; redisUrl lets one reach Redis through a proxy. */
    workerOptions(name, { redisUrl = redis.url, lease = leaseMs } = {}) {
      return { redis: redisUrl, prefix: PREFIX, secret: SECRET, leaseMs: lease, id: name, engine: { reconnect: { initialDelayMs: 50, maxDelayMs: 200 } } };
    },

    spawnWorker(name, opts) {
      const child = fork(CHILD, [JSON.stringify(rig.workerOptions(name, opts))], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const w = { name, child, messages: [] };
      child.on('message', (m) => w.messages.push(m));
      workers.push(w);
      return w;
    },

    async owners() {
      return cluster.owners();
    },

    /** Every account has a live lease, held by one of `by` when given. */
    async allOwned(by) {
      const owners = await cluster.owners();
      return rig.names.every((u) => (by ? by.includes(owners[u]) : owners[u]));
    },

    /** Exactly one watcher for every account (exempt sessions aside). */
    allWatchedOnce() {
      const w = rig.watch.watched();
      return w.length === rig.names.length && w.every((u, i) => u === rig.names[i]);
    },

    /**
     * Every account's first owner has recorded where its folders stand: the cluster publishes the mail that
     * arrives after that (what arrives before its first record is the account's past, never published).
     */
    async allRecorded() {
      const n = await Promise.all(rig.names.map((id) => cluster.redis.exists(`${PREFIX}:state:${id}`)));
      return n.every((x) => x === 1);
    },

    /** The accounts with an entry for a message of this subject in EmailNewMessage, as consumed. */
    publishedFor(subject) {
      return new Set(received.filter((p) => p.messages.some((m) => m.envelope.subject === subject)).map((p) => p.accountId));
    },

    async waitPublished(subject, ids = rig.names, timeoutMs = 15000) {
      const missing = () => ids.filter((id) => !rig.publishedFor(subject).has(id));
      await waitUntil(() => missing().length === 0, timeoutMs, `'${subject}' in EmailNewMessage for ${ids.join(', ')}`).catch((err) => {
        const warnings = workers.map((w) => `${w.name}: ${w.messages.filter((m) => m.type === 'warning').map((m) => m.message).join('; ')}`);
        throw new Error(`${err.message} (missing: ${missing().join(', ')}; warnings ${warnings.join(' | ')})`);
      });
    },

    /** EmailNewMessage as Redis holds it, in order: { entryId, owner ("workerId:fence"), payload }. */
    async streamEntries() {
      const raw = await cluster.redis.xrange(`${PREFIX}:EmailNewMessage`, '-', '+');
      return raw.map(([entryId, fields]) => {
        const f = {};
        for (let i = 0; i < fields.length; i += 2) f[fields[i]] = fields[i + 1];
        return { entryId, owner: f.owner, payload: JSON.parse(f.payload) };
      });
    },

    async close() {
      rig.watch.stop();
      for (const w of workers) {
        if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      }
      await consumer.stop();
      await cluster.close();
      await imap.close();
      await redis.stop();
    },
  };
  await rig.addAccounts();
  return rig;
}

module.exports = { startRig };
