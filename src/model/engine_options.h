// The engine's settings and the counters it reports: plain data, so the
// binding and the pool and sync that obey them all read one definition.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "model/events.h"

namespace imap {

struct PoolOptions {
  size_t maxPerAccount = 2;
  size_t maxTotal = 1000;  // as lib/options.js and the README
  uint64_t healthCheckMs = 60 * 1000;   // NOOP before reuse after this long unused
  uint64_t idleTimeoutMs = 5 * 60 * 1000;  // close after this long unused
};

struct PoolStats {
  uint64_t open = 0, busy = 0, idle = 0, created = 0, reused = 0, healthChecks = 0, failures = 0;
  double waitTimeMs = 0;  // total time callers waited for a connection
};

struct SyncOptions {
  uint32_t initialLast = 0;   // first sync reports this many existing messages
  uint32_t flagWindow = 500;  // messages compared for flags without CONDSTORE
};

struct EngineConfig {
  uint64_t tokenRefreshBeforeMs = 5 * 60 * 1000;
  PoolOptions pool;
  SyncOptions sync;
  // Syncs running at once, whoever started them (syncAll, the IDLE
  // debounce, webhooks, first syncs); the rest wait in a fair queue.
  size_t syncMaxConcurrent = 5;
  uint64_t syncDebounceMs = 1000;
  uint64_t folderCacheTtlMs = 5 * 60 * 1000;
  std::string stateFile;  // empty: state lives in memory
  // Events handed to JS but not yet acknowledged, past which the engine
  // stops reading from its connections until JS catches up (resumes at
  // half): a slow consumer or a flooding server never grows the queue.
  size_t maxQueuedEvents = 10000;
};

struct SyncStats {
  uint64_t active = 0, pending = 0, completed = 0;
};

// One batch of events and the number that acknowledges its delivery.
struct EventBatch {
  std::vector<Event> events;
  uint64_t seq = 0;
};

}  // namespace imap
