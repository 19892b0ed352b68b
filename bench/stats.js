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

// The middle value; the mean of the two middle ones for an even count.
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// CPU time (user + system, ms) one thread of this process has used, from
// /proc (10 ms ticks: USER_HZ is 100 on Linux). The main thread's tid is the pid.
function threadCpuMs(tid = process.pid) {
  const stat = require('fs').readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // the name may hold spaces and ')'
  return (Number(f[11]) + Number(f[12])) * 10; // utime, stime (fields 14 and 15)
}

module.exports = { stats, rss, median, threadCpuMs };
