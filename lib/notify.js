'use strict';

// Notification layer over a MailEngine: batches, filtered subscriptions, async
// iteration and health. It only listens to the engine's public events, so the
// per-event API is untouched; every queue it keeps is bounded and, past its
// limit, merges a folder's events into one `folderUpdated` item instead of
// dropping them (the consumer then knows to re-sync that folder).

const { optionError } = require('./errors');

// The engine events relayed as notifications. The sync* events and `push`
// come from the pool/sync layer and the webhook router; listening before they
// exist is harmless.
const EVENT_TYPES = Object.freeze([
  'newMessage', 'messageDeleted', 'flagsChanged', 'connectionStatus', 'idleRefreshed', 'folderReset',
  'syncStarted', 'syncCompleted', 'syncProgress', 'push', 'folderChanged', 'connectionLost', 'connectionRestored',
]);

// preview: newMessage carries the first N characters of the text (the engine
// fetches them); 0 turns it off.
const DEFAULTS = Object.freeze({ batchSize: 50, batchIntervalMs: 100, maxQueue: 10000, healthIntervalMs: 30000, preview: 0 });

// A folder's account-level summary is its least advanced connection state.
const STATE_RANK = ['error', 'disconnected', 'connecting', 'connected', 'authenticating', 'authenticated', 'idle'];

function normalizeNotificationOptions(options) {
  if (options === undefined) return { ...DEFAULTS };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw optionError('notifications', 'must be an object');
  }
  const out = { ...DEFAULTS };
  const mins = { batchSize: 1, batchIntervalMs: 0, maxQueue: 1, healthIntervalMs: 0, preview: 0 };
  for (const [key, value] of Object.entries(options)) {
    if (!(key in DEFAULTS)) throw optionError(`notifications.${key}`, 'is not a known option');
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < mins[key]) {
      throw optionError(`notifications.${key}`, `must be an integer of at least ${mins[key]}`);
    }
    out[key] = value;
  }
  return out;
}

function stringSet(value, name) {
  if (value === undefined) return null;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw optionError(name, 'must be an array of strings');
  }
  return new Set(value);
}

/**
 * Filter -> predicate. Events without a folder (push, syncStarted, ...)
 * concern the whole account, so they pass a folder filter.
 */
function compileFilter(filter = {}) {
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) throw optionError('filter', 'must be an object');
  const accounts = stringSet(filter.accounts, 'accounts');
  const folders = stringSet(filter.folders, 'folders');
  const events = stringSet(filter.events, 'events');
  if (events) {
    for (const type of events) {
      if (!EVENT_TYPES.includes(type)) throw optionError('events', `must list event types (${EVENT_TYPES.join(', ')})`);
    }
  }
  return (item) => (!accounts || accounts.has(item.accountId))
    && (!events || events.has(item.type))
    && (!folders || item.folder === undefined || item.folder === null || folders.has(item.folder));
}

/**
 * FIFO of notification items holding at most `limit` items plus one merged
 * `folderUpdated` item per folder. Once a folder has a merged item, its later
 * events merge too, so nothing about that folder is reported out of order.
 */
class MergingQueue {
  constructor(limit, onMerge) {
    this.limit = limit;
    this.onMerge = onMerge;
    this.items = [];
    this.folders = new Map(); // accountId\0folder -> folderUpdated item
  }

  get length() {
    return this.items.length + this.folders.size;
  }

  push(item) {
    const key = `${item.accountId}\0${item.folder ?? ''}`;
    let merged = this.folders.get(key);
    if (!merged && this.items.length < this.limit) {
      this.items.push(item);
      return;
    }
    if (!merged) {
      merged = { type: 'folderUpdated', accountId: item.accountId, folder: item.folder ?? null, needsSync: true, merged: 0 };
      this.folders.set(key, merged);
    }
    merged.merged += 1;
    this.onMerge();
  }

  shift() {
    if (this.items.length) return this.items.shift();
    const [key, merged] = this.folders.entries().next().value;
    this.folders.delete(key);
    return merged;
  }

  drain() {
    const all = this.items.concat([...this.folders.values()]);
    this.items = [];
    this.folders.clear();
    return all;
  }

  clear() {
    this.items = [];
    this.folders.clear();
  }
}

/** The health figures that depend on which accounts are counted. */
function folderTotals(accounts) {
  const folders = accounts.flatMap((a) => a.folders);
  const idle = folders.filter((f) => f.state === 'idle').length;
  return { isHealthy: idle === folders.length, idleConnections: idle };
}

function summarizeAccount({ accountId, folders }) {
  let rank = STATE_RANK.length - 1;
  let lastError = null;
  for (const f of folders) {
    const r = STATE_RANK.indexOf(f.state);
    if (r >= 0 && r < rank) rank = r;
    if (!lastError && f.lastError) lastError = { folder: f.folder, ...f.lastError };
  }
  return { accountId, state: folders.length ? STATE_RANK[rank] : 'disconnected', lastError, folders };
}

