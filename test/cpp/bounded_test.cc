// What a server's numbers may cost: the UID-set algebra that never expands a
// range, the checked 32-bit conversions, and the folder bookkeeping built on
// them (deletions, new UIDs at the top of the UID space, unannounced UIDs).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "imap/fetch.h"
#include "sync/folder.h"
#include "core/parser.h"
#include "core/uidset.h"
#include "uidset_testing.h"
#include "core/value.h"
#include "sync/deliveries.h"

using namespace imap;

namespace {

constexpr uint32_t kMax = UINT32_MAX;

std::set<uint32_t> members(const UidSet& s) {
  std::set<uint32_t> out;
  s.forEach([&](uint32_t u) { out.insert(u); });
  return out;
}

UidSet fromSet(const std::set<uint32_t>& s) { return UidSet::fromUids(std::vector<uint32_t>(s.begin(), s.end())); }

// A runtime for folder `f` whose watermark is `uidNext`, with `known` as its
// UID list (nullptr: no list).
FolderRuntime runtime(uint32_t uidNext, const char* known) {
  FolderRuntime rt;
  rt.accountId = "a";
  rt.folder = "INBOX";
  rt.fs.uidValidity = 7;
  rt.fs.uidNext = uidNext;
  if (known) {
    rt.known = P(known);
    rt.knownValid = true;
  }
  return rt;
}

std::vector<uint32_t> deletedUids(FolderRuntime& rt, const UidSet& vanished, uint64_t* count = nullptr) {
  std::vector<uint32_t> uids;
  uint64_t n = reportDeletions(rt, vanished, [&](Event&& e) {
    EXPECT_EQ(e.type, Event::Type::MessageDeleted);
    EXPECT_EQ(e.folder, "INBOX");
    uids.push_back(e.uid);
  });
  if (count) *count = n;
  return uids;
}

Value fetchList(std::vector<Value> items) { return Value::makeList(std::move(items)); }

}  // namespace

// ---- checked conversions ----

TEST(Checked, U32) {
  EXPECT_EQ(checkedU32(0), 0u);
  EXPECT_EQ(checkedU32(kMax), kMax);
  EXPECT_FALSE(checkedU32(uint64_t(kMax) + 1).has_value());  // a cast would make it 0
  EXPECT_FALSE(checkedU32(UINT64_MAX).has_value());
  EXPECT_EQ(toU32(Value::number(42)), 42u);
  EXPECT_EQ(toU32(Value::number(kMax)), kMax);
  EXPECT_EQ(toU32(Value::number(uint64_t(kMax) + 1)), 0u);
  EXPECT_EQ(toU32(Value::number(uint64_t(kMax) + 5)), 0u);  // not 4
  EXPECT_EQ(toU32(Value::atom("42")), 0u);
  EXPECT_EQ(toU32(Value::nil()), 0u);
}

TEST(Checked, UidAfterSaturates) {
  EXPECT_EQ(uidAfter(1), 2u);
  EXPECT_EQ(uidAfter(kMax - 1), kMax);
  EXPECT_EQ(uidAfter(kMax), kMax);  // never 0
}

