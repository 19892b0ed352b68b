#include "store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "uidset.h"

using namespace imap;

namespace imap {
// Lets EXPECT_EQ compare rows and print them on failure.
bool operator==(const StoredFolder& a, const StoredFolder& b) {
  return a.accountId == b.accountId && a.folder == b.folder && a.uidValidity == b.uidValidity &&
         a.uidNext == b.uidNext && a.highestModseq == b.highestModseq && a.uids == b.uids &&
         a.flagWindow == b.flagWindow && a.initialDone == b.initialDone;
}
void PrintTo(const StoredFolder& f, std::ostream* os) {
  *os << "{" << f.accountId << "/" << f.folder << " v=" << f.uidValidity << " next=" << f.uidNext
      << " modseq=" << f.highestModseq << " uids=" << f.uids << " flags=" << f.flagWindow.size()
      << "B done=" << f.initialDone << "}";
}
}  // namespace imap

namespace {

StoredFolder row(std::string account, std::string folder, uint32_t validity = 1, uint32_t next = 10,
                 uint64_t modseq = 0, std::string uids = "1:9", std::string flags = "", bool done = true) {
  StoredFolder f;
  f.accountId = std::move(account);
  f.folder = std::move(folder);
  f.uidValidity = validity;
  f.uidNext = next;
  f.highestModseq = modseq;
  f.uids = std::move(uids);
  f.flagWindow = std::move(flags);
  f.initialDone = done;
  return f;
}

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/imap-store-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/state.db";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::unique_ptr<StateStore> open() {
    std::string err;
    auto s = StateStore::open(path_, err);
    EXPECT_TRUE(s) << err;
    return s;
  }

  std::vector<StoredFolder> load(StateStore& s, const std::string& account) {
    std::vector<StoredFolder> out;
    std::string err;
    EXPECT_TRUE(s.load(account, out, err)) << err;
    return out;
  }

  void save(StateStore& s, const std::vector<StoredFolder>& rows) {
    std::string err;
    EXPECT_TRUE(s.save(rows, err)) << err;
  }

  // Runs SQL on the file through a separate connection; returns the first
  // column of the last row.
  std::string rawSql(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    std::string last;
    auto cb = [](void* p, int n, char** vals, char**) {
      if (n > 0 && vals[0]) *static_cast<std::string*>(p) = vals[0];
      return 0;
    };
    char* msg = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), cb, &last, &msg), SQLITE_OK) << (msg ? msg : "");
    sqlite3_free(msg);
    sqlite3_close(db);
    return last;
  }

  void writeFile(const std::string& bytes) {
    std::ofstream f(path_, std::ios::binary);
    f << bytes;
  }
  std::string readFile() {
    std::ifstream f(path_, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }

  std::string dir_, path_;
};

}  // namespace

TEST_F(StateStoreTest, RoundTrip) {
  auto s = open();
  ASSERT_TRUE(s);
  EXPECT_TRUE(load(*s, "acct").empty());
  std::string binary("\x00\x01\xff\xfe flags \x00", 12);
  std::vector<StoredFolder> rows = {
      row("acct", "INBOX", 1700000000, 4321, 987654, "1:5,7,9:4000", binary, true),
      row("acct", "Archive/2024 \xc3\xa9t\xc3\xa9", 4294967295u, 4294967295u, 0, "", "", false),
  };
  save(*s, rows);
  auto got = load(*s, "acct");
  ASSERT_EQ(got.size(), 2u);
  // Ordered by folder name.
  EXPECT_EQ(got[0], rows[1]);
  EXPECT_EQ(got[1], rows[0]);
  EXPECT_EQ(got[1].flagWindow.size(), 12u);

  std::string err;
  EXPECT_TRUE(s->save({}, err)) << err;  // nothing to do
  EXPECT_EQ(load(*s, "acct").size(), 2u);
}

