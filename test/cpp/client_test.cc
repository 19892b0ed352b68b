// ImapClient against a scripted plaintext server on a real libuv loop.
#include "imap/client.h"

#include <gtest/gtest.h>
#include <uv.h>
#include <arpa/inet.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

using namespace imap;

namespace {

// A one-connection server: sends `greeting`, then answers each command line
// with whatever `reply` returns (empty: nothing).
class ScriptServer {
 public:
  ScriptServer(uv_loop_t* loop, std::string greeting, std::function<std::string(const std::string&)> reply)
      : greeting_(std::move(greeting)), reply_(std::move(reply)) {
    uv_tcp_init(loop, &listener_);
    listener_.data = this;
    sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    EXPECT_EQ(uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&addr), 0), 0);
    EXPECT_EQ(uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 4, onConnection), 0);
    sockaddr_storage bound;
    int len = sizeof bound;
    uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&bound), &len);
    port_ = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }

  uint16_t port() const { return port_; }
  const std::vector<std::string>& commands() const { return commands_; }
  void closeClient() {
    if (client_ && !uv_is_closing(reinterpret_cast<uv_handle_t*>(client_))) {
      uv_close(reinterpret_cast<uv_handle_t*>(client_), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
    }
    client_ = nullptr;
  }
  void close() {
    closeClient();
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&listener_))) uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
  }

 private:
  static void onConnection(uv_stream_t* s, int status) {
    auto* self = static_cast<ScriptServer*>(s->data);
    ASSERT_EQ(status, 0);
    self->client_ = new uv_tcp_t;
    uv_tcp_init(s->loop, self->client_);
    self->client_->data = self;
    ASSERT_EQ(uv_accept(s, reinterpret_cast<uv_stream_t*>(self->client_)), 0);
    uv_read_start(reinterpret_cast<uv_stream_t*>(self->client_),
                  [](uv_handle_t*, size_t, uv_buf_t* buf) {
                    static char storage[4096];
                    *buf = uv_buf_init(storage, sizeof storage);
                  },
                  onRead);
    self->send(self->greeting_);
  }

  static void onRead(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
    auto* self = static_cast<ScriptServer*>(s->data);
    if (n <= 0) return;
    self->in_.append(buf->base, static_cast<size_t>(n));
    size_t eol;
    while ((eol = self->in_.find("\r\n")) != std::string::npos) {
      std::string line = self->in_.substr(0, eol);
      self->in_.erase(0, eol + 2);
      self->commands_.push_back(line);
      std::string out = self->reply_(line);
      if (out == "<close>") {
        self->closeClient();
        return;
      }
      self->send(out);
    }
  }

  void send(const std::string& data) {
    if (data.empty() || !client_) return;
    struct Req {
      uv_write_t req;
      std::string data;
    };
    auto* r = new Req{{}, data};
    uv_buf_t b = uv_buf_init(r->data.data(), static_cast<unsigned>(r->data.size()));
    uv_write(&r->req, reinterpret_cast<uv_stream_t*>(client_), &b, 1,
             [](uv_write_t* req, int) { delete reinterpret_cast<Req*>(req); });
  }

  uv_tcp_t listener_;
  uv_tcp_t* client_ = nullptr;
  uint16_t port_ = 0;
  std::string greeting_;
  std::function<std::string(const std::string&)> reply_;
  std::string in_;
  std::vector<std::string> commands_;
};

class Host : public ClientHost {
 public:
  explicit Host(uv_loop_t* loop) { shared_.loop = loop; }
  LoopShared* shared() override { return &shared_; }
  void accessToken(const AccountConfig&, bool, std::function<void(const std::string&, const std::string&)> done) override {
    done("", "no tokens here");
  }
  LoopShared shared_;
};

class TestClient : public ImapClient {
 public:
  using ImapClient::ImapClient;
  using ImapClient::releaseScratch;
  using ImapClient::settled;
  void start() { connect(); }

  std::function<void()> authenticatedHook;
  std::vector<std::string> untagged;
  std::string failure;

 private:
  void onAuthenticated() override {
    if (authenticatedHook) authenticatedHook();
  }
  void onFailure(const std::string& code, const std::string&) override { failure = code; }
  void onUntagged(const Response& r) override {
    untagged.push_back((r.number ? std::to_string(*r.number) + " " : std::string()) + r.keyword);
  }
};

AccountConfig plainConfig(uint16_t port) {
  AccountConfig cfg;
  cfg.id = "t";
  cfg.host = "127.0.0.1";
  cfg.port = port;
  cfg.tls = TlsMode::None;
  cfg.allowInsecureAuth = true;
  cfg.user = "u";
  cfg.pass = "p";
  cfg.timeouts.connectMs = 5000;
  cfg.timeouts.commandMs = 5000;
  return cfg;
}

std::string tagOf(const std::string& line) { return line.substr(0, line.find(' ')); }

// Runs the loop until `done` or a 5 s deadline.
void runUntil(uv_loop_t* loop, const std::function<bool()>& done) {
  uint64_t until = uv_now(loop) + 5000;
  while (!done() && uv_now(loop) < until) uv_run(loop, UV_RUN_ONCE);
}

