#include "store/store.h"

#include <sqlite3.h>

namespace imap {

namespace {

// Resets a statement however the caller leaves, so it holds no read lock and
// no pointers into the caller's strings (bound with SQLITE_STATIC).
struct ResetGuard {
  sqlite3_stmt* st;
  ~ResetGuard() {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
  }
};

const char* kCreateSchema =
    "CREATE TABLE IF NOT EXISTS folders ("
    " account_id TEXT NOT NULL,"
    " folder TEXT NOT NULL,"
    " uid_validity INTEGER NOT NULL DEFAULT 0,"
    " uid_next INTEGER NOT NULL DEFAULT 0,"
    " highest_modseq INTEGER NOT NULL DEFAULT 0,"
    " uids TEXT NOT NULL DEFAULT '',"
    " flag_window BLOB NOT NULL DEFAULT x'',"
    " initial_done INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (account_id, folder)"
    ") WITHOUT ROWID";

const char* kLoad =
    "SELECT folder, uid_validity, uid_next, highest_modseq, uids, flag_window, initial_done"
    " FROM folders WHERE account_id = ?1 ORDER BY folder";

const char* kUpsert =
    "INSERT INTO folders (account_id, folder, uid_validity, uid_next, highest_modseq, uids,"
    " flag_window, initial_done) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    " ON CONFLICT (account_id, folder) DO UPDATE SET"
    " uid_validity = excluded.uid_validity, uid_next = excluded.uid_next,"
    " highest_modseq = excluded.highest_modseq, uids = excluded.uids,"
    " flag_window = excluded.flag_window, initial_done = excluded.initial_done";

std::string columnBytes(sqlite3_stmt* st, int col) {
  // Zero-length blobs come back as a null pointer.
  const void* p = sqlite3_column_blob(st, col);
  int n = sqlite3_column_bytes(st, col);
  return p && n > 0 ? std::string(static_cast<const char*>(p), size_t(n)) : std::string();
}

int bindText(sqlite3_stmt* st, int i, const std::string& s) {
  return sqlite3_bind_text64(st, i, s.data(), s.size(), SQLITE_STATIC, SQLITE_UTF8);
}

}  // namespace

std::unique_ptr<StateStore> StateStore::open(const std::string& path, std::string& err) {
  std::unique_ptr<StateStore> s(new StateStore());
  if (!s->init(path, err)) {
    err = "state store '" + path + "': " + err;
    return nullptr;
  }
  return s;
}

StateStore::~StateStore() {
  for (sqlite3_stmt* st : {load_, upsert_, removeFolder_, removeAccount_, begin_, commit_, rollback_})
    sqlite3_finalize(st);
  sqlite3_close_v2(db_);  // also fine when db_ is null or open failed half-way
}

bool StateStore::fail(const char* what, std::string& err) {
  err = std::string(what) + ": " + sqlite3_errmsg(db_);
  return false;
}

bool StateStore::exec(const char* sql, std::string& err) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return fail(sql, err);
  return true;
}

// Steps to completion; the caller resets it (ResetGuard) after binding.
bool StateStore::run(sqlite3_stmt* st, const char* what, std::string& err) {
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) return fail(what, err);
  return true;
}

bool StateStore::init(const std::string& path, std::string& err) {
  int rc = sqlite3_open_v2(path.c_str(), &db_,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    if (!db_) {
      err = std::string("open: ") + sqlite3_errstr(rc);  // out of memory: no handle to ask
      return false;
    }
    return fail("open", err);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 5000);
  // READWRITE silently falls back to read-only on a write-protected file.
  if (sqlite3_db_readonly(db_, "main") == 1) {
    err = "open: file is read-only";
    return false;
  }

  // The first read of the file: a non-SQLite or corrupt file fails here.
  auto readVersion = [&](int& v) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &st, nullptr) != SQLITE_OK) return fail("read schema version", err);
    bool ok = sqlite3_step(st) == SQLITE_ROW;
    if (ok) v = sqlite3_column_int(st, 0);
    else fail("read schema version", err);
    sqlite3_finalize(st);
    return ok;
  };
  auto tooNew = [&](int v) {
    err = "schema version " + std::to_string(v) + " is newer than supported version " +
          std::to_string(kSchemaVersion) + " (written by a newer release?)";
    return false;
  };
  int version = 0;
  if (!readVersion(version)) return false;
  if (version > kSchemaVersion) return tooNew(version);

  // journal_mode cannot change inside a transaction, so it precedes the
  // migration. Where WAL is unsupported SQLite keeps the old mode: not fatal.
  if (!exec("PRAGMA journal_mode=WAL", err) || !exec("PRAGMA synchronous=NORMAL", err)) return false;

  if (version < kSchemaVersion) {
    // IMMEDIATE, then re-read: another process may be migrating the same file.
    if (!exec("BEGIN IMMEDIATE", err)) return false;
    bool ok = readVersion(version);
    if (ok && version > kSchemaVersion) ok = tooNew(version);
    // Future versions add steps here: if (version < 2) { ALTER ... }
    if (ok && version < 1) ok = exec(kCreateSchema, err);
    if (ok && version < kSchemaVersion)
      ok = exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str(), err);
    if (ok) ok = exec("COMMIT", err);
    if (!ok) {
      if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return false;
    }
  }

  struct {
    sqlite3_stmt** st;
    const char* sql;
  } stmts[] = {
      {&load_, kLoad},
      {&upsert_, kUpsert},
      {&removeFolder_, "DELETE FROM folders WHERE account_id = ?1 AND folder = ?2"},
      {&removeAccount_, "DELETE FROM folders WHERE account_id = ?1"},
      {&begin_, "BEGIN IMMEDIATE"},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
  };
  for (auto& s : stmts) {
    if (sqlite3_prepare_v3(db_, s.sql, -1, SQLITE_PREPARE_PERSISTENT, s.st, nullptr) != SQLITE_OK)
      return fail("prepare", err);
  }
  return true;
}

