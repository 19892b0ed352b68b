// Reconnect delay schedule: exponential growth with a cap and jitter.
#pragma once

#include <cstdint>
#include <random>

namespace imap {

struct BackoffPolicy {
  uint64_t initialDelayMs = 1000;
  double factor = 2.0;
  uint64_t maxDelayMs = 60000;
  // Fraction in [0,1]: each delay is drawn uniformly from
  // [d * (1 - jitter), d] where d is the un-jittered delay, so that many
  // clients dropped together do not reconnect in lock-step.
  double jitter = 0.2;
};

class Backoff {
 public:
  explicit Backoff(BackoffPolicy p = {}, uint64_t seed = std::random_device{}());
  // Delay before the next attempt; advances the attempt counter.
  uint64_t next();
  // The un-jittered delay for attempt n (0-based).
  uint64_t baseDelay(unsigned attempt) const;
  void reset() { attempt_ = 0; }
  unsigned attempt() const { return attempt_; }
  const BackoffPolicy& policy() const { return p_; }

 private:
  BackoffPolicy p_;
  unsigned attempt_ = 0;
  // splitmix64: 8 bytes of state instead of mt19937_64's 2.5 KB, which
  // mattered at one Backoff per watched folder; jitter needs no more.
  uint64_t rng_;
  uint64_t draw();
};

}  // namespace imap
