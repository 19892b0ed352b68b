#include "core/uidset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "uidset_testing.h"

using namespace imap;

namespace {

constexpr uint32_t kMax = UINT32_MAX;

// Sorted, disjoint, non-adjacent, no zero: the canonical form that makes
// operator== meaningful.
::testing::AssertionResult Canonical(const UidSet& s) {
  const auto& r = s.ranges();
  for (size_t i = 0; i < r.size(); ++i) {
    if (r[i].first == 0 || r[i].first > r[i].second)
      return ::testing::AssertionFailure() << "bad range " << i << " in " << s.toString();
    if (i > 0 && uint64_t(r[i - 1].second) + 1 >= r[i].first)
      return ::testing::AssertionFailure() << "unmerged ranges at " << i << " in " << s.toString();
  }
  return ::testing::AssertionSuccess();
}

std::vector<UidSet::Range> rangesOf(const std::set<uint32_t>& s) {
  std::vector<UidSet::Range> out;
  for (uint32_t u : s) {
    if (!out.empty() && uint64_t(out.back().second) + 1 == u)
      out.back().second = u;
    else
      out.emplace_back(u, u);
  }
  return out;
}

}  // namespace

TEST(UidSet, Empty) {
  UidSet s;
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.max(), 0u);
  EXPECT_EQ(s.toString(), "");
  EXPECT_FALSE(s.contains(1));
  EXPECT_FALSE(s.contains(0));
  EXPECT_TRUE(s.toChunks(10).empty());
  EXPECT_EQ(s, UidSet());
}

TEST(UidSet, AddIncreasingExtendsLastRange) {
  UidSet s;
  for (uint32_t u = 1; u <= 1000000; ++u) s.add(u);
  ASSERT_EQ(s.ranges().size(), 1u);
  EXPECT_EQ(s.toString(), "1:1000000");
  EXPECT_EQ(s.size(), 1000000u);
  EXPECT_EQ(s.max(), 1000000u);
  s.add(1000000);  // duplicate of the last
  s.add(500);      // already inside
  EXPECT_EQ(s.toString(), "1:1000000");
  s.add(1000002);
  EXPECT_EQ(s.toString(), "1:1000000,1000002");
}

TEST(UidSet, AddMergesAdjacentRanges) {
  UidSet s;
  s.add(1);
  s.add(2);
  s.add(3);
  EXPECT_EQ(s.toString(), "1:3");
  s.add(5);
  EXPECT_EQ(s.toString(), "1:3,5");
  s.add(4);  // bridges both neighbours
  EXPECT_EQ(s.toString(), "1:5");
  s.add(10);
  s.add(7);
  s.add(8);
  EXPECT_EQ(s.toString(), "1:5,7:8,10");
  s.add(6);
  EXPECT_EQ(s.toString(), "1:8,10");
  s.add(9);
  EXPECT_EQ(s.toString(), "1:10");
  EXPECT_TRUE(Canonical(s));
}

TEST(UidSet, AddOutOfOrder) {
  UidSet s;
  s.add(10);
  s.add(5);
  s.add(7);
  s.add(6);
  s.add(1);
  EXPECT_EQ(s.toString(), "1,5:7,10");
  s.add(0);  // not a UID
  EXPECT_EQ(s.toString(), "1,5:7,10");
  EXPECT_EQ(s.size(), 5u);
  EXPECT_EQ(s.max(), 10u);
}

TEST(UidSet, AddRange) {
  UidSet s = P("1:2,5:6,9:10,20");
  s.addRange(3, 9);  // touches 1:2 on the left, swallows 5:6, overlaps 9:10
  EXPECT_EQ(s.toString(), "1:10,20");
  s.addRange(15, 12);  // reversed
  EXPECT_EQ(s.toString(), "1:10,12:15,20");
  s.addRange(16, 19);  // fills a gap exactly
  EXPECT_EQ(s.toString(), "1:10,12:20");
  s.addRange(30, 40);
  s.addRange(35, 50);  // extends the last
  EXPECT_EQ(s.toString(), "1:10,12:20,30:50");
  s.addRange(0, 0);
  s.addRange(0, 11);  // clipped to 1:11
  EXPECT_EQ(s.toString(), "1:20,30:50");
  s.addRange(22, 24);  // strictly inside a gap
  EXPECT_EQ(s.toString(), "1:20,22:24,30:50");
  s.addRange(1, 100);
  EXPECT_EQ(s.toString(), "1:100");
  EXPECT_TRUE(Canonical(s));
}

