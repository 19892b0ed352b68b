#include "imap/auth.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

using namespace imap;
using namespace std::string_literals;

TEST(Auth, Base64Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, enc] : vectors) {
    EXPECT_EQ(base64Encode(plain), enc);
    auto dec = base64Decode(enc);
    ASSERT_TRUE(dec.has_value()) << enc;
    EXPECT_EQ(*dec, plain);
  }
}

TEST(Auth, Base64BinaryRoundTrip) {
  std::mt19937 rng(7);
  for (int len = 0; len < 200; ++len) {
    std::string s(len, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    auto dec = base64Decode(base64Encode(s));
    ASSERT_TRUE(dec.has_value());
    EXPECT_EQ(*dec, s);
  }
  EXPECT_EQ(base64Encode("\xff\xfe\x00"s), "//4A");
  EXPECT_EQ(*base64Decode("+/+/"), "\xfb\xff\xbf");
}

TEST(Auth, Base64DecodeRejectsInvalid) {
  for (const char* bad : {"Zg", "Zg=", "Zm9", "Z", "Zm9vY", "Zg==Zg==", "Z===", "====", "Zm=v", "Zm9v\n",
                          " Zm9v", "Zm9v Zm9v", "Zm9-", "Zm9_", "Zm9v=", "Zg=a"}) {
    EXPECT_FALSE(base64Decode(bad).has_value()) << '"' << bad << '"';
  }
  EXPECT_FALSE(base64Decode("Zm\0v"s).has_value());
  EXPECT_FALSE(base64Decode("Zm\x80v").has_value());
}

TEST(Auth, SaslPlain) {
  EXPECT_EQ(saslPlain("tim", "tanstaaftanstaaf"), "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
  EXPECT_EQ(*base64Decode(saslPlain("tim", "pw", "admin")), "admin\0tim\0pw"s);
  EXPECT_EQ(*base64Decode(saslPlain("", "")), "\0\0"s);
}

TEST(Auth, SaslXOAuth2GoogleExample) {
  EXPECT_EQ(saslXOAuth2("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"),
            "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRH"
            "RXVZMjl0Q2cBAQ==");
}

TEST(Auth, SaslOAuthBearerRfc7628Example) {
  // RFC 7628 section 4.1.
  std::string msg = *base64Decode(saslOAuthBearer("user@example.com", "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==",
                                                  "server.example.com", 143));
  EXPECT_EQ(msg,
            "n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
            "auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01");
  EXPECT_EQ(saslOAuthBearer("user@example.com", "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==", "server.example.com",
                            143),
            "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRj"
            "Mk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB");
}

TEST(Auth, SaslOAuthBearerEscapesSaslName) {
  std::string msg = *base64Decode(saslOAuthBearer("a,b=c", "T", "h", 993));
  EXPECT_EQ(msg, "n,a=a=2Cb=3Dc,\x01host=h\x01port=993\x01" "auth=Bearer T\x01\x01");
}

TEST(Auth, ArgForm) {
  EXPECT_EQ(argForm(""), ArgForm::Quoted);
  EXPECT_EQ(argForm("user@example.com"), ArgForm::Quoted);
  EXPECT_EQ(argForm("p\"a\\ss word\x01\x7f"), ArgForm::Quoted);
  EXPECT_EQ(argForm(std::string(1024, 'x')), ArgForm::Quoted);
  EXPECT_EQ(argForm(std::string(1025, 'x')), ArgForm::Literal);
  EXPECT_EQ(argForm("a\rb"), ArgForm::Literal);
  EXPECT_EQ(argForm("a\nb"), ArgForm::Literal);
  EXPECT_EQ(argForm("a\0b"s), ArgForm::Literal);
  EXPECT_EQ(argForm("p\xc3\xa4ss"), ArgForm::Literal);
  EXPECT_EQ(argForm("\x80"), ArgForm::Literal);
}

TEST(Auth, Quote) {
  EXPECT_EQ(quote(""), "\"\"");
  EXPECT_EQ(quote("plain"), "\"plain\"");
  EXPECT_EQ(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(quote("\\\\"), "\"\\\\\\\\\"");
}
