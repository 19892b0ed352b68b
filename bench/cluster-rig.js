'use strict';
// What bench/cluster.js runs on: a real Redis (test/support/redis.js), mock
// IMAP servers each in a process of its own (bench/mock-server-child.js) on
// 127.0.0.2, .3, ... (every one a loopback address of its own, for source-port
// space), and ClusterWorkers in processes of their own
// (bench/cluster-worker-child.js), with what they report gathered here.
const path = require('path');
const { fork } = require('child_process');
const { Cluster } = require('imap-push/cluster');
const { startRedis } = require('../test/support/redis');
const { forkIpc } = require('./child-ipc');

const WORKER = path.join(__dirname, 'cluster-worker-child.js');
const MOCK = path.join(__dirname, 'mock-server-child.js');
const SECRET = 'cluster-bench-secret-0123456789';
const PREFIX = 'bench';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls pred (sync or async) every stepMs until it holds (its truthy value is returned) or timeoutMs passes (false).
async function until(pred, timeoutMs, stepMs = 100) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > end) return false;
    await sleep(stepMs);
  }
}

// Account i is user u<i> on server i % servers. The mock's users share one
// mailbox set, so one append to a server is a new message for each of its accounts.
async function startMocks(servers, accounts) {
  const mocks = [];
  for (let s = 0; s < servers; s++) {
    const users = {};
    for (let i = s; i < accounts; i += servers) users[`u${i}`] = `pw-${i}-secret`;
    const host = `127.0.0.${2 + s}`;
    const m = forkIpc(MOCK);
    const port = await m.call('listen', { opts: { host, users } });
    mocks.push({ ...m, host, port, users: Object.keys(users).length });
  }
  return mocks;
}

async function addAccounts(cluster, mocks, accounts, inFlight = 500) {
  let next = 0;
  const one = async () => {
    while (next < accounts) {
      const i = next++;
      const m = mocks[i % mocks.length];
      await cluster.addAccount({ id: `u${i}`, host: m.host, port: m.port, tls: 'none', allowInsecureAuth: true, user: `u${i}`, pass: `pw-${i}-secret` });
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, accounts) }, one));
}