TEST(UidSet, Limits) {
  UidSet s;
  s.add(kMax);
  EXPECT_TRUE(s.contains(kMax));
  EXPECT_EQ(s.max(), kMax);
  s.add(kMax - 1);
  EXPECT_EQ(s.toString(), "4294967294:4294967295");
  s.addRange(1, kMax);
  EXPECT_EQ(s.toString(), "1:4294967295");
  EXPECT_EQ(s.size(), uint64_t(kMax));
  s.remove(kMax);
  EXPECT_EQ(s.max(), kMax - 1);
  s.remove(1);
  EXPECT_EQ(s.toString(), "2:4294967294");
  s.removeRange(kMax, 3);
  EXPECT_EQ(s.toString(), "2");
  s.removeRange(0, kMax);
  EXPECT_TRUE(s.empty());
}

TEST(UidSet, RemoveSplitsAndTrims) {
  UidSet s = P("1:10");
  s.remove(5);
  EXPECT_EQ(s.toString(), "1:4,6:10");
  s.remove(1);
  s.remove(10);
  EXPECT_EQ(s.toString(), "2:4,6:9");
  s.remove(5);  // absent
  s.remove(100);
  s.remove(0);
  EXPECT_EQ(s.toString(), "2:4,6:9");
  s.remove(2);
  s.remove(3);
  s.remove(4);
  EXPECT_EQ(s.toString(), "6:9");
  EXPECT_TRUE(Canonical(s));
}

TEST(UidSet, RemoveRange) {
  UidSet s = P("1:5,8:10,12,15:20,25:30");
  s.removeRange(3, 16);  // trims 1:5 and 15:20, drops 8:10 and 12
  EXPECT_EQ(s.toString(), "1:2,17:20,25:30");
  s.removeRange(27, 26);  // reversed, splits
  EXPECT_EQ(s.toString(), "1:2,17:20,25,28:30");
  s.removeRange(21, 24);  // a gap: nothing
  EXPECT_EQ(s.toString(), "1:2,17:20,25,28:30");
  s.removeRange(17, 25);  // exactly whole ranges
  EXPECT_EQ(s.toString(), "1:2,28:30");
  s.removeRange(0, 1);
  EXPECT_EQ(s.toString(), "2,28:30");
  s.removeRange(29, 1000);
  EXPECT_EQ(s.toString(), "2,28");
  EXPECT_TRUE(Canonical(s));
}

TEST(UidSet, Contains) {
  UidSet s = P("3:5,9,20:30");
  for (uint32_t u : {3u, 4u, 5u, 9u, 20u, 25u, 30u}) EXPECT_TRUE(s.contains(u)) << u;
  for (uint32_t u : {0u, 1u, 2u, 6u, 8u, 10u, 19u, 31u, kMax}) EXPECT_FALSE(s.contains(u)) << u;
  EXPECT_EQ(s.size(), 3u + 1u + 11u);
}

TEST(UidSet, ParseForms) {
  EXPECT_EQ(P("1:5,7").ranges(), (std::vector<UidSet::Range>{{1, 5}, {7, 7}}));
  EXPECT_EQ(P("5:1").toString(), "1:5");
  EXPECT_EQ(P("7,1:5,3").toString(), "1:5,7");
  EXPECT_EQ(P("1,2,3").toString(), "1:3");
  EXPECT_EQ(P("1:3,2:6,10:8").toString(), "1:6,8:10");
  EXPECT_EQ(P("4294967295").toString(), "4294967295");
  EXPECT_EQ(P("4294967295:1").size(), uint64_t(kMax));
  EXPECT_EQ(P("42").toString(), "42");
  EXPECT_EQ(P("10").toString(), "10");
  EXPECT_TRUE(P("").empty());  // what toString() gives for the empty set
}

TEST(UidSet, ParseRejects) {
  for (const char* bad :
       {"*", "1:*", "*:5", "0", "0:5", "5:0", "1,0", "4294967296", "99999999999999999999", "1:4294967296", " 1",
        "1 ", "1, 2", "1,", ",1", "1,,2", ",", ":", "1:", ":1", "1::2", "1:2:3", "a", "1a", "abc", "01", "1:05",
        "-1", "+1", "1;2", "1.5", "$"}) {
    EXPECT_FALSE(UidSet::parse(bad).has_value()) << '"' << bad << '"';
  }
  EXPECT_FALSE(UidSet::parse(std::string_view("1\0", 2)).has_value());
}

