#!/usr/bin/env node
'use strict';
// The router's dashboard history (lib/dashboard-history.js) alone: what
// record() costs per event (the router records every notification, and a
// catch-up brings thousands), what an admin's snapshot costs, and the heap it
// holds with every bound full. Run with --expose-gc for the heap figure.
//
//   node --expose-gc bench/dashboard-history.js [--events 200000]
const { parseArgs } = require('util');
const { DashboardHistory } = require('../lib/dashboard-history');

const { values: opt } = parseArgs({ options: { events: { type: 'string', default: '200000' } } });
const N = Number(opt.events);
const gc = global.gc || (() => {});
const mail = (uid) => ({
  type: 'newMessage', folder: 'INBOX', uid, flags: [],
  envelope: { subject: 'x'.repeat(300), from: [{ name: 'N'.repeat(100), address: `${'a'.repeat(100)}@example.com` }], date: new Date() },
  pushLatencyMs: 1,
});
const status = (state, previous) => ({ type: 'connectionStatus', folder: 'INBOX', state, previous });

// Items and names are made before the clock starts: only record() is timed.
const items = Array.from({ length: 1000 }, (_, i) => (i % 2 ? mail(i) : status('idle', 'authenticated')));
function perEvent(pick) {
  const h = new DashboardHistory({});
  const names = Array.from({ length: N }, (_, i) => pick(i));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) h.record(names[i][0], names[i][1], items[i % 1000]);
  return { h, ns: Number(process.hrtime.bigint() - t0) / N };
}

// Bursts: one account's events in a row (a catch-up), 100 accounts in turn.
const bursts = perEvent((i) => [`tenant-${Math.floor(i / 2000) % 110}`, `acc-${Math.floor(i / 2000)}`]);
// Worst case: every event from another tenant and account than the one before.
const spread = perEvent((i) => [`tenant-${i % 110}`, `acc-${i % 3000}`]);

const t0 = process.hrtime.bigint();
for (let i = 0; i < 20; i++) JSON.stringify(spread.h.snapshot(null));
const adminMs = Number(process.hrtime.bigint() - t0) / 20 / 1e6;

gc();
const base = process.memoryUsage().heapUsed;
const full = new DashboardHistory({});
const o = full.options;
for (let t = 0; t < o.maxTenants; t++) {
  for (let a = 0; a < o.maxAccounts; a++) {
    full.record(`tenant-${t}`, `account-${a}`, mail(a));
    full.record(`tenant-${t}`, `account-${a}`, { ...status('disconnected', 'idle'), error: { code: 'CONNECTION_LOST' } });
    full.record(`tenant-${t}`, `account-${a}`, status('idle', 'authenticated'));
  }
}
gc();
const heapMiB = (process.memoryUsage().heapUsed - base) / 1048576;
const adminBytes = JSON.stringify(full.snapshot(null)).length;
const tenantBytes = JSON.stringify(full.snapshot('tenant-0')).length;
process.stdout.write(`${JSON.stringify({
  bench: 'dashboard-history', events: N, recordNsBursts: Math.round(bursts.ns), recordNsSpread: Math.round(spread.ns),
  adminSnapshotMs: Number(adminMs.toFixed(2)), fullHeapMiB: global.gc ? Number(heapMiB.toFixed(1)) : null,
  fullAdminSnapshotBytes: adminBytes, fullTenantSnapshotBytes: tenantBytes,
})}\n`);
