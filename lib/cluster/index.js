'use strict';

// require('imap-push/cluster'): accounts leased across ClusterWorker
// processes on any number of machines, through one Redis. Cluster is the
// admin side: it stores accounts (credentials sealed with AES-256-GCM), says
// who owns what, and consumes the topics the workers publish:
//   ${prefix}:EmailNewMessage   { accountId, provider: 'imap', messages: [{ id, folder, uid, uidValidity, envelope, flags,
//                                 headers?, body?: { text, html, size, truncated }, attachments? }] } (bodies: fetchBodies)
//   ${prefix}:EmailChanged      { type: 'messageDeleted' | 'flagsChanged', accountId, folder, uid, flags? }
//   ${prefix}:EmailStatus       { type: 'watched' | 'connection' | 'failed' | 'fullSync', accountId, workerId, at, ... } (status.js)
// and takes requests on ${prefix}:EmailFullSync (full-sync.js).

const { ImapPushError, optionError } = require('../errors');
const EventEmitter = require('events');
const { reportOutages } = require('./outages');
const { connect, checkCommon, CLUSTER_KEYS, TOPICS, keys, sealer } = require('./common');
const { checkStoredAccount } = require('./accounts');
const { requestFullSync, forgetFullSyncs } = require('./full-sync');
const { ClusterWorker } = require('./worker');


class Cluster extends EventEmitter {
  constructor(options = {}) {
    super();
    const { redis, secret } = options;
    this._prefix = checkCommon(options, CLUSTER_KEYS).prefix;
    if (typeof redis !== 'string') throw optionError('redis', 'must be a redis:// URL');
    this._k = keys(this._prefix);
    this._sealer = sealer(secret);
    // Its 'warning's say when Redis is away; there is no 'error' event, so no listener is needed.
    this.redis = reportOutages(connect(redis, 'imap-push-cluster'), this);
    this._consumers = new Set();
  }

  /** Stores the account for the workers; the one rendezvous hashing picks starts watching it on its next tick. */
  async addAccount(account) {
    checkStoredAccount(account);
    const { id } = account;
    const added = await this.redis.hsetnx(this._k.accounts, id, this._sealer.seal(id, account));
    if (!added) throw Object.assign(new ImapPushError('ACCOUNT_EXISTS', `account '${id}' already exists`), { accountId: id });
    return { accountId: id };
  }

  /** Its owner stops watching it on its next tick; its sync state goes too. */
  async removeAccount(id) {
    const removed = await this.redis.hdel(this._k.accounts, id);
    await this.redis.del(this._k.state(id));
    await forgetFullSyncs(this.redis, this._k, id);
    if (!removed) throw Object.assign(new ImapPushError('UNKNOWN_ACCOUNT', `no account '${id}'`), { accountId: id });
  }

  /**
   * Re-publishes the account's messages to EmailNewMessage, on whichever worker owns it (now or after a failover).
   * options: { folders?: string[] (default: the watched ones), since?: Date | string | number (IMAP SINCE: by day) }.
   */
  async requestFullSync(id, options) {
    return requestFullSync(this.redis, this._k, id, options);
  }

  /** { [accountId]: workerId | null } for every account: null while no worker holds its lease. */
  async owners() {
    const ids = await this.redis.hkeys(this._k.accounts);
    const leases = ids.length ? await this.redis.mget(ids.map((id) => this._k.lease(id))) : [];
    const out = {};
    ids.forEach((id, i) => {
      out[id] = leases[i] ? leases[i].slice(0, leases[i].lastIndexOf(':')) : null;
    });
    return out;
  }

  /** [{ id, pid, host, accounts, maxAccounts (null: no limit), heartbeatAt }] of the workers heard from within their lease. */
  async workers() {
    const ids = await this.redis.zrange(this._k.workers, 0, -1);
    const out = [];
    for (const id of ids) {
      const w = await this.redis.hgetall(this._k.worker(id));
      if (!w.heartbeatAt) continue;
      out.push({ id, pid: Number(w.pid), host: w.host, accounts: Number(w.accounts), maxAccounts: w.maxAccounts ? Number(w.maxAccounts) : null,
        heartbeatAt: Number(w.heartbeatAt) });
    }
    return out;
  }

  /**
   * Reads a topic through a consumer group, at least once: `handler(payload, entryId)` settling acknowledges
   * the entry; one that throws stays pending, and entries pending longer than claimMs (a consumer that died)
   * are claimed by this one. Returns { stop() }.
   */
  consume(topic, { group, consumer, claimMs = 30000, blockMs = 1000 } = {}, handler) {
    if (!TOPICS.includes(topic)) throw optionError('topic', `must be one of ${TOPICS.join(', ')}`);
    if (typeof group !== 'string' || !group || typeof consumer !== 'string' || !consumer) throw optionError('group', 'group and consumer must be non-empty strings');
    if (typeof handler !== 'function') throw optionError('handler', 'must be a function');
    const stream = this._k.stream(topic);
    const r = this.redis.duplicate(); // XREADGROUP BLOCK holds its connection
    r.on('error', () => {}); // the outage is this.redis's to report
    let running = true;
    // ioredis never settles the commands of a client disconnected between two reconnect attempts (Redis down
    // for a while): every wait on Redis here also ends when the consumer stops, so stop() cannot hang on one.
    let signalStop;
    const stopping = new Promise((resolve) => { signalStop = resolve; });
    const call = (p) => Promise.race([p, stopping.then(() => { throw new Error('consumer stopped'); })]);
    const handle = async (entries) => {
      for (const [entryId, fields] of entries || []) {
        if (!running) return;
        const i = fields.indexOf('payload');
        try {
          // A handler that never settles holds this consumer's loop, not stop(): its entry stays pending, for
          // another consumer to claim after claimMs.
          await call(Promise.resolve().then(() => handler(JSON.parse(fields[i + 1]), entryId)));
          await call(r.xack(stream, group, entryId));
        } catch {
          // left pending: claimed again after claimMs
        }
      }
    };
    const loop = (async () => {
      while (running) {
        try {
          // Again after a Redis restart, which forgets the group.
          await call(r.xgroup('CREATE', stream, group, '0', 'MKSTREAM').catch((err) => {
            if (!/BUSYGROUP/.test(err.message)) throw err;
          }));
          const [, claimed] = await call(r.xautoclaim(stream, group, consumer, claimMs, '0-0', 'COUNT', 100));
          await handle(claimed);
          const res = await call(r.xreadgroup('GROUP', group, consumer, 'COUNT', 100, 'BLOCK', blockMs, 'STREAMS', stream, '>'));
          if (res) await handle(res[0][1]);
        } catch {
          // Redis away: try again shortly, for as long as the consumer runs.
          if (running) await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    })();
    const c = {
      stop: async () => {
        running = false;
        signalStop();
        r.disconnect();
        await loop.catch(() => {});
        this._consumers.delete(c);
      },
      done: loop,
    };
    this._consumers.add(c);
    return c;
  }

  async close() {
    for (const c of [...this._consumers]) await c.stop();
    this.redis.disconnect();
  }
}

module.exports = { Cluster, ClusterWorker };
