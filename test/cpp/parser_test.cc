#include "core/parser.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

using imap::Parser;
using imap::Response;
using imap::ResponseCode;
using imap::Value;

namespace {

using Kind = Value::Kind;
using namespace std::string_literals;

std::string escape(const std::string& s) {
  std::string o;
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      o += static_cast<char>(c);
    } else {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      o += b;
    }
  }
  return o;
}

// Compact, unambiguous rendering: atoms bare, numbers as #n (plus the text
// when it differs), strings quoted, NIL, lists in parentheses.
std::string dumpValue(const Value& v) {
  switch (v.kind) {
    case Kind::Atom:
      return v.str;
    case Kind::Number: {
      std::string o = "#" + std::to_string(v.num);
      if (v.str != std::to_string(v.num)) o += "'" + v.str + "'";
      return o;
    }
    case Kind::String:
      return "\"" + escape(v.str) + "\"";
    case Kind::Nil:
      return "NIL";
    case Kind::List: {
      std::string o = "(";
      for (size_t i = 0; i < v.list.size(); ++i) o += (i ? " " : "") + dumpValue(v.list[i]);
      return o + ")";
    }
  }
  return "?";
}

std::string dumpValues(const std::vector<Value>& vs) {
  std::string o = "[";
  for (size_t i = 0; i < vs.size(); ++i) o += (i ? " " : "") + dumpValue(vs[i]);
  return o + "]";
}

// Every field of a Response, so equal dumps mean equal responses.
std::string dump(const Response& r) {
  std::string o;
  switch (r.type) {
    case Response::Type::Tagged:
      o = "tagged";
      break;
    case Response::Type::Untagged:
      o = "untagged";
      break;
    case Response::Type::Continuation:
      o = "cont";
      break;
  }
  o += " tag=" + r.tag + " status=" + r.status;
  if (r.code)
    o += " code={" + r.code->name + " raw=\"" + escape(r.code->raw) + "\" args=" +
         dumpValues(r.code->args) + "}";
  else
    o += " code=-";
  o += " text=\"" + escape(r.text) + "\"";
  o += " number=" + (r.number ? std::to_string(*r.number) : std::string("-"));
  o += " keyword=" + r.keyword + " args=" + dumpValues(r.args);
  return o;
}

std::string dumpAll(const std::vector<Response>& rs) {
  std::string o;
  for (auto& r : rs) o += dump(r) + "\n";
  return o;
}

std::vector<Response> parseAll(const std::string& in, Parser::Limits limits = {}) {
  Parser p(limits);
  std::vector<Response> out;
  EXPECT_TRUE(p.feed(in.data(), in.size(), out)) << p.error();
  EXPECT_EQ(p.buffered(), 0u);
  return out;
}

Response one(const std::string& in) {
  auto rs = parseAll(in);
  EXPECT_EQ(rs.size(), 1u) << dumpAll(rs);
  return rs.empty() ? Response{} : rs[0];
}

// Feeds `in` and expects the parser to fail.
std::string parseError(const std::string& in, Parser::Limits limits = {}) {
  Parser p(limits);
  std::vector<Response> out;
  EXPECT_FALSE(p.feed(in.data(), in.size(), out)) << dumpAll(out);
  EXPECT_TRUE(p.failed());
  EXPECT_FALSE(p.error().empty());
  return p.error();
}

std::string lit(const std::string& data) {
  return "{" + std::to_string(data.size()) + "}\r\n" + data;
}

std::vector<Value> values(const std::string& s, size_t maxDepth = 64) {
  size_t pos = 0;
  std::vector<Value> out;
  std::string err;
  EXPECT_TRUE(imap::parseValues(s, pos, s.size(), out, maxDepth, err)) << err;
  EXPECT_EQ(pos, s.size());
  return out;
}

}  // namespace

// ---------------------------------------------------------------- tagged

TEST(Parser, TaggedOkWithCode) {
  Response r = one("a1 OK [READ-WRITE] done\r\n");
  EXPECT_EQ(r.type, Response::Type::Tagged);
  EXPECT_EQ(r.tag, "a1");
  EXPECT_EQ(r.status, "OK");
  EXPECT_TRUE(r.isStatus());
  ASSERT_TRUE(r.code);
  EXPECT_EQ(r.code->name, "READ-WRITE");
  EXPECT_EQ(r.code->raw, "READ-WRITE");
  EXPECT_TRUE(r.code->args.empty());
  EXPECT_EQ(r.text, "done");
  EXPECT_FALSE(r.number);
  EXPECT_EQ(r.keyword, "");
  EXPECT_TRUE(r.args.empty());
}

TEST(Parser, TaggedStatusesAreUpperCased) {
  EXPECT_EQ(dump(one("A0002 no [AUTHENTICATIONFAILED] Authentication failed.\r\n")),
            "tagged tag=A0002 status=NO code={AUTHENTICATIONFAILED raw=\"AUTHENTICATIONFAILED\" "
            "args=[]} text=\"Authentication failed.\" number=- keyword= args=[]");
  EXPECT_EQ(dump(one("x.1 Bad Command unknown\r\n")),
            "tagged tag=x.1 status=BAD code=- text=\"Command unknown\" number=- keyword= args=[]");
}

TEST(Parser, TaggedWithoutText) {
  Response r = one("a1 OK\r\n");
  EXPECT_EQ(r.tag, "a1");
  EXPECT_EQ(r.status, "OK");
  EXPECT_FALSE(r.code);
  EXPECT_EQ(r.text, "");

  r = one("a1 OK \r\n");
  EXPECT_EQ(r.status, "OK");
  EXPECT_EQ(r.text, "");

  r = one("a1 OK [ALERT]\r\n");
  ASSERT_TRUE(r.code);
  EXPECT_EQ(r.code->name, "ALERT");
  EXPECT_EQ(r.text, "");
}

TEST(Parser, TextIsKeptVerbatim) {
  Response r = one("a3 OK [READ-WRITE] Select completed (0.001 + 0.000 secs). \"q\" {x} [y]\r\n");
  EXPECT_EQ(r.text, "Select completed (0.001 + 0.000 secs). \"q\" {x} [y]");
  r = one("a1 NO Ung\xc3\xbcltig  two  spaces\r\n");
  EXPECT_EQ(r.text, "Ung\xc3\xbcltig  two  spaces");
}

