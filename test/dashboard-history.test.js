'use strict';

// The dashboard's history without a browser: bounded per tenant and in
// tenants, counters per account, and nothing in it but what the page shows.

const { DashboardHistory } = require('../lib/dashboard-history');

const clock = (start = Date.UTC(2026, 0, 1, 10, 0, 0)) => {
  let t = start;
  const now = () => t;
  now.advance = (ms) => {
    t += ms;
  };
  return now;
};

const mail = (uid, extra = {}) => ({
  type: 'newMessage', accountId: 'k', folder: 'INBOX', uid, flags: [], size: 10, internalDate: new Date(0),
  envelope: { subject: `s${uid}`, from: [{ name: 'Ann', address: 'ann@example.com' }], date: new Date(Date.UTC(2026, 0, 1)) },
  ...extra,
});
const status = (state, previous, extra = {}) => ({ type: 'connectionStatus', accountId: 'k', folder: 'INBOX', state, previous, ...extra });

test('keeps the newest eventsPerTenant events per tenant, oldest first', () => {
  const h = new DashboardHistory({ eventsPerTenant: 5 }, clock());
  for (let uid = 1; uid <= 12; uid++) h.record('t1', 'main', mail(uid));
  h.record('t2', 'main', mail(99));
  const uids = h.snapshot('t1').events.map((e) => e.uid);
  expect(uids).toEqual([8, 9, 10, 11, 12]);
  expect(h.snapshot('t2').events.map((e) => e.uid)).toEqual([99]);
  expect(h.snapshot('nobody').events).toEqual([]);
});

test('past maxTenants the least recently active tenant is evicted', () => {
  const h = new DashboardHistory({ maxTenants: 3, eventsPerTenant: 2 }, clock());
  for (const t of ['a', 'b', 'c']) h.record(t, 'x', mail(1));
  h.record('a', 'x', mail(2)); // a is now the most recent
  h.record('d', 'x', mail(1)); // evicts b
  expect([...h.tenants.keys()].sort()).toEqual(['a', 'c', 'd']);
  expect(h.snapshot('b').events).toEqual([]);
  // However many tenants pass through, it holds at most maxTenants × eventsPerTenant events.
  for (let i = 0; i < 1000; i++) h.record(`t${i}`, 'x', mail(i));
  const all = h.snapshot(null);
  expect(h.tenants.size).toBe(3);
  expect(all.events.length).toBeLessThanOrEqual(6);
});

test('past maxAccounts the least recently active account of a tenant is evicted', () => {
  const h = new DashboardHistory({ maxAccounts: 2 }, clock());
  for (const id of ['a', 'b', 'c']) h.record('t', id, mail(1));
  expect(h.snapshot('t').accounts.map((a) => a.accountId)).toEqual(['b', 'c']);
});

test('a summary holds the shown fields only: no preview, body, flags beyond reason, or unknown fields', () => {
  const h = new DashboardHistory({}, clock());
  h.record('t', 'main', mail(7, { preview: 'secret body text', message: { text: 'secret body' }, pass: 'pw', pushLatencyMs: 4.5 }));
  const [e] = h.snapshot('t').events;
  expect(e).toEqual({
    at: expect.any(Number), type: 'newMessage', accountId: 'main', folder: 'INBOX', uid: 7, subject: 's7',
    from: 'Ann <ann@example.com>', date: '2026-01-01T00:00:00.000Z', pushLatencyMs: 4.5,
  });
  expect(JSON.stringify(h.snapshot(null))).not.toMatch(/secret|pw/);
});

test('long subjects are cut, so a stranger cannot grow the ring', () => {
  const h = new DashboardHistory({}, clock());
  h.record('t', 'main', mail(1, { envelope: { subject: 'x'.repeat(100000), from: [] } }));
  const [e] = h.snapshot('t').events;
  expect(e.subject.length).toBe(200);
  expect(e.from).toBeNull();
});

test('errors are kept as a code and the fixed public text, never the engine message', () => {
  const h = new DashboardHistory({}, clock());
  const error = Object.assign(new Error('server said: password hunter2 rejected'), { code: 'AUTH_FAILED' });
  h.record('t', 'main', status('error', 'authenticating', { error }));
  const snap = h.snapshot('t');
  expect(snap.events[0].error.code).toBe('AUTH_FAILED');
  expect(snap.accounts[0].lastError).toMatchObject({ code: 'AUTH_FAILED', folder: 'INBOX' });
  expect(JSON.stringify(snap)).not.toContain('hunter2');
});

test('counters: messages today (reset at the UTC day), reconnects, push latency samples', () => {
  const now = clock(Date.UTC(2026, 0, 1, 23, 59, 0));
  const h = new DashboardHistory({ latencySamples: 2 }, now);
  h.record('t', 'main', status('idle', 'authenticated')); // first watch: no reconnect
  h.record('t', 'main', mail(1, { pushLatencyMs: 3 }));
  h.record('t', 'main', mail(2)); // found by a sync: no latency sample
  h.record('t', 'main', status('disconnected', 'idle'));
  h.record('t', 'main', status('idle', 'authenticated')); // back: one reconnect
  let [a] = h.snapshot('t').accounts;
  expect(a).toMatchObject({ messagesToday: 2, reconnects: 1 });
  expect(a.timeline).toEqual([{ folder: 'INBOX', states: [
    { at: expect.any(Number), state: 'idle' }, { at: expect.any(Number), state: 'disconnected' }, { at: expect.any(Number), state: 'idle' }] }]);
  expect(h.snapshot('t').latency.map((l) => l.ms)).toEqual([3]);
  h.record('t', 'main', mail(3, { pushLatencyMs: 5 }));
  h.record('t', 'main', mail(4, { pushLatencyMs: 7 }));
  expect(h.snapshot('t').latency.map((l) => l.ms)).toEqual([5, 7]);
  now.advance(2 * 60000); // past midnight UTC
  [a] = h.snapshot('t').accounts;
  expect(a.messagesToday).toBe(0);
  h.record('t', 'main', mail(5));
  [a] = h.snapshot('t').accounts;
  expect(a.messagesToday).toBe(1);
});