TEST(Checked, ParserNumbersReachTheSessionUnchanged) {
  Parser p;
  std::vector<Response> out;
  std::string in = "* 4294967296 EXISTS\r\n* 1 FETCH (UID 4294967296 FLAGS ())\r\n";
  ASSERT_TRUE(p.feed(in.data(), in.size(), out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(*out[0].number, uint64_t(kMax) + 1);
  EXPECT_FALSE(checkedU32(*out[0].number).has_value());
  FetchItems f = parseFetchItems(out[1].args[0]);
  EXPECT_EQ(f.uid, 0u);
  EXPECT_TRUE(f.badUid);
}

TEST(Checked, FetchItemsUid) {
  FetchItems ok = parseFetchItems(fetchList({Value::atom("UID"), Value::number(kMax), Value::atom("FLAGS"), Value::makeList({})}));
  EXPECT_EQ(ok.uid, kMax);
  EXPECT_FALSE(ok.badUid);
  FetchItems zero = parseFetchItems(fetchList({Value::atom("UID"), Value::number(0)}));
  EXPECT_TRUE(zero.badUid);
  FetchItems text = parseFetchItems(fetchList({Value::atom("UID"), Value::atom("x")}));
  EXPECT_TRUE(text.badUid);
  FetchItems none = parseFetchItems(fetchList({Value::atom("FLAGS"), Value::makeList({})}));
  EXPECT_EQ(none.uid, 0u);
  EXPECT_FALSE(none.badUid);  // no UID item at all: a plain flag change
}

// ---- set algebra ----

TEST(Bounded, WholeUidSpaceCostsOneRange) {
  UidSet all = P("1:4294967295");
  UidSet few = P("3,70000,4294967295");
  EXPECT_EQ(all.intersect(few), few);
  EXPECT_EQ(few.intersect(all), few);
  EXPECT_EQ(all.minus(few), P("1:2,4:69999,70001:4294967294"));
  EXPECT_TRUE(few.minus(all).empty());
  EXPECT_EQ(all.unite(few), all);
  EXPECT_EQ(all.newest(2), P("4294967294:4294967295"));
  EXPECT_EQ(all.newest(0), UidSet());
  UidSet s = few;
  s.addAll(all);
  EXPECT_EQ(s, all);
  s.removeAll(all);
  EXPECT_TRUE(s.empty());
}

TEST(Bounded, IntersectAndMinusWithManyRanges) {
  // One range against 100,000: answered by binary search.
  std::vector<uint32_t> odd;
  for (uint32_t u = 1; u < 200000; u += 2) odd.push_back(u);
  UidSet big = UidSet::fromUids(odd);
  ASSERT_EQ(big.ranges().size(), 100000u);
  EXPECT_EQ(big.intersect(P("99:103")), P("99,101,103"));
  EXPECT_EQ(P("99:103").intersect(big), P("99,101,103"));
  EXPECT_EQ(P("99:103").minus(big), P("100,102"));
  EXPECT_EQ(P("199999:4294967295").minus(big), P("200000:4294967295"));
}

TEST(Bounded, NewestAcrossRanges) {
  UidSet s = P("1:3,10:12,20");
  EXPECT_EQ(s.newest(1), P("20"));
  EXPECT_EQ(s.newest(3), P("11:12,20"));
  EXPECT_EQ(s.newest(5), P("3,10:12,20"));
  EXPECT_EQ(s.newest(6), P("2:3,10:12,20"));
  EXPECT_EQ(s.newest(100), s);
}

TEST(Bounded, ForEachReachesTheLastUid) {
  std::vector<uint32_t> seen;
  P("1:2,4294967294:4294967295").forEach([&](uint32_t u) { seen.push_back(u); });
  EXPECT_EQ(seen, (std::vector<uint32_t>{1, 2, kMax - 1, kMax}));  // and stops: no wrap to 0
}

// unite, addAll and removeAll (both the in-place and the merging path),
// intersect and minus, against std::set.
TEST(Bounded, RandomizedAgainstStdSet) {
  std::mt19937 rng(777);
  auto pick = [&]() -> uint32_t {
    uint32_t off = rng() % 400;
    return rng() % 2 ? 1 + off : kMax - off;
  };
  auto randomSet = [&](int n) {
    std::set<uint32_t> s;
    for (int k = 0; k < n; ++k) {
      uint32_t a = pick();
      uint32_t span = rng() % 5 == 0 ? rng() % 30 : 0;
      for (uint64_t u = a; u <= std::min<uint64_t>(uint64_t(a) + span, kMax); ++u) s.insert(uint32_t(u));
    }
    return s;
  };
  for (int round = 0; round < 300; ++round) {
    std::set<uint32_t> a = randomSet(1 + rng() % 80), b = randomSet(rng() % 2 ? 3 : 80);
    UidSet sa = fromSet(a), sb = fromSet(b);
    std::set<uint32_t> uni, diff, inter;
    std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::inserter(uni, uni.end()));
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::inserter(diff, diff.end()));
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::inserter(inter, inter.end()));
    EXPECT_EQ(sa.unite(sb), fromSet(uni));
    EXPECT_EQ(sa.minus(sb), fromSet(diff));
    EXPECT_EQ(sa.intersect(sb), fromSet(inter));
    EXPECT_EQ(sb.intersect(sa), fromSet(inter));
    UidSet added = sa, removed = sa;
    added.addAll(sb);
    removed.removeAll(sb);
    EXPECT_EQ(added, fromSet(uni)) << round;
    EXPECT_EQ(removed, fromSet(diff)) << round;
    uint64_t n = rng() % 50;
    std::set<uint32_t> top;
    for (auto it = a.rbegin(); it != a.rend() && top.size() < n; ++it) top.insert(*it);
    EXPECT_EQ(sa.newest(n), fromSet(top));
    EXPECT_EQ(members(sa), a);
  }
}