TEST(Parser, TagCharacters) {
  EXPECT_EQ(one("A.b-c_9]x OK y\r\n").tag, "A.b-c_9]x");
  parseError("a+1 OK x\r\n");
  parseError("a*1 OK x\r\n");
  parseError("a(1 OK x\r\n");
  parseError("a\"1 OK x\r\n");
}

// ---------------------------------------------------------------- response codes

TEST(Parser, CodeCapability) {
  Response r = one("* OK [CAPABILITY IMAP4rev1 SASL-IR ID ENABLE IDLE LITERAL+ AUTH=PLAIN] Dovecot ready.\r\n");
  EXPECT_EQ(r.type, Response::Type::Untagged);
  EXPECT_EQ(r.status, "OK");
  EXPECT_EQ(r.keyword, "");
  ASSERT_TRUE(r.code);
  EXPECT_EQ(r.code->name, "CAPABILITY");
  EXPECT_EQ(r.code->raw, "CAPABILITY IMAP4rev1 SASL-IR ID ENABLE IDLE LITERAL+ AUTH=PLAIN");
  EXPECT_EQ(dumpValues(r.code->args), "[IMAP4rev1 SASL-IR ID ENABLE IDLE LITERAL+ AUTH=PLAIN]");
  EXPECT_TRUE(r.code->args[0].isAtom());
  EXPECT_EQ(r.text, "Dovecot ready.");
}

TEST(Parser, CodeNumbers) {
  Response r = one("* OK [UIDVALIDITY 3857529045] UIDs valid\r\n");
  ASSERT_TRUE(r.code);
  EXPECT_EQ(r.code->name, "UIDVALIDITY");
  ASSERT_EQ(r.code->args.size(), 1u);
  EXPECT_TRUE(r.code->args[0].isNumber());
  EXPECT_EQ(r.code->args[0].num, 3857529045u);
  EXPECT_EQ(r.code->args[0].str, "3857529045");
  EXPECT_EQ(r.text, "UIDs valid");

  r = one("* OK [UIDNEXT 4392] Predicted next UID\r\n");
  EXPECT_EQ(r.code->name, "UIDNEXT");
  EXPECT_EQ(r.code->args[0].num, 4392u);

  r = one("* OK [HIGHESTMODSEQ 18446744073709551615] Highest\r\n");
  EXPECT_EQ(r.code->name, "HIGHESTMODSEQ");
  ASSERT_EQ(r.code->args.size(), 1u);
  EXPECT_EQ(r.code->args[0].num, UINT64_MAX);

  r = one("* OK [HIGHESTMODSEQ 90060115205545359] Highest\r\n");
  EXPECT_EQ(r.code->args[0].num, 90060115205545359ull);

  r = one("* OK [uidnext 7] lower-case name\r\n");
  EXPECT_EQ(r.code->name, "UIDNEXT");
  EXPECT_EQ(r.code->raw, "uidnext 7");
}

TEST(Parser, CodePermanentFlags) {
  Response r = one("* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded \\*)] Flags permitted.\r\n");
  ASSERT_TRUE(r.code);
  EXPECT_EQ(r.code->name, "PERMANENTFLAGS");
  ASSERT_EQ(r.code->args.size(), 1u);
  ASSERT_TRUE(r.code->args[0].isList());
  EXPECT_EQ(dumpValue(r.code->args[0]), "(\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded \\*)");
  EXPECT_TRUE(r.code->args[0].list.back().atomIs("\\*"));
  EXPECT_EQ(r.text, "Flags permitted.");

  r = one("* OK [PERMANENTFLAGS ()] No permanent flags permitted\r\n");
  EXPECT_EQ(dumpValues(r.code->args), "[()]");
}

TEST(Parser, CodeSimpleNames) {
  for (const char* name : {"ALERT", "READ-WRITE", "READ-ONLY", "AUTHENTICATIONFAILED", "CLOSED", "TRYCREATE",
                           "NONEXISTENT"}) {
    Response r = one(std::string("* NO [") + name + "] some text\r\n");
    ASSERT_TRUE(r.code) << name;
    EXPECT_EQ(r.code->name, name);
    EXPECT_EQ(r.code->raw, name);
    EXPECT_TRUE(r.code->args.empty());
    EXPECT_EQ(r.status, "NO");
    EXPECT_EQ(r.text, "some text");
  }
  Response r = one("* OK [CLOSED] Previous mailbox closed.\r\n");
  EXPECT_EQ(r.code->name, "CLOSED");
}

TEST(Parser, CodeOthers) {
  Response r = one("a5 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n");
  EXPECT_EQ(r.code->name, "COPYUID");
  EXPECT_EQ(dumpValues(r.code->args), "[#38505 304,319:320 3956:3958]");

  r = one("a5 NO [BADCHARSET (UTF-8 \"US-ASCII\")] charset\r\n");
  EXPECT_EQ(dumpValues(r.code->args), "[(UTF-8 \"US-ASCII\")]");

  r = one("* BYE [REFERRAL imap://user;AUTH=*@SERVER2/] Server not accepting connections\r\n");
  EXPECT_EQ(r.status, "BYE");
  EXPECT_EQ(r.code->name, "REFERRAL");
  EXPECT_EQ(dumpValues(r.code->args), "[imap://user;AUTH=*@SERVER2/]");
  EXPECT_EQ(r.text, "Server not accepting connections");

  r = one("* OK [X-FOO 1 (a NIL \"b\") c] unknown but tokenisable\r\n");
  EXPECT_EQ(r.code->name, "X-FOO");
  EXPECT_EQ(r.code->raw, "X-FOO 1 (a NIL \"b\") c");
  EXPECT_EQ(dumpValues(r.code->args), "[#1 (a NIL \"b\") c]");
  EXPECT_EQ(r.text, "unknown but tokenisable");

  r = one("* OK [X-QUOTE \"a]b\"] text\r\n");
  EXPECT_EQ(r.code->raw, "X-QUOTE \"a]b\"");
  EXPECT_EQ(dumpValues(r.code->args), "[\"a]b\"]");
  EXPECT_EQ(r.text, "text");
}

