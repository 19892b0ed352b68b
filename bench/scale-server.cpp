// A minimal implicit-TLS IMAP server for the connection-scale benchmark
// (bench/scale.js): one thread, libuv readiness polling and OpenSSL reading
// and writing the non-blocking sockets directly, so an idle connection costs
// a uv_poll_t, a small struct and an SSL object (with SSL_MODE_RELEASE_BUFFERS
// its record buffers are freed while idle). It holds tens of thousands of
// idle connections on 127.0.0.1 for a few hundred bytes of heap each plus
// OpenSSL's per-connection state.
//
//   scale_server [--port 0] [--cert-out FILE] [--cert FILE --key FILE] [--rsa]
//                [--tickets N]
//
// Prints one JSON line {"port":N,"fdLimit":N,...} once listening. Then reads
// commands on stdin, one per line, each answered by one JSON line on stdout:
//   stats   counters (open connections, completed handshakes, authenticated,
//           selected, idling, commands), RSS and CPU time of this process
//   quit    exits (so does end of stdin: it never outlives the benchmark)
//
// IMAP: greeting "* OK [CAPABILITY IMAP4rev1 IDLE QRESYNC CONDSTORE ENABLE
// SASL-IR AUTH=PLAIN] ready"; CAPABILITY, AUTHENTICATE PLAIN and LOGIN (any
// credentials), ENABLE, SELECT/EXAMINE (an empty mailbox: 0 EXISTS,
// UIDVALIDITY 1, UIDNEXT 1, HIGHESTMODSEQ 1), IDLE/DONE, NOOP, LOGOUT;
// anything else gets a tagged OK. Literals ({n} and {n+}) are accepted.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

const char kCaps[] = "IMAP4rev1 IDLE QRESYNC CONDSTORE ENABLE SASL-IR AUTH=PLAIN";

struct Stats {
  long long open = 0, accepted = 0, handshakes = 0, tlsFailures = 0, authenticated = 0, selected = 0,
            idling = 0, commands = 0, closedByPeer = 0, logouts = 0, acceptErrors = 0;
} g;

uv_loop_t* loop;
SSL_CTX* ctx;
int listenFd = -1;
uv_poll_t listenPoll;
uv_timer_t acceptRetry;
uv_pipe_t stdinPipe;
std::string ctlBuf;

void onConnPoll(uv_poll_t* h, int status, int events);

struct Conn {
  uv_poll_t poll;  // poll.data == this
  int fd = -1;
  SSL* ssl = nullptr;
  int events = 0;
  bool handshaken = false, authed = false, selected = false, closing = false;
  size_t literalLeft = 0;  // raw literal bytes still expected inside the current command
  size_t scanFrom = 0;     // where to look for the next CRLF in `in`
  std::string in;          // the incomplete command (empty while idle)
  std::string out;         // plaintext SSL_write could not take yet
  std::string idleTag;     // tag of the IDLE in progress
  std::string saslTag;     // AUTHENTICATE waiting for its client response
};

void setEvents(Conn* c, int ev) {
  if (c->closing || ev == c->events) return;
  c->events = ev;
  uv_poll_start(&c->poll, ev, onConnPoll);
}

void releaseString(std::string& s) {
  if (s.capacity() > 64) std::string().swap(s);
  else s.clear();
}

void closeConn(Conn* c) {
  if (c->closing) return;
  c->closing = true;
  --g.open;
  if (c->authed) --g.authenticated;
  if (c->selected) --g.selected;
  if (!c->idleTag.empty()) --g.idling;
  if (c->ssl) {
    SSL_free(c->ssl);
    c->ssl = nullptr;
  }
  uv_poll_stop(&c->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&c->poll), [](uv_handle_t* h) {
    Conn* c = static_cast<Conn*>(h->data);
    ::close(c->fd);
    delete c;
  });
}

// Pushes c->out through SSL_write as far as the socket takes it.
void flushOut(Conn* c) {
  while (!c->out.empty() && !c->closing) {
    size_t n = 0;
    ERR_clear_error();
    if (SSL_write_ex(c->ssl, c->out.data(), c->out.size(), &n) == 1) {
      c->out.erase(0, n);
      continue;
    }
    int e = SSL_get_error(c->ssl, 0);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
      setEvents(c, UV_READABLE | UV_WRITABLE);
      return;
    }
    closeConn(c);
    return;
  }
  if (c->closing) return;
  releaseString(c->out);
  setEvents(c, UV_READABLE);
}

void send(Conn* c, std::string_view s) {
  c->out.append(s.data(), s.size());
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  return true;
}

std::string_view nextWord(std::string_view& s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  size_t sp = s.find(' ');
  std::string_view w = s.substr(0, sp);
  s.remove_prefix(sp == std::string_view::npos ? s.size() : sp);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return w;
}

