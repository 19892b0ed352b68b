#include "core/backoff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <vector>

using namespace imap;

TEST(Backoff, ExactBaseDelaysAndCap) {
  Backoff b(BackoffPolicy{1000, 2.0, 60000, 0.2}, 1);
  const uint64_t expected[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000};
  for (unsigned n = 0; n < 8; ++n) EXPECT_EQ(b.baseDelay(n), expected[n]) << n;
  EXPECT_EQ(b.baseDelay(1000), 60000u);
  EXPECT_EQ(b.baseDelay(std::numeric_limits<unsigned>::max()), 60000u);
}

TEST(Backoff, NonIntegerFactor) {
  Backoff b(BackoffPolicy{100, 1.5, 1000, 0}, 1);
  EXPECT_EQ(b.baseDelay(0), 100u);
  EXPECT_EQ(b.baseDelay(1), 150u);
  EXPECT_EQ(b.baseDelay(2), 225u);
  EXPECT_EQ(b.baseDelay(3), 338u);  // 337.5 rounds half away from zero
  EXPECT_EQ(b.baseDelay(6), 1000u);
}

TEST(Backoff, NoOverflowNearLimits) {
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  Backoff huge(BackoffPolicy{max / 2, 10.0, max, 0}, 1);
  EXPECT_EQ(huge.baseDelay(0), max / 2 + 1);  // nearest double; still below the cap
  EXPECT_EQ(huge.baseDelay(1), max);
  EXPECT_EQ(huge.baseDelay(5000), max);
  EXPECT_EQ(huge.next(), max / 2 + 1);
  EXPECT_EQ(huge.next(), max);

  Backoff big(BackoffPolicy{1, 1e300, 5000, 0}, 1);
  EXPECT_EQ(big.baseDelay(3), 5000u);  // 1e900 overflows double to inf

  Backoff startAboveCap(BackoffPolicy{10000, 2.0, 500, 0}, 1);
  EXPECT_EQ(startAboveCap.baseDelay(0), 500u);

  Backoff zero(BackoffPolicy{0, 2.0, 500, 0.5}, 1);
  EXPECT_EQ(zero.baseDelay(2000), 0u);
  EXPECT_EQ(zero.next(), 0u);
}

TEST(Backoff, FactorBelowOneIsOne) {
  for (double f : {0.5, 0.0, -3.0, std::nan("")}) {
    Backoff b(BackoffPolicy{700, f, 60000, 0}, 1);
    EXPECT_EQ(b.baseDelay(0), 700u);
    EXPECT_EQ(b.baseDelay(10), 700u);
    EXPECT_EQ(b.policy().factor, 1.0);
  }
}

TEST(Backoff, JitterIsClamped) {
  Backoff high(BackoffPolicy{1000, 2.0, 60000, 5.0}, 1);
  EXPECT_EQ(high.policy().jitter, 1.0);
  Backoff low(BackoffPolicy{1000, 2.0, 60000, -1.0}, 1);
  EXPECT_EQ(low.policy().jitter, 0.0);
  EXPECT_EQ(low.next(), 1000u);
  EXPECT_EQ(low.next(), 2000u);
  Backoff nan(BackoffPolicy{1000, 2.0, 60000, std::nan("")}, 1);
  EXPECT_EQ(nan.next(), 1000u);
}

TEST(Backoff, JitterBoundsOverManyDraws) {
  BackoffPolicy p{1000, 2.0, 60000, 0.2};
  Backoff b(p, 42);
  for (unsigned attempt = 0; attempt < 10; ++attempt) {
    uint64_t d = b.baseDelay(attempt);
    uint64_t lo = d, hi = 0;
    for (int i = 0; i < 2000; ++i) {
      b.reset();
      for (unsigned k = 0; k < attempt; ++k) b.next();
      uint64_t v = b.next();
      ASSERT_GE(v, static_cast<uint64_t>(std::ceil(d * 0.8)));
      ASSERT_LE(v, d);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    // The draws actually spread over the window.
    EXPECT_LT(lo, d * 0.82) << attempt;
    EXPECT_GT(hi, d * 0.98) << attempt;
  }
}

TEST(Backoff, FullJitterReachesZero) {
  Backoff b(BackoffPolicy{10, 1.0, 100, 1.0}, 3);
  std::set<uint64_t> seen;
  for (int i = 0; i < 2000; ++i) {
    uint64_t v = b.next();
    ASSERT_LE(v, 10u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 11u);  // every value in [0, 10]
}

TEST(Backoff, DeterministicWithSeed) {
  BackoffPolicy p{500, 3.0, 100000, 0.5};
  Backoff a(p, 1234), b(p, 1234), c(p, 999);
  std::vector<uint64_t> va, vb, vc;
  for (int i = 0; i < 12; ++i) {
    va.push_back(a.next());
    vb.push_back(b.next());
    vc.push_back(c.next());
  }
  EXPECT_EQ(va, vb);
  EXPECT_NE(va, vc);
}

TEST(Backoff, AttemptCounterAndReset) {
  Backoff b(BackoffPolicy{1000, 2.0, 60000, 0}, 1);
  EXPECT_EQ(b.attempt(), 0u);
  EXPECT_EQ(b.next(), 1000u);
  EXPECT_EQ(b.next(), 2000u);
  EXPECT_EQ(b.next(), 4000u);
  EXPECT_EQ(b.attempt(), 3u);
  b.reset();
  EXPECT_EQ(b.attempt(), 0u);
  EXPECT_EQ(b.next(), 1000u);
  EXPECT_EQ(b.attempt(), 1u);
}

TEST(Backoff, DefaultPolicy) {
  Backoff b;
  EXPECT_EQ(b.baseDelay(0), 1000u);
  EXPECT_EQ(b.baseDelay(6), 60000u);
  uint64_t v = b.next();
  EXPECT_GE(v, 800u);
  EXPECT_LE(v, 1000u);
}
