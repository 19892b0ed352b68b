// Authentication encodings: SASL initial responses and IMAP LOGIN arguments.
// Pure functions, no I/O; the session decides which mechanism to use.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/base64.h"

namespace imap {

// RFC 4616 PLAIN: base64(authzid \0 authcid \0 passwd).
std::string saslPlain(std::string_view user, std::string_view pass, std::string_view authzid = {});
// Google/Microsoft XOAUTH2: base64("user=" u "\x01auth=Bearer " t "\x01\x01").
std::string saslXOAuth2(std::string_view user, std::string_view token);
// RFC 7628 OAUTHBEARER: base64("n,a=" saslname(u) ",\x01host=" h "\x01port=" p
// "\x01auth=Bearer " t "\x01\x01"), with ',' and '=' in the user escaped as
// =2C and =3D (RFC 5801 saslname).
std::string saslOAuthBearer(std::string_view user, std::string_view token, std::string_view host,
                            unsigned port);

// How an IMAP astring argument (LOGIN user/password) must be sent.
enum class ArgForm { Quoted, Literal };
// Quoted when the value is 7-bit without CR, LF or NUL and reasonably short;
// otherwise a literal is required.
ArgForm argForm(std::string_view v);
// Quoted-string form with '\' and '"' escaped. Only valid when
// argForm(v)==Quoted.
std::string quote(std::string_view v);

}  // namespace imap
