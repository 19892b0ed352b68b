#include "net/tls.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using imap::TlsContext;
using imap::TlsOptions;
using imap::TlsSession;
using Status = TlsSession::Status;

namespace {

struct Freer {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Freer>;
using CertPtr = std::unique_ptr<X509, Freer>;
using CtxPtr = std::unique_ptr<SSL_CTX, Freer>;

KeyPtr makeKey() { return KeyPtr(EVP_EC_gen("P-256")); }

void addExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
  ASSERT_NE(ext, nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// Issuer null means self-signed.
CertPtr makeCert(EVP_PKEY* key, const char* cn, const char* san, bool isCa, X509* issuer = nullptr,
                 EVP_PKEY* issuerKey = nullptr) {
  static long serial = 1;
  CertPtr cert(X509_new());
  X509* c = cert.get();
  X509_set_version(c, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c), serial++);
  X509_gmtime_adj(X509_getm_notBefore(c), -3600);
  X509_gmtime_adj(X509_getm_notAfter(c), 86400);
  X509_set_pubkey(c, key);
  X509_NAME* name = X509_get_subject_name(c);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1,
                             -1, 0);
  X509* iss = issuer ? issuer : c;
  X509_set_issuer_name(c, X509_get_subject_name(iss));
  addExt(c, iss, NID_basic_constraints, isCa ? "critical,CA:TRUE" : "CA:FALSE");
  addExt(c, iss, NID_subject_key_identifier, "hash");
  if (san) addExt(c, iss, NID_subject_alt_name, san);
  X509_sign(c, issuerKey ? issuerKey : key, EVP_sha256());
  return cert;
}

std::string toPem(X509* cert) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, cert);
  char* p = nullptr;
  long n = BIO_get_mem_data(b, &p);
  std::string s(p, static_cast<size_t>(n));
  BIO_free(b);
  return s;
}

constexpr const char* kSan = "DNS:localhost,IP:127.0.0.1";

// Generated once: EC keys keep the suite fast under sanitizers.
struct Pki {
  KeyPtr selfKey = makeKey();
  CertPtr selfCert = makeCert(selfKey.get(), "localhost", kSan, true);
  KeyPtr caKey = makeKey();
  CertPtr caCert = makeCert(caKey.get(), "Test CA", nullptr, true);
  KeyPtr leafKey = makeKey();
  CertPtr leafCert = makeCert(leafKey.get(), "localhost", kSan, false, caCert.get(), caKey.get());
};
const Pki& pki() {
  static Pki p;
  return p;
}

CtxPtr serverCtx(X509* cert, EVP_PKEY* key, int maxVersion = 0) {
  CtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  EXPECT_EQ(SSL_CTX_use_certificate(ctx.get(), cert), 1);
  EXPECT_EQ(SSL_CTX_use_PrivateKey(ctx.get(), key), 1);
  if (maxVersion) SSL_CTX_set_max_proto_version(ctx.get(), maxVersion);
  SSL_CTX_set_security_level(ctx.get(), 0);  // lets the old-version test reach the client
  return ctx;
}

// In-memory OpenSSL server endpoint.
struct Server {
  explicit Server(SSL_CTX* ctx) : ssl(SSL_new(ctx)), in(BIO_new(BIO_s_mem())), out(BIO_new(BIO_s_mem())) {
    BIO_set_mem_eof_return(in, -1);
    SSL_set_bio(ssl, in, out);
    SSL_set_accept_state(ssl);
  }
  ~Server() { SSL_free(ssl); }
  void feed(const std::string& s) { BIO_write(in, s.data(), static_cast<int>(s.size())); }
  std::string take() {
    std::string s(BIO_ctrl_pending(out), '\0');
    if (!s.empty()) BIO_read(out, &s[0], static_cast<int>(s.size()));
    return s;
  }
  // Returns 1 done, 0 needs more, -1 failed.
  int step() {
    if (failed) return -1;
    if (SSL_is_init_finished(ssl)) return 1;
    int r = SSL_do_handshake(ssl);
    if (r == 1) return 1;
    if (SSL_get_error(ssl, r) == SSL_ERROR_WANT_READ) return 0;
    failed = true;
    ERR_clear_error();
    return -1;
  }
  void write(const std::string& s) { ASSERT_EQ(SSL_write(ssl, s.data(), static_cast<int>(s.size())), (int)s.size()); }
  std::string read() {
    std::string r;
    char buf[4096];
    int n;
    while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) r.append(buf, static_cast<size_t>(n));
    lastReadError = SSL_get_error(ssl, n);
    ERR_clear_error();
    return r;
  }
  SSL* ssl;
  BIO* in;
  BIO* out;
  bool failed = false;
  int lastReadError = 0;
};