// ---- folder bookkeeping ----

TEST(Bounded, VanishedEverythingReportsTheKnownUids) {
  FolderRuntime rt = runtime(kMax, "1:3,1000");
  rt.flagWindow[2] = "\\Seen";
  uint64_t n = 0;
  EXPECT_EQ(deletedUids(rt, P("1:4294967295"), &n), (std::vector<uint32_t>{1, 2, 3, 1000}));
  EXPECT_EQ(n, 4u);
  EXPECT_TRUE(rt.known.empty());
  EXPECT_TRUE(rt.flagWindow.empty());
  EXPECT_EQ(rt.gone, P("1:3,1000"));
  EXPECT_TRUE(deletedUids(rt, P("1:4294967295")).empty());  // once
}

TEST(Bounded, VanishedWithoutAListIsCheckedAgainstTheWatermark) {
  FolderRuntime rt = runtime(10, nullptr);
  EXPECT_EQ(deletedUids(rt, P("8:4294967295")), (std::vector<uint32_t>{8, 9}));
  EXPECT_EQ(deletedUids(rt, P("1:4294967295")), (std::vector<uint32_t>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_TRUE(deletedUids(rt, P("1:9")).empty());
}

TEST(Bounded, VanishedWithoutAListPastTheBoundIsRememberedNotReported) {
  FolderRuntime rt = runtime(kMax, nullptr);
  uint64_t n = 1;
  EXPECT_TRUE(deletedUids(rt, P("1:4294967295"), &n).empty());
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(rt.gone, P("1:4294967294"));  // below the watermark: all claimed, none walked
  EXPECT_TRUE(rt.dirty);
  // Exactly at the bound it is still reported.
  FolderRuntime at = runtime(kMax, nullptr);
  EXPECT_EQ(deletedUids(at, P("1:10000")).size(), kMaxUncheckedDeletions);
  FolderRuntime past = runtime(kMax, nullptr);
  EXPECT_TRUE(deletedUids(past, P("1:10001")).empty());
}

TEST(Bounded, ClaimNewNeverWrapsTheWatermark) {
  FolderRuntime rt = runtime(kMax - 1, nullptr);
  EXPECT_TRUE(rt.claimNew(kMax - 1));
  EXPECT_EQ(rt.fs.uidNext, kMax);
  EXPECT_FALSE(rt.claimNew(kMax));  // UIDNEXT 2^32 does not exist
  EXPECT_EQ(rt.fs.uidNext, kMax);
  EXPECT_FALSE(rt.claimNew(0));
  EXPECT_FALSE(rt.claimNew(5));
}

TEST(Bounded, MayExist) {
  FolderRuntime listed = runtime(10, "1,3,5");
  listed.gone = P("5");
  EXPECT_TRUE(listed.known.contains(5));
  EXPECT_TRUE(mayExist(listed, 3));
  EXPECT_FALSE(mayExist(listed, 2));   // never on the list
  EXPECT_FALSE(mayExist(listed, 5));   // deleted
  EXPECT_FALSE(mayExist(listed, 10));  // never announced
  EXPECT_FALSE(mayExist(listed, 0));
  FolderRuntime unlisted = runtime(10, nullptr);
  EXPECT_TRUE(mayExist(unlisted, 2));
  EXPECT_FALSE(mayExist(unlisted, 10));
  EXPECT_FALSE(mayExist(unlisted, kMax));
}
