// The engine itself, without JS: batch acknowledgement, close ordering and
// loop shutdown.
#include "engine/engine.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

using namespace imap;

namespace {

// Collects batches the way the binding does, without acknowledging them.
struct Collector {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<EventBatch> batches;
  bool closed = false;
  bool loopClosedAtClosed = false;
  Engine* engine = nullptr;

  Engine::Sink sink() {
    return [this](EventBatch&& b) {
      std::lock_guard<std::mutex> lock(mu);
      for (const auto& e : b.events)
        if (e.type == Event::Type::Closed) {
          closed = true;
          loopClosedAtClosed = engine && engine->loopClosedCleanly();
        }
      batches.push_back(std::move(b));
      cv.notify_all();
    };
  }
  template <typename Pred>
  bool waitFor(Pred pred, int ms = 5000) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::milliseconds(ms), [&] { return pred(); });
  }
  size_t count(Event::Type t) {
    size_t n = 0;
    for (const auto& b : batches)
      for (const auto& e : b.events) n += e.type == t;
    return n;
  }
  uint64_t lastSeq() {
    std::lock_guard<std::mutex> lock(mu);
    return batches.empty() ? 0 : batches.back().seq;
  }
};

AccountConfig unreachable(const std::string& id) {
  AccountConfig cfg;
  cfg.id = id;
  cfg.host = "127.0.0.1";
  cfg.port = 1;  // nothing listens: the first connection fails at once
  cfg.tls = TlsMode::None;
  cfg.allowInsecureAuth = true;
  cfg.user = "u";
  cfg.pass = "p";
  return cfg;
}

}  // namespace

TEST(Engine, ClosedComesLastAfterTheLoopHasClosed) {
  Collector c;
  Engine engine(EngineConfig{}, c.sink());
  c.engine = &engine;
  engine.close();
  ASSERT_TRUE(c.waitFor([&] { return c.closed; }));
  engine.join();
  // Whoever gets Closed may join at once: nothing is left running.
  EXPECT_TRUE(c.loopClosedAtClosed);
  EXPECT_TRUE(engine.loopClosedCleanly());
  EXPECT_EQ(c.batches.back().events.back().type, Event::Type::Closed);
}

TEST(Engine, CloseWaitsForEveryBatchToBeAcknowledged) {
  Collector c;
  Engine engine(EngineConfig{}, c.sink());
  c.engine = &engine;
  engine.addAccount(unreachable("a"));
  ASSERT_TRUE(c.waitFor([&] { return c.count(Event::Type::AccountFailed) == 1; }));
  engine.close();
  // Not acknowledged: the engine keeps waiting (the state behind those
  // batches could not be saved yet).
  EXPECT_FALSE(c.waitFor([&] { return c.closed; }, 300));
  engine.delivered(c.lastSeq());
  ASSERT_TRUE(c.waitFor([&] { return c.closed; }));
  engine.join();
  EXPECT_TRUE(engine.loopClosedCleanly());
}

TEST(Engine, ShutdownNowDoesNotWaitForAcknowledgements) {
  Collector c;
  auto engine = std::make_unique<Engine>(EngineConfig{}, c.sink());
  engine->addAccount(unreachable("a"));
  ASSERT_TRUE(c.waitFor([&] { return c.count(Event::Type::AccountFailed) == 1; }));
  engine->close();
  engine->shutdownNow();
  EXPECT_TRUE(engine->loopClosedCleanly());
  EXPECT_FALSE(c.closed);  // a teardown, not a graceful close
}

TEST(Engine, AddRemoveChurnEndsCleanly) {
  Collector c;
  Engine engine(EngineConfig{}, c.sink());
  c.engine = &engine;
  for (int i = 0; i < 50; ++i) {
    engine.addAccount(unreachable("a" + std::to_string(i % 5)));
    engine.removeAccount("a" + std::to_string((i + 2) % 5));
  }
  engine.close();
  // Acknowledge as the binding does until the engine is done.
  for (int i = 0; i < 200 && !c.waitFor([&] { return c.closed; }, 20); ++i) engine.delivered(c.lastSeq());
  ASSERT_TRUE(c.closed);
  engine.join();
  EXPECT_TRUE(engine.loopClosedCleanly());
}
