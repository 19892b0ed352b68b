'use strict';
// Summary of a series of latencies (ms): nearest-rank percentiles, so p99 of
// fewer than 100 samples is the maximum rather than an interpolated value.
function stats(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  return {
    n: s.length, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: s[s.length - 1], min: s[0],
    mean: s.reduce((a, b) => a + b, 0) / s.length,
  };
}

// RSS after a full GC when node runs with --expose-gc, so garbage not yet
// collected does not count as what connections cost.
function rss() {
  if (global.gc) global.gc();
  return process.memoryUsage().rss;
}

module.exports = { stats, rss };
