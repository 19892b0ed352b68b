// The engine's own defaults are what a config without a value gets (the raw
// binding, C++ callers). lib/options.js always passes its defaults, so a
// drift between the two stays invisible from JS: pin both to the README.
#include <gtest/gtest.h>

#include "engine/engine.h"

TEST(EngineDefaults, MatchTheDocumentedOnes) {
  imap::EngineConfig c;
  EXPECT_EQ(c.pool.maxPerAccount, 2u);
  EXPECT_EQ(c.pool.maxTotal, 1000u);
  EXPECT_EQ(c.pool.healthCheckMs, 60u * 1000);
  EXPECT_EQ(c.pool.idleTimeoutMs, 5u * 60 * 1000);
  EXPECT_EQ(c.tokenRefreshBeforeMs, 5u * 60 * 1000);
  EXPECT_EQ(c.syncDebounceMs, 1000u);
  EXPECT_EQ(c.folderCacheTtlMs, 5u * 60 * 1000);
  EXPECT_EQ(c.sync.flagWindow, 500u);
  EXPECT_EQ(c.sync.initialLast, 0u);
}
