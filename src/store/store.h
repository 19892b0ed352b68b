// Persistent per-folder sync state, so that a restart can resume with
// CONDSTORE/QRESYNC or UID comparison instead of treating every message as
// new. Backed by one SQLite file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace imap {

struct StoredFolder {
  std::string accountId, folder;
  uint32_t uidValidity = 0, uidNext = 0;
  // Full 64-bit range survives (stored as the same bits in SQLite's signed
  // INTEGER); RFC 7162 values never exceed 2^63-1 anyway.
  uint64_t highestModseq = 0;
  std::string uids;        // UidSet::toString() of messages known to exist (deletion detection without QRESYNC)
  std::string flagWindow;  // opaque serialized flags for a bounded window (fallback flag comparison); binary-safe
  bool initialDone = false;
};

// Not thread-safe: the connection is opened with SQLITE_OPEN_NOMUTEX, so a
// StateStore must be used from one thread only (its owner). Several
// processes or StateStores may share a file: WAL mode plus a 5 s busy
// timeout serialize their writes.
class StateStore {
 public:
  static constexpr int kSchemaVersion = 1;  // PRAGMA user_version

  // Opens or creates the file (its directory must already exist), creates or
  // migrates the schema. Fails, with a message naming the file and carrying
  // SQLite's error text, on an unreadable, non-SQLite or corrupt file, or one
  // written by a newer schema version.
  static std::unique_ptr<StateStore> open(const std::string& path, std::string& err);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Replaces `out` with the account's folders, ordered by folder name.
  bool load(const std::string& accountId, std::vector<StoredFolder>& out, std::string& err);
  // Inserts or replaces each row by (accountId, folder), all in one
  // transaction: either every row is written or none.
  bool save(const std::vector<StoredFolder>& rows, std::string& err);
  bool removeFolder(const std::string& accountId, const std::string& folder, std::string& err);
  bool removeAccount(const std::string& accountId, std::string& err);

 private:
  StateStore() = default;
  bool init(const std::string& path, std::string& err);
  bool exec(const char* sql, std::string& err);
  bool run(sqlite3_stmt* st, const char* what, std::string& err);
  bool fail(const char* what, std::string& err);

  sqlite3* db_ = nullptr;
  sqlite3_stmt* load_ = nullptr;
  sqlite3_stmt* upsert_ = nullptr;
  sqlite3_stmt* removeFolder_ = nullptr;
  sqlite3_stmt* removeAccount_ = nullptr;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  sqlite3_stmt* rollback_ = nullptr;
};

}  // namespace imap
