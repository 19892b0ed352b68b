// How an account's TLS is checked: part of its config, read by net/tls.
#pragma once

#include <string>

namespace imap {

struct TlsOptions {
  // Trusted CA certificates in PEM. As in Node's `ca`, a non-empty value
  // replaces the system trust store; when empty the system store is used.
  std::string caPem;
  // Name sent as SNI and checked against the certificate. Defaults to host.
  std::string servername;
  // Certificate chain and hostname verification. On by default; turning it
  // off is an explicit opt-in for test servers.
  bool rejectUnauthorized = true;
};

}  // namespace imap
