'use strict';

// What the dashboard shows on load: per tenant, a ring of recent events (as
// short summaries: no bodies, no previews, no credentials), per-account
// counters and state timelines, push latency samples and events per minute.
// Everything is bounded: the ring overwrites its oldest entry, and past
// maxTenants (or maxAccounts within a tenant) the least recently active one
// is evicted, so memory stays flat however many tenants come and go.

const { optionError } = require('./errors');
const { publicError } = require('./http');

// adminEvents: the newest events (and latency samples) of all tenants together that an admin's snapshot
// carries; every tenant at its full ring would be a response of several megabytes.
const DEFAULTS = Object.freeze({
  eventsPerTenant: 200, maxTenants: 100, maxAccounts: 200, transitions: 500, latencySamples: 100, minutes: 30, adminEvents: 1000,
});
const MAX_TEXT = 200; // a subject or address list is cut here: the ring's size must not depend on strangers
const DAY_MS = 86400000;
const MINUTE_MS = 60000;
const MAX_FOLDERS = 32; // folders per account remembered as watched once, for counting reconnects

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

// Kept as a number; made ISO text only for the few a snapshot sends (toISOString costs more than the rest of record()).
const msOrNull = (d) => (d instanceof Date && !Number.isNaN(d.getTime()) ? d.getTime() : null);

/** The fields of an event the page shows, nothing else: an allow-list, so a new event field is never leaked by accident. */
function summarize(item, accountId, at) {
  const s = { at, type: item.type, accountId };
  if (item.folder !== undefined && item.folder !== null) s.folder = item.folder;
  switch (item.type) {
    case 'newMessage': {
      const env = item.envelope || {};
      Object.assign(s, { uid: item.uid, subject: cut(env.subject ?? null), from: addresses(env.from), date: msOrNull(env.date) });
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

/**
 * The entry for `key` in a Map that keeps at most `limit` keys, evicting the
 * least recently touched: Map order is the recency order. A catch-up brings
 * one account's events by the thousand in a row, so the key touched last is
 * not moved again.
 */
const LAST = Symbol('last key');
function touch(map, key, limit, make) {
  let value = map.get(key);
  if (value === undefined) value = make();
  else if (map[LAST] === key) return value;
  else map.delete(key);
  map.set(key, value);
  map[LAST] = key;
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
      // One ring for all the tenant's folders: a per-folder one would multiply by accounts × folders.
      transitions: new Ring(o.transitions),
    }));
    const minute = Math.floor(at / MINUTE_MS);
    t.minutes.set(minute, (t.minutes.get(minute) || 0) + 1);
    for (const m of t.minutes.keys()) if (m <= minute - o.minutes) t.minutes.delete(m);
    if (!KEPT.has(item.type)) return;
    const s = summarize(item, accountId, at);
    t.events.push(s);
    const a = touch(t.accounts, accountId, o.maxAccounts, () => ({
      day: Math.floor(at / DAY_MS), messagesToday: 0, reconnects: 0, lastError: null, lastErrorAt: null, watched: new Set(),
    }));
    const day = Math.floor(at / DAY_MS);
    if (day !== a.day) Object.assign(a, { day, messagesToday: 0 });
    if (item.type === 'newMessage') {
      a.messagesToday += 1;
      if (s.pushLatencyMs !== undefined) t.latency.push({ at, ms: s.pushLatencyMs, accountId, folder: s.folder });
    }
    if (item.type === 'connectionStatus') {
      // A folder that reaches idle again after having been idle is a reconnect.
      const folder = s.folder ?? '';
      if (s.state === 'idle') {
        if (a.watched.has(folder)) a.reconnects += 1;
        else if (a.watched.size < MAX_FOLDERS) a.watched.add(folder);
      }
      t.transitions.push({ at, accountId, folder, state: s.state });
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
      for (const e of t.events.list()) out.events.push(e.date === undefined ? { ...e, ...tag } : { ...e, date: e.date === null ? null : new Date(e.date).toISOString(), ...tag });
      for (const l of t.latency.list()) out.latency.push({ ...l, ...tag });
      for (const [m, n] of t.minutes) perMinute.set(m, (perMinute.get(m) || 0) + n);
      const lanes = new Map(); // accountId -> folder -> states, oldest first
      for (const { at, accountId, folder, state } of t.transitions.list()) {
        if (!lanes.has(accountId)) lanes.set(accountId, new Map());
        const folders = lanes.get(accountId);
        if (!folders.has(folder)) folders.set(folder, []);
        folders.get(folder).push({ at, state });
      }
      for (const [accountId, a] of t.accounts) {
        const current = Math.floor(now / DAY_MS) === a.day;
        const timeline = [...(lanes.get(accountId) || [])].map(([folder, states]) => ({ folder, states }));
        out.accounts.push({ ...tag, accountId, messagesToday: current ? a.messagesToday : 0, reconnects: a.reconnects, lastError: a.lastError, lastErrorAt: a.lastErrorAt, timeline });
      }
    }
    const newest = Math.floor(now / MINUTE_MS);
    for (let m = newest - this.options.minutes + 1; m <= newest; m++) out.perMinute.push({ at: m * MINUTE_MS, count: perMinute.get(m) || 0 });
    out.events.sort((x, y) => x.at - y.at);
    out.latency.sort((x, y) => x.at - y.at);
    if (tenant === null) {
      out.events = out.events.slice(-this.options.adminEvents);
      out.latency = out.latency.slice(-this.options.adminEvents);
    }
    return out;
  }
}

module.exports = { DashboardHistory, normalizeHistoryOptions, HISTORY_DEFAULTS: DEFAULTS };