TEST(Parser, CodeThatDoesNotTokenise) {
  Response r = one("* OK [X-WEIRD some \"unbalanced text] rest of it\r\n");
  ASSERT_TRUE(r.code);
  EXPECT_EQ(r.code->name, "X-WEIRD");
  EXPECT_EQ(r.code->raw, "X-WEIRD some \"unbalanced text");
  EXPECT_TRUE(r.code->args.empty());
  EXPECT_EQ(r.text, "rest of it");

  r = one("a1 NO [X-PAREN (a b] oops\r\n");
  EXPECT_EQ(r.code->name, "X-PAREN");
  EXPECT_EQ(r.code->raw, "X-PAREN (a b");
  EXPECT_TRUE(r.code->args.empty());
  EXPECT_EQ(r.text, "oops");

  // No closing bracket at all: no code, the text is everything.
  r = one("* OK [ALERT never closed\r\n");
  EXPECT_FALSE(r.code);
  EXPECT_EQ(r.text, "[ALERT never closed");

  r = one("* OK []\r\n");
  ASSERT_TRUE(r.code);
  EXPECT_EQ(r.code->name, "");
  EXPECT_EQ(r.text, "");
}

// ---------------------------------------------------------------- untagged

TEST(Parser, UntaggedNumbered) {
  Response r = one("* 23 EXISTS\r\n");
  EXPECT_EQ(dump(r), "untagged tag= status= code=- text=\"\" number=23 keyword=EXISTS args=[]");
  EXPECT_FALSE(r.isStatus());
  EXPECT_EQ(dump(one("* 0 recent\r\n")), "untagged tag= status= code=- text=\"\" number=0 keyword=RECENT args=[]");
  EXPECT_EQ(*one("* 4294967296 EXPUNGE\r\n").number, 4294967296u);
}

TEST(Parser, UntaggedFetch) {
  Response r = one("* 3 FETCH (UID 9 FLAGS (\\Seen))\r\n");
  EXPECT_EQ(r.type, Response::Type::Untagged);
  ASSERT_TRUE(r.number);
  EXPECT_EQ(*r.number, 3u);
  EXPECT_EQ(r.keyword, "FETCH");
  ASSERT_EQ(r.args.size(), 1u);
  const Value& l = r.args[0];
  ASSERT_TRUE(l.isList());
  ASSERT_EQ(l.list.size(), 4u);
  EXPECT_TRUE(l.list[0].atomIs("uid"));
  EXPECT_TRUE(l.list[1].isNumber());
  EXPECT_EQ(l.list[1].num, 9u);
  EXPECT_TRUE(l.list[2].atomIs("FLAGS"));
  ASSERT_TRUE(l.list[3].isList());
  ASSERT_EQ(l.list[3].list.size(), 1u);
  EXPECT_EQ(l.list[3].list[0].str, "\\Seen");
  EXPECT_TRUE(r.status.empty());
  EXPECT_TRUE(r.text.empty());
}

TEST(Parser, FetchSectionAtoms) {
  std::string body = "Subject: hi\r\n";
  Response r = one("* 1 FETCH (UID 5 BODY[HEADER.FIELDS (SUBJECT FROM)]<0> " + lit(body) +
                   " BODY[] {3}\r\nabc BINARY[1] ~{2}\r\nxy BODY[1.2.MIME] NIL BODY[TEXT]<10> \"t\")\r\n");
  ASSERT_EQ(r.args.size(), 1u);
  EXPECT_EQ(dumpValue(r.args[0]),
            "(UID #5 BODY[HEADER.FIELDS (SUBJECT FROM)]<0> \"Subject: hi\\x0d\\x0a\" BODY[] \"abc\" "
            "BINARY[1] \"xy\" BODY[1.2.MIME] NIL BODY[TEXT]<10> \"t\")");
  const auto& items = r.args[0].list;
  EXPECT_TRUE(items[2].isAtom());
  EXPECT_EQ(items[2].str, "BODY[HEADER.FIELDS (SUBJECT FROM)]<0>");
  EXPECT_TRUE(items[3].isString());
  EXPECT_EQ(items[3].str, body);
}

TEST(Parser, Capability) {
  Response r = one("* CAPABILITY IMAP4rev1 IDLE\r\n");
  EXPECT_EQ(dump(r), "untagged tag= status= code=- text=\"\" number=- keyword=CAPABILITY args=[IMAP4rev1 IDLE]");
  EXPECT_TRUE(r.args[0].isAtom());
  EXPECT_EQ(dump(one("* capability\r\n")), "untagged tag= status= code=- text=\"\" number=- keyword=CAPABILITY args=[]");
}

TEST(Parser, Vanished) {
  Response r = one("* VANISHED (EARLIER) 41,43:116\r\n");
  EXPECT_EQ(r.keyword, "VANISHED");
  EXPECT_FALSE(r.number);
  ASSERT_EQ(r.args.size(), 2u);
  EXPECT_TRUE(r.args[0].isList());
  EXPECT_TRUE(r.args[0].list[0].atomIs("EARLIER"));
  EXPECT_TRUE(r.args[1].isAtom());
  EXPECT_EQ(r.args[1].str, "41,43:116");
  EXPECT_EQ(dumpValues(one("* VANISHED 405,407,410\r\n").args), "[405,407,410]");
  EXPECT_EQ(dumpValues(one("* VANISHED 7\r\n").args), "[#7]");
}

TEST(Parser, List) {
  Response r = one("* LIST (\\HasNoChildren) \"/\" INBOX\r\n");
  EXPECT_EQ(r.keyword, "LIST");
  EXPECT_EQ(dumpValues(r.args), "[(\\HasNoChildren) \"/\" INBOX]");
  EXPECT_TRUE(r.args[1].isString());
  EXPECT_TRUE(r.args[2].isAtom());

  r = one("* LIST (\\Noselect) NIL \"\"\r\n");
  EXPECT_EQ(dumpValues(r.args), "[(\\Noselect) NIL \"\"]");

  // Mailbox names: literal, escapes, 8-bit, all digits (number keeps its text).
  r = one("* LIST () \".\" " + lit("A \"B\"\r\nC") + "\r\n");
  EXPECT_EQ(r.args[2].str, "A \"B\"\r\nC");
  r = one("* LIST () \"/\" \"a\\\\b\\\"c\"\r\n");
  EXPECT_EQ(r.args[2].str, "a\\b\"c");
  r = one("* LIST () \"/\" Entw\xc3\xbcrfe\r\n");
  EXPECT_EQ(r.args[2].str, "Entw\xc3\xbcrfe");
  EXPECT_TRUE(r.args[2].isAtom());
  r = one("* LIST () \"/\" 007\r\n");
  EXPECT_TRUE(r.args[2].isNumber());
  EXPECT_EQ(r.args[2].num, 7u);
  EXPECT_EQ(r.args[2].str, "007");
  r = one("* LIST () \"/\" Foo]Bar\r\n");
  EXPECT_EQ(r.args[2].str, "Foo]Bar");
  r = one("* LIST () \"/\" Foo[Bar\r\n");
  EXPECT_EQ(r.args[2].str, "Foo[Bar");
}