test('events per minute over the last `minutes` minutes, every event type counted', () => {
  const now = clock(Date.UTC(2026, 0, 1, 10, 0, 30));
  const h = new DashboardHistory({ minutes: 3 }, now);
  h.record('t', 'main', mail(1));
  h.record('t', 'main', { type: 'idleRefreshed', accountId: 'k', folder: 'INBOX' }); // counted, not kept
  now.advance(60000);
  h.record('t', 'main', mail(2));
  const snap = h.snapshot('t');
  expect(snap.perMinute.map((m) => m.count)).toEqual([0, 2, 1]);
  expect(snap.events.map((e) => e.type)).toEqual(['newMessage', 'newMessage']);
  now.advance(10 * 60000);
  expect(h.snapshot('t').perMinute.map((m) => m.count)).toEqual([0, 0, 0]);
});

test('admin snapshot: every tenant, each entry tagged, owner-less accounts as tenant null', () => {
  const now = clock();
  const h = new DashboardHistory({}, now);
  h.record('t1', 'main', mail(1));
  now.advance(1);
  h.record(null, 'app-acc', mail(2));
  now.advance(1);
  h.record('t2', 'main', mail(3));
  const all = h.snapshot(null);
  expect(all.events.map((e) => [e.tenant, e.accountId, e.uid])).toEqual([['t1', 'main', 1], [null, 'app-acc', 2], ['t2', 'main', 3]]);
  expect(all.accounts.map((a) => a.tenant).sort()).toEqual([null, 't1', 't2'].sort());
  expect(h.snapshot('t1').events[0].tenant).toBeUndefined();
});

test('an admin snapshot is cut to the newest adminEvents events and samples', () => {
  const now = clock();
  const h = new DashboardHistory({ adminEvents: 3 }, now);
  for (let i = 1; i <= 4; i++) {
    now.advance(1);
    h.record(`t${i % 2}`, 'main', mail(i, { pushLatencyMs: i }));
  }
  const all = h.snapshot(null);
  expect(all.events.map((e) => e.uid)).toEqual([2, 3, 4]);
  expect(all.latency.map((l) => l.ms)).toEqual([2, 3, 4]);
  expect(h.snapshot('t1').events.map((e) => e.uid)).toEqual([1, 3]); // a tenant's own is never cut
});

test('invalid options throw a TypeError naming the option', () => {
  expect(() => new DashboardHistory({ eventsPerTenant: 0 })).toThrow(/history\.eventsPerTenant/);
  expect(() => new DashboardHistory({ eventsPerTenant: 0 })).toThrow(TypeError);
  expect(() => new DashboardHistory({ ringSize: 5 })).toThrow(/history\.ringSize/);
  expect(() => new DashboardHistory('big')).toThrow(/history/);
});

test('state changes: one bounded ring per tenant, grouped per account and folder', () => {
  const h = new DashboardHistory({ transitions: 4 }, clock());
  h.record('t', 'a', status('connecting', 'disconnected'));
  h.record('t', 'a', status('idle', 'authenticated', { folder: 'Sent' }));
  for (const state of ['idle', 'disconnected', 'idle']) h.record('t', 'b', status(state, 'x'));
  const timeline = Object.fromEntries(h.snapshot('t').accounts.map((x) => [x.accountId, x.timeline]));
  // The oldest (a's INBOX 'connecting') went: four are kept for the whole tenant.
  expect(timeline.a).toEqual([{ folder: 'Sent', states: [expect.objectContaining({ state: 'idle' })] }]);
  expect(timeline.b[0].states.map((x) => x.state)).toEqual(['idle', 'disconnected', 'idle']);
});

test('filled to every bound it stops growing (heap measured and logged, not asserted)', () => {
  const h = new DashboardHistory({}, clock());
  const o = h.options;
  const fill = (round) => {
    for (let t = 0; t < o.maxTenants + 10; t++) {
      for (let a = 0; a < 30; a++) {
        h.record(`tenant-${t}`, `acc-${round}-${a}`, mail(a, { pushLatencyMs: 1, envelope: { subject: 's'.repeat(300), from: [] } }));
        h.record(`tenant-${t}`, `acc-${round}-${a}`, status('idle', 'authenticated', { folder: `f${a}` }));
      }
    }
  };
  fill(0);
  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  for (let round = 1; round <= 8; round++) fill(round);
  global.gc?.();
  const after = process.memoryUsage().heapUsed;
  expect(h.tenants.size).toBe(o.maxTenants);
  for (const t of h.tenants.values()) {
    expect(t.events.items.length).toBeLessThanOrEqual(o.eventsPerTenant);
    expect(t.transitions.items.length).toBeLessThanOrEqual(o.transitions);
    expect(t.latency.items.length).toBeLessThanOrEqual(o.latencySamples);
    expect(t.accounts.size).toBeLessThanOrEqual(o.maxAccounts);
  }
  console.log(`dashboard history at its default bounds: heap ${(before / 1048576).toFixed(1)} MiB after the first fill, `
    + `${(after / 1048576).toFixed(1)} MiB after 8 more (${global.gc ? 'after GC' : 'no --expose-gc: includes garbage'})`);
});
