'use strict';

// A cluster worker: one MailEngine watching the accounts this process holds
// a lease for. Every leaseMs/3 it heartbeats, renews its leases, hands over
// accounts rendezvous hashing now gives to another live worker, and takes
// the ones that fall to it. Every write it makes for an account (a stream
// entry, sync state) runs in Redis only while the lease still holds its
// fencing token, so a worker that was paused past its lease cannot publish
// for an account another worker owns now. And it stops watching an account
// on its own clock once its lease may have ended unrenewed (Redis down, a
// network cut, the process paused), before anyone else can take it.

const os = require('os');
const crypto = require('crypto');
const { EventEmitter } = require('events');
const { MailEngine } = require('..');
const { optionError } = require('../errors');
const { normalizeEngineOptions } = require('../options');
const { connect, checkCommon, WORKER_KEYS, keys, sealer, messageEntry, STREAM_MAXLEN } = require('./common');
const { loads, placer, RankCache } = require('./placement');
const { engineAccount } = require('./accounts');
const { FullSync } = require('./full-sync');
const { UidRanges, readState, writeState } = require('./sync-state');
const { StatusTopic, errorFields } = require('./status');

const MAX_RETRY_MS = 5 * 60 * 1000;
// A takeover tick comes this long after the moment it waits for (a heartbeat or a lease running out), so that
// Redis has let it go by then.
const WAKE_MARGIN_MS = 25;

