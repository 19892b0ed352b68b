#include "imap/envelope.h"
#include "text/rfc2047.h"
#include "text/date.h"
#include "text/charset.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

using namespace imap;
using namespace std::string_literals;

namespace {

Value S(std::string s) { return Value::string(std::move(s)); }
Value A(std::string s) { return Value::atom(std::move(s)); }
Value N() { return Value::nil(); }
Value L(std::vector<Value> v) { return Value::makeList(std::move(v)); }
Value addr(Value name, Value mailbox, Value host) { return L({std::move(name), N(), std::move(mailbox), std::move(host)}); }

}  // namespace

// ---- envelope ---------------------------------------------------------------

TEST(Envelope, Rfc3501Example) {
  // The ENVELOPE from RFC 3501 section 8.
  Value from = L({addr(S("Terry Gray"), S("gray"), S("cac.washington.edu"))});
  Value env = L({S("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)"), S("IMAP4rev1 WG mtg summary and minutes"), from, from,
                 from, L({addr(N(), S("imap"), S("cac.washington.edu"))}),
                 L({addr(N(), S("minutes"), S("CNRI.Reston.VA.US")), addr(S("John Klensin"), S("KLENSIN"), S("MIT.EDU"))}),
                 N(), N(), S("<B27397-0100000@cac.washington.edu>")});
  Envelope e;
  ASSERT_TRUE(decodeEnvelope(env, e));
  EXPECT_EQ(e.date, 837595405000.0);
  EXPECT_EQ(e.subject, "IMAP4rev1 WG mtg summary and minutes");
  ASSERT_EQ(e.from.size(), 1u);
  EXPECT_EQ(e.from[0].name, "Terry Gray");
  EXPECT_EQ(e.from[0].address, "gray@cac.washington.edu");
  EXPECT_EQ(e.sender.size(), 1u);
  EXPECT_EQ(e.replyTo.size(), 1u);
  ASSERT_EQ(e.to.size(), 1u);
  EXPECT_EQ(e.to[0].name, "");
  EXPECT_EQ(e.to[0].address, "imap@cac.washington.edu");
  ASSERT_EQ(e.cc.size(), 2u);
  EXPECT_EQ(e.cc[1].name, "John Klensin");
  EXPECT_EQ(e.cc[1].address, "KLENSIN@MIT.EDU");
  EXPECT_TRUE(e.bcc.empty());
  EXPECT_EQ(e.inReplyTo, "");
  EXPECT_EQ(e.messageId, "<B27397-0100000@cac.washington.edu>");
}

TEST(Envelope, AllNil) {
  Envelope e;
  e.subject = "stale";
  e.to.push_back({"x", "y"});
  ASSERT_TRUE(decodeEnvelope(L(std::vector<Value>(10, N())), e));
  EXPECT_TRUE(std::isnan(e.date));
  EXPECT_EQ(e.subject, "");
  EXPECT_TRUE(e.from.empty() && e.to.empty() && e.cc.empty());
  EXPECT_EQ(e.messageId, "");
}

TEST(Envelope, RejectsNonEnvelope) {
  Envelope e;
  EXPECT_FALSE(decodeEnvelope(N(), e));
  EXPECT_FALSE(decodeEnvelope(S("x"), e));
  EXPECT_FALSE(decodeEnvelope(L(std::vector<Value>(9, N())), e));
}

TEST(Envelope, GroupsAreFlattened) {
  Value to = L({
      addr(N(), S("team"), N()),  // group start
      addr(S("Ann"), S("ann"), S("example.com")),
      addr(N(), S("bob"), S("example.com")),
      addr(N(), N(), N()),                     // group end
      addr(N(), S("undisclosed-recipients"), N()),  // empty group
      addr(N(), N(), N()),
      addr(S("Carl"), S("carl"), S("example.org")),
  });
  Value env = L({N(), N(), N(), N(), N(), to, N(), N(), N(), N()});
  Envelope e;
  ASSERT_TRUE(decodeEnvelope(env, e));
  ASSERT_EQ(e.to.size(), 3u);
  EXPECT_EQ(e.to[0].name, "Ann");
  EXPECT_EQ(e.to[0].address, "ann@example.com");
  EXPECT_EQ(e.to[1].address, "bob@example.com");
  EXPECT_EQ(e.to[2].name, "Carl");
}