bool StateStore::load(const std::string& accountId, std::vector<StoredFolder>& out, std::string& err) {
  out.clear();
  ResetGuard g{load_};
  if (bindText(load_, 1, accountId) != SQLITE_OK) return fail("load", err);
  int rc;
  while ((rc = sqlite3_step(load_)) == SQLITE_ROW) {
    StoredFolder f;
    f.accountId = accountId;
    f.folder = columnBytes(load_, 0);
    f.uidValidity = uint32_t(sqlite3_column_int64(load_, 1));
    f.uidNext = uint32_t(sqlite3_column_int64(load_, 2));
    f.highestModseq = uint64_t(sqlite3_column_int64(load_, 3));
    f.uids = columnBytes(load_, 4);
    f.flagWindow = columnBytes(load_, 5);
    f.initialDone = sqlite3_column_int(load_, 6) != 0;
    out.push_back(std::move(f));
  }
  if (rc != SQLITE_DONE) {
    out.clear();
    return fail("load", err);
  }
  return true;
}

bool StateStore::save(const std::vector<StoredFolder>& rows, std::string& err) {
  if (rows.empty()) return true;
  {
    ResetGuard g{begin_};
    if (!run(begin_, "save: begin", err)) return false;
  }
  bool ok = true;
  for (const auto& r : rows) {
    ResetGuard g{upsert_};
    sqlite3_stmt* st = upsert_;
    bool bound = bindText(st, 1, r.accountId) == SQLITE_OK && bindText(st, 2, r.folder) == SQLITE_OK &&
                 sqlite3_bind_int64(st, 3, r.uidValidity) == SQLITE_OK &&
                 sqlite3_bind_int64(st, 4, r.uidNext) == SQLITE_OK &&
                 sqlite3_bind_int64(st, 5, sqlite3_int64(r.highestModseq)) == SQLITE_OK &&
                 bindText(st, 6, r.uids) == SQLITE_OK &&
                 sqlite3_bind_blob64(st, 7, r.flagWindow.data(), r.flagWindow.size(), SQLITE_STATIC) == SQLITE_OK &&
                 sqlite3_bind_int(st, 8, r.initialDone ? 1 : 0) == SQLITE_OK;
    ok = bound ? run(st, "save", err) : fail("save", err);
    if (!ok) break;
  }
  if (ok) {
    ResetGuard g{commit_};
    ok = run(commit_, "save: commit", err);
  }
  // A failed statement or COMMIT (e.g. SQLITE_BUSY) leaves the transaction open.
  if (!ok && !sqlite3_get_autocommit(db_)) {
    ResetGuard g{rollback_};
    std::string ignored;
    run(rollback_, "save: rollback", ignored);
  }
  return ok;
}

bool StateStore::removeFolder(const std::string& accountId, const std::string& folder, std::string& err) {
  ResetGuard g{removeFolder_};
  if (bindText(removeFolder_, 1, accountId) != SQLITE_OK || bindText(removeFolder_, 2, folder) != SQLITE_OK)
    return fail("removeFolder", err);
  return run(removeFolder_, "removeFolder", err);
}

bool StateStore::removeAccount(const std::string& accountId, std::string& err) {
  ResetGuard g{removeAccount_};
  if (bindText(removeAccount_, 1, accountId) != SQLITE_OK) return fail("removeAccount", err);
  return run(removeAccount_, "removeAccount", err);
}

}  // namespace imap
