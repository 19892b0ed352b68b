// Incremental sync of one folder over a pooled connection: new UIDs from the
// last UIDNEXT, flag changes by CONDSTORE CHANGEDSINCE, deletions by QRESYNC
// VANISHED, and without those extensions a UID/FLAGS comparison over a
// bounded window. A no-change sync costs one round trip (STATUS).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "model/engine_options.h"
#include "imap/status.h"
#include "model/events.h"
#include "sync/folder.h"
#include "sync/pool.h"

namespace imap {

class FolderSync {
 public:
  using Emit = std::function<void(Event&&)>;
  using Done = std::function<void(FolderSyncResult)>;

  FolderSync(PoolConnection* conn, FolderRuntime* rt, const SyncOptions& opts, Emit emit, Done done);
  void start();
  // The connection died under us; finishes with that error.
  void lost(const std::string& code, const std::string& message);

 private:
  void status();
  void select();
  void afterSelect();
  void changedSince();
  void compareWindow();
  void fetchNew();
  void checkDeletions();
  void reportInitial();
  void recordWindow(bool report);
  void finish();
  void error(const std::string& code, const std::string& message);

  void onUntagged(const Response& r);
  void onCode(const ResponseCode& c);
  void onFetch(uint32_t seq, const Value& items);
  void reportFlags(uint32_t seq, const struct FetchItems& f);
  bool condstore() const;
  std::string mailboxArg() const;

  PoolConnection* conn_;
  FolderRuntime* rt_;
  SyncOptions opts_;
  Emit emit_;
  Done done_;
  FolderSyncResult result_;
  std::chrono::steady_clock::time_point started_;

  std::string wire_;
  bool initial_ = false;
  std::optional<SelectedMailbox> sel_;
  bool selecting_ = false;
  enum class Fetching { None, New, Initial, Changed, Window } fetching_ = Fetching::None;
  std::map<uint32_t, std::string> windowSeen_;
  std::optional<UidSet> searched_;
  // The UIDs the sync.initial or flag-window fetch asked for (the initial one
  // minus those reported): answers about other UIDs are ignored.
  UidSet asked_;
  bool statusSeen_ = false;
  StatusItems status_;
  bool finished_ = false;
};

}  // namespace imap
