'use strict';

// What the dashboard shows on load: per tenant, a ring of recent events (as
// short summaries: no bodies, no previews, no credentials), per-account
// counters and state timelines, push latency samples and events per minute.
// Everything is bounded: the ring overwrites its oldest entry, and past
// maxTenants (or maxAccounts within a tenant) the least recently active one
// is evicted, so memory stays flat however many tenants come and go.

const { optionError } = require('./errors');
const { publicError } = require('./http');

const DEFAULTS = Object.freeze({ eventsPerTenant: 200, maxTenants: 100, maxAccounts: 200, transitions: 50, latencySamples: 100, minutes: 30 });
const MAX_TEXT = 200; // a subject or address list is cut here: the ring's size must not depend on strangers
const DAY_MS = 86400000;
const MINUTE_MS = 60000;
const MAX_FOLDERS = 50; // state timelines kept per account

// The events worth remembering; idleRefreshed (every ~29 minutes per folder) and
// syncProgress (per folder of every sync) would push the mail out of the ring.
const KEPT = new Set(['newMessage', 'messageDeleted', 'flagsChanged', 'connectionStatus', 'folderReset',
  'folderUpdated', 'syncCompleted', 'push']);

function normalizeHistoryOptions(options) {
  if (options === undefined) return { ...DEFAULTS };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw optionError('history', 'must be an object');
  const out = { ...DEFAULTS };
  for (const [key, value] of Object.entries(options)) {
    if (!(key in DEFAULTS)) throw optionError(`history.${key}`, 'is not a known option');
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1 || value > 100000) throw optionError(`history.${key}`, 'must be an integer from 1 to 100000');
    out[key] = value;
  }
  return out;
}