void ok(Conn* c, std::string_view tag, std::string_view text) {
  std::string r;
  r.reserve(tag.size() + text.size() + 8);
  r.append(tag).append(" OK ").append(text).append("\r\n");
  send(c, r);
}

void authenticated(Conn* c, std::string_view tag) {
  if (!c->authed) {
    c->authed = true;
    ++g.authenticated;
  }
  ok(c, tag, std::string("[CAPABILITY ") + kCaps + "] authenticated");
}

// One complete command line (literals included, CRLF removed).
void command(Conn* c, std::string_view line) {
  ++g.commands;
  if (!c->idleTag.empty()) {  // anything ends IDLE; it should be DONE
    std::string tag = std::move(c->idleTag);
    c->idleTag.clear();
    --g.idling;
    ok(c, tag, "IDLE terminated");
    return;
  }
  if (!c->saslTag.empty()) {  // the AUTHENTICATE client response
    std::string tag = std::move(c->saslTag);
    c->saslTag.clear();
    if (line == "*") send(c, tag + " BAD AUTHENTICATE cancelled\r\n");
    else authenticated(c, tag);
    return;
  }
  std::string_view rest = line;
  std::string_view tag = nextWord(rest);
  std::string_view verb = nextWord(rest);
  if (tag.empty() || verb.empty()) {
    send(c, "* BAD empty command\r\n");
    return;
  }
  if (iequals(verb, "UID")) verb = nextWord(rest);
  if (iequals(verb, "CAPABILITY")) {
    send(c, std::string("* CAPABILITY ") + kCaps + "\r\n");
    ok(c, tag, "CAPABILITY completed");
  } else if (iequals(verb, "AUTHENTICATE")) {
    nextWord(rest);  // mechanism: anything goes
    if (rest.empty()) {
      c->saslTag.assign(tag);
      send(c, "+ \r\n");
    } else {
      authenticated(c, tag);
    }
  } else if (iequals(verb, "LOGIN")) {
    authenticated(c, tag);
  } else if (iequals(verb, "ENABLE")) {
    std::string enabled;
    for (std::string_view w = nextWord(rest); !w.empty(); w = nextWord(rest)) {
      if (iequals(w, "QRESYNC") || iequals(w, "CONDSTORE")) enabled.append(" ").append(w);
    }
    if (!enabled.empty()) send(c, "* ENABLED" + enabled + "\r\n");
    ok(c, tag, "ENABLE completed");
  } else if (iequals(verb, "SELECT") || iequals(verb, "EXAMINE")) {
    send(c,
         "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
         "* 0 EXISTS\r\n"
         "* OK [UIDVALIDITY 1] UIDs valid\r\n"
         "* OK [UIDNEXT 1] Predicted next UID\r\n"
         "* OK [HIGHESTMODSEQ 1] Highest\r\n");
    if (!c->selected) {
      c->selected = true;
      ++g.selected;
    }
    ok(c, tag, iequals(verb, "SELECT") ? "[READ-WRITE] SELECT completed" : "[READ-ONLY] EXAMINE completed");
  } else if (iequals(verb, "IDLE")) {
    c->idleTag.assign(tag);
    ++g.idling;
    send(c, "+ idling\r\n");
  } else if (iequals(verb, "LOGOUT")) {
    ++g.logouts;
    send(c, "* BYE logging out\r\n");
    ok(c, tag, "LOGOUT completed");
    flushOut(c);
    if (!c->closing) {
      SSL_shutdown(c->ssl);
      closeConn(c);
    }
  } else {  // NOOP, CHECK, ID, NAMESPACE, LIST, STATUS, ...: nothing to report
    ok(c, tag, "completed");
  }
}

// Splits c->in into commands. A line ending in {n} or {n+} continues after
// n raw bytes; a synchronising literal gets its "+" first.
void scan(Conn* c) {
  for (;;) {
    if (c->closing) return;
    if (c->literalLeft) {
      size_t avail = c->in.size() - c->scanFrom;
      size_t take = avail < c->literalLeft ? avail : c->literalLeft;
      c->scanFrom += take;
      c->literalLeft -= take;
      if (c->literalLeft) return;
    }
    size_t lf = c->in.find('\n', c->scanFrom);
    if (lf == std::string::npos) {
      if (c->in.size() > (1 << 20)) closeConn(c);  // no sane client sends this
      return;
    }
    size_t end = lf;
    if (end > 0 && c->in[end - 1] == '\r') --end;
    std::string_view line(c->in.data(), end);
    if (!line.empty() && line.back() == '}') {
      size_t open = line.rfind('{');
      if (open != std::string_view::npos) {
        std::string_view num = line.substr(open + 1, line.size() - open - 2);
        bool sync = true;
        if (!num.empty() && num.back() == '+') {
          sync = false;
          num.remove_suffix(1);
        }
        c->literalLeft = std::strtoull(std::string(num).c_str(), nullptr, 10);
        c->scanFrom = lf + 1;
        if (sync) send(c, "+ go ahead\r\n");
        if (c->literalLeft) continue;
      }
    }
    std::string cmd(c->in.data(), end);
    c->in.erase(0, lf + 1);
    c->scanFrom = 0;
    command(c, cmd);
  }
}

