// OAuth2 access tokens per account: cached, refreshed ahead of expiry, and
// fetched once however many connections ask at the same moment.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace imap {

class TokenBroker {
 public:
  using Callback = std::function<void(const std::string& token, const std::string& error)>;
  // Asks the app for a token; the answer comes back through provide().
  using Request = std::function<void(const std::string& accountId)>;

  TokenBroker(Request request, uint64_t refreshBeforeMs) : request_(std::move(request)), refreshBeforeMs_(refreshBeforeMs) {}

  // nowMs: wall-clock ms (expiresAt is wall-clock, as apps get it from
  // their OAuth server). `force` discards the cached token.
  void get(const std::string& accountId, bool force, double nowMs, Callback done);
  // The app's answer to the request in flight; ignored when none is.
  // expiresAtMs <= 0 means "unknown": cached until a server rejects it.
  void provide(const std::string& accountId, const std::string& token, double expiresAtMs, const std::string& error);
  void forget(const std::string& accountId);

  uint64_t requests() const { return requests_; }

 private:
  struct Entry {
    std::string token;
    double expiresAt = 0;
    bool inflight = false;
    std::vector<Callback> waiters;
  };
  Request request_;
  uint64_t refreshBeforeMs_;
  std::map<std::string, Entry> entries_;
  uint64_t requests_ = 0;
};

}  // namespace imap
