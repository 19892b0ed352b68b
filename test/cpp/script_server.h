// A small IMAP server for the C++ engine tests: loopback only, one thread
// per connection, plain answers to what the engine sends. `holdAt(cmd)` makes
// it stop answering at that command (or "GREETING"), so a test can act while a
// session sits in exactly that phase; release() lets everything go on.
// `deliver()` adds a message and tells the sessions in IDLE (`* N EXISTS`);
// UID FETCH then answers with each message's envelope.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

class ScriptServer {
 public:
  ScriptServer() {
    listen_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listen_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listen_, 16);
    socklen_t len = sizeof a;
    getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { acceptLoop(); });
  }
  ~ScriptServer() {
    stop_ = true;
    release();
    shutdown(listen_, SHUT_RDWR);
    close(listen_);
    acceptor_.join();
    for (auto& t : sessions_) t.join();
  }
  uint16_t port() const { return port_; }

  void holdAt(const std::string& command) {
    std::lock_guard<std::mutex> lock(mu_);
    hold_ = command;
  }
  void release() {
    std::lock_guard<std::mutex> lock(mu_);
    hold_.clear();
    cv_.notify_all();
  }
  // One more message in the (single) mailbox, announced to every session in IDLE
  // within one poll interval unless `announce` is false (then only a SELECT
  // finds it). Returns when it was queued (steady clock).
  std::chrono::steady_clock::time_point deliver(bool announce = true) {
    std::lock_guard<std::mutex> lock(mu_);
    ++messages_;
    if (announce) ++announce_;
    return std::chrono::steady_clock::now();
  }
  // True once some session reached `command` (upper-case verb, or GREETING).
  bool waitSeen(const std::string& command, int ms = 5000) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return seen_.count(command) > 0; });
  }

 private:
  void acceptLoop() {
    // Bounded by the destructor's shutdown(): accept fails and the loop ends.
    while (!stop_) {
      int fd = accept(listen_, nullptr, nullptr);
      if (fd < 0) return;
      std::lock_guard<std::mutex> lock(mu_);
      sessions_.emplace_back([this, fd] { serve(fd); });
    }
  }

  // Waits while this phase is held; false when the server is stopping.
  bool reach(const std::string& phase) {
    std::unique_lock<std::mutex> lock(mu_);
    seen_.insert(phase);
    cv_.notify_all();
    cv_.wait(lock, [&] { return stop_ || hold_ != phase; });
    return !stop_;
  }

  static bool sendAll(int fd, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  // One line, or false on EOF, error or stop (polled, so a stop is seen).
  // While `idling`, new messages are announced between polls.
  bool readLine(int fd, std::string& buf, std::string& line, bool idling = false, uint32_t* announced = nullptr) {
    for (;;) {
      if (idling && announced) {
        uint32_t n = 0;
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (*announced < announce_) n = messages_;
          *announced = announce_;
        }
        if (n && !sendAll(fd, "* " + std::to_string(n) + " EXISTS\r\n")) return false;
      }
      size_t eol = buf.find("\r\n");
      if (eol != std::string::npos) {
        line = buf.substr(0, eol);
        buf.erase(0, eol + 2);
        return true;
      }
      pollfd p{fd, POLLIN, 0};
      int r = poll(&p, 1, idling ? 10 : 100);
      if (stop_) return false;
      if (r <= 0) continue;
      char tmp[4096];
      ssize_t n = recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0) return false;
      buf.append(tmp, static_cast<size_t>(n));
    }
  }

  void serve(int fd) {
    static const std::string caps = "IMAP4rev1 IDLE UIDPLUS";
    std::string buf, line, idleTag;
    bool idling = false;
    uint32_t announced = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      announced = announce_;  // a new session learns the count from SELECT
    }
    if (reach("GREETING") && sendAll(fd, "* OK [CAPABILITY " + caps + "] ready\r\n")) {
      while (readLine(fd, buf, line, idling, &announced)) {
        if (line == "DONE") {
          idling = false;
          if (!sendAll(fd, idleTag + " OK idle done\r\n")) break;
          continue;
        }
        size_t sp = line.find(' ');
        std::string tag = line.substr(0, sp);
        std::string rest = sp == std::string::npos ? "" : line.substr(sp + 1);
        std::string verb = rest.substr(0, rest.find(' '));
        for (auto& ch : verb) ch = static_cast<char>(toupper(static_cast<unsigned char>(ch)));
        if (verb == "UID") {
          std::string sub = rest.substr(4, rest.find(' ', 4) - 4);
          for (auto& ch : sub) ch = static_cast<char>(toupper(static_cast<unsigned char>(ch)));
          verb += " " + sub;
        }
        if (!reach(verb)) break;
        std::string out;
        if (verb == "CAPABILITY") out = "* CAPABILITY " + caps + "\r\n" + tag + " OK\r\n";
        else if (verb == "LOGIN") out = tag + " OK [CAPABILITY " + caps + "] logged in\r\n";
        else if (verb == "SELECT" || verb == "EXAMINE") {
          uint32_t n = count();
          out = "* " + std::to_string(n) + " EXISTS\r\n* OK [UIDVALIDITY 7] v\r\n* OK [UIDNEXT " + std::to_string(n + 1) +
                "] n\r\n" + tag + " OK [READ-WRITE] selected\r\n";
        } else if (verb == "UID FETCH") {
          // Every message from the set's first UID on ("N:*"), as the engine asks for new mail.
          size_t at = rest.find(' ', 10);
          uint32_t from = static_cast<uint32_t>(std::stoul(rest.substr(10, at - 10)));
          for (uint32_t uid = std::max(from, 1u); uid <= count(); ++uid)
            out += "* " + std::to_string(uid) + " FETCH (UID " + std::to_string(uid) +
                   " FLAGS () INTERNALDATE \"01-Jan-2026 00:00:00 +0000\" RFC822.SIZE 10 ENVELOPE (NIL \"m" +
                   std::to_string(uid) + "\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n";
          out += tag + " OK\r\n";
        }
        else if (verb == "STATUS") out = "* STATUS INBOX (MESSAGES 0 UIDNEXT 1 UIDVALIDITY 7)\r\n" + tag + " OK\r\n";
        else if (verb == "UID SEARCH" || verb == "SEARCH") out = "* SEARCH\r\n" + tag + " OK\r\n";
        else if (verb == "IDLE") {
          idleTag = tag;
          idling = true;
          out = "+ idling\r\n";
        } else if (verb == "LOGOUT") {
          sendAll(fd, "* BYE bye\r\n" + tag + " OK\r\n");
          break;
        } else out = tag + " OK\r\n";
        if (!sendAll(fd, out)) break;
      }
    }
    close(fd);
  }

  int listen_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::vector<std::thread> sessions_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string hold_;
  std::set<std::string> seen_;
  uint32_t messages_ = 0;  // UIDs 1..messages_, sequence number = UID
  uint32_t announce_ = 0;  // bumped by deliver(): sessions compare it with what they announced

  uint32_t count() {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }
};
