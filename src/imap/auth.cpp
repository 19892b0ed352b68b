#include "imap/auth.h"

#include "core/base64.h"

namespace imap {

namespace {

// RFC 5801 saslname: ',' and '=' would otherwise break the gs2 header.
std::string saslName(std::string_view user) {
  std::string r;
  r.reserve(user.size());
  for (char c : user) {
    if (c == ',')
      r += "=2C";
    else if (c == '=')
      r += "=3D";
    else
      r += c;
  }
  return r;
}

}  // namespace

std::string saslPlain(std::string_view user, std::string_view pass, std::string_view authzid) {
  std::string msg;
  msg.reserve(authzid.size() + user.size() + pass.size() + 2);
  msg.append(authzid).append(1, '\0').append(user).append(1, '\0').append(pass);
  return base64Encode(msg);
}

std::string saslXOAuth2(std::string_view user, std::string_view token) {
  std::string msg = "user=";
  msg.append(user).append("\x01" "auth=Bearer ").append(token).append("\x01\x01");
  return base64Encode(msg);
}

std::string saslOAuthBearer(std::string_view user, std::string_view token, std::string_view host,
                            unsigned port) {
  std::string msg = "n,a=";
  msg.append(saslName(user)).append(",\x01" "host=").append(host);
  msg.append("\x01" "port=").append(std::to_string(port));
  msg.append("\x01" "auth=Bearer ").append(token).append("\x01\x01");
  return base64Encode(msg);
}

ArgForm argForm(std::string_view v) {
  // Servers commonly cap quoted strings; long values go as literals.
  if (v.size() > 1024) return ArgForm::Literal;
  for (unsigned char c : v)
    if (c == 0 || c > 0x7F || c == '\r' || c == '\n') return ArgForm::Literal;
  return ArgForm::Quoted;
}

std::string quote(std::string_view v) {
  std::string r;
  r.reserve(v.size() + 2);
  r += '"';
  for (char c : v) {
    if (c == '\\' || c == '"') r += '\\';
    r += c;
  }
  r += '"';
  return r;
}

}  // namespace imap