TEST(UidSet, RoundTrip) {
  for (const char* s : {"1", "1:2", "1:5,7,9:12", "3,5,7,9", "100:200,4294967295", "1:4294967295"}) {
    EXPECT_EQ(P(s).toString(), s);
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 200; ++i) {
    UidSet s;
    int n = int(rng() % 50);
    for (int k = 0; k < n; ++k) {
      uint32_t a = rng() % 1000 + 1;
      s.addRange(a, a + rng() % 5);
    }
    if (rng() % 4 == 0) s.add(kMax);
    auto back = UidSet::parse(s.toString());
    ASSERT_TRUE(back.has_value()) << s.toString();
    EXPECT_EQ(*back, s) << s.toString();
  }
}

TEST(UidSet, FromUids) {
  UidSet s = UidSet::fromUids({9, 3, 4, 0, 5, 9, 1, kMax, 3});
  EXPECT_EQ(s.toString(), "1,3:5,9,4294967295");
  EXPECT_TRUE(UidSet::fromUids({}).empty());
  EXPECT_TRUE(UidSet::fromUids({0, 0}).empty());
}

TEST(UidSet, Equality) {
  EXPECT_EQ(P("1:3"), UidSet::fromUids({3, 2, 1}));
  EXPECT_NE(P("1:3"), P("1:4"));
  EXPECT_NE(P("1:3"), UidSet());
  UidSet a = P("1:5");
  a.remove(3);
  a.add(3);
  EXPECT_EQ(a, P("1:5"));
}

TEST(UidSet, Clear) {
  UidSet s = P("1:5,9");
  s.clear();
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s, UidSet());
  s.add(4);
  EXPECT_EQ(s.toString(), "4");
}

TEST(UidSet, Minus) {
  EXPECT_EQ(P("1:10").minus(P("3:4,6,9:20")).toString(), "1:2,5,7:8");
  EXPECT_EQ(P("1:10").minus(UidSet()).toString(), "1:10");
  EXPECT_TRUE(UidSet().minus(P("1:10")).empty());
  EXPECT_TRUE(P("2:4,8").minus(P("1:10")).empty());
  EXPECT_EQ(P("1:3,5:7,9:11").minus(P("2:10")).toString(), "1,11");
  EXPECT_EQ(P("1:3,10:12").minus(P("4:9")).toString(), "1:3,10:12");
  EXPECT_EQ(P("5:10").minus(P("1:5,10:4294967295")).toString(), "6:9");
  EXPECT_EQ(P("1:4294967295").minus(P("4294967295")).toString(), "1:4294967294");
  EXPECT_EQ(P("4294967290:4294967295").minus(P("4294967291:4294967294")).toString(), "4294967290,4294967295");
  EXPECT_TRUE(P("1:4294967295").minus(P("1:4294967295")).empty());
}

TEST(UidSet, Intersect) {
  EXPECT_EQ(P("1:10").intersect(P("3:4,6,9:20")).toString(), "3:4,6,9:10");
  EXPECT_TRUE(P("1:10").intersect(UidSet()).empty());
  EXPECT_TRUE(UidSet().intersect(P("1:10")).empty());
  EXPECT_TRUE(P("1:3,7:9").intersect(P("4:6,10")).empty());
  EXPECT_EQ(P("1:3,5:7,9:11").intersect(P("2:10")).toString(), "2:3,5:7,9:10");
  EXPECT_EQ(P("2:10").intersect(P("1:3,5:7,9:11")).toString(), "2:3,5:7,9:10");
  EXPECT_EQ(P("1:4294967295").intersect(P("7,4294967295")).toString(), "7,4294967295");
}