void drain(uv_loop_t* loop) {
  uv_run(loop, UV_RUN_DEFAULT);
  EXPECT_EQ(uv_loop_close(loop), 0);
}

}  // namespace

TEST(Client, CapabilitiesMatchWholeNamesCaseInsensitively) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  ScriptServer server(&loop, "* PREAUTH ready\r\n", [](const std::string& line) -> std::string {
    return "* CAPABILITY IMAP4rev1 idle Literal+ AUTH=PLAIN X-LONG-EXTENSION=1\r\n" + tagOf(line) + " OK done\r\n";
  });
  Host host(&loop);
  AccountConfig cfg = plainConfig(server.port());
  bool authed = false;
  {
    TestClient c(&host, std::make_shared<const AccountConfig>(cfg), nullptr);
    c.authenticatedHook = [&] {
      authed = true;
      for (const char* cap : {"IMAP4REV1", "IDLE", "LITERAL+", "AUTH=PLAIN", "X-LONG-EXTENSION=1"})
        EXPECT_TRUE(c.hasCap(cap)) << cap;
      // Whole names only: no prefixes, suffixes or spans of two names.
      for (const char* cap : {"IDL", "DLE", "LITERAL", "AUTH", "IDLE LITERAL+", "", "STARTTLS"})
        EXPECT_FALSE(c.hasCap(cap)) << cap;
    };
    c.start();
    runUntil(&loop, [&] { return authed || !c.failure.empty(); });
    EXPECT_TRUE(authed) << c.failure;
  }
  server.close();
  drain(&loop);
}

TEST(Client, ParserKeepsWorkingAfterReleasingScratch) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  ScriptServer server(&loop, "* PREAUTH [CAPABILITY IMAP4rev1 IDLE] ready\r\n", [](const std::string& line) -> std::string {
    if (line.find("NOOP") != std::string::npos) {
      // Large enough to grow the parser's buffers again, split over lines.
      return "* 7 EXISTS\r\n* 3 FETCH (UID 9 FLAGS (\\Seen) BODY[] {40}\r\n" + std::string(40, 'x') + ")\r\n" +
             tagOf(line) + " OK done\r\n";
    }
    return "* CAPABILITY IMAP4rev1 IDLE\r\n" + tagOf(line) + " OK done\r\n";
  });
  Host host(&loop);
  AccountConfig cfg = plainConfig(server.port());
  int noops = 0;
  {
    TestClient c(&host, std::make_shared<const AccountConfig>(cfg), nullptr);
    c.authenticatedHook = [&] {
      c.releaseScratch();
      c.send("NOOP", [&](const Response& r) {
        EXPECT_EQ(r.status, "OK");
        c.releaseScratch();
        if (++noops == 1) c.send("NOOP", [&](const Response& r2) {
          EXPECT_EQ(r2.status, "OK");
          ++noops;
        });
      });
    };
    c.start();
    runUntil(&loop, [&] { return noops == 2 || !c.failure.empty(); });
    EXPECT_EQ(noops, 2) << c.failure;
    EXPECT_EQ(c.untagged, (std::vector<std::string>{"7 EXISTS", "3 FETCH", "7 EXISTS", "3 FETCH"}));
  }
  server.close();
  drain(&loop);
}

// Every setup is counted while it runs and uncounted exactly once however it
// ends: logged in, failed, or the client destroyed half-way.
TEST(Client, SetupCountBalancedOnEveryPath) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  bool hangUp = false;
  ScriptServer server(&loop, "* PREAUTH ready\r\n", [&](const std::string& line) -> std::string {
    if (hangUp) return "<close>";
    return "* CAPABILITY IMAP4rev1\r\n" + tagOf(line) + " OK done\r\n";
  });
  Host host(&loop);
  LoopShared& shared = host.shared_;
  AccountConfig cfg = plainConfig(server.port());
  {
    // Logged in: settled by the base class after login.
    TestClient c(&host, std::make_shared<const AccountConfig>(cfg), nullptr);
    size_t during = 0;
    bool authed = false;
    c.authenticatedHook = [&] { authed = true; };
    c.start();
    during = shared.settingUp;
    runUntil(&loop, [&] { return authed || !c.failure.empty(); });
    EXPECT_TRUE(authed);
    EXPECT_EQ(during, 1u);
    EXPECT_EQ(shared.settingUp, 0u);
    c.settled();  // idempotent
    EXPECT_EQ(shared.settingUp, 0u);
    EXPECT_EQ(shared.setupsSinceTrim, 1u);
  }
  server.closeClient();
  {
    // Failed: the server hangs up before answering.
    hangUp = true;
    TestClient c(&host, std::make_shared<const AccountConfig>(cfg), nullptr);
    c.start();
    EXPECT_EQ(shared.settingUp, 1u);
    runUntil(&loop, [&] { return !c.failure.empty(); });
    EXPECT_EQ(c.failure, "CONNECTION_LOST");
    EXPECT_EQ(shared.settingUp, 0u);
    // A reconnect counts again, once however often connect() is called.
    c.start();
    c.start();
    EXPECT_EQ(shared.settingUp, 1u);
  }
  // Destroyed while setting up.
  EXPECT_EQ(shared.settingUp, 0u);
  server.close();
  drain(&loop);
}