void feedChunked(TlsSession& c, const std::string& data, size_t chunk) {
  for (size_t i = 0; i < data.size(); i += chunk) c.feedCipher(data.data() + i, std::min(chunk, data.size() - i));
}

// Pumps the handshake; returns the client's final status.
Status pump(TlsSession& c, Server& s, size_t chunk = SIZE_MAX) {
  Status st = c.handshake();
  for (int i = 0; i < 100 && st == Status::WantMore; ++i) {
    s.feed(c.takeCipher());
    s.step();
    std::string back = s.take();
    if (back.empty() && s.failed) break;
    if (chunk == SIZE_MAX) {
      c.feedCipher(back.data(), back.size());
      st = c.handshake();
    } else {
      // Drive after every chunk so partial records are exercised.
      for (size_t j = 0; j < back.size() && st == Status::WantMore; j += chunk) {
        c.feedCipher(back.data() + j, std::min(chunk, back.size() - j));
        st = c.handshake();
        if (st == Status::Ok && j + chunk < back.size())
          c.feedCipher(back.data() + j + chunk, back.size() - j - chunk);
      }
    }
  }
  // Deliver the client's Finished (or alert) so the server settles too.
  s.feed(c.takeCipher());
  s.step();
  return st;
}

std::shared_ptr<TlsContext> clientCtx(TlsOptions o) {
  std::string err;
  auto ctx = TlsContext::create(o, err);
  EXPECT_NE(ctx, nullptr) << err;
  return ctx;
}

TlsOptions noVerify() {
  TlsOptions o;
  o.rejectUnauthorized = false;
  return o;
}

TlsOptions trusting(X509* ca) {
  TlsOptions o;
  o.caPem = toPem(ca);
  return o;
}

void expectRoundTrip(TlsSession& c, Server& s, size_t chunk = SIZE_MAX) {
  ASSERT_EQ(c.writePlain("a1 NOOP\r\n"), Status::Ok);
  s.feed(c.takeCipher());
  EXPECT_EQ(s.read(), "a1 NOOP\r\n");
  s.write("* OK hello\r\n");
  feedChunked(c, s.take(), chunk);
  std::string got;
  ASSERT_EQ(c.readPlain(got), Status::Ok) << c.error();
  EXPECT_EQ(got, "* OK hello\r\n");
}

