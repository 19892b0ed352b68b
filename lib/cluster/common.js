'use strict';

// What the cluster's admin side (Cluster) and its workers (ClusterWorker)
// share: option checks, Redis key names, the credential cipher and the
// stable message id consumers deduplicate on.

const crypto = require('crypto');
const { optionError } = require('../errors');

function loadRedis() {
  try {
    return require('ioredis');
  } catch {
    throw optionError('redis', "needs the 'ioredis' package (npm install ioredis)");
  }
}

/** An ioredis client from a URL (or an existing client's options). */
function connect(redis, name, extra = {}) {
  const Redis = loadRedis();
  if (typeof redis !== 'string' || !/^rediss?:\/\//.test(redis)) throw optionError('redis', 'must be a redis:// or rediss:// URL');
  // Retry forever with a bounded delay: a restarted Redis is reconnected to, never given up on.
  return new Redis(redis, { connectionName: name, maxRetriesPerRequest: 3, retryStrategy: (n) => Math.min(50 * n, 1000), lazyConnect: false, ...extra });
}

// What consume() reads: the topics workers publish (EmailFullSync is the workers' own queue).
const TOPICS = ['EmailNewMessage', 'EmailChanged', 'EmailStatus'];
const CLUSTER_KEYS = ['redis', 'prefix', 'secret'];
const WORKER_KEYS = [...CLUSTER_KEYS, 'leaseMs', 'engine', 'maxAccounts', 'id', 'getAccessToken'];

/** The options both sides share, checked; `allowed` names every key the caller takes (a typo is a TypeError). */
function checkCommon(options, allowed) {
  if (!options || typeof options !== 'object' || Array.isArray(options)) throw optionError('options', 'must be an object');
  for (const key of Object.keys(options)) if (!allowed.includes(key)) throw optionError(key, 'is not a known option');
  const { prefix = 'imap-push', secret } = options;
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix)) throw optionError('prefix', 'must be 1-64 characters of A-Z a-z 0-9 _ . : -');
  if (typeof secret !== 'string' || secret.length < 16) throw optionError('secret', 'must be a string of at least 16 characters');
  return { prefix };
}

const keys = (p) => ({
  accounts: `${p}:accounts`, // hash id -> sealed account JSON
  workers: `${p}:workers`, // zset workerId -> last heartbeat (ms)
  worker: (id) => `${p}:worker:${id}`, // hash pid, host, accounts, heartbeatAt (expires)
  lease: (id) => `${p}:lease:${id}`, // "workerId:fence", expires after leaseMs
  fence: `${p}:fence`, // counter: every lease taken gets the next token
  state: (id) => `${p}:state:${id}`, // hash folder -> { uidValidity, lastUid, highestModseq, uids } (sync-state.js)
  stream: (topic) => `${p}:${topic}`,
});

// Every topic a worker publishes is capped, approximately (MAXLEN ~), at this many entries.
const STREAM_MAXLEN = 100000;

// AES-256-GCM under a key derived from the secret; the account id is the
// associated data, so a sealed blob cannot be moved to another account.
function sealer(secret) {
  const key = crypto.scryptSync(secret, 'imap-push cluster credentials v1', 32);
  return {
    seal(id, obj) {
      const iv = crypto.randomBytes(12);
      const c = crypto.createCipheriv('aes-256-gcm', key, iv);
      c.setAAD(Buffer.from(id));
      const body = Buffer.concat([c.update(JSON.stringify(obj), 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
    },
    open(id, sealed) {
      const buf = Buffer.from(sealed, 'base64');
      const d = crypto.createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
      d.setAAD(Buffer.from(id));
      d.setAuthTag(buf.subarray(12, 28));
      return JSON.parse(Buffer.concat([d.update(buf.subarray(28)), d.final()]).toString('utf8'));
    },
  };
}

/** Stable per (accountId, folder, uidValidity, uid): what consumers deduplicate on. */
function messageId(accountId, folder, uidValidity, uid) {
  return crypto.createHash('sha256').update(JSON.stringify([accountId, folder, uidValidity, uid])).digest('base64url').slice(0, 22);
}

/**
 * A message parsed by our MIME parser (lib/mime), as a payload carries it: its header fields, its body (the
 * inline text and HTML, with the message's size and whether a limit cut it), and its attachments, their bytes
 * in base64 (JSON has no bytes).
 */
function bodyFields(parsed) {
  if (!parsed) return {};
  return {
    headers: parsed.headers,
    body: { text: parsed.text, html: parsed.html, size: parsed.size, truncated: parsed.truncated },
    attachments: parsed.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, disposition: a.disposition,
      contentId: a.contentId, size: a.size, content: Buffer.from(a.content.buffer, a.content.byteOffset, a.content.length).toString('base64') })),
  };
}

/**
 * One message of an EmailNewMessage payload, from a newMessage event or a messages() item; `parsed` is the
 * parsed message when the account has fetchBodies (a newMessage event's own `message` by default).
 */
function messageEntry(m, parsed = m.message) {
  return { id: messageId(m.accountId, m.folder, m.uidValidity, m.uid), folder: m.folder, uid: m.uid, uidValidity: m.uidValidity,
    envelope: m.envelope, flags: m.flags, ...bodyFields(parsed) };
}

// Rendezvous hashing: each account goes to the live worker with the highest
// score, so a worker joining or leaving moves only its own share.
// crypto.hash (Node >= 20.12): the same digest, a third cheaper than a Hash object per score.
const sha256 = typeof crypto.hash === 'function' ? (s) => crypto.hash('sha256', s, 'buffer')
  : (s) => crypto.createHash('sha256').update(s).digest();
const score = (w, accountId) => sha256(`${w}\0${accountId}`).readBigUInt64BE(0);

/** The workers in the order an account prefers them: best first. */
function rank(accountId, workerIds) {
  return workerIds.map((w) => [w, score(w, accountId)]).sort((a, b) => (a[1] > b[1] ? -1 : a[1] < b[1] ? 1 : 0)).map(([w]) => w);
}

function ownerOf(accountId, workerIds) {
  return rank(accountId, workerIds)[0] || null;
}

module.exports = { connect, checkCommon, CLUSTER_KEYS, WORKER_KEYS, TOPICS, keys, sealer, messageId, messageEntry, ownerOf, rank, STREAM_MAXLEN };