TEST(Envelope, MailboxWithoutHost) {
  // Not followed by a group end, so a local address rather than a group.
  Value from = L({addr(S("Root"), S("root"), N()), addr(N(), S("local"), S(""))});
  Value env = L({N(), N(), from, N(), N(), N(), N(), N(), N(), N()});
  Envelope e;
  ASSERT_TRUE(decodeEnvelope(env, e));
  ASSERT_EQ(e.from.size(), 2u);
  EXPECT_EQ(e.from[0].name, "Root");
  EXPECT_EQ(e.from[0].address, "root");
  EXPECT_EQ(e.from[1].address, "local");
}

TEST(Envelope, EncodedNamesAndTextKinds) {
  Value from = L({addr(S("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?="), S("keld"), S("dkuug.dk")),
                  addr(A("NIL2"), A("atom"), A("example.com")), L({S("short")}), S("junk")});
  Value env = L({S("7 Feb 1994 21:52:25 GMT"), Value::number(42), from, N(), N(), N(), N(), N(),
                 S("<a@b>"), A("<id@host>")});
  Envelope e;
  ASSERT_TRUE(decodeEnvelope(env, e));
  EXPECT_EQ(e.date, 760657945000.0);
  EXPECT_EQ(e.subject, "42");
  ASSERT_EQ(e.from.size(), 2u);
  EXPECT_EQ(e.from[0].name, "Keld J\xc3\xb8rn Simonsen");
  EXPECT_EQ(e.from[0].address, "keld@dkuug.dk");
  EXPECT_EQ(e.from[1].name, "NIL2");
  EXPECT_EQ(e.from[1].address, "atom@example.com");
  EXPECT_EQ(e.inReplyTo, "<a@b>");
  EXPECT_EQ(e.messageId, "<id@host>");
}

TEST(Envelope, EncodedSubject) {
  Value env = L({N(), A("=?UTF-8?B?4pyTIGRvbmU=?="), N(), N(), N(), N(), N(), N(), N(), N()});
  Envelope e;
  ASSERT_TRUE(decodeEnvelope(env, e));
  EXPECT_EQ(e.subject, "\xe2\x9c\x93 done");
}

// ---- RFC 2047 ---------------------------------------------------------------

TEST(EncodedWords, PlainTextPassesThrough) {
  EXPECT_EQ(decodeWords(""), "");
  EXPECT_EQ(decodeWords("Hello world"), "Hello world");
  EXPECT_EQ(decodeWords("caf\xc3\xa9"), "caf\xc3\xa9");       // valid UTF-8 kept
  EXPECT_EQ(decodeWords("caf\xe9 ok"), "caf\xc3\xa9 ok");      // Latin-1 upgraded
  EXPECT_EQ(decodeWords("a = b ?= c =? d"), "a = b ?= c =? d");
}

TEST(EncodedWords, QAndBCaseInsensitive) {
  EXPECT_EQ(decodeWords("=?utf-8?q?caf=C3=A9_au_lait?="), "caf\xc3\xa9 au lait");
  EXPECT_EQ(decodeWords("=?UTF-8?Q?caf=c3=a9?="), "caf\xc3\xa9");
  EXPECT_EQ(decodeWords("=?utf-8?b?w6k=?="), "\xc3\xa9");
  EXPECT_EQ(decodeWords("=?UTF-8?B?w6k?="), "\xc3\xa9");  // missing padding tolerated
  EXPECT_EQ(decodeWords("=?US-ASCII?Q?Keith_Moore?="), "Keith Moore");
  EXPECT_EQ(decodeWords("=?utf-8?Q?" "?="), "");
}

TEST(EncodedWords, Rfc2047Section8Examples) {
  EXPECT_EQ(decodeWords("(=?ISO-8859-1?Q?a?=)"), "(a)");
  EXPECT_EQ(decodeWords("(=?ISO-8859-1?Q?a?= b)"), "(a b)");
  EXPECT_EQ(decodeWords("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)"), "(ab)");
  EXPECT_EQ(decodeWords("(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)"), "(ab)");
  EXPECT_EQ(decodeWords("(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)"), "(ab)");
  EXPECT_EQ(decodeWords("(=?ISO-8859-1?Q?a_b?=)"), "(a b)");
  EXPECT_EQ(decodeWords("(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)"), "(a b)");
}

TEST(EncodedWords, MixedWithPlainText) {
  EXPECT_EQ(decodeWords("Re: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= from Bob"), "Re: Gr\xc3\xbc\xc3\x9f" "e from Bob");
  EXPECT_EQ(decodeWords("=?iso-8859-1?q?Gr=FC=DFe?=, =?iso-8859-1?q?Bob?="), "Gr\xc3\xbc\xc3\x9f" "e, Bob");
  EXPECT_EQ(decodeWords("x=?utf-8?q?y?=z"), "xyz");
}

