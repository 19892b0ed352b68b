'use strict';

// Which worker should hold an account, given every live worker's capacity
// (maxAccounts). Rendezvous hashing ranks the workers per account; the
// account goes to the best-ranked one that has room. A worker that is full
// keeps what it holds and is skipped for the rest, so a cluster whose
// workers are all full leaves the remaining accounts unowned rather than
// overloading anyone. Loads come from the heartbeats, a tick old at most:
// a slot that frees up is used on the next tick, and a worker that has room
// only in a stale heartbeat refuses the account itself (its own count is
// exact), so no worker ever holds more than its maxAccounts.

const { rank } = require('./common');

/** The live workers' { accounts, maxAccounts } as their heartbeats last said. */
async function loads(redis, k, live) {
  const pipe = redis.pipeline();
  for (const w of live) pipe.hmget(k.worker(w), 'accounts', 'maxAccounts');
  const out = new Map();
  (await pipe.exec()).forEach(([err, v], i) => {
    if (err || !v) return;
    out.set(live[i], { accounts: Number(v[0]) || 0, max: v[1] ? Number(v[1]) : Infinity });
  });
  return out;
}

/**
 * Each account's ranking of the live workers, kept until the set of live workers changes: the ranking depends
 * on nothing else, so a tick in a stable cluster hashes nothing (W hashes and a sort per account otherwise,
 * which at 100,000 accounts is seconds of CPU per tick).
 */
class RankCache {
  constructor() {
    this._key = null;
    this._ranks = new Map(); // accountId -> worker ids, best first
  }

  /** rankOf(accountId) for this set of live workers; the cache starts over when the set differs from the last. */
  for(live) {
    const key = [...live].sort().join('\n');
    if (key !== this._key) {
      this._key = key;
      this._ranks = new Map();
    }
    const ranks = this._ranks;
    return (accountId) => {
      let r = ranks.get(accountId);
      if (!r) {
        r = rank(accountId, live);
        ranks.set(accountId, r);
      }
      return r;
    };
  }

  /**
   * Ranks the accounts not ranked yet for these live workers, giving the event loop a turn every `chunk` of them:
   * after the workers change, a pass over 100,000 accounts is seconds of CPU, and the lease deadlines (timers)
   * must still fire on time meanwhile.
   */
  async warm(ids, live, chunk = 1000) {
    const rankOf = this.for(live);
    let n = 0;
    for (const id of ids) {
      if (this._ranks.has(id)) continue;
      rankOf(id);
      if (++n % chunk === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Forgets the accounts no longer stored. */
  retain(ids) {
    for (const id of this._ranks.keys()) if (!ids.has(id)) this._ranks.delete(id);
  }
}

/**
 * place(accountId, holdsIt) -> the worker id that should hold it, or null when every live worker is full.
 * selfCount() is this worker's exact count, read at each call: it grows as the tick takes accounts.
 * rankOf(accountId) gives the live workers best first (a RankCache's, or rank() itself).
 */
function placer(selfId, selfMax, selfCount, live, load, rankOf = (id) => rank(id, live)) {
  return (accountId, holdsIt) => {
    for (const w of rankOf(accountId)) {
      if (w === selfId) {
        if (holdsIt || selfCount() < selfMax) return w;
        continue;
      }
      const l = load.get(w);
      if (!l || l.accounts < l.max) return w;
    }
    return null;
  };
}

module.exports = { loads, placer, RankCache };
