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
 * place(accountId, holdsIt) -> the worker id that should hold it, or null when every live worker is full.
 * selfCount() is this worker's exact count, read at each call: it grows as the tick takes accounts.
 */
function placer(selfId, selfMax, selfCount, live, load) {
  return (accountId, holdsIt) => {
    for (const w of rank(accountId, live)) {
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

module.exports = { loads, placer };