// Takes a free lease with the next fencing token. When it is held: minus the milliseconds it has left (0 when
// unknown), so the worker can come back the moment it ends rather than a tick later.
const ACQUIRE = `if redis.call('EXISTS', KEYS[1]) == 1 then
  local left = redis.call('PTTL', KEYS[1])
  if left > 0 then return -left end
  return 0
end
local t = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. t, 'PX', ARGV[2])
return t`;
// Renews many leases in one round trip: KEYS the leases, ARGV[1] leaseMs, ARGV[i + 1] the value KEYS[i] must
// still hold ("workerId:fence"). One 1 (renewed) or 0 (lost) per lease.
const RENEW_MANY = `local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i + 1] then out[i] = redis.call('PEXPIRE', key, ARGV[1]) else out[i] = 0 end
end
return out`;
// Leases renewed per RENEW_MANY call, and leases asked for at once (each its own script call, written back to
// back: one round trip for the lot).
const RENEW_BATCH = 1000;
const ACQUIRE_BATCH = 200;
// Account starts (addAccount and catch-up) in flight at most: a worker alone at first, which rendezvous gives
// every account, does not start them all at once and hand most of them over a tick later. When this limits a
// tick, another comes a second later rather than a tick period.
const MAX_STARTING = 1000;
const STARTING_WAKE_MS = 1000;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
// The stream entry and the state it accounts for, together, only under the lease. The entry
// names the lease it was written under ("workerId:fence"), for audits of who published what.
const PUBLISH = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] ~= '' then redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'payload', ARGV[2], 'owner', ARGV[1]) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[3], ARGV[3], ARGV[4]) end
return 1`;

class ClusterWorker extends EventEmitter {
  constructor(options = {}) {
    super();
    const { redis, leaseMs = 10000, secret, engine = {}, maxAccounts = Infinity, id, getAccessToken } = options;
    this._prefix = checkCommon(options, WORKER_KEYS).prefix;
    if (!Number.isSafeInteger(leaseMs) || leaseMs < 1000) throw optionError('leaseMs', 'must be an integer of at least 1000');
    if (maxAccounts !== Infinity && (!Number.isSafeInteger(maxAccounts) || maxAccounts < 1)) throw optionError('maxAccounts', 'must be a positive integer');
    if (typeof redis !== 'string') throw optionError('redis', 'must be a redis:// URL');
    normalizeEngineOptions(engine); // a bad engine option fails here, not at start()
    if (getAccessToken !== undefined && typeof getAccessToken !== 'function') {
      throw optionError('getAccessToken', "must be a function returning { accessToken, expiresAt } for the accounts stored with auth: 'oauth'");
    }
    this._getAccessToken = getAccessToken;
    this.id = id || `${os.hostname()}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
    this._redisUrl = redis;
    this._leaseMs = leaseMs;
    this._minWakeMs = Math.max(100, Math.floor(leaseMs / 50));
    this._lastTickAt = 0;
    this._sealer = sealer(secret);
    this._engineOptions = engine;
    this._maxAccounts = maxAccounts;
    this._k = keys(this._prefix);
    this._owned = new Map(); // accountId -> { lease: "workerId:fence", folders, state: Map folder -> { uidValidity, lastUid } }
    this._chain = Promise.resolve(); // publishes, in event order
    this._ticking = null;
    this._watching = new Set(); // account starts in progress: addAccount and catch-up, outside the tick
    this._removing = new Map(); // accountId -> the engine's removal of it, in progress: a new start waits for it
    this._dropping = new Set(); // drops the tick started and did not wait for (removal, then the lease released)
    this._ranks = new RankCache();
    // accountId -> { until, delayMs }: an account that failed to start (a wrong password, a server down) is not
    // taken again before `until`, a tick at first, doubling up to MAX_RETRY_MS, so a bad login is not retried every tick.
    this._backoff = new Map();
    this._fullSync = new FullSync(this);
    this._status = new StatusTopic(this);
  }

  async start() {
    // A command that gets no answer (a network cut keeps the socket open) fails after a tick, so the
    // next tick runs instead of every later one waiting on it.
    this.redis = connect(this._redisUrl, `imap-push-worker-${this.id}`, { commandTimeout: Math.floor(this._leaseMs / 3) });
    // ioredis reports each failed reconnect as an 'error'; the worker rides the outage out, and says so once.
    this.redis.on('error', (err) => {
      if (this._redisDown) return;
      this._redisDown = true;
      this.emit('warning', Object.assign(new Error(`redis unavailable: ${err.code || err.message}`), { code: 'REDIS_UNAVAILABLE' }));
    });
    this.redis.on('ready', () => { this._redisDown = false; });
    const commands = { acquire: [2, ACQUIRE], release: [1, RELEASE], publish: [3, PUBLISH], ...FullSync.commands() };
    for (const [name, [numberOfKeys, lua]] of Object.entries(commands)) this.redis.defineCommand(`imapPush${name}`, { numberOfKeys, lua });
    this.redis.defineCommand('imapPushrenewmany', { lua: RENEW_MANY }); // the number of keys comes first
    this.engine = new MailEngine(this._engineOptions);
    this._status.attach(this.engine);
    this.engine.on('newMessage', (m) => this._queue(() => this._publishNew(m)));
    for (const name of ['messageDeleted', 'flagsChanged']) {
      this.engine.on(name, (e) => this._queue(() => this._publishChange(name, e)));
    }
    this._running = true;
    await this._beat();
    await this._tick();
    this._timer = setInterval(() => this._tick().catch((err) => this.emit('warning', err)), Math.floor(this._leaseMs / 3));
    // The heartbeat on its own clock: a long tick (many accounts to take at once) does not make this worker look
    // dead, and its accounts handed around, while it is renewing them.
    this._beatTimer = setInterval(() => this._beat().catch(() => {}), Math.floor(this._leaseMs / 3));
  }

  // One round trip. Skipped while a tick has not started for a lease (a tick wedged on Redis): a worker that
  // neither renews nor takes accounts should look dead, so that its accounts go elsewhere.
  async _beat() {
    const now = Date.now();
    if (this._lastTickAt && now - this._lastTickAt > this._leaseMs) return;
    await this.redis.multi()
      .zadd(this._k.workers, now, this.id)
      .hset(this._k.worker(this.id), { pid: process.pid, host: os.hostname(), accounts: this._owned.size, heartbeatAt: now,
        maxAccounts: this._maxAccounts === Infinity ? '' : this._maxAccounts })
      .pexpire(this._k.worker(this.id), this._leaseMs * 2)
      .exec();
  }

  // A tick every leaseMs / 3 would take a dead worker's accounts up to a third of a lease after their leases end.
  // So each tick also notes when the next takeover can happen: the earliest moment another worker's heartbeat
  // grows older than leaseMs (it is then no longer live, and its accounts are placed anew) or a lease this worker
  // should hold, but found held, runs out. When that comes before the next regular tick, an extra tick runs then.
  // Live workers heartbeat every leaseMs / 3 and renew their leases, so in a healthy cluster neither moment comes
  // before the next tick, and no extra tick (and no extra Redis command) happens: only a worker that stopped
  // heartbeating, or a lease that is not being renewed, brings one. Extra ticks are at least minWakeMs apart.
  _wakeAt(at) {
    clearTimeout(this._wake);
    this._wake = null;
    if (!this._running || at === Infinity) return;
    const now = Date.now();
    if (at - now >= Math.floor(this._leaseMs / 3)) return; // the regular tick comes first
    const delay = Math.max(at - now, this._lastTickAt + this._minWakeMs - now, 0);
    this._wake = setTimeout(() => {
      this._wake = null;
      this._tick().catch((err) => this.emit('warning', err));
    }, delay);
  }

  /** Hands every account over at once: leases released, so other workers take them on their next tick. */
  async stop() {
    this._running = false;
    clearInterval(this._timer);
    clearInterval(this._beatTimer);
    clearTimeout(this._wake);
    await this._ticking;
    await this._fullSync.stop();
    await Promise.all([...this._watching]);
    await this._chain;
    await Promise.all([...this._owned.keys()].map((id) => this._drop(id, true)));
    await Promise.all([...this._dropping]);
    await Promise.all([...this._removing.values()]);
    await this.redis.zrem(this._k.workers, this.id).catch(() => {});
    await this.redis.del(this._k.worker(this.id)).catch(() => {});
    await this.engine.close();
    this.redis.disconnect();
  }

  accounts() {
    return [...this._owned.keys()];
  }

  _queue(fn) {
    this._chain = this._chain.then(fn).catch((err) => this.emit('warning', err));
  }

  _tick() {
    if (!this._ticking) {
      this._lastTickAt = Date.now();
      this._ticking = this._tickOnce().then((wakeAt) => this._wakeAt(wakeAt)).finally(() => { this._ticking = null; });
    }
    return this._ticking;
  }

  // One tick; resolves with the moment a takeover may be possible next (see _wakeAt), Infinity for none.
  // Renewals go in batches (one round trip per RENEW_BATCH leases), the rendezvous ranking is cached until the
  // live workers change, accounts are let go together and taken in batches: a tick costs a few round trips,
  // not one per account.
  async _tickOnce() {
    const now = Date.now();
    const r = this.redis;
    let wakeAt = Infinity;
    const [, [, beats], [, stored]] = await r.multi()
      .zremrangebyscore(this._k.workers, '-inf', now - this._leaseMs)
      .zrangebyscore(this._k.workers, now - this._leaseMs, '+inf', 'WITHSCORES')
      .hkeys(this._k.accounts)
      .exec();
    const live = [];
    for (let i = 0; i < beats.length; i += 2) {
      live.push(beats[i]);
      if (beats[i] !== this.id) wakeAt = Math.min(wakeAt, Number(beats[i + 1]) + this._leaseMs + WAKE_MARGIN_MS);
    }
    if (!live.includes(this.id)) live.push(this.id); // its heartbeat is on its own timer, maybe not written yet
    const ids = new Set(stored);
    for (const id of this._backoff.keys()) if (!ids.has(id)) this._backoff.delete(id);
    this._ranks.retain(ids);
    await this._ranks.warm(ids, live); // nothing to do unless the live workers changed
    let taking = 0;
    const place = placer(this.id, this._maxAccounts, () => this._owned.size + taking, live, await loads(r, this._k, live), this._ranks.for(live));
    const drops = [];
    const held = [];
    for (const [id, h] of this._owned) {
      if (!ids.has(id)) drops.push(this._drop(id, true)); // removed from the cluster
      else held.push([id, h]);
    }
    const renewed = await this._renewAll(held);
    for (const [id, h] of held) {
      if (this._owned.get(id) !== h) continue;
      if (!renewed.get(id)) {
        drops.push(this._drop(id, false).then(() => this.emit('leaseLost', id))); // lost: someone else holds it now
      } else if (place(id, true) !== this.id) {
        drops.push(this._drop(id, true)); // rebalanced: hand over
      }
    }
    // Not waited for: closing many accounts' sessions (a hand-over to a worker that just joined) can take longer
    // than a lease, and the next tick's renewals of the accounts kept must not wait on it. Each drop has already
    // taken its account out of _owned; a start of the same account waits for its removal (_watch).
    for (const d of drops) {
      const p = d.catch((err) => this.emit('warning', err)).finally(() => this._dropping.delete(p));
      this._dropping.add(p);
    }
    // Accounts are asked for ACQUIRE_BATCH at a time. One that is asked for holds a place under maxAccounts until
    // its answer; when the places run out, the batch goes first, so that an account held elsewhere (its lease not
    // yet ended) gives its place back to the next one instead of blocking it for the tick.
    let batch = [];
    const flush = async () => {
      const asked = batch;
      batch = [];
      if (!asked.length) return;
      const sentAt = Date.now();
      const tokens = await Promise.all(asked.map((id) => r.imapPushacquire(this._k.lease(id), this._k.fence, this.id, this._leaseMs)));
      asked.forEach((id, j) => {
        taking--;
        const token = tokens[j];
        if (token <= 0) {
          if (token < 0) wakeAt = Math.min(wakeAt, Date.now() - token + WAKE_MARGIN_MS); // held: come back when it ends
          return;
        }
        // Not awaited: a long catch-up must not hold up the next tick's renewals of the other leases.
        const started = this._watch(id, `${this.id}:${token}`, sentAt).finally(() => this._watching.delete(started));
        this._watching.add(started);
      });
    };
    for (const id of ids) {
      if (!this._running) break;
      if (batch.length >= ACQUIRE_BATCH || (taking > 0 && this._owned.size + taking >= this._maxAccounts)) await flush();
      if (this._owned.has(id) || this._backoff.get(id)?.until > now || place(id, false) !== this.id) continue;
      if (this._watching.size + batch.length >= MAX_STARTING) {
        wakeAt = Math.min(wakeAt, Date.now() + STARTING_WAKE_MS);
        break;
      }
      batch.push(id);
      taking++; // counted at once, so that place() stops at maxAccounts
    }
    await flush();
    await this._fullSync.poll();
    return wakeAt;
  }

  // Renews the leases of [[id, held]]: Map id -> false when it is lost. One the deadline dropped while the renewal
  // was on its way is given back, as the renewal may just have extended it, so the next owner need not wait for
  // it to expire. A lease renewed moments ago (an extra tick, see _wakeAt, soon after a regular one) is not
  // renewed again.
  async _renewAll(held) {
    const out = new Map();
    const due = [];
    const sentAt = Date.now();
    for (const [id, h] of held) {
      if (sentAt - h.renewedAt < this._leaseMs / 6) out.set(id, true);
      else due.push([id, h]);
    }
    await Promise.all(Array.from({ length: Math.ceil(due.length / RENEW_BATCH) }, async (_, b) => {
      const batch = due.slice(b * RENEW_BATCH, (b + 1) * RENEW_BATCH);
      const ok = await this.redis.imapPushrenewmany(batch.length, ...batch.map(([id]) => this._k.lease(id)), this._leaseMs,
        ...batch.map(([, h]) => h.lease));
      batch.forEach(([id, h], i) => {
        if (this._owned.get(id) !== h) {
          // Given back only once the engine has closed its sessions: before that, a new owner would find them.
          if (ok[i]) {
            const p = Promise.resolve(this._removing.get(id)).then(() => this.redis.imapPushrelease(this._k.lease(id), h.lease))
              .catch(() => {}).finally(() => this._dropping.delete(p));
            this._dropping.add(p);
          }
          out.set(id, true);
          return;
        }
        if (ok[i]) this._holdUntil(id, h, sentAt);
        out.set(id, !!ok[i]);
      });
    }));
    return out;
  }

  // Redis counts the lease from when it ran the command, which is after sentAt: measured from sentAt, the
  // lease is over no sooner than sentAt + leaseMs. A quarter lease earlier the account stops being watched
  // here, whatever Redis could be told, so that a new owner never finds this one still on the server.
  _holdUntil(id, held, sentAt) {
    clearTimeout(held.deadline);
    held.renewedAt = sentAt;
    const left = sentAt + this._leaseMs - Math.floor(this._leaseMs / 4) - Date.now();
    held.deadline = setTimeout(() => {
      if (this._owned.get(id) !== held) return;
      this._drop(id, true).then(() => this.emit('leaseLost', id), (err) => this.emit('warning', err));
    }, Math.max(0, left));
  }

  async _watch(id, lease, sentAt) {
    // caught: "folder:uid" the catch-up published, so IDLE's report of the same message is not a second entry.
    // catching: folder -> the highest UID IDLE reported while its catch-up runs, which the stored lastUid may
    // not pass until the catch-up is done (lastUid means: everything up to here is in the stream).
    const held = { lease, folders: [], state: new Map(), caught: new Set(), catching: new Map() };
    // Counted at once: the tick that took it may take more, up to maxAccounts.
    this._owned.set(id, held);
    this._holdUntil(id, held, sentAt);
    try {
      const sealed = await this.redis.hget(this._k.accounts, id);
      const account = engineAccount(id, this._sealer.open(id, sealed), this._getAccessToken);
      // fetchBodies: every entry published for it carries the parsed message, whichever path found it.
      held.bodies = account.fetchBodies ? { ...(account.maxBodyBytes ? { maxBytes: account.maxBodyBytes } : {}) } : null;
      // Let go and taken again quickly: its earlier sessions go first (the engine refuses a second add meanwhile).
      while (this._removing.has(id)) await this._removing.get(id);
      // Dropped meanwhile: not added at all. From here to the engine's own record of the add nothing waits, so a
      // drop from now on removes it there (removeAccount() also ends an add in progress).
      if (this._owned.get(id) !== held) return;
      const status = await this.engine.addAccount(account);
      if (this._owned.get(id) !== held) {
        // Dropped while it was being added (lost, rebalanced or removed): nothing may watch it here.
        await this.engine.removeAccount(id).catch(() => {});
        return;
      }
      held.folders = status.folders.map((f) => f.folder);
      const stored = await this.redis.hgetall(this._k.state(id));
      for (const folder of held.folders) {
        if (this._owned.get(id) !== held) return;
        const saved = stored[folder] ? readState(stored[folder]) : null;
        await this._catchUp(id, held, folder, saved, status.folders.find((f) => f.folder === folder));
      }
      if (this._owned.get(id) !== held) return;
      await this._status.publish(id, { type: 'watched', folders: held.folders }, held);
      if (this._owned.get(id) !== held) return;
      this._backoff.delete(id);
      held.watched = true; // caught up: a full sync may run now
      this.emit('accountWatched', id);
    } catch (err) {
      if (this._owned.get(id) !== held) return;
      this.emit('warning', Object.assign(new Error(`account ${id}: ${err.code || 'ERROR'}`), { code: err.code, accountId: id }));
      // The first retry comes a tick later, as it would without backoff: a passing fault costs no more than before.
      const delayMs = Math.min(this._backoff.has(id) ? this._backoff.get(id).delayMs * 2 : Math.floor(this._leaseMs / 3), MAX_RETRY_MS);
      this._backoff.set(id, { until: Date.now() + delayMs, delayMs });
      await this._status.publish(id, { type: 'failed', error: errorFields(err), retryInMs: delayMs }, held).catch(() => {});
      await this._drop(id, true);
    }
  }

  // What happened while nobody watched: mail past the last UID the previous owner published, the UIDs it knew
  // that are gone (expunged), and, where the server has CONDSTORE, the messages whose flags changed past the
  // HIGHESTMODSEQ it recorded. The first owner only records where the folder stands. `selected` is the folder's
  // status as addAccount resolved it: its HIGHESTMODSEQ is from the IDLE session's SELECT, and every change after
  // that comes through IDLE.
  async _catchUp(id, held, folder, saved, selected = {}) {
    const uids = await this.engine.search(id, folder, {});
    const top = uids.length ? uids[uids.length - 1] : 0;
    const status = this.engine.status(id);
    const uidValidity = (status.folders.find((f) => f.folder === folder) || {}).uidValidity || null;
    const modseq = selected.uidValidity === uidValidity ? selected.highestModseq ?? null : null;
    if (!saved || saved.uidValidity !== uidValidity) {
      // A new UIDVALIDITY: every message is new (lastUid 0), and what the old one held is gone with it.
      held.state.set(folder, { uidValidity, lastUid: saved ? 0 : top, highestModseq: modseq, uids: saved ? new UidRanges() : UidRanges.from(uids) });
      if (!saved) return this._write(id, held, '', folder);
    } else {
      held.state.set(folder, saved);
      await this._catchUpChanges(id, held, folder, uids, modseq);
    }
    const missed = uids.filter((u) => u > held.state.get(folder).lastUid);
    if (!missed.length) return;
    held.catching.set(folder, 0);
    try {
      for await (const m of this.engine.messages(id, folder, { uids: missed, batchSize: 500 })) {
        held.caught.add(`${folder}:${m.uid}`);
        await this._publishNew(m, true, await this._body(id, held, m));
      }
    } finally {
      const seen = held.catching.get(folder);
      held.catching.delete(folder);
      const st = held.state.get(folder);
      if (seen > st.lastUid) {
        st.lastUid = seen;
        await this._write(id, held, '', folder);
      }
    }
  }

  // Expunges and flag changes of known messages (UID <= lastUid) while nobody watched, to EmailChanged; the
  // state is written with each entry, and its highestModseq moves on only once every change up to it is out.
  async _catchUpChanges(id, held, folder, uids, modseq) {
    const st = held.state.get(folder);
    if (st.uids) {
      const present = new Set(uids);
      for (const uid of st.uids.upTo(st.lastUid)) {
        if (present.has(uid)) continue;
        if (this._owned.get(id) !== held) return;
        st.uids.delete(uid);
        await this._publishChanged(id, held, { type: 'messageDeleted', accountId: id, folder, uid });
      }
    } else {
      st.uids = UidRanges.from(uids.filter((u) => u <= st.lastUid)); // a state from before uids were kept
    }
    if (modseq === null) {
      if (st.highestModseq !== null) { st.highestModseq = null; await this._write(id, held, '', folder); }
      return;
    }
    if (st.highestModseq !== null && modseq > st.highestModseq) {
      const changed = (await this.engine.search(id, folder, { modseq: st.highestModseq + 1 })).filter((u) => u <= st.lastUid);
      if (changed.length) {
        for await (const m of this.engine.messages(id, folder, { uids: changed, batchSize: 500 })) {
          if (this._owned.get(id) !== held) return;
          await this._publishChanged(id, held, { type: 'flagsChanged', accountId: id, folder, uid: m.uid, flags: m.flags });
        }
      }
    }
    if (st.highestModseq !== modseq) {
      st.highestModseq = Math.max(st.highestModseq ?? 0, modseq);
      await this._write(id, held, '', folder);
    }
  }

  /**
   * The parsed message for an entry, when the account has fetchBodies: a newMessage event's own, else fetched
   * (messages(), which a catch-up and a full sync list with, gives envelopes only). undefined without
   * fetchBodies, or for a message gone meanwhile (its entry is published without a body).
   */
  async _body(id, held, m) {
    if (!held.bodies) return undefined;
    if (m.message) return m.message;
    try {
      return await this.engine.fetchMessage(id, m.folder, m.uid, held.bodies);
    } catch (err) {
      if (err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  async _publishNew(m, caughtUp = false, parsed = m.message) {
    const held = this._owned.get(m.accountId);
    if (!held) return;
    if (!caughtUp && held.caught.delete(`${m.folder}:${m.uid}`)) return;
    if (!caughtUp && held.bodies && !parsed) {
      parsed = await this._body(m.accountId, held, m);
      if (this._owned.get(m.accountId) !== held) return;
    }
    let st = held.state.get(m.folder);
    if (!st || st.uidValidity !== m.uidValidity) {
      st = { uidValidity: m.uidValidity, lastUid: 0, highestModseq: null, uids: new UidRanges() };
      held.state.set(m.folder, st);
    }
    if (!caughtUp && held.catching.has(m.folder)) {
      held.catching.set(m.folder, Math.max(held.catching.get(m.folder), m.uid));
    } else {
      // lastUid only grows: IDLE may have reported newer UIDs than the catch-up's.
      st.lastUid = Math.max(st.lastUid, m.uid);
    }
    if (st.uids) st.uids.add(m.uid);
    const payload = JSON.stringify({
      accountId: m.accountId,
      provider: 'imap',
      messages: [messageEntry(m, parsed)],
    });
    await this._write(m.accountId, held, payload, m.folder);
  }

  // From IDLE: an expunged UID leaves the folder's known UIDs, and a flag change (CONDSTORE) moves its
  // highestModseq on once the account is caught up (before that, its catch-up decides where it stands).
  async _publishChange(name, e) {
    const held = this._owned.get(e.accountId);
    if (!held) return;
    const st = held.state.get(e.folder);
    if (st && name === 'messageDeleted' && st.uids && e.uid !== null) st.uids.delete(e.uid);
    if (st && name === 'flagsChanged' && held.watched && st.highestModseq !== null && e.modseq > st.highestModseq) st.highestModseq = e.modseq;
    await this._publishChanged(e.accountId, held, { type: name, accountId: e.accountId, folder: e.folder, uid: e.uid, flags: e.flags });
  }

  // One EmailChanged entry, with its folder's state when there is one.
  async _publishChanged(id, held, change) {
    const st = held.state.get(change.folder);
    await this._publish(id, held, 'EmailChanged', JSON.stringify(change), st ? change.folder : '', st ? writeState(st) : '');
  }

  async _write(id, held, payload, folder) {
    await this._publish(id, held, 'EmailNewMessage', payload, folder, writeState(held.state.get(folder)));
  }

  // A write Redis did not take (down, unreachable) is tried again rather than skipped: a later one would store
  // a lastUid past it, and the message would be lost. Until the account is dropped (its deadline ends the
  // retries when Redis stays away), or for one lease at most: then it is dropped and released, and whoever
  // takes it next catches up from the state Redis has.
  async _publish(id, held, topic, payload, folder, state) {
    const giveUpAt = Date.now() + this._leaseMs;
    for (let delayMs = 50; ; delayMs = Math.min(delayMs * 2, 1000)) {
      try {
        const ok = await this.redis.imapPushpublish(this._k.lease(id), this._k.stream(topic), this._k.state(id),
          held.lease, payload, folder, state, STREAM_MAXLEN);
        if (!ok) await this._lost(id);
        return;
      } catch (err) {
        if (this._owned.get(id) !== held) return;
        if (Date.now() >= giveUpAt) {
          await this._drop(id, true);
          throw err;
        }
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (this._owned.get(id) !== held) return;
      }
    }
  }

  async _lost(id) {
    if (!this._owned.has(id)) return;
    await this._drop(id, false);
    this.emit('leaseLost', id);
  }

  async _drop(id, release) {
    const held = this._owned.get(id);
    if (!held) return;
    this._owned.delete(id);
    clearTimeout(held.deadline);
    // Awaited before the lease goes back: its sessions (also one still connecting) are closed by then.
    const removal = this.engine.removeAccount(id).catch(() => {}).finally(() => {
      if (this._removing.get(id) === removal) this._removing.delete(id);
    });
    this._removing.set(id, removal);
    await removal;
    if (release) {
      await this.redis.imapPushrelease(this._k.lease(id), held.lease).catch(() => {});
      this.emit('accountReleased', id);
    }
  }
}

module.exports = { ClusterWorker };
