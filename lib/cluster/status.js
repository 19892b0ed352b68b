'use strict';

// ${prefix}:EmailStatus: what happens to each account on the worker that
// holds it, written under that account's lease like every other entry:
//   { type: 'watched', accountId, workerId, at, folders }
//   { type: 'connection', accountId, workerId, at, folder, state, previous, error? }
//   { type: 'failed', accountId, workerId, at, error, retryInMs }  the worker could not start it, released it, and waits
//   { type: 'fullSync', accountId, workerId, at, requestId, ok, folders?, messages?, error? }
// Only the connection states that change whether a folder is watched are
// published (idle, error, disconnected; and any change that carries an
// error), not every step of a login: a reconnect storm writes a few entries
// per attempt, not a dozen.

const { STREAM_MAXLEN } = require('./common');

const PUBLISHED_STATES = new Set(['idle', 'error', 'disconnected']);

const errorFields = (err) => ({ code: (err && err.code) || 'ERROR', message: err && err.message ? String(err.message) : String(err) });

function statusPayload(worker, accountId, fields) {
  return JSON.stringify({ ...fields, accountId, workerId: worker.id, at: Date.now() });
}

class StatusTopic {
  constructor(worker) {
    this._w = worker;
  }

  attach(engine) {
    engine.on('connectionStatus', (e) => {
      if (!PUBLISHED_STATES.has(e.state) && !e.error) return;
      const fields = { type: 'connection', folder: e.folder, state: e.state, previous: e.previous, ...(e.error ? { error: errorFields(e.error) } : {}) };
      // Queued with the mail it may come between, so the topics keep the engine's order.
      this._w._queue(() => this.publish(e.accountId, fields));
    });
  }

  /** One entry under the account's lease; a lease found lost drops the account. */
  async publish(accountId, fields, held = this._w._owned.get(accountId)) {
    if (!held) return;
    const w = this._w;
    const ok = await w.redis.imapPushpublish(w._k.lease(accountId), w._k.stream('EmailStatus'), w._k.state(accountId),
      held.lease, statusPayload(w, accountId, fields), '', '', STREAM_MAXLEN);
    if (!ok) await w._lost(accountId);
  }
}

module.exports = { StatusTopic, statusPayload, errorFields };
