#include "store/store.h"

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

#include "core/uidset.h"

using namespace imap;

namespace {

std::string describe(const StoredFolder& f) {
  std::ostringstream os;
  os << "{" << f.accountId << "/" << f.folder << " v=" << f.uidValidity << " next=" << f.uidNext
     << " modseq=" << f.highestModseq << " uids=" << f.uids << " flags=" << f.flagWindow.size()
     << "B done=" << f.initialDone << "}";
  return os.str();
}

::testing::AssertionResult SameRow(const StoredFolder& a, const StoredFolder& b) {
  if (a.accountId == b.accountId && a.folder == b.folder && a.uidValidity == b.uidValidity &&
      a.uidNext == b.uidNext && a.highestModseq == b.highestModseq && a.uids == b.uids &&
      a.flagWindow == b.flagWindow && a.initialDone == b.initialDone)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << describe(a) << " != " << describe(b);
}

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

// A fresh directory under /tmp holding the store's file, removed afterwards.
struct TempStore {
  TempStore() {
    char tmpl[] = "/tmp/imap-store-test-XXXXXX";
    if (!mkdtemp(tmpl)) ADD_FAILURE() << "mkdtemp failed";
    dir = tmpl;
    path = dir + "/state.db";
  }
  ~TempStore() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  TempStore(const TempStore&) = delete;
  TempStore& operator=(const TempStore&) = delete;

  std::unique_ptr<StateStore> open() {
    std::string err;
    auto s = StateStore::open(path, err);
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
    EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
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
    std::ofstream f(path, std::ios::binary);
    f << bytes;
  }
  std::string readFile() {
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }

  std::string dir, path;
};

}  // namespace

TEST(StateStore, RoundTrip) {
  TempStore t;
  auto s = t.open();
  ASSERT_TRUE(s);
  EXPECT_TRUE(t.load(*s, "acct").empty());
  std::string binary("\x00\x01\xff\xfe flags \x00", 12);
  std::vector<StoredFolder> rows = {
      row("acct", "INBOX", 1700000000, 4321, 987654, "1:5,7,9:4000", binary, true),
      row("acct", "Archive/2024 \xc3\xa9t\xc3\xa9", 4294967295u, 4294967295u, 0, "", "", false),
  };
  t.save(*s, rows);
  auto got = t.load(*s, "acct");
  ASSERT_EQ(got.size(), 2u);
  // Ordered by folder name.
  EXPECT_TRUE(SameRow(got[0], rows[1]));
  EXPECT_TRUE(SameRow(got[1], rows[0]));
  EXPECT_EQ(got[1].flagWindow.size(), 12u);

  std::string err;
  EXPECT_TRUE(s->save({}, err)) << err;  // nothing to do
  EXPECT_EQ(t.load(*s, "acct").size(), 2u);
}

TEST(StateStore, UpsertReplaces) {
  TempStore t;
  auto s = t.open();
  ASSERT_TRUE(s);
  t.save(*s, {row("a", "INBOX", 1, 10, 100, "1:9", "x", true)});
  StoredFolder updated = row("a", "INBOX", 2, 3, 5, "1:2", "", false);
  t.save(*s, {updated});
  auto got = t.load(*s, "a");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(SameRow(got[0], updated));
  // Duplicate keys within one save: the last one wins.
  t.save(*s, {row("a", "INBOX", 7, 7, 7), row("a", "INBOX", 8, 8, 8)});
  got = t.load(*s, "a");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].uidValidity, 8u);
  // Keys are case-sensitive (only INBOX is case-insensitive in IMAP, and the
  // engine normalizes it before it gets here).
  t.save(*s, {row("a", "Sent"), row("a", "sent")});
  EXPECT_EQ(t.load(*s, "a").size(), 3u);
}

