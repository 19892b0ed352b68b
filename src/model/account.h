// Account configuration as the engine sees it: already validated and
// defaulted by the JS layer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/backoff.h"
#include "model/tls_options.h"

namespace imap {

enum class TlsMode { Implicit, StartTls, None };

struct IdleOptions {
  uint64_t refreshMs = 25 * 60 * 1000;  // RFC 2177: re-issue before 29 min
  uint64_t pollMs = 60 * 1000;          // NOOP interval without IDLE
  uint64_t doneTimeoutMs = 10 * 1000;   // DONE must be answered by then
  // This long without a byte from the server while idling ends IDLE (DONE,
  // answered within doneTimeoutMs, then IDLE again): the only check that
  // catches a server whose kernel still ACKs but whose process stopped.
  // Dovecot's "* OK Still here" (every 2 min) keeps it from ever firing.
  // 0: off.
  uint64_t livenessMs = 4 * 60 * 1000;
};

// TCP keepalive on every connection (IDLE and pooled), and TCP_USER_TIMEOUT
// of idleMs + intervalMs * count. A peer that vanished without FIN/RST
// (NAT timeout, Wi-Fi drop, blackhole) then fails the socket that long
// after its last packet, whether or not we have unacknowledged data. The
// kernel counts in whole seconds, so idleMs and intervalMs round up.
struct KeepaliveOptions {
  uint64_t idleMs = 15 * 1000;  // 0: keepalive and user timeout off
  uint64_t intervalMs = 5 * 1000;
  uint32_t count = 3;
};

struct TimeoutOptions {
  uint64_t connectMs = 30 * 1000;  // DNS + TCP + TLS + greeting
  uint64_t commandMs = 60 * 1000;  // any single command
  uint64_t logoutMs = 2 * 1000;    // LOGOUT on close/remove
};

struct AccountConfig {
  std::string id;
  std::string host;
  uint16_t port = 993;
  TlsMode tls = TlsMode::Implicit;
  TlsOptions tlsOptions;
  std::string user;
  std::string pass;
  std::string accessToken;
  // Tokens come from the app's getAccessToken() through ClientHost.
  bool tokenProvider = false;
  bool allowInsecureAuth = false;
  std::vector<std::string> folders{"INBOX"};
  // newMessage enrichment: a preview of this many characters, and/or the
  // whole parsed message (both need an extra fetch before the event).
  uint32_t previewChars = 0;
  bool fetchBodies = false;
  uint64_t maxBodyBytes = 64u << 20;

  IdleOptions idle;
  KeepaliveOptions keepalive;
  TimeoutOptions timeouts;
  BackoffPolicy reconnect;
  // After AUTH_FAILED the next attempt waits at least this long, so a wrong
  // password never turns into a login storm (and an account lock-out).
  uint64_t authFailureDelayMs = 5 * 60 * 1000;
  bool stopOnAuthFailure = false;
};

// Every holder of an account's config shares it: a connection or a pool
// waiter that outlives the account (a late LOGOUT, a lease answered after
// removal) still reads valid memory, and nothing else keeps a raw pointer.
using AccountConfigPtr = std::shared_ptr<const AccountConfig>;

// A snapshot of one watched folder, readable from any thread.
struct FolderStatus {
  std::string accountId;
  std::string folder;
  std::string state;
  std::string mode;  // "idle" or "poll" once watching, else ""
  uint32_t uidValidity = 0;
  uint32_t uidNext = 0;
  uint64_t highestModseq = 0;
  uint32_t exists = 0;
  std::string lastErrorCode;
  std::string lastErrorMessage;
};

}  // namespace imap