TEST(Tls, HandshakeAndDataWithoutVerification) {
  auto sctx = serverCtx(pki().selfCert.get(), pki().selfKey.get());
  Server s(sctx.get());
  TlsSession c(clientCtx(noVerify()), "localhost");
  ASSERT_EQ(pump(c, s), Status::Ok) << c.error();
  EXPECT_TRUE(c.established());
  EXPECT_EQ(s.step(), 1);
  expectRoundTrip(c, s);

  // Large payloads both ways, spanning many records.
  std::string big(200000, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  ASSERT_EQ(c.writePlain(big), Status::Ok);
  s.feed(c.takeCipher());
  EXPECT_EQ(s.read(), big);
  s.write(big);
  std::string back = s.take();
  c.feedCipher(back.data(), back.size());
  std::string got;
  ASSERT_EQ(c.readPlain(got), Status::Ok);
  EXPECT_EQ(got, big);
  // Still usable after the buffers were trimmed.
  expectRoundTrip(c, s);
  EXPECT_FALSE(c.peerClosed());
}

TEST(Tls, Tls13FinishedQueuedWhenHandshakeReturnsOk) {
  auto sctx = serverCtx(pki().selfCert.get(), pki().selfKey.get());
  Server s(sctx.get());
  TlsSession c(clientCtx(noVerify()), "localhost");
  ASSERT_EQ(c.handshake(), Status::WantMore);
  s.feed(c.takeCipher());
  EXPECT_EQ(s.step(), 0);
  std::string flight = s.take();
  c.feedCipher(flight.data(), flight.size());
  ASSERT_EQ(c.handshake(), Status::Ok) << c.error();
  EXPECT_EQ(SSL_version(s.ssl), TLS1_3_VERSION);
  ASSERT_TRUE(c.hasCipher());  // the server is stuck until this is sent
  s.feed(c.takeCipher());
  EXPECT_EQ(s.step(), 1);
  EXPECT_FALSE(c.hasCipher());
  EXPECT_EQ(c.handshake(), Status::Ok);
}

TEST(Tls, SelfSignedRefusedByDefault) {
  auto sctx = serverCtx(pki().selfCert.get(), pki().selfKey.get());
  Server s(sctx.get());
  TlsSession c(clientCtx(TlsOptions{}), "localhost");
  EXPECT_EQ(pump(c, s), Status::Error);
  EXPECT_TRUE(c.verifyFailed());
  EXPECT_NE(c.error().find("certificate verify failed"), std::string::npos) << c.error();
  EXPECT_NE(c.error().find("self-signed"), std::string::npos) << c.error();
  EXPECT_FALSE(c.established());
  // Sticky.
  EXPECT_EQ(c.handshake(), Status::Error);
  std::string out;
  EXPECT_EQ(c.readPlain(out), Status::Error);
}

TEST(Tls, SelfSignedTrustedViaCaPem) {
  auto sctx = serverCtx(pki().selfCert.get(), pki().selfKey.get());
  Server s(sctx.get());
  TlsSession c(clientCtx(trusting(pki().selfCert.get())), "localhost");
  ASSERT_EQ(pump(c, s), Status::Ok) << c.error();
  expectRoundTrip(c, s);
}

TEST(Tls, CaSignedTrustedForNameAndIp) {
  auto sctx = serverCtx(pki().leafCert.get(), pki().leafKey.get());
  auto cctx = clientCtx(trusting(pki().caCert.get()));
  for (const char* host : {"localhost", "127.0.0.1", "LOCALHOST", "localhost."}) {
    Server s(sctx.get());
    TlsSession c(cctx, host);
    ASSERT_EQ(pump(c, s), Status::Ok) << host << ": " << c.error();
    EXPECT_FALSE(c.verifyFailed());
    expectRoundTrip(c, s);
  }
}

TEST(Tls, CaPemReplacesSystemStoreAndAcceptsBundles) {
  // A bundle with an unrelated CA first, then the real one.
  auto otherKey = makeKey();
  auto otherCa = makeCert(otherKey.get(), "Other CA", nullptr, true);
  TlsOptions o;
  o.caPem = "# comment\n" + toPem(otherCa.get()) + toPem(pki().caCert.get());
  auto sctx = serverCtx(pki().leafCert.get(), pki().leafKey.get());
  {
    Server s(sctx.get());
    TlsSession c(clientCtx(o), "localhost");
    ASSERT_EQ(pump(c, s), Status::Ok) << c.error();
  }
  {
    Server s(sctx.get());
    TlsSession c(clientCtx(trusting(otherCa.get())), "localhost");
    EXPECT_EQ(pump(c, s), Status::Error);
    EXPECT_TRUE(c.verifyFailed());
    EXPECT_NE(c.error().find("unable to get local issuer certificate"), std::string::npos) << c.error();
  }
}

TEST(Tls, HostnameMismatchRefused) {
  auto sctx = serverCtx(pki().leafCert.get(), pki().leafKey.get());
  auto cctx = clientCtx(trusting(pki().caCert.get()));
  {
    Server s(sctx.get());
    TlsSession c(cctx, "other.example");
    EXPECT_EQ(pump(c, s), Status::Error);
    EXPECT_TRUE(c.verifyFailed());
    EXPECT_NE(c.error().find("hostname mismatch"), std::string::npos) << c.error();
  }
  {
    Server s(sctx.get());
    TlsSession c(cctx, "127.0.0.2");
    EXPECT_EQ(pump(c, s), Status::Error);
    EXPECT_TRUE(c.verifyFailed());
    EXPECT_NE(c.error().find("IP address mismatch"), std::string::npos) << c.error();
  }
  {
    // Names are not matched against IP SANs and vice versa.
    Server s(sctx.get());
    TlsSession c(cctx, "::1");
    EXPECT_EQ(pump(c, s), Status::Error);
    EXPECT_TRUE(c.verifyFailed());
  }
}

TEST(Tls, MismatchIgnoredWithoutVerification) {
  auto sctx = serverCtx(pki().leafCert.get(), pki().leafKey.get());
  Server s(sctx.get());
  TlsSession c(clientCtx(noVerify()), "other.example");
  ASSERT_EQ(pump(c, s), Status::Ok) << c.error();
}

TEST(Tls, ServernameOptionOverridesHostAndSniOnlyForNames) {
  auto sctx = serverCtx(pki().leafCert.get(), pki().leafKey.get());
  {
    TlsOptions o = trusting(pki().caCert.get());
    o.servername = "localhost";
    Server s(sctx.get());
    TlsSession c(clientCtx(o), "10.1.2.3");
    ASSERT_EQ(pump(c, s), Status::Ok) << c.error();
    const char* sni = SSL_get_servername(s.ssl, TLSEXT_NAMETYPE_host_name);
    ASSERT_NE(sni, nullptr);
    EXPECT_STREQ(sni, "localhost");
  }
  {
    Server s(sctx.get());
    TlsSession c(clientCtx(trusting(pki().caCert.get())), "127.0.0.1");
    ASSERT_EQ(pump(c, s), Status::Ok) << c.error();
    EXPECT_EQ(SSL_get_servername(s.ssl, TLSEXT_NAMETYPE_host_name), nullptr);
  }
}

TEST(Tls, EmptyHostRefusedWhenVerifying) {
  TlsSession c(clientCtx(TlsOptions{}), "");
  EXPECT_EQ(c.handshake(), Status::Error);
  EXPECT_FALSE(c.error().empty());
}

TEST(Tls, GarbageCiphertextIsAnError) {
  TlsSession c(clientCtx(noVerify()), "localhost");
  ASSERT_EQ(c.handshake(), Status::WantMore);
  EXPECT_TRUE(c.hasCipher());
  c.takeCipher();
  std::string junk = "* OK IMAP4rev1 server ready, not TLS at all\r\n";
  c.feedCipher(junk.data(), junk.size());
  EXPECT_EQ(c.handshake(), Status::Error);
  EXPECT_FALSE(c.verifyFailed());
  EXPECT_NE(c.error().find("wrong version number"), std::string::npos) << c.error();
  c.takeCipher();  // may hold an alert
}

TEST(Tls, GarbageAfterHandshakeIsAnError) {
  auto sctx = serverCtx(pki().selfCert.get(), pki().selfKey.get());
  Server s(sctx.get());
  TlsSession c(clientCtx(noVerify()), "localhost");
  ASSERT_EQ(pump(c, s), Status::Ok);
  std::string junk(300, '\x17');
  for (size_t i = 5; i < junk.size(); ++i) junk[i] = static_cast<char>(i * 7);
  junk[1] = 3, junk[2] = 3, junk[3] = 0, junk[4] = 100;
  c.feedCipher(junk.data(), junk.size());
  std::string out;
  EXPECT_EQ(c.readPlain(out), Status::Error);
  EXPECT_FALSE(c.error().empty());
  EXPECT_EQ(c.writePlain("x"), Status::Error);
}

TEST(Tls, BadCaPemFailsCreate) {
  std::string err;
  TlsOptions o;
  o.caPem = "-----BEGIN CERTIFICATE-----\nnot*base64*at*all\n-----END CERTIFICATE-----\n";
  EXPECT_EQ(TlsContext::create(o, err), nullptr);
  EXPECT_NE(err.find("ca"), std::string::npos) << err;

  err.clear();
  o.caPem = "hello";
  EXPECT_EQ(TlsContext::create(o, err), nullptr);
  EXPECT_NE(err.find("no certificates"), std::string::npos) << err;

  // A good cert followed by a corrupt one is still rejected.
  err.clear();
  std::string good = toPem(pki().caCert.get());
  o.caPem = good + good.substr(0, good.size() / 2) + "\n-----END CERTIFICATE-----\n";
  EXPECT_EQ(TlsContext::create(o, err), nullptr);
  EXPECT_FALSE(err.empty());
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(Tls, ContextsSharedForEqualOptions) {
  TlsOptions o = trusting(pki().caCert.get());
  auto a = clientCtx(o);
  auto b = clientCtx(o);
  EXPECT_EQ(a, b);
  TlsOptions other = o;
  other.servername = "localhost";
  EXPECT_NE(clientCtx(other), a);
  EXPECT_NE(clientCtx(noVerify()), clientCtx(TlsOptions{}));
  a.reset();
  b.reset();
  auto c = clientCtx(o);  // rebuilt after the last user went away
  auto sctx = serverCtx(pki().leafCert.get(), pki().leafKey.get());
  Server s(sctx.get());
  TlsSession session(c, "localhost");
  EXPECT_EQ(pump(session, s), Status::Ok) << session.error();
}

TEST(Tls, ConcurrentContextCreateAndRelease) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 200; ++i) {
        TlsOptions o;
        o.rejectUnauthorized = (i + t) % 3 != 0;
        o.servername = (i % 2) ? "a" : "";
        std::string err;
        auto ctx = TlsContext::create(o, err);
        if (!ctx) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(Tls, OneByteCiphertextChunks) {
  auto sctx = serverCtx(pki().leafCert.get(), pki().leafKey.get());
  Server s(sctx.get());
  TlsSession c(clientCtx(trusting(pki().caCert.get())), "localhost");
  ASSERT_EQ(pump(c, s, 1), Status::Ok) << c.error();
  expectRoundTrip(c, s, 1);
}

TEST(Tls, AppDataInFinalHandshakeFlight) {
  // TLS 1.2: the server's Finished is last, so it can append the greeting.
  auto sctx = serverCtx(pki().selfCert.get(), pki().selfKey.get(), TLS1_2_VERSION);
  Server s(sctx.get());
  TlsSession c(clientCtx(noVerify()), "localhost");
  ASSERT_EQ(c.handshake(), Status::WantMore);
  std::string flight;
  for (int i = 0; i < 10 && !c.established(); ++i) {
    s.feed(c.takeCipher());
    if (s.step() == 1) s.write("* OK ready\r\n");
    flight = s.take();
    c.feedCipher(flight.data(), flight.size());
    ASSERT_NE(c.handshake(), Status::Error) << c.error();
  }
  ASSERT_TRUE(c.established());
  std::string got;
  ASSERT_EQ(c.readPlain(got), Status::Ok);
  EXPECT_EQ(got, "* OK ready\r\n");
}

// An incomplete record stays buffered across reads (the consumed input is
// dropped around it) and completes with the next bytes, for small and for
// multi-record (> 16 KiB) messages, in both directions.
TEST(Tls, PartialRecordsCarriedAcrossReads) {
  auto sctx = serverCtx(pki().selfCert.get(), pki().selfKey.get());
  Server s(sctx.get());
  TlsSession c(clientCtx(noVerify()), "localhost");
  ASSERT_EQ(pump(c, s), Status::Ok) << c.error();

  s.write("* 1 EXISTS\r\n");
  s.write("* 2 EXISTS\r\n");
  s.write("* 3 EXISTS\r\n");
  std::string three = s.take();
  c.feedCipher(three.data(), three.size() - 5);
  std::string got;
  ASSERT_EQ(c.readPlain(got), Status::Ok) << c.error();
  EXPECT_EQ(got, "* 1 EXISTS\r\n* 2 EXISTS\r\n");
  c.feedCipher(three.data() + three.size() - 5, 5);
  ASSERT_EQ(c.readPlain(got), Status::Ok) << c.error();
  EXPECT_EQ(got, "* 1 EXISTS\r\n* 2 EXISTS\r\n* 3 EXISTS\r\n");

  std::string big;
  for (int i = 0; big.size() < 100000; ++i) big += "* " + std::to_string(i) + " FETCH (FLAGS (\\Seen))\r\n";
  s.write(big);
  std::string cipher = s.take();
  std::string plain;
  for (size_t off = 0; off < cipher.size(); off += 7000) {
    c.feedCipher(cipher.data() + off, std::min<size_t>(7000, cipher.size() - off));
    ASSERT_EQ(c.readPlain(plain), Status::Ok) << c.error();
  }
  EXPECT_EQ(plain, big);
  EXPECT_FALSE(c.hasCipher());

  ASSERT_EQ(c.writePlain(big), Status::Ok);
  ASSERT_TRUE(c.hasCipher());
  s.feed(c.takeCipher());
  EXPECT_FALSE(c.hasCipher());
  EXPECT_TRUE(c.takeCipher().empty());
  EXPECT_EQ(s.read(), big);
}

TEST(Tls, PeerCloseNotify) {
  auto sctx = serverCtx(pki().selfCert.get(), pki().selfKey.get());
  Server s(sctx.get());
  TlsSession c(clientCtx(noVerify()), "localhost");
  ASSERT_EQ(pump(c, s), Status::Ok);
  s.write("* BYE\r\n");
  SSL_shutdown(s.ssl);
  std::string bytes = s.take();
  c.feedCipher(bytes.data(), bytes.size());
  std::string got;
  EXPECT_EQ(c.readPlain(got), Status::Ok);
  EXPECT_EQ(got, "* BYE\r\n");
  EXPECT_TRUE(c.peerClosed());
  got.clear();
  EXPECT_EQ(c.readPlain(got), Status::Ok);
  EXPECT_TRUE(got.empty());
}

TEST(Tls, OurCloseNotify) {
  auto sctx = serverCtx(pki().selfCert.get(), pki().selfKey.get());
  Server s(sctx.get());
  TlsSession c(clientCtx(noVerify()), "localhost");
  ASSERT_EQ(pump(c, s), Status::Ok);
  c.close();
  ASSERT_TRUE(c.hasCipher());
  s.feed(c.takeCipher());
  s.read();
  EXPECT_EQ(s.lastReadError, SSL_ERROR_ZERO_RETURN);
  EXPECT_EQ(c.writePlain("x"), Status::Error);
}

TEST(Tls, WriteBeforeHandshakeIsAnError) {
  TlsSession c(clientCtx(noVerify()), "localhost");
  EXPECT_EQ(c.writePlain("a1 NOOP\r\n"), Status::Error);
  EXPECT_FALSE(c.error().empty());
}

TEST(Tls, OldProtocolRefused) {
  auto sctx = serverCtx(pki().selfCert.get(), pki().selfKey.get(), TLS1_1_VERSION);
  Server s(sctx.get());
  TlsSession c(clientCtx(noVerify()), "localhost");
  EXPECT_EQ(pump(c, s), Status::Error);
  EXPECT_FALSE(c.verifyFailed());
  EXPECT_FALSE(c.error().empty());
}

TEST(Tls, ForeignErrorsOnThreadQueueIgnored) {
  auto sctx = serverCtx(pki().selfCert.get(), pki().selfKey.get());
  Server s(sctx.get());
  TlsSession c(clientCtx(noVerify()), "localhost");
  ERR_raise(ERR_LIB_SSL, SSL_R_BAD_PACKET_LENGTH);  // left behind by "another connection"
  ASSERT_EQ(pump(c, s), Status::Ok) << c.error();
  ERR_raise(ERR_LIB_SSL, SSL_R_BAD_PACKET_LENGTH);
  expectRoundTrip(c, s);
  ERR_raise(ERR_LIB_SSL, SSL_R_BAD_PACKET_LENGTH);
  std::string junk(64, '\x15');
  c.feedCipher(junk.data(), junk.size());
  std::string out;
  EXPECT_EQ(c.readPlain(out), Status::Error);
  EXPECT_EQ(c.error().find("bad packet length"), std::string::npos) << c.error();
  ERR_clear_error();
}

}  // namespace
