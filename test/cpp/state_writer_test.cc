#include "store/state_writer.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <future>

using namespace imap;

namespace {

std::string tempFile(const char* name) {
  auto dir = std::filesystem::temp_directory_path() / ("imap-push-writer-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto file = dir / name;
  std::filesystem::remove(file);
  std::filesystem::remove(file.string() + "-wal");
  std::filesystem::remove(file.string() + "-shm");
  return file.string();
}

StoredFolder row(const std::string& folder, uint32_t next) {
  StoredFolder f;
  f.accountId = "a";
  f.folder = folder;
  f.uidValidity = 7;
  f.uidNext = next;
  return f;
}

std::vector<StoredFolder> loadAll(StateWriter& w) {
  std::promise<std::vector<StoredFolder>> p;
  w.load("a", [&](std::vector<StoredFolder> rows, std::string) { p.set_value(std::move(rows)); });
  return p.get_future().get();
}

}  // namespace

TEST(StateWriter, QueuedSavesMergeNewestRowWins) {
  std::string err;
  auto w = StateWriter::open(tempFile("merge.db"), err);
  ASSERT_TRUE(w) << err;
  w->save({row("INBOX", 2), row("Sent", 5)});
  w->save({row("INBOX", 3)});
  w->drain();
  auto rows = loadAll(*w);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].folder, "INBOX");
  EXPECT_EQ(rows[0].uidNext, 3u);
  EXPECT_EQ(rows[1].uidNext, 5u);
}

TEST(StateWriter, SaveDoesNotWaitForALockedFileAndRetriesAfterIt) {
  std::string file = tempFile("locked.db");
  std::string err;
  auto w = StateWriter::open(file, err);
  ASSERT_TRUE(w) << err;
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  // Returns at once: the caller (the loop thread) is never the one waiting.
  w->save({row("INBOX", 9)});
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  w->drain();
  auto rows = loadAll(*w);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].uidNext, 9u);
}

TEST(StateWriter, DestructionWritesWhatIsQueued) {
  std::string file = tempFile("flush.db");
  std::string err;
  {
    auto w = StateWriter::open(file, err);
    ASSERT_TRUE(w) << err;
    w->save({row("INBOX", 4)});
  }
  auto w = StateWriter::open(file, err);
  ASSERT_TRUE(w) << err;
  auto rows = loadAll(*w);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].uidNext, 4u);
}

TEST(StateWriter, OpenFailsOnABadPath) {
  std::string err;
  EXPECT_FALSE(StateWriter::open("/nonexistent/dir/state.db", err));
  EXPECT_NE(err.find("/nonexistent/dir/state.db"), std::string::npos);
}