TEST(Parser, SearchEnabledFlags) {
  Response r = one("* SEARCH 1 2\r\n");
  EXPECT_EQ(r.keyword, "SEARCH");
  ASSERT_EQ(r.args.size(), 2u);
  EXPECT_TRUE(r.args[0].isNumber());
  EXPECT_EQ(r.args[1].num, 2u);
  EXPECT_TRUE(one("* SEARCH\r\n").args.empty());

  r = one("* ENABLED CONDSTORE\r\n");
  EXPECT_EQ(r.keyword, "ENABLED");
  EXPECT_EQ(dumpValues(r.args), "[CONDSTORE]");

  r = one("* FLAGS (\\Answered \\Seen)\r\n");
  EXPECT_EQ(r.keyword, "FLAGS");
  EXPECT_EQ(dumpValues(r.args), "[(\\Answered \\Seen)]");
}

TEST(Parser, OtherDataResponses) {
  EXPECT_EQ(dumpValues(one("* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n").args),
            "[blurdybloop (MESSAGES #231 UIDNEXT #44292)]");
  EXPECT_EQ(dumpValues(one("* NAMESPACE ((\"\" \"/\")) NIL ((\"#shared/\" \"/\"))\r\n").args),
            "[((\"\" \"/\")) NIL ((\"#shared/\" \"/\"))]");
  EXPECT_EQ(dumpValues(one("* ID (\"name\" \"Dovecot\" \"version\" nil)\r\n").args),
            "[(\"name\" \"Dovecot\" \"version\" NIL)]");
  EXPECT_EQ(dumpValues(one("* ESEARCH (TAG \"a7\") UID MIN 2 ALL 2:9,11\r\n").args),
            "[(TAG \"a7\") UID MIN #2 ALL 2:9,11]");
  Response r = one("* 12 FETCH (X-GM-LABELS (\\Inbox \"\\\\Important\") X-GM-MSGID 1278455344230334865)\r\n");
  EXPECT_EQ(dumpValue(r.args[0]), "(X-GM-LABELS (\\Inbox \"\\\\Important\") X-GM-MSGID #1278455344230334865)");
}

TEST(Parser, UntaggedStatus) {
  EXPECT_EQ(dump(one("* BYE bye\r\n")),
            "untagged tag= status=BYE code=- text=\"bye\" number=- keyword= args=[]");
  EXPECT_EQ(dump(one("* PREAUTH [CAPABILITY IMAP4rev1] Logged in as x\r\n")),
            "untagged tag= status=PREAUTH code={CAPABILITY raw=\"CAPABILITY IMAP4rev1\" args=[IMAP4rev1]} "
            "text=\"Logged in as x\" number=- keyword= args=[]");
  EXPECT_EQ(dump(one("* NO Disk full (don't panic)\r\n")),
            "untagged tag= status=NO code=- text=\"Disk full (don't panic)\" number=- keyword= args=[]");
  EXPECT_EQ(dump(one("* ok\r\n")), "untagged tag= status=OK code=- text=\"\" number=- keyword= args=[]");
  EXPECT_EQ(one("* BAD \"unbalanced (\r\n").text, "\"unbalanced (");
  // A number first makes it data, not a status.
  EXPECT_EQ(dump(one("* 5 OK\r\n")), "untagged tag= status= code=- text=\"\" number=5 keyword=OK args=[]");
}

// ---------------------------------------------------------------- continuation

TEST(Parser, Continuation) {
  EXPECT_EQ(dump(one("+ idling\r\n")), "cont tag= status= code=- text=\"idling\" number=- keyword= args=[]");
  EXPECT_EQ(dump(one("+ \r\n")), "cont tag= status= code=- text=\"\" number=- keyword= args=[]");
  EXPECT_EQ(dump(one("+\r\n")), "cont tag= status= code=- text=\"\" number=- keyword= args=[]");
  EXPECT_EQ(one("+ YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP2CWY0SR0fAQAgAAQEBAQ=\r\n").text,
            "YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP2CWY0SR0fAQAgAAQEBAQ=");
  Response r = one("+ [ALERT] go ahead\r\n");
  EXPECT_EQ(r.type, Response::Type::Continuation);
  ASSERT_TRUE(r.code);
  EXPECT_EQ(r.code->name, "ALERT");
  EXPECT_EQ(r.text, "go ahead");
  EXPECT_FALSE(r.isStatus());
}

// ---------------------------------------------------------------- values

TEST(Parser, ValuesAtomsAndNumbers) {
  auto v = values("\\Seen \\* $Forwarded foo.bar 0 42 18446744073709551615 1:* nil NiL NILS");
  EXPECT_EQ(dumpValues(v), "[\\Seen \\* $Forwarded foo.bar #0 #42 #18446744073709551615 1:* NIL NIL NILS]");
  EXPECT_EQ(v[2].kind, Kind::Atom);
  EXPECT_EQ(v[5].str, "42");
  EXPECT_EQ(v[6].num, UINT64_MAX);
  EXPECT_EQ(v[8].kind, Kind::Nil);
  EXPECT_EQ(v[9].kind, Kind::Nil);
  EXPECT_EQ(v[10].kind, Kind::Atom);
}

TEST(Parser, ValuesQuoted) {
  auto v = values("\"\" \"a b\" \"back\\\\slash\" \"q\\\"uote\" \"(not a list)\" \"{5}\" \"\xc3\xa9\"");
  ASSERT_EQ(v.size(), 7u);
  for (auto& x : v) EXPECT_TRUE(x.isString());
  EXPECT_EQ(v[0].str, "");
  EXPECT_EQ(v[1].str, "a b");
  EXPECT_EQ(v[2].str, "back\\slash");
  EXPECT_EQ(v[3].str, "q\"uote");
  EXPECT_EQ(v[4].str, "(not a list)");
  EXPECT_EQ(v[5].str, "{5}");
  EXPECT_EQ(v[6].str, "\xc3\xa9");
}

