#include "core/backoff.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace imap {

Backoff::Backoff(BackoffPolicy p, uint64_t seed) : p_(p), rng_(seed) {
  // NaN fails both comparisons and ends up as the safe value.
  if (!(p_.factor >= 1.0)) p_.factor = 1.0;
  p_.jitter = p_.jitter >= 0.0 ? std::min(p_.jitter, 1.0) : 0.0;
}

uint64_t Backoff::baseDelay(unsigned attempt) const {
  const uint64_t cap = p_.maxDelayMs;
  if (p_.initialDelayMs >= cap) return cap;
  if (p_.initialDelayMs == 0) return 0;  // 0 * inf would be NaN below
  // Doubles saturate to +inf instead of wrapping, so the cap check is safe.
  double d = static_cast<double>(p_.initialDelayMs) * std::pow(p_.factor, attempt);
  if (!(d < static_cast<double>(cap))) return cap;
  return std::min(cap, static_cast<uint64_t>(std::round(d)));
}

uint64_t Backoff::next() {
  uint64_t d = baseDelay(attempt_);
  if (attempt_ < std::numeric_limits<unsigned>::max()) ++attempt_;
  double lowD = std::ceil(static_cast<double>(d) * (1.0 - p_.jitter));
  uint64_t lo = lowD < static_cast<double>(d) ? static_cast<uint64_t>(lowD) : d;
  if (lo >= d) return d;
  return lo + draw() % (d - lo + 1);  // modulo bias is irrelevant at these ranges
}

uint64_t Backoff::draw() {
  uint64_t z = (rng_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace imap