TEST_F(StateStoreTest, UpsertReplaces) {
  auto s = open();
  ASSERT_TRUE(s);
  save(*s, {row("a", "INBOX", 1, 10, 100, "1:9", "x", true)});
  StoredFolder updated = row("a", "INBOX", 2, 3, 5, "1:2", "", false);
  save(*s, {updated});
  auto got = load(*s, "a");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], updated);
  // Duplicate keys within one save: the last one wins.
  save(*s, {row("a", "INBOX", 7, 7, 7), row("a", "INBOX", 8, 8, 8)});
  got = load(*s, "a");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].uidValidity, 8u);
  // Keys are case-sensitive (only INBOX is case-insensitive in IMAP, and the
  // engine normalizes it before it gets here).
  save(*s, {row("a", "Sent"), row("a", "sent")});
  EXPECT_EQ(load(*s, "a").size(), 3u);
}

TEST_F(StateStoreTest, LoadFiltersByAccount) {
  auto s = open();
  ASSERT_TRUE(s);
  save(*s, {row("a", "INBOX"), row("b", "INBOX"), row("a", "Sent"), row("b", "Drafts"), row("ab", "X")});
  auto a = load(*s, "a");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].folder, "INBOX");
  EXPECT_EQ(a[1].folder, "Sent");
  for (const auto& f : a) EXPECT_EQ(f.accountId, "a");
  auto b = load(*s, "b");
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].folder, "Drafts");
  EXPECT_EQ(b[1].folder, "INBOX");

  // `out` is replaced, not appended to.
  std::vector<StoredFolder> out = a;
  std::string err;
  ASSERT_TRUE(s->load("nobody", out, err)) << err;
  EXPECT_TRUE(out.empty());
}

TEST_F(StateStoreTest, RemoveFolderAndAccount) {
  auto s = open();
  ASSERT_TRUE(s);
  save(*s, {row("a", "INBOX"), row("a", "Sent"), row("a", "Trash"), row("b", "INBOX"), row("b", "Sent")});
  std::string err;
  ASSERT_TRUE(s->removeFolder("a", "Sent", err)) << err;
  ASSERT_TRUE(s->removeFolder("a", "Nonexistent", err)) << err;  // not an error
  auto a = load(*s, "a");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].folder, "INBOX");
  EXPECT_EQ(a[1].folder, "Trash");
  EXPECT_EQ(load(*s, "b").size(), 2u);  // same folder name, other account: untouched

  ASSERT_TRUE(s->removeAccount("a", err)) << err;
  EXPECT_TRUE(load(*s, "a").empty());
  EXPECT_EQ(load(*s, "b").size(), 2u);
  ASSERT_TRUE(s->removeAccount("a", err)) << err;  // again: still fine
  // Statements are reusable after all of the above.
  save(*s, {row("a", "INBOX")});
  EXPECT_EQ(load(*s, "a").size(), 1u);
}

TEST_F(StateStoreTest, PersistsAcrossReopen) {
  std::vector<StoredFolder> rows = {row("a", "INBOX", 11, 22, 33, "1:5,8", "fw", true), row("a", "Sent")};
  {
    auto s = open();
    ASSERT_TRUE(s);
    save(*s, rows);
    std::string err;
    ASSERT_TRUE(s->removeFolder("a", "Sent", err)) << err;
  }
  EXPECT_EQ(rawSql("PRAGMA user_version"), std::to_string(StateStore::kSchemaVersion));
  EXPECT_EQ(rawSql("PRAGMA journal_mode"), "wal");
  {
    auto s = open();
    ASSERT_TRUE(s);
    auto got = load(*s, "a");
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], rows[0]);
  }
}

TEST_F(StateStoreTest, TwoStoresShareAFile) {
  auto s1 = open();
  auto s2 = open();
  ASSERT_TRUE(s1 && s2);
  save(*s1, {row("a", "INBOX", 5)});
  auto got = load(*s2, "a");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].uidValidity, 5u);
  save(*s2, {row("a", "INBOX", 6)});
  EXPECT_EQ(load(*s1, "a")[0].uidValidity, 6u);
}