TEST(Parser, ValuesLiterals) {
  std::string bin("a\0b\r\nc)\"(", 9);
  auto v = values("{9}\r\n" + bin + " ~{3}\r\nx\0y {0}\r\n {2+}\r\nok {1}\nz"s);
  ASSERT_EQ(v.size(), 5u);
  EXPECT_EQ(v[0].str, bin);
  EXPECT_EQ(v[1].str, std::string("x\0y", 3));
  EXPECT_EQ(v[2].str, "");
  EXPECT_TRUE(v[2].isString());
  EXPECT_EQ(v[3].str, "ok");
  EXPECT_EQ(v[4].str, "z");  // bare LF after the marker
}

TEST(Parser, ValuesNestedLists) {
  auto v = values("(a (b (c)) () (\"d\" NIL 1))");
  EXPECT_EQ(dumpValues(v), "[(a (b (c)) () (\"d\" NIL #1))]");
  EXPECT_EQ(dumpValues(values("(a)(b)")), "[(a) (b)]");
  EXPECT_EQ(dumpValues(values("  a\tb  ")), "[a b]");
  EXPECT_TRUE(values("").empty());
}

TEST(Parser, ValuesStopPositionAndErrors) {
  auto bad = [](const std::string& s) {
    size_t pos = 0;
    std::vector<Value> out;
    std::string err;
    EXPECT_FALSE(imap::parseValues(s, pos, s.size(), out, 64, err)) << s;
    EXPECT_FALSE(err.empty()) << s;
  };
  bad("(a");
  bad("a)");
  bad("\"abc");
  bad("\"abc\\");
  bad("{abc}");
  bad("{}\r\n");
  bad("{5}\r\nabc");
  bad("{5}x");
  bad("{3}");
  bad("{99999999999999999999}\r\n");
  bad("18446744073709551616");
  bad("a\rb");
  bad(std::string("a\0b", 3));

  // `end` bounds the scan.
  std::string s = "a (b c) d";
  size_t pos = 2;
  std::vector<Value> out;
  std::string err;
  EXPECT_TRUE(imap::parseValues(s, pos, 7, out, 64, err));
  EXPECT_EQ(pos, 7u);
  EXPECT_EQ(dumpValues(out), "[(b c)]");
}

TEST(Parser, ValuesDepth) {
  auto nested = [](size_t n) { return std::string(n, '(') + "x" + std::string(n, ')'); };
  size_t pos = 0;
  std::vector<Value> out;
  std::string err;
  std::string ok = nested(3), deep = nested(4);
  EXPECT_TRUE(imap::parseValues(ok, pos, ok.size(), out, 3, err));
  pos = 0;
  out.clear();
  EXPECT_FALSE(imap::parseValues(deep, pos, deep.size(), out, 3, err));
  EXPECT_FALSE(err.empty());
}

// ---------------------------------------------------------------- framing

TEST(Parser, LiteralInFetchWithEmbeddedCrlfAndNul) {
  std::string msg = "Subject: x\r\n\r\nbody\0line\r\n* 9 EXISTS\r\na1 OK fake\r\n"s;
  Response r = one("* 1 FETCH (UID 7 BODY[] " + lit(msg) + " FLAGS (\\Seen))\r\n");
  ASSERT_EQ(r.args.size(), 1u);
  const auto& items = r.args[0].list;
  ASSERT_EQ(items.size(), 6u);
  EXPECT_EQ(items[3].str, msg);
  EXPECT_EQ(items[3].str.size(), 49u);
  EXPECT_EQ(dumpValue(items[5]), "(\\Seen)");
}

TEST(Parser, NonSyncAndLiteral8Markers) {
  Response r = one("* 2 FETCH (BODY[1] {4+}\r\nab\r\n BINARY[2] ~{3}\r\n\0\1\2)\r\n"s);
  ASSERT_EQ(r.args.size(), 1u);
  const auto& items = r.args[0].list;
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[1].str, "ab\r\n");
  EXPECT_EQ(items[3].str, std::string("\0\1\2", 3));
}

TEST(Parser, BareLfLineEndings) {
  auto rs = parseAll("* 1 EXISTS\n* 2 FETCH (BODY[] {3}\nabc)\na1 OK done\n");
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_EQ(*rs[0].number, 1u);
  EXPECT_EQ(rs[1].args[0].list[1].str, "abc");
  EXPECT_EQ(rs[2].text, "done");
}

TEST(Parser, BlankLinesIgnored) {
  auto rs = parseAll("\r\n* 1 EXISTS\r\n\n\r\na1 OK\r\n");
  ASSERT_EQ(rs.size(), 2u);
}

TEST(Parser, IncompleteInputIsBuffered) {
  Parser p;
  std::vector<Response> out;
  std::string a = "* 1 FETCH (BODY[] {10}\r\nabc";
  ASSERT_TRUE(p.feed(a.data(), a.size(), out));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(p.buffered(), a.size());
  std::string b = "defghij)\r";
  ASSERT_TRUE(p.feed(b.data(), b.size(), out));
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(p.feed("\n", 1, out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].args[0].list[1].str, "abcdefghij");
  EXPECT_EQ(p.buffered(), 0u);
  EXPECT_TRUE(p.feed("", 0, out));
  EXPECT_TRUE(p.feed(nullptr, 0, out));
  EXPECT_FALSE(p.failed());
}