const cut = (s) => (typeof s === 'string' && s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT - 1)}…` : s);

function addresses(list) {
  if (!Array.isArray(list) || list.length === 0) return null;
  return cut(list.map((a) => (a.name ? `${a.name} <${a.address}>` : a.address)).join(', '));
}

const isoOrNull = (d) => (d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : null);

/** The fields of an event the page shows, nothing else: an allow-list, so a new event field is never leaked by accident. */
function summarize(item, at) {
  const s = { at, type: item.type, accountId: item.accountId };
  if (item.folder !== undefined && item.folder !== null) s.folder = item.folder;
  switch (item.type) {
    case 'newMessage': {
      const env = item.envelope || {};
      Object.assign(s, { uid: item.uid, subject: cut(env.subject ?? null), from: addresses(env.from), date: isoOrNull(env.date) });
      if (typeof item.pushLatencyMs === 'number') s.pushLatencyMs = item.pushLatencyMs;
      break;
    }
    case 'messageDeleted': Object.assign(s, { uid: item.uid }); break;
    case 'flagsChanged': Object.assign(s, { uid: item.uid, flags: (item.flags || []).slice(0, 20).map(cut) }); break;
    case 'connectionStatus': Object.assign(s, { state: item.state, previous: item.previous }); break;
    case 'folderReset': Object.assign(s, { uidValidity: item.uidValidity }); break;
    case 'folderUpdated': Object.assign(s, { merged: item.merged }); break;
    case 'syncCompleted': Object.assign(s, { ok: item.ok, durationMs: item.durationMs }); break;
    case 'push': Object.assign(s, { source: item.source }); break;
    default: break;
  }
  if (item.error) s.error = publicError(item.error);
  return s;
}

/** A fixed-size ring: push overwrites the oldest; list() is oldest first. */
class Ring {
  constructor(size) {
    this.size = size;
    this.items = [];
    this.next = 0;
  }

  push(item) {
    if (this.items.length < this.size) this.items.push(item);
    else this.items[this.next] = item;
    this.next = (this.next + 1) % this.size;
  }

  list() {
    return this.items.length < this.size ? this.items.slice() : this.items.slice(this.next).concat(this.items.slice(0, this.next));
  }
}

/** A Map that keeps at most `limit` keys, evicting the least recently touched. */
function touch(map, key, limit, make) {
  let value = map.get(key);
  if (value === undefined) value = make();
  else map.delete(key); // re-inserted below: Map order is the recency order
  map.set(key, value);
  if (map.size > limit) map.delete(map.keys().next().value);
  return value;
}

class DashboardHistory {
  constructor(options, now = Date.now) {
    this.options = normalizeHistoryOptions(options);
    this.now = now;
    this.tenants = new Map(); // tenant ('' for accounts nobody owns) -> TenantHistory
  }

  /** Records one notification item for `tenant` (null: an account without owner) under the id that tenant knows. */
  record(tenant, accountId, item) {
    const o = this.options;
    const at = this.now();
    const t = touch(this.tenants, tenant ?? '', o.maxTenants, () => ({
      events: new Ring(o.eventsPerTenant), latency: new Ring(o.latencySamples), minutes: new Map(), accounts: new Map(),
    }));
    const minute = Math.floor(at / MINUTE_MS);
    t.minutes.set(minute, (t.minutes.get(minute) || 0) + 1);
    for (const m of t.minutes.keys()) if (m <= minute - o.minutes) t.minutes.delete(m);
    const view = { ...item, accountId };
    if (!KEPT.has(item.type)) return;
    const s = summarize(view, at);
    t.events.push(s);
    const a = touch(t.accounts, accountId, o.maxAccounts, () => ({
      day: Math.floor(at / DAY_MS), messagesToday: 0, reconnects: 0, lastError: null, lastErrorAt: null, states: new Map(),
    }));
    const day = Math.floor(at / DAY_MS);
    if (day !== a.day) Object.assign(a, { day, messagesToday: 0 });
    if (item.type === 'newMessage') {
      a.messagesToday += 1;
      if (s.pushLatencyMs !== undefined) t.latency.push({ at, ms: s.pushLatencyMs, accountId, folder: s.folder });
    }
    if (item.type === 'connectionStatus') {
      // A folder that reaches idle again after having been idle is a reconnect.
      const f = touch(a.states, s.folder ?? '', MAX_FOLDERS, () => ({ ring: new Ring(o.transitions), wasIdle: false }));
      if (s.state === 'idle' && f.wasIdle) a.reconnects += 1;
      if (s.state === 'idle') f.wasIdle = true;
      f.ring.push({ at, state: s.state });
    }
    if (s.error) {
      a.lastError = { ...s.error, ...(s.folder !== undefined ? { folder: s.folder } : {}) };
      a.lastErrorAt = at;
    }
  }

  /** The tenant's history, or every tenant's (each entry tagged with its tenant) when tenant is null. */
  snapshot(tenant) {
    const now = this.now();
    const names = tenant === null ? [...this.tenants.keys()] : [tenant];
    const out = { now, events: [], latency: [], perMinute: [], accounts: [] };
    const perMinute = new Map();
    for (const name of names) {
      const t = this.tenants.get(name);
      if (!t) continue;
      const tag = tenant === null ? { tenant: name || null } : {};
      for (const e of t.events.list()) out.events.push({ ...e, ...tag });
      for (const l of t.latency.list()) out.latency.push({ ...l, ...tag });
      for (const [m, n] of t.minutes) perMinute.set(m, (perMinute.get(m) || 0) + n);
      for (const [accountId, a] of t.accounts) {
        const current = Math.floor(now / DAY_MS) === a.day;
        const timeline = [...a.states].map(([folder, f]) => ({ folder, states: f.ring.list() }));
        out.accounts.push({ ...tag, accountId, messagesToday: current ? a.messagesToday : 0, reconnects: a.reconnects, lastError: a.lastError, lastErrorAt: a.lastErrorAt, timeline });
      }
    }
    const newest = Math.floor(now / MINUTE_MS);
    for (let m = newest - this.options.minutes + 1; m <= newest; m++) out.perMinute.push({ at: m * MINUTE_MS, count: perMinute.get(m) || 0 });
    out.events.sort((x, y) => x.at - y.at);
    out.latency.sort((x, y) => x.at - y.at);
    return out;
  }
}

module.exports = { DashboardHistory, normalizeHistoryOptions, HISTORY_DEFAULTS: DEFAULTS };