TEST(StateStore, LoadFiltersByAccount) {
  TempStore t;
  auto s = t.open();
  ASSERT_TRUE(s);
  t.save(*s, {row("a", "INBOX"), row("b", "INBOX"), row("a", "Sent"), row("b", "Drafts"), row("ab", "X")});
  auto a = t.load(*s, "a");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].folder, "INBOX");
  EXPECT_EQ(a[1].folder, "Sent");
  for (const auto& f : a) EXPECT_EQ(f.accountId, "a");
  auto b = t.load(*s, "b");
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].folder, "Drafts");
  EXPECT_EQ(b[1].folder, "INBOX");

  // `out` is replaced, not appended to.
  std::vector<StoredFolder> out = a;
  std::string err;
  ASSERT_TRUE(s->load("nobody", out, err)) << err;
  EXPECT_TRUE(out.empty());
}

TEST(StateStore, RemoveFolderAndAccount) {
  TempStore t;
  auto s = t.open();
  ASSERT_TRUE(s);
  t.save(*s, {row("a", "INBOX"), row("a", "Sent"), row("a", "Trash"), row("b", "INBOX"), row("b", "Sent")});
  std::string err;
  ASSERT_TRUE(s->removeFolder("a", "Sent", err)) << err;
  ASSERT_TRUE(s->removeFolder("a", "Nonexistent", err)) << err;  // not an error
  auto a = t.load(*s, "a");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].folder, "INBOX");
  EXPECT_EQ(a[1].folder, "Trash");
  EXPECT_EQ(t.load(*s, "b").size(), 2u);  // same folder name, other account: untouched

  ASSERT_TRUE(s->removeAccount("a", err)) << err;
  EXPECT_TRUE(t.load(*s, "a").empty());
  EXPECT_EQ(t.load(*s, "b").size(), 2u);
  ASSERT_TRUE(s->removeAccount("a", err)) << err;  // again: still fine
  // Statements are reusable after all of the above.
  t.save(*s, {row("a", "INBOX")});
  EXPECT_EQ(t.load(*s, "a").size(), 1u);
}

TEST(StateStore, PersistsAcrossReopen) {
  TempStore t;
  std::vector<StoredFolder> rows = {row("a", "INBOX", 11, 22, 33, "1:5,8", "fw", true), row("a", "Sent")};
  {
    auto s = t.open();
    ASSERT_TRUE(s);
    t.save(*s, rows);
    std::string err;
    ASSERT_TRUE(s->removeFolder("a", "Sent", err)) << err;
  }
  EXPECT_EQ(t.rawSql("PRAGMA user_version"), std::to_string(StateStore::kSchemaVersion));
  EXPECT_EQ(t.rawSql("PRAGMA journal_mode"), "wal");
  {
    auto s = t.open();
    ASSERT_TRUE(s);
    auto got = t.load(*s, "a");
    ASSERT_EQ(got.size(), 1u);
    EXPECT_TRUE(SameRow(got[0], rows[0]));
  }
}

TEST(StateStore, TwoStoresShareAFile) {
  TempStore t;
  auto s1 = t.open();
  auto s2 = t.open();
  ASSERT_TRUE(s1 && s2);
  t.save(*s1, {row("a", "INBOX", 5)});
  auto got = t.load(*s2, "a");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].uidValidity, 5u);
  t.save(*s2, {row("a", "INBOX", 6)});
  EXPECT_EQ(t.load(*s1, "a")[0].uidValidity, 6u);
}

TEST(StateStore, HighestModseq64Bit) {
  TempStore t;
  const uint64_t values[] = {1ull << 32, 1ull << 40, (1ull << 63) - 1, 1ull << 63, UINT64_MAX};
  std::vector<StoredFolder> rows;
  for (size_t i = 0; i < std::size(values); ++i) rows.push_back(row("a", "F" + std::to_string(i), 1, 2, values[i]));
  {
    auto s = t.open();
    ASSERT_TRUE(s);
    t.save(*s, rows);
  }
  auto s = t.open();
  ASSERT_TRUE(s);
  auto got = t.load(*s, "a");
  ASSERT_EQ(got.size(), std::size(values));
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].highestModseq, values[i]) << i;
}