TEST(Parser, MultipleResponsesInOneFeed) {
  Parser p;
  std::vector<Response> out;
  std::string in = "* 1 EXISTS\r\n* 2 EXISTS\r\n* 3 EXI";
  ASSERT_TRUE(p.feed(in.data(), in.size(), out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(p.buffered(), 7u);
  ASSERT_TRUE(p.feed("STS\r\n", 5, out));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(*out[2].number, 3u);
}

// ---------------------------------------------------------------- split invariance

namespace {

std::string transcript() {
  std::string t;
  t += "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN] Dovecot ready.\r\n";
  t += "a1 OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT CONDSTORE QRESYNC] Logged in\r\n";
  t += "* ENABLED CONDSTORE QRESYNC\r\n";
  t += "a2 OK Enabled\r\n";
  // Dovecot SELECT block.
  t += "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded $Junk)\r\n";
  t += "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded $Junk \\*)] Flags permitted.\r\n";
  t += "* 23 EXISTS\r\n";
  t += "* 0 RECENT\r\n";
  t += "* OK [UNSEEN 12] First unseen.\r\n";
  t += "* OK [UIDVALIDITY 1700000000] UIDs valid\r\n";
  t += "* OK [UIDNEXT 4392] Predicted next UID\r\n";
  t += "* OK [HIGHESTMODSEQ 18446744073709551615] Highest\r\n";
  t += "* VANISHED (EARLIER) 41,43:116,118\r\n";
  t += "a3 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n";
  // FETCH with an ENVELOPE holding literals and nested lists.
  t += "* 12 FETCH (UID 4391 MODSEQ (12345) FLAGS (\\Seen $Forwarded) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" "
       "RFC822.SIZE 4286 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" " +
       lit("IMAP4rev1 WG mtg\r\n(summary)") +
       " ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((NIL NIL \"gray\" \"cac.washington.edu\")) "
       "((" + lit("=?utf-8?q?Terry_\"G\"?=") + " NIL \"gray\" \"cac.washington.edu\")) "
       "((NIL NIL \"imap\" \"cac.washington.edu\")) ((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")"
       "(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL \"<B27397-0100000@cac.washington.edu>\") "
       "BODY[HEADER.FIELDS (SUBJECT FROM)]<0> " +
       lit("Subject: x\r\nFrom: a@b\r\n\r\n") + ")\r\n";
  t += "a4 OK Fetch completed.\r\n";
  // IDLE.
  t += "+ idling\r\n";
  t += "* 24 EXISTS\r\n";
  t += "* 3 EXPUNGE\r\n";
  t += "* 5 FETCH (FLAGS (\\Seen) UID 77 MODSEQ (9))\r\n";
  t += "* VANISHED 405,407:409\r\n";
  t += "a5 OK Idle completed (0.001 + 2.000 secs).\r\n";
  t += "+ \r\n";
  t += "+\r\n";
  t += "+ YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP2CWY0SR0fAQAgAAQEBAQ=\r\n";
  t += "* LIST (\\HasNoChildren) \"/\" INBOX\r\n";
  t += "* LIST (\\HasChildren \\Noselect) \"/\" " + lit("A \"B\"") + "\r\n";
  t += "* SEARCH 1 2 3\r\n";
  t += "* 7 FETCH (BINARY[1] ~{5}\r\n" + std::string("ab\0cd", 5) + " UID 8)\r\n";
  t += "* 8 FETCH (BODY[] {0}\r\n UID 9)\r\n";
  t += "* 9 FETCH (BODY[TEXT]<0> {4+}\r\n\r\n\r\n UID 10)\r\n";
  t += "* 10 FETCH (BODY[] {3}\r\n}{5 BODY[1] {3}\r\n{1} UID 11)\r\n";
  t += "* X-ECHO {3}\r\n{9}\r\n";  // literal data that looks like a marker
  t += "* 30 EXISTS\n";
  t += "* OK [X-WEIRD some \"unbalanced text] still fine\r\n";
  t += "* BYE Logging out\r\n";
  t += "a6 OK Logout completed.\r\n";
  return t;
}

std::vector<Response> feedChunks(const std::string& in, const std::vector<size_t>& cuts) {
  Parser p;
  std::vector<Response> out;
  size_t prev = 0;
  for (size_t c : cuts) {
    EXPECT_TRUE(p.feed(in.data() + prev, c - prev, out)) << p.error();
    prev = c;
  }
  EXPECT_TRUE(p.feed(in.data() + prev, in.size() - prev, out)) << p.error();
  EXPECT_EQ(p.buffered(), 0u);
  return out;
}

}  // namespace

TEST(Parser, TranscriptWhole) {
  auto rs = parseAll(transcript());
  ASSERT_EQ(rs.size(), 37u) << dumpAll(rs);
  EXPECT_EQ(rs[0].code->name, "CAPABILITY");
  EXPECT_EQ(rs[13].tag, "a3");
  const Response& f = rs[14];
  EXPECT_EQ(*f.number, 12u);
  EXPECT_EQ(f.keyword, "FETCH");
  EXPECT_EQ(dumpValue(f.args[0]),
            "(UID #4391 MODSEQ (#12345) FLAGS (\\Seen $Forwarded) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" "
            "RFC822.SIZE #4286 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" "
            "\"IMAP4rev1 WG mtg\\x0d\\x0a(summary)\" ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
            "((NIL NIL \"gray\" \"cac.washington.edu\")) ((\"=?utf-8?q?Terry_\\\"G\\\"?=\" NIL \"gray\" "
            "\"cac.washington.edu\")) ((NIL NIL \"imap\" \"cac.washington.edu\")) ((NIL NIL \"minutes\" "
            "\"CNRI.Reston.VA.US\") (\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL "
            "\"<B27397-0100000@cac.washington.edu>\") BODY[HEADER.FIELDS (SUBJECT FROM)]<0> "
            "\"Subject: x\\x0d\\x0aFrom: a@b\\x0d\\x0a\\x0d\\x0a\")");
  EXPECT_EQ(rs[16].type, Response::Type::Continuation);
  EXPECT_EQ(rs[16].text, "idling");
  EXPECT_EQ(dumpValues(rs[20].args), "[405,407:409]");
  EXPECT_EQ(rs[26].args[2].str, "A \"B\"");
  EXPECT_EQ(rs[28].args[0].list[1].str, std::string("ab\0cd", 5));
  EXPECT_EQ(rs[29].args[0].list[1].str, "");
  EXPECT_EQ(rs[30].args[0].list[1].str, "\r\n\r\n");
  EXPECT_EQ(dumpValue(rs[31].args[0]), "(BODY[] \"}{5\" BODY[1] \"{1}\" UID #11)");
  EXPECT_EQ(rs[32].keyword, "X-ECHO");
  EXPECT_EQ(dumpValues(rs[32].args), "[\"{9}\"]");
  EXPECT_EQ(*rs[33].number, 30u);
  EXPECT_EQ(rs[34].code->raw, "X-WEIRD some \"unbalanced text");
  EXPECT_EQ(rs[35].status, "BYE");
  EXPECT_EQ(rs[36].tag, "a6");
}

TEST(Parser, TranscriptEverySplitPoint) {
  std::string t = transcript();
  std::string want = dumpAll(parseAll(t));
  for (size_t cut = 0; cut <= t.size(); ++cut) {
    std::string got = dumpAll(feedChunks(t, {cut}));
    ASSERT_EQ(got, want) << "split at " << cut;
  }
}

TEST(Parser, TranscriptOneByteAtATime) {
  std::string t = transcript();
  std::string want = dumpAll(parseAll(t));
  Parser p;
  std::vector<Response> out;
  for (char c : t) ASSERT_TRUE(p.feed(&c, 1, out)) << p.error();
  EXPECT_EQ(dumpAll(out), want);
  EXPECT_EQ(p.buffered(), 0u);
}

TEST(Parser, TranscriptRandomChunks) {
  std::string t = transcript();
  std::string want = dumpAll(parseAll(t));
  std::mt19937 rng(42);
  for (int round = 0; round < 200; ++round) {
    std::vector<size_t> cuts;
    size_t pos = 0;
    for (;;) {
      pos += 1 + rng() % 40;
      if (pos >= t.size()) break;
      cuts.push_back(pos);
    }
    ASSERT_EQ(dumpAll(feedChunks(t, cuts)), want) << "round " << round;
  }
}

// ---------------------------------------------------------------- malformed

TEST(Parser, MalformedLines) {
  parseError("(foo) bar\r\n");
  parseError(" a1 OK x\r\n");
  parseError("\"a1\" OK x\r\n");
  parseError("a1 FOO bar\r\n");
  parseError("a1\r\n");
  parseError("*\r\n");
  parseError("* \r\n");
  parseError("* 5\r\n");
  parseError("* (a)\r\n");
  parseError("* 18446744073709551616 EXISTS\r\n");
  parseError("* SEARCH 18446744073709551616\r\n");
  parseError("* 1 FETCH (UID 5\r\n");
  parseError("* 1 FETCH (UID 5))\r\n");
  parseError("* LIST () \"/\" \"INBOX\r\n");
  parseError("* 1 FETCH (BODY[] {abc}\r\n");
  parseError("* 1 FETCH (BODY[] {5} x)\r\n");
  parseError("* 1 FETCH (BODY[] {99999999999999999999999}\r\n");
  parseError(std::string("* SEARCH 1\0 2\r\n", 15));
  parseError("* SEARCH 1\r2\r\n");
}

TEST(Parser, EightBitAtomsTolerated) {
  Response r = one("* LIST () \"/\" \xff\xfe\x80\r\n");
  EXPECT_EQ(r.args[2].str, "\xff\xfe\x80");
}

TEST(Parser, ResponsesBeforeAnErrorAreDelivered) {
  Parser p;
  std::vector<Response> out;
  std::string in = "* 1 EXISTS\r\n(bad\r\n* 2 EXISTS\r\n";
  EXPECT_FALSE(p.feed(in.data(), in.size(), out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(*out[0].number, 1u);
}

TEST(Parser, ErrorIsStickyUntilReset) {
  Parser p;
  std::vector<Response> out;
  std::string bad = "* 1 FETCH (UID 5))\r\n";
  EXPECT_FALSE(p.feed(bad.data(), bad.size(), out));
  std::string err = p.error();
  EXPECT_FALSE(err.empty());
  EXPECT_EQ(p.buffered(), 0u);

  std::string good = "* 2 EXISTS\r\n";
  EXPECT_FALSE(p.feed(good.data(), good.size(), out));
  EXPECT_FALSE(p.feed("", 0, out));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(p.error(), err);
  EXPECT_TRUE(p.failed());

  p.reset();
  EXPECT_FALSE(p.failed());
  EXPECT_TRUE(p.error().empty());
  EXPECT_TRUE(p.feed(good.data(), good.size(), out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(*out[0].number, 2u);
}

TEST(Parser, ResetDropsPartialInput) {
  Parser p;
  std::vector<Response> out;
  std::string a = "* 1 FETCH (BODY[] {100}\r\npartial";
  ASSERT_TRUE(p.feed(a.data(), a.size(), out));
  EXPECT_GT(p.buffered(), 0u);
  p.reset();
  EXPECT_EQ(p.buffered(), 0u);
  std::string b = "a1 OK done\r\n";
  ASSERT_TRUE(p.feed(b.data(), b.size(), out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tag, "a1");
}

// ---------------------------------------------------------------- limits

TEST(Parser, HugeLiteralRejectedBeforeBuffering) {
  Parser p;  // default maxLiteral is 64 MiB
  std::vector<Response> out;
  std::string in = "* 1 FETCH (BODY[] {4000000000}\r\n";
  EXPECT_FALSE(p.feed(in.data(), in.size(), out));
  EXPECT_NE(p.error().find("literal"), std::string::npos) << p.error();
  EXPECT_EQ(p.buffered(), 0u);

  Parser::Limits l;
  l.maxLiteral = 1000;
  Parser q(l);
  std::string head = "* 1 FETCH (BODY[] {1001}\r\n";
  std::string body(1001, 'x');
  EXPECT_FALSE(q.feed((head + body).data(), head.size() + body.size(), out));
  EXPECT_EQ(q.buffered(), 0u);
  EXPECT_TRUE(out.empty());

  // Exactly maxLiteral is fine.
  Parser r(l);
  std::string okIn = "* 1 FETCH (BODY[] {1000}\r\n" + std::string(1000, 'y') + ")\r\n";
  EXPECT_TRUE(r.feed(okIn.data(), okIn.size(), out)) << r.error();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].args[0].list[1].str.size(), 1000u);
}

TEST(Parser, LongLineRejected) {
  Parser::Limits l;
  l.maxLine = 100;

  // Rejected before any line end arrives.
  Parser p(l);
  std::vector<Response> out;
  std::string chunk(60, 'a');
  EXPECT_TRUE(p.feed(chunk.data(), chunk.size(), out));
  EXPECT_FALSE(p.feed(chunk.data(), chunk.size(), out));
  EXPECT_NE(p.error().find("line"), std::string::npos) << p.error();
  EXPECT_EQ(p.buffered(), 0u);

  // Exactly maxLine passes however it is split; one more byte fails.
  std::string exactAtoms = "* SEARCH " + std::string(91, 'a') + "\r\n";
  std::string overAtoms = "* SEARCH " + std::string(92, 'a') + "\r\n";
  for (size_t cut = 0; cut <= exactAtoms.size(); ++cut) {
    Parser a(l), b(l);
    std::vector<Response> oa, ob;
    bool okA = a.feed(exactAtoms.data(), cut, oa) && a.feed(exactAtoms.data() + cut, exactAtoms.size() - cut, oa);
    EXPECT_TRUE(okA) << cut << " " << a.error();
    EXPECT_EQ(oa.size(), 1u);
    bool okB = b.feed(overAtoms.data(), cut, ob) && b.feed(overAtoms.data() + cut, overAtoms.size() - cut, ob);
    EXPECT_FALSE(okB) << cut;
  }
  // A bare LF line of exactly maxLine is fine too.
  parseAll("* SEARCH " + std::string(91, 'a') + "\n", l);
}

TEST(Parser, LiteralBytesDoNotCountTowardsLine) {
  Parser::Limits l;
  l.maxLine = 50;
  std::string in = "* 1 FETCH (BODY[] " + lit(std::string(500, 'z')) + " UID 3)\r\n";
  auto rs = parseAll(in, l);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].args[0].list[1].str.size(), 500u);
}

TEST(Parser, ResponseSizeLimit) {
  Parser::Limits l;
  l.maxResponse = 300;
  std::string piece = " BODY[] " + lit(std::string(100, 'q'));
  parseAll("* 1 FETCH (UID 1" + piece + piece + ")\r\n", l);
  // The third literal's declaration already exceeds the limit.
  Parser p(l);
  std::vector<Response> out;
  std::string head = "* 1 FETCH (UID 1" + piece + piece + " BODY[] {100}\r\n";
  EXPECT_FALSE(p.feed(head.data(), head.size(), out));
  EXPECT_NE(p.error().find("response"), std::string::npos) << p.error();
  // Many short lines without literals can't exceed it either.
  parseError(std::string(400, 'a'), l);
}

TEST(Parser, DepthLimit) {
  auto nested = [](size_t n) { return "* 1 FETCH " + std::string(n, '(') + "x" + std::string(n, ')') + "\r\n"; };
  Response r = one(nested(64));
  const Value* v = &r.args[0];
  size_t depth = 0;
  while (v->isList()) {
    ++depth;
    ASSERT_EQ(v->list.size(), 1u);
    v = &v->list[0];
  }
  EXPECT_EQ(depth, 64u);
  EXPECT_TRUE(v->atomIs("x"));
  EXPECT_NE(parseError(nested(65)).find("nested"), std::string::npos);

  Parser::Limits l;
  l.maxDepth = 2;
  parseAll(nested(2), l);
  parseError(nested(3), l);
  // Response-code arguments obey it too (and then fall back to raw).
  Parser p(l);
  std::vector<Response> out;
  std::string in = "* OK [X-DEEP (((a)))] t\r\n";
  ASSERT_TRUE(p.feed(in.data(), in.size(), out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].code->args.empty());
  EXPECT_EQ(out[0].code->raw, "X-DEEP (((a)))");
}

TEST(Parser, PathologicalInputStaysLinear) {
  // Many unmatched '[' on one line must not rescan the rest of it each time.
  std::string in = "* SEARCH " + std::string(200000, '[') + "\r\n";
  Response r = one(in);
  ASSERT_EQ(r.args.size(), 1u);
  EXPECT_EQ(r.args[0].str.size(), 200000u);

  // A long literal-free line fed a byte at a time is not rescanned per byte.
  std::string line = "* SEARCH" + std::string(200000, ' ') + "1\r\n";
  Parser p;
  std::vector<Response> out;
  for (char c : line) ASSERT_TRUE(p.feed(&c, 1, out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].args[0].num, 1u);
}

namespace {

struct Outcome {
  std::string responses;
  bool failed;
};

Outcome run(const std::string& in, const std::vector<size_t>& cuts, Parser::Limits limits) {
  Parser p(limits);
  std::vector<Response> out;
  size_t prev = 0;
  for (size_t c : cuts) {
    p.feed(in.data() + prev, c - prev, out);
    prev = c;
  }
  p.feed(in.data() + prev, in.size() - prev, out);
  return {dumpAll(out), p.failed()};
}

}  // namespace

// Corrupted transcripts: never crash, and the outcome (responses delivered,
// whether it failed) still doesn't depend on how the input was split.
TEST(Parser, MutatedInputIsSplitInvariant) {
  const std::string base = transcript();
  const char noise[] = {'{', '}', '(', ')', '"', '\\', '[', ']', '\r', '\n', ' ', '~', '+', '*', '0', '9', 'a', '\0', '\xff'};
  Parser::Limits tight;
  tight.maxLine = 120;
  tight.maxLiteral = 40;
  tight.maxResponse = 600;
  tight.maxDepth = 4;
  std::mt19937 rng(7);
  int failures = 0;
  for (int round = 0; round < 300; ++round) {
    std::string in = base;
    int edits = 1 + rng() % 4;
    for (int e = 0; e < edits; ++e) {
      size_t at = rng() % in.size();
      char c = noise[rng() % sizeof noise];
      if (rng() % 2)
        in[at] = c;
      else
        in.insert(in.begin() + at, c);
    }
    for (const Parser::Limits& limits : {Parser::Limits{}, tight}) {
      Outcome whole = run(in, {}, limits);
      failures += whole.failed;
      std::vector<size_t> ones;
      for (size_t i = 1; i < in.size(); ++i) ones.push_back(i);
      Outcome bytes = run(in, ones, limits);
      EXPECT_EQ(bytes.failed, whole.failed) << round;
      ASSERT_EQ(bytes.responses, whole.responses) << round;
      std::vector<size_t> cuts;
      for (size_t pos = 1 + rng() % 97; pos < in.size(); pos += 1 + rng() % 97) cuts.push_back(pos);
      Outcome chunks = run(in, cuts, limits);
      EXPECT_EQ(chunks.failed, whole.failed) << round;
      ASSERT_EQ(chunks.responses, whole.responses) << round;
    }
  }
  EXPECT_GT(failures, 0);  // the corruption does reach the error paths
}
