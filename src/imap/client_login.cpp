// ImapClient's way in: capabilities, STARTTLS, then LOGIN or SASL (PLAIN,
// XOAUTH2, OAUTHBEARER) up to the authenticated state. The rest of the
// client (connection, command queue, timers) is client.cpp.
#include "imap/auth.h"
#include "imap/client.h"
#include "imap/fetch.h"

namespace imap {

namespace {

bool isNoOrBad(const Response& r) { return r.status == "NO" || r.status == "BAD"; }

}  // namespace

void ImapClient::requestCapabilities(std::function<void()> then) {
  if (!caps_.empty()) {
    then();
    return;
  }
  send("CAPABILITY", [this, then = std::move(then)](const Response& r) {
    if (r.status != "OK") {
      fail("PROTOCOL_ERROR", "CAPABILITY failed: " + describe(r));
      return;
    }
    then();
  });
}

// ---- login ----

void ImapClient::startTls() {
  if (!hasCap("STARTTLS")) {
    fail("TLS_FAILED", "server does not offer STARTTLS; refusing to continue without TLS");
    return;
  }
  send("STARTTLS", [this](const Response& r) {
    if (r.status != "OK") {
      fail("TLS_FAILED", "STARTTLS refused: " + describe(r));
      return;
    }
    tlsSwitching_ = true;
    parser_.reset();
    arm(kConnectTimer, cfg_->timeouts.connectMs);
    conn_->startTls(tls_);
  });
}

void ImapClient::authenticate() {
  if (!conn_->secure() && !cfg_->allowInsecureAuth) {
    fail("INSECURE_AUTH",
         "refusing to send credentials over an unencrypted connection (set allowInsecureAuth to allow it)");
    return;
  }
  setState(ConnState::Authenticating);
  capsFresh_ = false;
  if (!cfg_->tokenProvider) {
    authenticateWith(cfg_->accessToken);
    return;
  }
  std::weak_ptr<char> alive = alive_;
  uint64_t gen = generation_;
  // While the app fetches a token the server waits; the command timer bounds it.
  arm(kCommandTimer, cfg_->timeouts.commandMs);
  host_->accessToken(*cfg_, tokenRetried_, [this, alive, gen](const std::string& token, const std::string& err) {
    if (alive.expired() || gen != generation_ || !connected() || leaving_) return;
    disarm();
    if (token.empty()) {
      fail("AUTH_FAILED", "getAccessToken failed: " + err);
      return;
    }
    authenticateWith(token);
  });
}

void ImapClient::authenticateWith(const std::string& token) {
  if (!token.empty()) {
    if (hasCap("AUTH=XOAUTH2")) {
      authenticateSasl("XOAUTH2", saslXOAuth2(cfg_->user, token));
    } else if (hasCap("AUTH=OAUTHBEARER")) {
      authenticateSasl("OAUTHBEARER", saslOAuthBearer(cfg_->user, token, cfg_->host, cfg_->port));
    } else {
      fail("AUTH_FAILED", "server offers neither AUTH=XOAUTH2 nor AUTH=OAUTHBEARER for an access token");
    }
    return;
  }
  if (hasCap("AUTH=PLAIN")) {
    authenticateSasl("PLAIN", saslPlain(cfg_->user, cfg_->pass));
    return;
  }
  if (hasCap("LOGINDISABLED")) {
    fail("AUTH_FAILED", "server disabled LOGIN and offers no AUTH=PLAIN");
    return;
  }
  send(astringArgs("LOGIN", {cfg_->user, cfg_->pass}), [this](const Response& r) {
    if (isNoOrBad(r)) {
      fail("AUTH_FAILED", "login failed: " + describe(r));
      return;
    }
    authenticated();
  });
}

void ImapClient::authenticateSasl(const std::string& mech, const std::string& initial) {
  bool saslIr = hasCap("SASL-IR");
  auto sentInitial = std::make_shared<bool>(saslIr);
  auto onContinue = [this, initial, sentInitial](const Response&) {
    // A second '+' carries an error report (XOAUTH2/OAUTHBEARER); an empty
    // reply lets the server finish with a tagged NO.
    conn_->write(*sentInitial ? std::string("\r\n") : initial + "\r\n");
    *sentInitial = true;
  };
  std::string text = "AUTHENTICATE " + mech + (saslIr ? " " + (initial.empty() ? std::string("=") : initial) : "");
  send(std::vector<std::string>{text},
       [this](const Response& r) {
         if (!isNoOrBad(r)) {
           authenticated();
           return;
         }
         if (cfg_->tokenProvider && !tokenRetried_) {
           // The cached token may have been revoked early: refresh once.
           tokenRetried_ = true;
           authenticate();
           return;
         }
         fail("AUTH_FAILED", "authentication failed: " + describe(r));
       },
       onContinue);
}

void ImapClient::authenticated() {
  setState(ConnState::Authenticated);
  // Capabilities may change after login; the tagged OK often carries them.
  if (!capsFresh_) caps_.clear();
  requestCapabilities([this] {
    if (settlesAfterLogin()) settled();
    onAuthenticated();
  });
}

}  // namespace imap