TEST_F(StateStoreTest, HighestModseq64Bit) {
  const uint64_t values[] = {1ull << 32, 1ull << 40, (1ull << 63) - 1, 1ull << 63, UINT64_MAX};
  std::vector<StoredFolder> rows;
  for (size_t i = 0; i < std::size(values); ++i) rows.push_back(row("a", "F" + std::to_string(i), 1, 2, values[i]));
  {
    auto s = open();
    ASSERT_TRUE(s);
    save(*s, rows);
  }
  auto s = open();
  ASSERT_TRUE(s);
  auto got = load(*s, "a");
  ASSERT_EQ(got.size(), std::size(values));
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].highestModseq, values[i]) << i;
}

TEST_F(StateStoreTest, UidSetSurvives) {
  UidSet set;
  for (uint32_t u = 1; u < 100000; u += (u % 7 == 0 ? 3 : 1)) set.add(u);
  set.add(UINT32_MAX);
  auto s = open();
  ASSERT_TRUE(s);
  save(*s, {row("a", "INBOX", 1, 2, 3, set.toString())});
  auto got = load(*s, "a");
  ASSERT_EQ(got.size(), 1u);
  auto back = UidSet::parse(got[0].uids);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, set);
}

// A failure part-way through save() must leave none of its rows behind, and
// the store must stay usable.
TEST_F(StateStoreTest, SaveIsAtomic) {
  auto s = open();
  ASSERT_TRUE(s);
  save(*s, {row("a", "INBOX", 1)});
  rawSql(
      "CREATE TRIGGER reject BEFORE INSERT ON folders WHEN NEW.folder = 'bad'"
      " BEGIN SELECT RAISE(ABORT, 'rejected by test'); END");
  std::string err;
  EXPECT_FALSE(s->save({row("a", "INBOX", 2), row("a", "New"), row("a", "bad")}, err));
  EXPECT_NE(err.find("rejected by test"), std::string::npos) << err;
  auto got = load(*s, "a");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].uidValidity, 1u);

  rawSql("DROP TRIGGER reject");
  save(*s, {row("a", "INBOX", 3), row("a", "bad")});
  EXPECT_EQ(load(*s, "a").size(), 2u);
}

TEST_F(StateStoreTest, GarbageFileFails) {
  std::string garbage;
  for (int i = 0; i < 512; ++i) garbage += "this is not a database. ";
  for (const std::string& content : {garbage, std::string("hello\n")}) {
    writeFile(content);
    std::string err;
    auto s = StateStore::open(path_, err);
    EXPECT_FALSE(s);
    EXPECT_NE(err.find(path_), std::string::npos) << err;
    EXPECT_NE(err.find("not a database"), std::string::npos) << err;
    EXPECT_EQ(readFile(), content);  // left untouched
  }
}

TEST_F(StateStoreTest, CorruptDatabaseFails) {
  {
    auto s = open();
    ASSERT_TRUE(s);
    std::vector<StoredFolder> rows;
    for (int i = 0; i < 200; ++i) rows.push_back(row("a", "Folder" + std::to_string(i), 1, 2, 3, std::string(200, 'u')));
    save(*s, rows);
  }
  // Overwrite everything after the 100-byte header of page 1.
  std::string bytes = readFile();
  ASSERT_GT(bytes.size(), 4096u);
  for (size_t i = 100; i < bytes.size(); ++i) bytes[i] = char(0xA5);
  writeFile(bytes);
  std::string err;
  auto s = StateStore::open(path_, err);
  if (s) {
    // Some damage is only seen when the table is read: an error, not a crash.
    std::vector<StoredFolder> out;
    EXPECT_FALSE(s->load("a", out, err));
  }
  EXPECT_FALSE(err.empty());
}

TEST_F(StateStoreTest, NewerSchemaVersionFails) {
  rawSql("PRAGMA user_version = 2");
  std::string err;
  auto s = StateStore::open(path_, err);
  EXPECT_FALSE(s);
  EXPECT_NE(err.find("newer"), std::string::npos) << err;
  EXPECT_EQ(rawSql("PRAGMA user_version"), "2");  // not downgraded
}

TEST_F(StateStoreTest, MissingDirectoryFails) {
  std::string err;
  auto s = StateStore::open(dir_ + "/no/such/dir/state.db", err);
  EXPECT_FALSE(s);
  EXPECT_NE(err.find("unable to open"), std::string::npos) << err;
}
