'use strict';

// ${prefix}:EmailFullSync: requests to re-publish an account's messages.
//
// Routing: the stream has one consumer group, 'owners', with one consumer
// per account ('account:<id>'), not per worker. A request is delivered to its
// account's consumer at once, in the same script that adds it (XREADGROUP as
// 'route', then XCLAIM to the account's consumer), so it is never pending
// anywhere else. Whichever worker holds the account's lease reads that
// consumer's pending entries (XREADGROUP ... 0), runs the sync and only then
// acknowledges and deletes the entry, in one script that checks the lease's
// fencing token. A worker that dies or loses the lease mid-sync leaves it
// pending under the account's consumer, where the next owner finds it: at
// least once, on whichever worker owns the account, after any failover. The
// stream therefore holds only outstanding requests and needs no MAXLEN.
//
// A sync re-publishes every message of the requested folders (default: the
// watched ones) to EmailNewMessage, in entries of up to BATCH messages with
// `fullSync: <request id>`; the ids are the usual stable ones, so consumers
// deduplicate as always. messages() fetches BATCH UIDs at a time and each
// batch is published before the next is fetched: memory stays bounded by
// one batch. Its outcome goes to EmailStatus ({ type: 'fullSync', ok, ... }).

const { ImapPushError, optionError } = require('../errors');
const { dateOption } = require('../search');
const { messageEntry, STREAM_MAXLEN } = require('./common');
const { statusPayload, errorFields } = require('./status');

const GROUP = 'owners';
const BATCH = 100;
const MAX_BATCH_BYTES = 4 * 1024 * 1024; // with bodies, an entry is flushed early once its messages reach this size
const MAX_RUNNING = 4; // syncs at once per worker; the rest wait for a later tick
const MAX_TRIES = 3; // a request failing this often on one worker is answered ok: false
const FULL_SYNC_KEYS = ['folders', 'since'];
const consumerOf = (id) => `account:${id}`;

