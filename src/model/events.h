// Plain event structs: the only thing that leaves the engine thread.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/value.h"
#include "model/message.h"
#include "model/folder_info.h"
#include "model/actions.h"
#include "mime/mime.h"

namespace imap {

// A watched folder connection's public state. Exactly these seven.
enum class ConnState { Disconnected, Connecting, Connected, Authenticating, Authenticated, Idle, Error };
const char* stateName(ConnState s);

struct Event {
  enum class Type {
    NewMessage,
    MessageDeleted,
    FlagsChanged,
    ConnectionStatus,
    IdleRefreshed,
    FolderReset,
    AccountReady,    // every folder of a new account is watched
    AccountFailed,   // the first connection of a new account failed
    AccountRemoved,  // removeAccount finished
    TokenRequest,    // call the account's getAccessToken() and provideToken()
    SyncStarted,
    SyncProgress,    // done/total folders of a running sync
    SyncCompleted,   // requestIds: the sync() calls this run answers
    FolderList,      // answer to listFolders(requestId)
    MessageFetched,  // answer to fetchMessage(requestId)
    ActionDone,      // answer to storeFlags / deleteMessages(requestId)
    MessageListed,   // one message of listMessages(requestId), before its ActionDone
    FolderChanged,   // a watched folder's counts differ from the last ones sent
    Closed,          // the engine finished close(); no event follows
  };

  Type type = Type::ConnectionStatus;
  std::string accountId;
  std::string folder;

  // Every event is about one account, and often one folder: the one way
  // events are started, so none misses its account.
  static Event of(Type t, std::string account, std::string inFolder = {}) {
    Event e;
    e.type = t;
    e.accountId = std::move(account);
    e.folder = std::move(inFolder);
    return e;
  }

  uint32_t uid = 0;  // 0 = none (MessageDeleted always has one: a bare EXPUNGE waits for the sync)
  uint32_t seq = 0;  // 0 = not applicable
  uint32_t uidValidity = 0;
  uint64_t modseq = 0;
  uint64_t size = 0;
  double internalDate = NAN;
  std::vector<std::string> flags;
  bool hasEnvelope = false;
  Envelope envelope;
  bool hasPreview = false;
  std::string preview;
  std::shared_ptr<ParsedMessage> message;  // fetchBodies / fetchMessage
  // NewMessage pushed by IDLE: when the untagged EXISTS that announced it was
  // read (steady clock). The binding turns it into pushLatencyMs as it hands
  // the event to JS; a message found by a sync or a catch-up has none.
  std::optional<std::chrono::steady_clock::time_point> existsSeenAt;

  ConnState state = ConnState::Disconnected;
  ConnState previous = ConnState::Disconnected;
  std::string errorCode;  // empty when no error
  std::string errorMessage;
  // ConnectionStatus after a failure: the reconnect this failure scheduled,
  // as the how-many-th in a row and in how long; -1 when none follows.
  int64_t retryInMs = -1;
  uint32_t attempt = 0;

  // Answers to requests, and sync progress.
  uint64_t requestId = 0;
  std::vector<uint64_t> requestIds;
  uint32_t done = 0, total = 0;
  double durationMs = 0;
  std::vector<FolderSyncResult> syncResults;
  std::vector<FolderInfo> folders;
  // ActionDone: the UIDs a conditional STORE left alone (RFC 7162 MODIFIED),
  // or those a SEARCH found; a copy's COPYUID sets, with uidValidity.
  std::string uidSet;
  std::string copySource, copyDest;
  std::vector<QuotaRoot> quota;  // ActionDone of quota()
  // MessageListed, when asked for: the BODYSTRUCTURE as the server sent it, and the header block.
  std::shared_ptr<const Value> bodyStructure;
  std::string headers;
  std::shared_ptr<const std::string> data;  // ActionDone of downloadPart: the decoded part
  bool truncated = false;
  std::string partType, partEncoding;
  // FolderChanged, and ActionDone answering folderStatus.
  std::optional<FolderCounts> counts;
};

}  // namespace imap