void readSome(Conn* c) {
  char buf[16384];
  for (;;) {
    if (c->closing) return;
    size_t n = 0;
    ERR_clear_error();
    if (SSL_read_ex(c->ssl, buf, sizeof buf, &n) == 1) {
      c->in.append(buf, n);
      scan(c);
      continue;
    }
    int e = SSL_get_error(c->ssl, 0);
    if (e == SSL_ERROR_WANT_READ) break;
    if (e == SSL_ERROR_WANT_WRITE) {
      setEvents(c, UV_READABLE | UV_WRITABLE);
      break;
    }
    ++g.closedByPeer;  // close_notify, EOF or a reset
    closeConn(c);
    return;
  }
  if (c->in.empty()) releaseString(c->in);
  flushOut(c);
}

void handshake(Conn* c) {
  ERR_clear_error();
  int r = SSL_accept(c->ssl);
  if (r == 1) {
    c->handshaken = true;
    ++g.handshakes;
    send(c, std::string("* OK [CAPABILITY ") + kCaps + "] ready\r\n");
    flushOut(c);
    if (!c->closing) readSome(c);
    return;
  }
  int e = SSL_get_error(c->ssl, r);
  if (e == SSL_ERROR_WANT_READ) {
    setEvents(c, UV_READABLE);
  } else if (e == SSL_ERROR_WANT_WRITE) {
    setEvents(c, UV_READABLE | UV_WRITABLE);
  } else {
    ++g.tlsFailures;
    closeConn(c);
  }
}

void onConnPoll(uv_poll_t* h, int status, int events) {
  Conn* c = static_cast<Conn*>(h->data);
  if (c->closing) return;
  if (status < 0) {
    ++g.closedByPeer;
    closeConn(c);
    return;
  }
  if (!c->handshaken) {
    handshake(c);
    return;
  }
  if (events & UV_WRITABLE) flushOut(c);
  if (!c->closing && (events & (UV_READABLE | UV_DISCONNECT))) readSome(c);
}

void startListening();

void onListen(uv_poll_t*, int status, int) {
  if (status < 0) return;
  for (;;) {
    int fd = accept4(listenFd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      // EMFILE/ENFILE/ENOBUFS: pause accepting instead of spinning on a ready socket.
      if (g.acceptErrors++ == 0) std::fprintf(stderr, "scale-server: accept: %s\n", std::strerror(errno));
      uv_poll_stop(&listenPoll);
      uv_timer_start(&acceptRetry, [](uv_timer_t*) { startListening(); }, 100, 0);
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    Conn* c = new Conn;
    c->fd = fd;
    c->ssl = SSL_new(ctx);
    if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1 || uv_poll_init_socket(loop, &c->poll, fd) != 0) {
      if (c->ssl) SSL_free(c->ssl);
      ::close(fd);
      delete c;
      ++g.tlsFailures;
      continue;
    }
    c->poll.data = c;
    ++g.open;
    ++g.accepted;
    handshake(c);  // nothing to read yet: arms the poll
  }
}

void startListening() { uv_poll_start(&listenPoll, UV_READABLE, onListen); }

long rssKiB() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  long pages = 0, resident = 0;
  if (f) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

void printStats() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto us = [](const timeval& t) { return static_cast<long long>(t.tv_sec) * 1000000 + t.tv_usec; };
  std::printf(
      "{\"connections\":%lld,\"accepted\":%lld,\"handshakes\":%lld,\"tlsFailures\":%lld,"
      "\"authenticated\":%lld,\"selected\":%lld,\"idling\":%lld,\"commands\":%lld,\"closedByPeer\":%lld,"
      "\"logouts\":%lld,\"acceptErrors\":%lld,\"rssKiB\":%ld,\"cpuUserUs\":%lld,\"cpuSystemUs\":%lld}\n",
      g.open, g.accepted, g.handshakes, g.tlsFailures, g.authenticated, g.selected, g.idling, g.commands,
      g.closedByPeer, g.logouts, g.acceptErrors, rssKiB(), us(ru.ru_utime), us(ru.ru_stime));
  std::fflush(stdout);
}