TEST(StateStore, UidSetSurvives) {
  TempStore t;
  UidSet set;
  for (uint32_t u = 1; u < 100000; u += (u % 7 == 0 ? 3 : 1)) set.add(u);
  set.add(UINT32_MAX);
  auto s = t.open();
  ASSERT_TRUE(s);
  t.save(*s, {row("a", "INBOX", 1, 2, 3, set.toString())});
  auto got = t.load(*s, "a");
  ASSERT_EQ(got.size(), 1u);
  auto back = UidSet::parse(got[0].uids);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, set);
}

// A failure part-way through save() must leave none of its rows behind, and
// the store must stay usable.
TEST(StateStore, SaveIsAtomic) {
  TempStore t;
  auto s = t.open();
  ASSERT_TRUE(s);
  t.save(*s, {row("a", "INBOX", 1)});
  t.rawSql(
      "CREATE TRIGGER reject BEFORE INSERT ON folders WHEN NEW.folder = 'bad'"
      " BEGIN SELECT RAISE(ABORT, 'rejected by test'); END");
  std::string err;
  EXPECT_FALSE(s->save({row("a", "INBOX", 2), row("a", "New"), row("a", "bad")}, err));
  EXPECT_NE(err.find("rejected by test"), std::string::npos) << err;
  auto got = t.load(*s, "a");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].uidValidity, 1u);

  t.rawSql("DROP TRIGGER reject");
  t.save(*s, {row("a", "INBOX", 3), row("a", "bad")});
  EXPECT_EQ(t.load(*s, "a").size(), 2u);
}

TEST(StateStore, GarbageFileFails) {
  TempStore t;
  std::string garbage;
  for (int i = 0; i < 512; ++i) garbage += "this is not a database. ";
  for (const std::string& content : {garbage, std::string("hello\n")}) {
    t.writeFile(content);
    std::string err;
    auto s = StateStore::open(t.path, err);
    EXPECT_FALSE(s);
    EXPECT_NE(err.find(t.path), std::string::npos) << err;
    EXPECT_NE(err.find("not a database"), std::string::npos) << err;
    EXPECT_EQ(t.readFile(), content);  // left untouched
  }
}

TEST(StateStore, CorruptDatabaseFails) {
  TempStore t;
  {
    auto s = t.open();
    ASSERT_TRUE(s);
    std::vector<StoredFolder> rows;
    for (int i = 0; i < 200; ++i) rows.push_back(row("a", "Folder" + std::to_string(i), 1, 2, 3, std::string(200, 'u')));
    t.save(*s, rows);
  }
  // Overwrite everything after the 100-byte header of page 1.
  std::string bytes = t.readFile();
  ASSERT_GT(bytes.size(), 4096u);
  for (size_t i = 100; i < bytes.size(); ++i) bytes[i] = char(0xA5);
  t.writeFile(bytes);
  std::string err;
  auto s = StateStore::open(t.path, err);
  if (s) {
    // Some damage is only seen when the table is read: an error, not a crash.
    std::vector<StoredFolder> out;
    EXPECT_FALSE(s->load("a", out, err));
  }
  EXPECT_FALSE(err.empty());
}

TEST(StateStore, NewerSchemaVersionFails) {
  TempStore t;
  t.rawSql("PRAGMA user_version = 2");
  std::string err;
  auto s = StateStore::open(t.path, err);
  EXPECT_FALSE(s);
  EXPECT_NE(err.find("newer"), std::string::npos) << err;
  EXPECT_EQ(t.rawSql("PRAGMA user_version"), "2");  // not downgraded
}

TEST(StateStore, MissingDirectoryFails) {
  TempStore t;
  std::string err;
  auto s = StateStore::open(t.dir + "/no/such/dir/state.db", err);
  EXPECT_FALSE(s);
  EXPECT_NE(err.find("unable to open"), std::string::npos) << err;
}