// Workers in processes; `watched` maps each account to the worker that last
// reported it watched (and not lost since).
function fleet(redisUrl, { leaseMs, maxAccounts, engine = {} }) {
  const workers = [];
  const watched = new Map();
  const stats = { lost: 0, warnings: 0, firstWarnings: [] };
  let rid = 0;
  const pending = new Map();
  function spawn(name) {
    const opts = { redis: redisUrl, prefix: PREFIX, secret: SECRET, leaseMs, id: name, engine, ...(maxAccounts ? { maxAccounts } : {}) };
    const child = fork(WORKER, [JSON.stringify(opts)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const w = { name, child, startedAt: null, exited: false };
    child.on('exit', () => { w.exited = true; });
    child.on('message', (m) => {
      if (m.rid) {
        const p = pending.get(m.rid);
        pending.delete(m.rid);
        if (p) (m.error ? p.reject(new Error(m.error)) : p.resolve(m.result));
      } else if (m.type === 'watched') {
        watched.set(m.id, { worker: name, t: m.t });
      } else if (m.type === 'lost') {
        stats.lost++;
        if (watched.get(m.id)?.worker === name) watched.delete(m.id);
      } else if (m.type === 'warning') {
        stats.warnings++;
        if (stats.firstWarnings.length < 5) stats.firstWarnings.push(`${name}: ${m.message}`);
      } else if (m.type === 'started') {
        w.startedAt = m.t;
      }
    });
    workers.push(w);
    return w;
  }
  const call = (w, cmd, timeoutMs = 60000) => new Promise((resolve, reject) => {
    const id = ++rid;
    const timer = setTimeout(() => { pending.delete(id); reject(new Error(`${w.name} ${cmd}: no answer in ${timeoutMs} ms`)); }, timeoutMs);
    pending.set(id, { resolve: (v) => { clearTimeout(timer); resolve(v); }, reject: (e) => { clearTimeout(timer); reject(e); } });
    w.child.send({ rid: id, cmd });
  });
  // The accounts a worker that just died held: watched by it still, in the map.
  const heldBy = (name) => [...watched].filter(([, v]) => v.worker === name).map(([id]) => id);
  const kill = () => {
    for (const w of workers) if (!w.exited) w.child.kill('SIGKILL');
  };
  return { workers, watched, stats, spawn, call, heldBy, kill };
}

// used_memory from INFO memory, in bytes.
function usedMemory(redis) {
  return redis.info('memory').then((s) => Number(/used_memory:(\d+)/.exec(s)[1]));
}

// MEMORY USAGE of the keys an account has: its field in the accounts hash
// (the hash / accounts), its lease, its state, and its share of the stream.
async function keyMemory(redis, ids) {
  const k = (s) => `${PREFIX}:${s}`;
  const usage = (key) => redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0').then((v) => Number(v) || 0);
  const sample = ids.slice(0, 200);
  const avg = async (f) => (sample.length ? (await Promise.all(sample.map((id) => usage(k(f(id)))))).reduce((a, b) => a + b, 0) / sample.length : 0);
  return {
    accountsHash: await usage(k('accounts')),
    leaseEach: await avg((id) => `lease:${id}`),
    stateEach: await avg((id) => `state:${id}`),
    stream: await usage(k('EmailNewMessage')),
    streamLength: await redis.xlen(k('EmailNewMessage')),
  };
}

// XINFO STREAM's entries-added: every entry ever added, also the ones MAXLEN trimmed since.
async function streamAdded(redis) {
  try {
    const info = await redis.xinfo('STREAM', `${PREFIX}:EmailNewMessage`);
    return Number(info[info.indexOf('entries-added') + 1]);
  } catch {
    return 0; // no stream yet
  }
}

// Every EmailNewMessage entry from `fromId` on: [{ ms, accountId, subject }].
async function readStream(redis, fromId = '-') {
  const out = [];
  let start = fromId;
  for (;;) {
    const batch = await redis.xrange(`${PREFIX}:EmailNewMessage`, start, '+', 'COUNT', 5000);
    for (const [id, fields] of batch) {
      const p = JSON.parse(fields[fields.indexOf('payload') + 1]);
      for (const m of p.messages) out.push({ ms: Number(id.split('-')[0]), accountId: p.accountId, subject: m.envelope.subject });
    }
    if (batch.length < 5000) return out;
    start = `(${batch[batch.length - 1][0]}`;
  }
}

async function startRig({ servers, accounts }) {
  const redisServer = await startRedis();
  const cluster = new Cluster({ redis: redisServer.url, prefix: PREFIX, secret: SECRET });
  const mocks = await startMocks(servers, accounts);
  const mockCount = async () => {
    const c = await Promise.all(mocks.map((m) => m.call('count')));
    return { connections: c.reduce((a, x) => a + x.connections, 0), idling: c.reduce((a, x) => a + x.idling, 0) };
  };
  const mockRss = async () => (await Promise.all(mocks.map((m) => m.call('stats')))).map((s) => s.rss);
  let fl = null;
  return {
    redisServer, cluster, mocks, mockCount, mockRss,
    startFleet(opts) {
      fl = fleet(redisServer.url, opts);
      return fl;
    },
    async stop() {
      if (fl) fl.kill();
      await Promise.all(mocks.map((m) => (m.child.exitCode === null ? m.call('close').catch(() => {}) : null)));
      for (const m of mocks) if (m.child.exitCode === null) m.child.kill('SIGKILL');
      await cluster.close();
      await redisServer.stop();
    },
  };
}

module.exports = { startRig, addAccounts, until, sleep, usedMemory, keyMemory, streamAdded, readStream, PREFIX, SECRET };