void onControl(uv_stream_t*, ssize_t n, const uv_buf_t* buf) {
  if (n < 0) {  // EOF: the benchmark is gone
    delete[] buf->base;
    std::exit(0);
  }
  ctlBuf.append(buf->base, static_cast<size_t>(n));
  delete[] buf->base;
  size_t lf;
  while ((lf = ctlBuf.find('\n')) != std::string::npos) {
    std::string cmd = ctlBuf.substr(0, lf);
    ctlBuf.erase(0, lf + 1);
    if (!cmd.empty() && cmd.back() == '\r') cmd.pop_back();
    if (cmd == "stats") printStats();
    else if (cmd == "quit") std::exit(0);
    else if (!cmd.empty()) std::printf("{\"error\":\"unknown command\"}\n"), std::fflush(stdout);
  }
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "scale-server: %s", what);
  ERR_print_errors_fp(stderr);
  std::fprintf(stderr, "\n");
  std::exit(1);
}

void addExt(X509* x, int nid, const char* value) {
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
  if (!ext || X509_add_ext(x, ext, -1) != 1) die("cannot add certificate extension");
  X509_EXTENSION_free(ext);
}

// A self-signed certificate for localhost and 127.0.0.1: P-256 ECDSA by
// default (cheap handshakes for 10,000 connections), RSA-2048 with --rsa.
void selfSigned(bool rsa, EVP_PKEY** keyOut, X509** certOut) {
  EVP_PKEY* key = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
  if (!key) die("cannot generate key");
  X509* x = X509_new();
  X509_set_version(x, 2);
  unsigned char serial[8];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  addExt(x, NID_basic_constraints, "critical,CA:TRUE");
  addExt(x, NID_key_usage, "critical,digitalSignature,keyCertSign");
  addExt(x, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  addExt(x, NID_subject_key_identifier, "hash");
  if (X509_sign(x, key, EVP_sha256()) <= 0) die("cannot sign certificate");
  *keyOut = key;
  *certOut = x;
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0, tickets = -1;
  const char *certOut = nullptr, *certFile = nullptr, *keyFile = nullptr;
  bool rsa = false;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto val = [&]() -> const char* {
      if (i + 1 >= argc) die(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--port") port = std::atoi(val());
    else if (a == "--cert-out") certOut = val();
    else if (a == "--cert") certFile = val();
    else if (a == "--key") keyFile = val();
    else if (a == "--rsa") rsa = true;
    else if (a == "--tickets") tickets = std::atoi(val());
    else die(("unknown option " + a).c_str());
  }

  // Every connection is a descriptor: take all the kernel allows us.
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  getrlimit(RLIMIT_NOFILE, &rl);

  ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) die("SSL_CTX_new failed");
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);  // nothing kept per past connection
  if (tickets >= 0) SSL_CTX_set_num_tickets(ctx, static_cast<size_t>(tickets));

  X509* cert = nullptr;
  EVP_PKEY* key = nullptr;
  if (certFile || keyFile) {
    if (!certFile || !keyFile) die("--cert and --key go together");
    if (SSL_CTX_use_certificate_chain_file(ctx, certFile) != 1) die("cannot load --cert");
    if (SSL_CTX_use_PrivateKey_file(ctx, keyFile, SSL_FILETYPE_PEM) != 1) die("cannot load --key");
  } else {
    selfSigned(rsa, &key, &cert);
    if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1) die("cannot use certificate");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) die("key does not match certificate");
  if (certOut) {
    X509* c = cert ? cert : SSL_CTX_get0_certificate(ctx);
    FILE* f = std::fopen(certOut, "w");
    if (!f || PEM_write_X509(f, c) != 1) die("cannot write --cert-out");
    std::fclose(f);
  }

  listenFd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listenFd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listenFd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die("bind failed");
  if (listen(listenFd, 65535) != 0) die("listen failed");
  socklen_t len = sizeof addr;
  getsockname(listenFd, reinterpret_cast<sockaddr*>(&addr), &len);

  loop = uv_default_loop();
  uv_poll_init_socket(loop, &listenPoll, listenFd);
  uv_timer_init(loop, &acceptRetry);
  startListening();

  uv_pipe_init(loop, &stdinPipe, 0);
  if (uv_pipe_open(&stdinPipe, 0) == 0) {
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&stdinPipe),
        [](uv_handle_t*, size_t, uv_buf_t* b) { *b = uv_buf_init(new char[4096], 4096); }, onControl);
  }

  std::printf("{\"port\":%d,\"fdLimit\":%llu,\"key\":\"%s\",\"openssl\":\"%s\",\"pid\":%d}\n",
              ntohs(addr.sin_port), static_cast<unsigned long long>(rl.rlim_cur),
              certFile ? "file" : rsa ? "RSA-2048" : "ECDSA P-256", OpenSSL_version(OPENSSL_VERSION),
              static_cast<int>(getpid()));
  std::fflush(stdout);
  return uv_run(loop, UV_RUN_DEFAULT);
}