TEST(EncodedWords, LegacyCharsets) {
  EXPECT_EQ(decodeWords("=?ISO-2022-JP?B?GyRCRnxLXDhsJE4lRiU5JUgbKEI=?="),
            "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88");  // 日本語のテスト
  EXPECT_EQ(decodeWords("=?Shift_JIS?B?g2WDWINn?="), "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88");      // テスト
  EXPECT_EQ(decodeWords("=?shift_jis?B?h0A=?="), "\xe2\x91\xa0");  // ① (CP932 extension)
  EXPECT_EQ(decodeWords("=?KOI8-R?Q?=F0=D2=C9=D7=C5=D4_=CD=C9=D2?="),
            "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd0\xbc\xd0\xb8\xd1\x80");  // Привет мир
  EXPECT_EQ(decodeWords("=?GB2312?B?1tDOxNPKvP4=?="), "\xe4\xb8\xad\xe6\x96\x87\xe9\x82\xae\xe4\xbb\xb6");  // 中文邮件
  EXPECT_EQ(decodeWords("=?windows-1251?B?z/Do4uXy?="),
            "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");  // Привет
  EXPECT_EQ(decodeWords("=?windows-1252?Q?=80_5?="), "\xe2\x82\xac 5");
  EXPECT_EQ(decodeWords("=?iso-8859-2?q?=C5=F3d=BC?="), "\xc4\xb9\xc3\xb3" "d\xc5\xba");  // Ĺódź
  EXPECT_EQ(decodeWords("=?ISO-8859-15?Q?=A4?="), "\xe2\x82\xac");
  EXPECT_EQ(decodeWords("=?latin1?Q?=E9?="), "\xc3\xa9");
}

TEST(EncodedWords, CharacterSplitAcrossWords) {
  // 日本 in UTF-8, split inside the second character.
  EXPECT_EQ(decodeWords("=?UTF-8?B?5pc=?= =?UTF-8?B?peacrA==?="), "\xe6\x97\xa5\xe6\x9c\xac");
}

TEST(EncodedWords, Rfc2231LanguageIgnored) {
  EXPECT_EQ(decodeWords("=?US-ASCII*EN?Q?Keith_Moore?="), "Keith Moore");
}