class Notifier {
  constructor(engine, options) {
    this._engine = engine;
    this._options = normalizeNotificationOptions(options);
    this._merged = 0;
    this._stopped = false;
    this._subs = new Set(); // { match, deliver } for subscriptions and iterators
    this._buffers = new Set(); // iterator queues, for queueDepth
    this._batch = new MergingQueue(this._options.maxQueue, () => this._merged++);
    this._batchTimer = null;
    this._listeners = EVENT_TYPES.map((type) => {
      const listener = (payload) => this._onEvent(type, payload);
      engine.on(type, listener);
      return [type, listener];
    });
    this._healthTimer = null;
    if (this._options.healthIntervalMs > 0) {
      // health() reads every account's status: only worth it for a listener.
      this._healthTimer = setInterval(() => {
        if (engine.listenerCount('healthCheck') > 0) engine.emit('healthCheck', this.health());
      }, this._options.healthIntervalMs);
      this._healthTimer.unref();
    }
  }

  get options() {
    return { ...this._options };
  }

  /** Calls handler(item) for each matching event; returns unsubscribe(). */
  subscribe(filter, handler) {
    if (typeof handler !== 'function') throw optionError('handler', 'must be a function');
    return this._attach(compileFilter(filter), handler);
  }

  /** An AsyncIterable of matching events that ends, without throwing, when `signal` aborts. */
  events({ signal, ...filter } = {}) {
    if (signal !== undefined && (signal === null || typeof signal.addEventListener !== 'function')) {
      throw optionError('signal', 'must be an AbortSignal');
    }
    const match = compileFilter(filter);
    const queue = new MergingQueue(this._options.maxQueue, () => this._merged++);
    const waiters = [];
    let done = false;
    let detach = () => {};
    const finish = () => {
      if (done) return;
      done = true;
      detach();
      this._buffers.delete(queue);
      queue.clear();
      if (signal) signal.removeEventListener('abort', finish);
      for (const resolve of waiters.splice(0)) resolve({ value: undefined, done: true });
    };
    if (signal && signal.aborted) done = true;
    else {
      this._buffers.add(queue);
      detach = this._attach(match, (item) => {
        if (waiters.length) waiters.shift()({ value: item, done: false });
        else queue.push(item);
      }, finish);
      if (signal) signal.addEventListener('abort', finish, { once: true });
    }
    return {
      next() {
        if (done) return Promise.resolve({ value: undefined, done: true });
        if (queue.length) return Promise.resolve({ value: queue.shift(), done: false });
        return new Promise((resolve) => waiters.push(resolve));
      },
      return() {
        finish();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  health() {
    const engine = this._engine;
    const accounts = engine.status().map(summarizeAccount);
    const pool = typeof engine.poolStats === 'function' ? engine.poolStats() : null;
    const sync = typeof engine.syncStats === 'function' ? engine.syncStats() : null;
    let queueDepth = this._batch.length;
    for (const q of this._buffers) queueDepth += q.length;
    return {
      ...folderTotals(accounts),
      pooledConnections: (pool && pool.open) || 0,
      activeSyncs: (sync && sync.active) || 0,
      pendingSyncs: (sync && sync.pending) || 0,
      listeners: this._subs.size,
      queueDepth,
      merged: this._merged,
      accounts,
    };
  }

  /** Delivers the pending batch, ends iterators and detaches from the engine. Idempotent. */
  stop() {
    if (this._stopped) return;
    this._stopped = true;
    this._flush();
    clearInterval(this._healthTimer);
    for (const [type, listener] of this._listeners) this._engine.off(type, listener);
    for (const sub of [...this._subs]) sub.onStop();
    this._subs.clear();
  }

  _attach(match, deliver, onStop = () => {}) {
    if (this._stopped) {
      onStop();
      return () => {};
    }
    const sub = { match, deliver, onStop };
    this._subs.add(sub);
    return () => {
      this._subs.delete(sub);
    };
  }

  _onEvent(type, payload) {
    // Most apps use neither: then no copy per event (a catch-up brings thousands).
    const batching = this._engine.listenerCount('batch') > 0;
    if (!batching && this._subs.size === 0) return;
    const item = { type, ...payload };
    if (batching) this._enqueue(item);
    for (const sub of this._subs) {
      if (!sub.match(item)) continue;
      try {
        sub.deliver(item);
      } catch (err) {
        // Like the engine: one throwing handler must not starve the others or
        // the engine's own listeners, yet it still surfaces as uncaught.
        process.nextTick(() => {
          throw err;
        });
      }
    }
  }

  _enqueue(item) {
    this._batch.push(item);
    if (this._batch.length >= this._options.batchSize) this._flush();
    else if (!this._batchTimer) this._batchTimer = setTimeout(() => this._flush(), this._options.batchIntervalMs);
  }

  _flush() {
    clearTimeout(this._batchTimer);
    this._batchTimer = null;
    if (this._batch.length === 0) return;
    this._engine.emit('batch', this._batch.drain());
  }
}

module.exports = { Notifier, EVENT_TYPES, folderTotals, normalizeNotificationOptions, NOTIFICATION_DEFAULTS: DEFAULTS };
