'use strict';

// Prometheus metrics for one router, in its own Registry so that several
// routers (or the app's own prom-client use) never collide. Labels carry
// states and event types only, never account ids: bounded cardinality, and
// no tenant's ids leak into a shared scrape.

const CONNECTION_STATES = ['disconnected', 'connecting', 'connected', 'authenticating', 'authenticated', 'idle', 'error'];

/** Returns { contentType, render(), close() }, or null when prom-client is not installed. */
function createMetrics(notifications) {
  let client;
  try {
    client = require('prom-client');
  } catch (err) {
    if (err.code === 'MODULE_NOT_FOUND') return null;
    throw err;
  }
  const registry = new client.Registry();
  const registers = [registry];
  const connections = new client.Gauge({
    name: 'imap_push_connections', help: 'Watched folder connections by state', labelNames: ['state'], registers,
  });
  const pooled = new client.Gauge({ name: 'imap_push_pooled_connections', help: 'Open connections in the sync pool', registers });
  const syncs = new client.Gauge({ name: 'imap_push_syncs', help: 'Syncs running or waiting', labelNames: ['state'], registers });
  const queueDepth = new client.Gauge({ name: 'imap_push_queue_depth', help: 'Notifications waiting in bounded queues', registers });
  const merged = new client.Gauge({
    name: 'imap_push_merged_events', help: 'Events merged into folderUpdated on queue overflow, since start', registers,
  });
  const events = new client.Counter({ name: 'imap_push_events_total', help: 'Engine events by type', labelNames: ['type'], registers });
  const syncDuration = new client.Histogram({
    name: 'imap_push_sync_duration_seconds',
    help: 'Duration of completed syncs',
    labelNames: ['ok'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers,
  });

  const unsubscribe = notifications.subscribe({}, (item) => {
    events.inc({ type: item.type });
    if (item.type === 'syncCompleted' && Number.isFinite(item.durationMs)) {
      syncDuration.observe({ ok: String(item.ok === true) }, item.durationMs / 1000);
    }
  });

  return {
    contentType: registry.contentType,
    async render() {
      const h = notifications.health();
      const counts = Object.fromEntries(CONNECTION_STATES.map((s) => [s, 0]));
      for (const a of h.accounts) for (const f of a.folders) counts[f.state] = (counts[f.state] || 0) + 1;
      for (const [state, n] of Object.entries(counts)) connections.set({ state }, n);
      pooled.set(h.pooledConnections);
      syncs.set({ state: 'active' }, h.activeSyncs);
      syncs.set({ state: 'pending' }, h.pendingSyncs);
      queueDepth.set(h.queueDepth);
      merged.set(h.merged);
      return registry.metrics();
    },
    close: unsubscribe,
  };
}

module.exports = { createMetrics };