TEST(EncodedWords, InvalidBytesBecomeReplacementChar) {
  EXPECT_EQ(decodeWords("=?UTF-8?Q?a=FFb?="), "a\xef\xbf\xbd" "b");
  EXPECT_EQ(decodeWords("=?UTF-8?Q?=E2=9C?="), "\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(decodeWords("=?Shift_JIS?Q?=83e=FF=83X?="), "\xe3\x83\x86\xef\xbf\xbd\xe3\x82\xb9");
}

TEST(EncodedWords, MalformedWordsLeftLiterally) {
  for (const char* s : {"=?unknown-charset-x?Q?abc?=", "=?UTF-8?B?@@@@?=", "=?UTF-8?B?Q?=", "=?UTF-8?X?abc?=",
                        "=??Q?abc?=", "=?UTF-8?Q?abc", "=?UTF-8?Q?a b?=", "=?UTF-8?", "=?", "=?UTF-8//IGNORE?Q?a?="}) {
    EXPECT_EQ(decodeWords(s), s);
  }
  // Whitespace next to an undecodable word is kept.
  EXPECT_EQ(decodeWords("=?x-bogus?Q?a?= =?UTF-8?Q?b?="), "=?x-bogus?Q?a?= b");
  EXPECT_EQ(decodeWords("=?x-bogus?Q?a?= =?x-bogus?Q?b?="), "=?x-bogus?Q?a?= =?x-bogus?Q?b?=");
  // A lone '=' in Q text is kept.
  EXPECT_EQ(decodeWords("=?UTF-8?Q?1=2?="), "1=2");
}

TEST(EncodedWords, Unfolding) {
  EXPECT_EQ(decodeWords("a long\r\n subject"), "a long subject");
  EXPECT_EQ(decodeWords("a long\r\n\tsubject"), "a long\tsubject");
  EXPECT_EQ(decodeWords("bare\n folding"), "bare folding");
}

TEST(EncodedWords, RandomInputIsSafe) {
  std::mt19937 rng(12345);
  const std::string alphabet = "=?QqBb_ \t\r\nAZaz09+/-*\x80\xe2\xff\x1b$(B";
  const char* charsets[] = {"UTF-8", "ISO-2022-JP", "Shift_JIS", "GB2312", "KOI8-R", "UTF-16", "x"};
  for (int iter = 0; iter < 3000; ++iter) {
    std::string s;
    int len = rng() % 80;
    for (int i = 0; i < len; ++i) {
      if (rng() % 10 == 0)
        s += std::string("=?") + charsets[rng() % 7] + (rng() % 2 ? "?B?" : "?Q?");
      else if (rng() % 3 == 0)
        s += static_cast<char>(rng());
      else
        s += alphabet[rng() % alphabet.size()];
    }
    std::string r = decodeWords(s);
    std::string conv;
    ASSERT_TRUE(toUtf8("UTF-8", r, conv));
    ASSERT_EQ(conv, r) << "output is not valid UTF-8";
    toUtf8(charsets[rng() % 7], s, conv);
    (void)parseRfc5322Date(s);
    (void)parseInternalDate(s);
  }
}

TEST(EncodedWords, ToUtf8) {
  std::string out;
  EXPECT_TRUE(toUtf8("utf8", "ok", out));
  EXPECT_EQ(out, "ok");
  EXPECT_TRUE(toUtf8("ascii", "a\xc3\xa9\xff", out));
  EXPECT_EQ(out, "a\xc3\xa9\xef\xbf\xbd");
  EXPECT_TRUE(toUtf8("UTF-16LE", "a\0\xac\x20"s, out));
  EXPECT_EQ(out, "a\xe2\x82\xac");
  EXPECT_TRUE(toUtf8("UTF-16LE", "a\0b"s, out));  // truncated final unit
  EXPECT_EQ(out, "a\xef\xbf\xbd");
  EXPECT_TRUE(toUtf8("ISO-2022-JP", "\x1b$BF|\x1b(B", out));
  EXPECT_EQ(out, "\xe6\x97\xa5");
  EXPECT_TRUE(toUtf8("CP1252", "", out));
  EXPECT_EQ(out, "");
  out = "unchanged";
  EXPECT_FALSE(toUtf8("no-such-charset", "x", out));
  EXPECT_FALSE(toUtf8("", "x", out));
  EXPECT_FALSE(toUtf8("UTF-8//TRANSLIT", "x", out));
  EXPECT_EQ(out, "unchanged");
}

// glibc's iconv reads a UTF-8 alias ("+utf-8" normalises to UTF-8) as UTF-8 up
// to 0x7FFFFFFF and passes code points past U+10FFFF through, so what it
// returns is sanitised like the direct path (fuzz finding, mime target).
TEST(EncodedWords, ToUtf8ThroughIconvIsValidUtf8) {
  std::string out;
  ASSERT_TRUE(toUtf8("+utf-8", "a\xf4\xac\x8a\x9d" "b", out));
  EXPECT_EQ(out, "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "b");
  ASSERT_TRUE(toUtf8("UTF-8", "\xed\xa0\x80", out));  // a surrogate, on the direct path
  EXPECT_EQ(out, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

// ---- dates ------------------------------------------------------------------

TEST(Dates, Rfc5322) {
  EXPECT_EQ(parseRfc5322Date("Mon, 7 Feb 1994 21:52:25 -0800 (PST)"), 760686745000.0);
  EXPECT_EQ(parseRfc5322Date("7 Feb 1994 21:52:25 GMT"), 760657945000.0);
  EXPECT_EQ(parseRfc5322Date("Tue, 1 Jul 2003 10:52:37 +0200"), 1057049557000.0);
  EXPECT_EQ(parseRfc5322Date("Tue, 01 Jul 2003 10:52:37 +0200"), 1057049557000.0);
  EXPECT_EQ(parseRfc5322Date("  tue,1 jul 2003 10:52:37 +0200  "), 1057049557000.0);
  EXPECT_EQ(parseRfc5322Date("Sat, 1 Jan 2000 00:00 +0000"), 946684800000.0);  // no seconds
  EXPECT_EQ(parseRfc5322Date("Thu, 1 Jan 1970 00:00:00 +0000"), 0.0);
  EXPECT_EQ(parseRfc5322Date("31 Dec 1969 23:59:59 +0000"), -1000.0);
  EXPECT_EQ(parseRfc5322Date("Thu, 29 Feb 2024 12:00:00 Z"), 1709208000000.0);
  EXPECT_EQ(parseRfc5322Date("Tue, 1 Jul 2003 10:52:37 +02:00"), 1057049557000.0);
}

TEST(Dates, Rfc5322ObsoleteForms) {
  EXPECT_EQ(parseRfc5322Date("Fri, 21 Nov 97 09:55:06 -0600"), 880127706000.0);
  EXPECT_EQ(parseRfc5322Date("1 Jan 49 12:00:00 EST"), 2493133200000.0);
  EXPECT_EQ(parseRfc5322Date("1 Jan 50 00:00:00 UT"), -631152000000.0);
  EXPECT_EQ(parseRfc5322Date("21 Nov 097 09:55:06 -0600"), 880127706000.0);  // 3-digit year + 1900
  EXPECT_EQ(parseRfc5322Date("Mon, 7 Feb 1994 21:52:25 PST"), 760686745000.0);
  EXPECT_EQ(parseRfc5322Date("Mon, 7 Feb 1994 22:52:25 MST"), 760686745000.0);
  EXPECT_EQ(parseRfc5322Date("Mon, 7 Feb 1994 23:52:25 CST"), 760686745000.0);
  EXPECT_EQ(parseRfc5322Date("Mon, 8 Feb 1994 00:52:25 EST"), parseRfc5322Date("Mon, 8 Feb 1994 01:52:25 EDT"));
  EXPECT_EQ(parseRfc5322Date("Mon, 7 Feb 1994 22:52:25 PDT"), 760686745000.0);
  EXPECT_EQ(parseRfc5322Date("Mon, 7 Feb 1994 23:52:25 MDT"), 760686745000.0);
  EXPECT_EQ(parseRfc5322Date("Tue, 8 Feb 1994 00:52:25 CDT"), 760686745000.0);
  EXPECT_EQ(parseRfc5322Date("7 Feb 1994 21:52:25 CEST"), 760657945000.0);  // unknown zone
  EXPECT_EQ(parseRfc5322Date("7 Feb 1994 21:52:25"), 760657945000.0);       // no zone
  EXPECT_EQ(parseRfc5322Date("Mon (day) , 7 (x (nested)) Feb 1994 21:52:25 GMT"), 760657945000.0);
  EXPECT_EQ(parseRfc5322Date("Mon Feb  7 21:52:25 1994"), 760657945000.0);  // asctime
  EXPECT_EQ(parseRfc5322Date("Monday, 7 February 1994 21:52:25 +0000"), 760657945000.0);
}

TEST(Dates, Rfc5322Garbage) {
  for (const char* s : {"", "   ", "garbage", "Mon, 7 Foo 1994 21:52:25 +0000", "32 Jan 2000 00:00:00 +0000",
                        "29 Feb 2023 00:00:00 +0000", "7 Feb 1994 24:00:00 +0000", "7 Feb 1994 21:60:00 +0000",
                        "7 Feb 12345 21:52:25 +0000", "7 Feb 1994 21:52:25:11 +0000", "7 Feb", "Feb 1994",
                        "7 Feb 1994 2a:52 +0000", "0 Feb 1994 21:52:25 +0000", "7 Feb 1994 21:52:25 1 +0000",
                        "Blah, 7 Feb 1994 21:52:25 +0000"}) {
    EXPECT_TRUE(std::isnan(parseRfc5322Date(s))) << s;
  }
}

TEST(Dates, InternalDate) {
  EXPECT_EQ(parseInternalDate("17-Jul-1996 02:44:25 -0700"), 837596665000.0);
  EXPECT_EQ(parseInternalDate(" 7-Jul-1996 02:44:25 +0530"), 836687665000.0);
  EXPECT_EQ(parseInternalDate("7-jul-1996 02:44:25 +0530"), 836687665000.0);
  EXPECT_EQ(parseInternalDate("01-Jan-1970 00:00:00 +0000"), 0.0);
  for (const char* s : {"", "17-Jul-1996", "17-Jul-1996 02:44:25", "17-Jul-96 02:44:25 -0700",
                        "17-July-1996 02:44:25 -0700", "17 Jul 1996 02:44:25 -0700", "17-Jul-1996 02:44 -0700",
                        "17-Jul-1996 02:44:25 -07:00", "17-Jul-1996 02:44:25 PDT", "31-Jun-1996 02:44:25 -0700",
                        "17-Jul-1996 02:44:25 -0700 x", "x17-Jul-1996 02:44:25 -0700"}) {
    EXPECT_TRUE(std::isnan(parseInternalDate(s))) << s;
  }
}
