// The engine against a scripted IMAP server (script_server.h): an account
// comes up, syncs over the pool, and can be removed while its session sits in
// any phase; every run ends with uv_loop_close() == 0.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "engine/engine.h"
#include "script_server.h"

using namespace imap;

namespace {

struct Events {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Event> all;
  Engine* engine = nullptr;

  Engine::Sink sink() {
    return [this](EventBatch&& b) {
      {
        std::lock_guard<std::mutex> lock(mu);
        for (auto& e : b.events) all.push_back(std::move(e));
      }
      // Acknowledged at once, as the binding does once JS has the batch.
      if (engine && b.seq) engine->delivered(b.seq);
      cv.notify_all();
    };
  }
  bool waitFor(Event::Type t, size_t n = 1, int ms = 10000) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::milliseconds(ms), [&] { return countLocked(t) >= n; });
  }
  size_t count(Event::Type t) {
    std::lock_guard<std::mutex> lock(mu);
    return countLocked(t);
  }

 private:
  size_t countLocked(Event::Type t) const {
    size_t n = 0;
    for (const auto& e : all) n += e.type == t;
    return n;
  }
};

AccountConfig account(const std::string& id, uint16_t port) {
  AccountConfig cfg;
  cfg.id = id;
  cfg.host = "127.0.0.1";
  cfg.port = port;
  cfg.tls = TlsMode::None;
  cfg.allowInsecureAuth = true;
  cfg.user = "u";
  cfg.pass = "p";
  cfg.timeouts.logoutMs = 500;
  return cfg;
}

void closeCleanly(Engine& engine, Events& ev) {
  engine.close();
  ASSERT_TRUE(ev.waitFor(Event::Type::Closed));
  engine.join();
  EXPECT_TRUE(engine.loopClosedCleanly());
}

// An engine with account "a" on a scripted server; up() waits until its
// session sits in IDLE. Members in this order: the sink outlives the engine.
struct Idling {
  ScriptServer server;
  Events ev;
  Engine engine{EngineConfig{}, ev.sink()};
  Idling() {
    ev.engine = &engine;
    engine.addAccount(account("a", server.port()));
  }
  bool up() { return ev.waitFor(Event::Type::AccountReady) && server.waitSeen("IDLE"); }
};

}  // namespace

TEST(EngineScripted, AccountComesUpAndSyncsOverThePool) {
  Idling rig;
  ASSERT_TRUE(rig.up());
  auto& [server, ev, engine] = rig;
  engine.sync(42, "a", {});
  ASSERT_TRUE(ev.waitFor(Event::Type::SyncCompleted));
  {
    std::lock_guard<std::mutex> lock(ev.mu);
    for (const auto& e : ev.all)
      if (e.type == Event::Type::SyncCompleted && !e.requestIds.empty() && e.requestIds[0] == 42) {
        EXPECT_EQ(e.errorCode, "");
        ASSERT_EQ(e.syncResults.size(), 1u);
        EXPECT_EQ(e.syncResults[0].uidValidity, 7u);
      }
  }
  EXPECT_GE(engine.poolStats("a").created, 1u);
  closeCleanly(engine, ev);
}

// pushLatencyMs' source: a message announced by EXISTS while the folder sits
// in IDLE carries when that EXISTS was read; one a sync finds carries nothing.
TEST(EngineScripted, PushedMessageCarriesWhenItsExistsWasRead) {
  Idling rig;
  ASSERT_TRUE(rig.up());
  auto& [server, ev, engine] = rig;
  // The first sync (no QRESYNC here) must be over, or its SELECT may find the message first.
  ASSERT_TRUE(ev.waitFor(Event::Type::SyncCompleted));
  auto t0 = server.deliver();
  ASSERT_TRUE(ev.waitFor(Event::Type::NewMessage));
  auto t1 = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(ev.mu);
    for (const auto& e : ev.all)
      if (e.type == Event::Type::NewMessage) {
        EXPECT_EQ(e.uid, 1u);
        ASSERT_TRUE(e.existsSeenAt.has_value());
        EXPECT_GE(*e.existsSeenAt, t0);  // read after the server queued it ...
        EXPECT_LE(*e.existsSeenAt, t1);  // ... and before the event was here
      }
  }
  // Not announced: only the sync's SELECT sees it.
  server.deliver(false);
  engine.sync(7, "a", {});
  ASSERT_TRUE(ev.waitFor(Event::Type::SyncCompleted, 2));
  ASSERT_TRUE(ev.waitFor(Event::Type::NewMessage, 2));
  {
    std::lock_guard<std::mutex> lock(ev.mu);
    for (const auto& e : ev.all)
      if (e.type == Event::Type::NewMessage && e.uid == 2) EXPECT_FALSE(e.existsSeenAt.has_value());
  }
  closeCleanly(engine, ev);
}

// Removal while the session waits for the greeting, for LOGIN's answer, for
// SELECT's, and while it idles: one AccountRemoved, nothing left on the loop.
class EngineRemovePhase : public ::testing::TestWithParam<const char*> {};

TEST_P(EngineRemovePhase, RemoveWhileHeldThere) {
  const std::string phase = GetParam();
  ScriptServer server;
  if (phase != "IDLE") server.holdAt(phase);
  Events ev;
  Engine engine(EngineConfig{}, ev.sink());
  ev.engine = &engine;
  engine.addAccount(account("a", server.port()));
  ASSERT_TRUE(server.waitSeen(phase)) << phase;
  engine.removeAccount("a");
  ASSERT_TRUE(ev.waitFor(Event::Type::AccountRemoved)) << phase;
  server.release();
  EXPECT_EQ(ev.count(Event::Type::AccountRemoved), 1u);
  EXPECT_TRUE(engine.status("a").empty());
  // A fresh account of the same id works after it.
  engine.addAccount(account("a", server.port()));
  ASSERT_TRUE(ev.waitFor(Event::Type::AccountReady)) << phase;
  closeCleanly(engine, ev);
}

INSTANTIATE_TEST_SUITE_P(Phases, EngineRemovePhase, ::testing::Values("GREETING", "LOGIN", "SELECT", "IDLE"));
