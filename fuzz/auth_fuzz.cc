// SASL and LOGIN encodings: base64 round trips, each SASL message decodes
// to exactly the fields that went in, and a Quoted LOGIN argument parses
// back (through our own IMAP tokenizer) to the same bytes.
//
// Input: bytes 0 and 1 = lengths of the first two fields, the rest is split
// into user, secret and a third field (authzid or host).
#include "imap/auth.h"
#include "fuzz_support.h"

namespace {

std::string unescapeSaslname(std::string_view s) {
  std::string o;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.substr(i, 3) == "=2C") o += ',', i += 2;
    else if (s.substr(i, 3) == "=3D") o += '=', i += 2;
    else o += s[i];
  }
  return o;
}

void checkQuoting(std::string_view v) {
  if (imap::argForm(v) != imap::ArgForm::Quoted) return;
  const std::string q = imap::quote(v);
  FUZZ_CHECK(q.find_first_of(std::string("\r\n\0", 3)) == std::string::npos);
  std::vector<imap::Value> values;
  std::string err;
  size_t pos = 0;
  FUZZ_CHECK(imap::parseValues(q, pos, q.size(), values, 4, err));
  FUZZ_CHECK(pos == q.size() && values.size() == 1 && values[0].isString() && values[0].str == v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  const std::string_view user = rest.substr(0, data[0]);
  rest.remove_prefix(user.size());
  const std::string_view secret = rest.substr(0, data[1]);
  const std::string_view third = rest.substr(secret.size());

  for (std::string_view f : {user, secret, third}) {
    checkQuoting(f);
    auto back = imap::base64Decode(imap::base64Encode(f));
    FUZZ_CHECK(back && *back == f);
  }
  // Whatever decodes must re-encode to something that decodes the same.
  if (auto d = imap::base64Decode(rest)) FUZZ_CHECK(imap::base64Decode(imap::base64Encode(*d)) == d);

  using namespace std::string_literals;
  auto plain = imap::base64Decode(imap::saslPlain(user, secret, third));
  FUZZ_CHECK(plain && *plain == std::string(third) + '\0' + std::string(user) + '\0' + std::string(secret));
  auto x = imap::base64Decode(imap::saslXOAuth2(user, secret));
  FUZZ_CHECK(x && *x == "user="s + std::string(user) + "\x01" "auth=Bearer " + std::string(secret) + "\x01\x01");

  auto ob = imap::base64Decode(imap::saslOAuthBearer(user, secret, third, 993));
  FUZZ_CHECK(ob && ob->rfind("n,a=", 0) == 0);
  const size_t comma = ob->find(',', 4);
  FUZZ_CHECK(comma != std::string::npos && unescapeSaslname(std::string_view(*ob).substr(4, comma - 4)) == user);
  FUZZ_CHECK(ob->substr(comma) == ",\x01host="s + std::string(third) + "\x01port=993\x01" "auth=Bearer " +
                                      std::string(secret) + "\x01\x01");
  return 0;
}