TEST(UidSet, ToChunks) {
  UidSet s;
  for (uint32_t u = 1; u <= 2000; u += 2) s.add(u);  // 1,3,5,...: no ranges to merge
  for (size_t maxLen : {1u, 4u, 5u, 10u, 64u, 1000u, 100000u}) {
    auto chunks = s.toChunks(maxLen);
    ASSERT_FALSE(chunks.empty());
    UidSet back;
    std::string joined;
    for (const auto& c : chunks) {
      // A lone range is the only thing allowed to exceed maxLen.
      if (c.size() > maxLen) {
        EXPECT_EQ(c.find(','), std::string::npos) << c;
      }
      auto part = UidSet::parse(c);
      ASSERT_TRUE(part.has_value()) << c;
      EXPECT_TRUE(back.intersect(*part).empty()) << "chunks overlap";
      for (const auto& r : part->ranges()) back.addRange(r.first, r.second);
      if (!joined.empty()) joined += ',';
      joined += c;
    }
    EXPECT_EQ(back, s) << maxLen;
    EXPECT_EQ(joined, s.toString()) << maxLen;  // order preserved, nothing rewritten
  }
  EXPECT_EQ(s.toChunks(100000).size(), 1u);

  UidSet t = P("1:5,7,9:12,100000:200000");
  EXPECT_EQ(t.toChunks(9), (std::vector<std::string>{"1:5,7", "9:12", "100000:200000"}));
  EXPECT_EQ(t.toChunks(8), (std::vector<std::string>{"1:5,7", "9:12", "100000:200000"}));
  EXPECT_EQ(t.toChunks(5), (std::vector<std::string>{"1:5,7", "9:12", "100000:200000"}));
  EXPECT_EQ(t.toChunks(4), (std::vector<std::string>{"1:5", "7", "9:12", "100000:200000"}));
  EXPECT_EQ(t.toChunks(0), (std::vector<std::string>{"1:5", "7", "9:12", "100000:200000"}));
  EXPECT_EQ(t.toChunks(10), (std::vector<std::string>{"1:5,7,9:12", "100000:200000"}));
}

// Thousands of random operations checked against std::set. UIDs are drawn
// from two small windows (the bottom and the top of the UID space) so that
// ranges constantly touch, merge and split, including at 2^32-1.
TEST(UidSet, RandomizedAgainstStdSet) {
  std::mt19937 rng(12345);
  auto pick = [&]() -> uint32_t {
    uint32_t off = rng() % 300;
    return rng() % 2 ? 1 + off : kMax - off;
  };
  for (int round = 0; round < 10; ++round) {
    UidSet s;
    std::set<uint32_t> ref;
    for (int op = 0; op < 2000; ++op) {
      uint32_t a = pick();
      uint32_t span = rng() % 4 == 0 ? rng() % 40 : 0;
      uint32_t b = a > kMax - span ? kMax : a + span;
      if (rng() % 2) std::swap(a, b);
      uint32_t lo = std::min(a, b), hi = std::max(a, b);
      switch (rng() % 6) {
        case 0:
          s.add(a);
          ref.insert(a);
          break;
        case 1:
          s.addRange(a, b);
          for (uint64_t u = lo; u <= hi; ++u) ref.insert(uint32_t(u));
          break;
        case 2:
          s.remove(a);
          ref.erase(a);
          break;
        case 3:
          s.removeRange(a, b);
          for (uint64_t u = lo; u <= hi; ++u) ref.erase(uint32_t(u));
          break;
        case 4:
          EXPECT_EQ(s.contains(a), ref.count(a) == 1) << a;
          break;
        case 5: {
          // minus / intersect against a second random set
          std::set<uint32_t> other;
          for (int k = 0; k < 60; ++k) other.insert(pick());
          UidSet o = UidSet::fromUids(std::vector<uint32_t>(other.begin(), other.end()));
          std::set<uint32_t> diff, inter;
          std::set_difference(ref.begin(), ref.end(), other.begin(), other.end(), std::inserter(diff, diff.end()));
          std::set_intersection(ref.begin(), ref.end(), other.begin(), other.end(),
                                std::inserter(inter, inter.end()));
          UidSet m = s.minus(o), i = s.intersect(o);
          ASSERT_TRUE(Canonical(m));
          ASSERT_TRUE(Canonical(i));
          EXPECT_EQ(m.ranges(), rangesOf(diff));
          EXPECT_EQ(i.ranges(), rangesOf(inter));
          break;
        }
      }
      ASSERT_TRUE(Canonical(s)) << "round " << round << " op " << op;
      ASSERT_EQ(s.ranges(), rangesOf(ref)) << "round " << round << " op " << op;
      ASSERT_EQ(s.size(), ref.size());
      ASSERT_EQ(s.max(), ref.empty() ? 0u : *ref.rbegin());
      ASSERT_EQ(s.empty(), ref.empty());
    }
    auto back = UidSet::parse(s.toString());
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, s);
  }
}