const ROUTE_FN = `local function route(stream, group)
  redis.pcall('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM')
  local res = redis.call('XREADGROUP', 'GROUP', group, 'route', 'COUNT', 1000, 'STREAMS', stream, '>')
  if not res then return 0 end
  for _, e in ipairs(res[1][2]) do
    local account = nil
    for i = 1, #e[2], 2 do if e[2][i] == 'accountId' then account = e[2][i + 1] end end
    if account then
      redis.call('XCLAIM', stream, group, 'account:' .. account, 0, e[1])
    else
      redis.call('XACK', stream, group, e[1])
      redis.call('XDEL', stream, e[1])
    end
  end
  return #res[1][2]
end
`;
// Also routes entries XADDed by anything but requestFullSync.
const ROUTE = `${ROUTE_FN}return route(KEYS[1], ARGV[1])`;
const REQUEST = `${ROUTE_FN}if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return false end
local entry = redis.call('XADD', KEYS[2], '*', 'accountId', ARGV[1], 'payload', ARGV[2])
route(KEYS[2], ARGV[3])
return entry`;
const FINISH = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('XACK', KEYS[2], ARGV[2], ARGV[3])
redis.call('XDEL', KEYS[2], ARGV[3])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'payload', ARGV[4])
return 1`;

/** { folders?: string[], since?: ISO string }: requestFullSync's options, checked. */
function checkOptions(options) {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw optionError('options', 'must be an object');
  for (const key of Object.keys(options)) {
    if (!FULL_SYNC_KEYS.includes(key)) throw optionError(key, 'is not a requestFullSync() option');
  }
  const out = {};
  const { folders, since } = options;
  if (folders !== undefined) {
    if (!Array.isArray(folders) || !folders.length || folders.some((f) => typeof f !== 'string' || f === '') || new Set(folders).size !== folders.length) {
      throw optionError('folders', 'must be a non-empty array of distinct folder names');
    }
    out.folders = [...folders];
  }
  if (since !== undefined) out.since = dateOption(since, 'since').toISOString();
  return out;
}

/** Cluster side: adds the request, already delivered to the account's consumer. */
async function requestFullSync(redis, k, accountId, options) {
  if (typeof accountId !== 'string' || accountId === '') throw optionError('id', 'must be a non-empty string');
  const checked = checkOptions(options);
  const entry = await redis.eval(REQUEST, 2, k.accounts, k.stream('EmailFullSync'), accountId,
    JSON.stringify({ accountId, options: checked }), GROUP);
  if (!entry) throw new ImapPushError('UNKNOWN_ACCOUNT', `no account '${accountId}'`, { accountId });
  return { requestId: entry };
}

/** Cluster side, on removeAccount: the account's outstanding requests go with it. */
async function forgetFullSyncs(redis, k, accountId) {
  const stream = k.stream('EmailFullSync');
  for (let round = 0; round < 100; round++) {
    const pending = await redis.xpending(stream, GROUP, '-', '+', 1000, consumerOf(accountId)).catch(() => []);
    if (!pending.length) break;
    await redis.xdel(stream, ...pending.map((p) => p[0]));
    await redis.xack(stream, GROUP, ...pending.map((p) => p[0]));
  }
  await redis.xgroup('DELCONSUMER', stream, GROUP, consumerOf(accountId)).catch(() => {});
}

class Lost extends Error {}

/** Worker side: finds the requests of the accounts this worker holds, each tick, and runs them. */
class FullSync {
  constructor(worker) {
    this._w = worker;
    this._running = new Map(); // accountId -> promise
    this._failures = new Map(); // request id -> failed tries here
    this._stopping = false;
  }

  static commands() {
    return { route: [1, ROUTE], finish: [3, FINISH] };
  }

  async poll() {
    if (this._stopping) return;
    const w = this._w;
    const stream = w._k.stream('EmailFullSync');
    await w.redis.imapPushroute(stream, GROUP);
    const [, , , consumers] = await w.redis.xpending(stream, GROUP);
    for (const [name, count] of consumers || []) {
      if (this._running.size >= MAX_RUNNING) break;
      const id = name.startsWith('account:') ? name.slice('account:'.length) : null;
      const held = id && w._owned.get(id);
      if (!held || !held.watched || this._running.has(id) || !(Number(count) > 0)) continue;
      const run = this._run(id, held).catch((err) => { if (!(err instanceof Lost)) w.emit('warning', err); })
        .finally(() => this._running.delete(id));
      this._running.set(id, run);
    }
  }

  /** Running syncs stop at their next message and leave their request pending for the next owner. */
  async stop() {
    this._stopping = true;
    await Promise.all(this._running.values());
  }

  _holds(id, held) {
    return !this._stopping && this._w._owned.get(id) === held;
  }

  async _run(id, held) {
    const w = this._w;
    const stream = w._k.stream('EmailFullSync');
    const res = await w.redis.xreadgroup('GROUP', GROUP, consumerOf(id), 'COUNT', 10, 'STREAMS', stream, '0');
    for (const [requestId, fields] of res ? res[0][1] : []) {
      if (!this._holds(id, held)) return;
      let result;
      try {
        const i = fields ? fields.indexOf('payload') : -1;
        if (i < 0) throw new ImapPushError('INVALID_REQUEST', 'the request entry has no payload');
        const { options = {} } = JSON.parse(fields[i + 1]);
        result = { ok: true, ...(await this._sync(id, held, requestId, options)) };
        this._failures.delete(requestId);
      } catch (err) {
        if (err instanceof Lost || !this._holds(id, held)) return; // pending: the next owner runs it
        const tries = (this._failures.get(requestId) || 0) + 1;
        if (tries < MAX_TRIES && err.code !== 'INVALID_REQUEST') {
          this._failures.set(requestId, tries);
          w.emit('warning', Object.assign(new Error(`account ${id}: full sync ${requestId} failed (${err.code || 'ERROR'}), tried again next tick`),
            { code: err.code, accountId: id }));
          return;
        }
        this._failures.delete(requestId);
        result = { ok: false, error: errorFields(err) };
      }
      const payload = statusPayload(w, id, { type: 'fullSync', requestId, ...result });
      if (!(await w.redis.imapPushfinish(w._k.lease(id), stream, w._k.stream('EmailStatus'), held.lease, GROUP, requestId, payload, STREAM_MAXLEN))) {
        await w._lost(id);
        return;
      }
      w.emit('fullSyncDone', id, requestId);
    }
  }

  async _sync(id, held, requestId, options) {
    const folders = [];
    let total = 0;
    for (const folder of options.folders || held.folders) {
      let batch = [];
      let bytes = 0;
      let count = 0;
      const flush = async () => {
        if (!batch.length) return;
        await this._publish(id, held, requestId, batch);
        count += batch.length;
        batch = [];
        bytes = 0;
      };
      for await (const m of this._w.engine.messages(id, folder, { batchSize: BATCH, ...(options.since ? { since: options.since } : {}) })) {
        if (!this._holds(id, held)) throw new Lost();
        // With fetchBodies each message carries its parsed body, fetched here (messages() lists envelopes).
        const parsed = await this._w._body(id, held, m);
        if (!this._holds(id, held)) throw new Lost();
        batch.push(messageEntry(m, parsed));
        bytes += parsed ? parsed.size : 0;
        if (batch.length >= BATCH || bytes >= MAX_BATCH_BYTES) await flush();
      }
      await flush();
      folders.push({ folder, messages: count });
      total += count;
    }
    return { folders, messages: total };
  }

  async _publish(id, held, requestId, messages) {
    const w = this._w;
    const payload = JSON.stringify({ accountId: id, provider: 'imap', fullSync: requestId, messages });
    const ok = await w.redis.imapPushpublish(w._k.lease(id), w._k.stream('EmailNewMessage'), w._k.state(id), held.lease, payload, '', '', STREAM_MAXLEN);
    if (!ok) {
      await w._lost(id);
      throw new Lost();
    }
  }
}

module.exports = { FullSync, requestFullSync, forgetFullSyncs, checkOptions, FULL_SYNC_KEYS };
