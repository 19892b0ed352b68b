#!/usr/bin/env node
'use strict';

// parseMessage (native, libuv threadpool) against the pure-JS parsers
// postal-mime and mailparser: throughput over test/corpus and over generated
// 1/5/20 MB messages, and how much each one stalls the event loop while a
// 20 MB message is parsed. Prints tables, writes bench/results/parse.json,
// and ends stdout with the results as one JSON line (for bench/run.js).
//   node bench/parse.js [--quick]   (--quick: small sizes, writes no file)

const fs = require('fs');
const os = require('os');
const path = require('path');
const { performance } = require('perf_hooks');
const { parseMessage } = require('../lib/mime');
const PostalMime = require('postal-mime').default;
const { simpleParser } = require('mailparser');
const { median } = require('./stats');

const QUICK = process.argv.includes('--quick');
const ROOT = path.join(__dirname, '..');
const version = (pkg) => require(`${pkg}/package.json`).version;

const PARSERS = [
  { name: 'imap-push parseMessage', parse: (buf) => parseMessage(buf) },
  { name: `postal-mime ${version('postal-mime')}`, parse: (buf) => PostalMime.parse(buf) },
  { name: `mailparser ${version('mailparser')}`, parse: (buf) => simpleParser(buf) },
];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : 0;
};
const round = (x, digits = 1) => Number(x.toFixed(digits));
const MB = 1024 * 1024;

// ---- inputs -----------------------------------------------------------------

function corpus() {
  const dir = path.join(ROOT, 'test', 'corpus');
  return fs.readdirSync(dir).filter((f) => f.endsWith('.eml')).sort().map((f) => fs.readFileSync(path.join(dir, f)));
}

// Deterministic pseudo-random bytes, so every run parses the same message.
function noise(size, seed) {
  const buf = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[i] = x & 0xff;
  }
  return buf;
}

// multipart/mixed: an alternative text+html body and base64 attachments of
// at most 4 MB each, about `totalMb` in all.
function largeMessage(totalMb) {
  const text = 'Quarterly numbers are attached. Grüße, Ann.\r\n'.repeat(40);
  const html = `<html><body>${'<p>Quarterly numbers are attached. Grüße, Ann.</p>\r\n'.repeat(40)}</body></html>`;
  const rawBytes = Math.floor((totalMb * MB * 3) / 4 / (1 + 2 / 76)); // base64 + CRLF every 76
  const count = Math.max(1, Math.ceil(rawBytes / (4 * MB)));
  let eml =
    'From: "Ann Example" <ann@example.org>\r\nTo: bob@example.com\r\nSubject: Large message\r\n' +
    'Date: Tue, 2 Jan 2024 09:58:01 +0100\r\nMIME-Version: 1.0\r\n' +
    'Content-Type: multipart/mixed; boundary="mixed"\r\n\r\n' +
    '--mixed\r\nContent-Type: multipart/alternative; boundary="alt"\r\n\r\n' +
    `--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n` +
    `--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${html}\r\n--alt--\r\n`;
  for (let i = 0; i < count; i++) {
    const b64 = noise(Math.floor(rawBytes / count), i + 1).toString('base64').replace(/.{76}/g, '$&\r\n');
    eml +=
      `--mixed\r\nContent-Type: application/octet-stream; name="data-${i}.bin"\r\n` +
      `Content-Disposition: attachment; filename="data-${i}.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n`;
  }
  return Buffer.from(`${eml}--mixed--\r\n`);
}

// ---- measurements -----------------------------------------------------------

async function corpusThroughput(parser, messages, concurrency) {
  const bytes = messages.reduce((n, m) => n + m.length, 0);
  for (const m of messages) await parser.parse(m); // warm-up
  const budgetMs = QUICK ? 300 : 1500;
  let rounds = 0;
  const start = performance.now();
  while (performance.now() - start < budgetMs) {
    for (let i = 0; i < messages.length; i += concurrency) {
      await Promise.all(messages.slice(i, i + concurrency).map((m) => parser.parse(m)));
    }
    rounds++;
  }
  const seconds = (performance.now() - start) / 1000;
  return { msgsPerSec: round((rounds * messages.length) / seconds, 0), mbPerSec: round((rounds * bytes) / MB / seconds) };
}

async function largeThroughput(parser, message, runs) {
  await parser.parse(message); // warm-up
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await parser.parse(message);
    times.push(performance.now() - start);
  }
  const ms = median(times);
  return { medianMs: round(ms), mbPerSec: round(message.length / MB / (ms / 1000)) };
}

// A 1 ms interval timer; each late tick's delay is event-loop lag.
async function eventLoopLag(parser, message) {
  const lags = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    lags.push(Math.max(0, now - last - 1));
    last = now;
  }, 1);
  await sleep(50);
  lags.length = 0;
  last = performance.now();
  const start = performance.now();
  await parser.parse(message);
  const parseMs = performance.now() - start;
  await sleep(5);
  clearInterval(timer);
  return { parseMs: round(parseMs), maxLagMs: round(Math.max(...lags)), p99LagMs: round(percentile(lags, 99)), ticks: lags.length };
}

// ---- output -----------------------------------------------------------------

function table(title, header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  console.log(`\n${title}\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of rows) console.log(line(r));
}

async function main() {
  const results = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0].model,
    cores: os.cpus().length,
    threadpool: Number(process.env.UV_THREADPOOL_SIZE) || 4,
    corpus: [],
    large: [],
    eventLoopLag: [],
  };

  const messages = corpus();
  for (const parser of PARSERS) {
    const sequential = await corpusThroughput(parser, messages, 1);
    const concurrent = await corpusThroughput(parser, messages, 8);
    results.corpus.push({ parser: parser.name, messages: messages.length, sequential, concurrent8: concurrent });
  }
  table(
    `Corpus (${messages.length} messages, ${round(messages.reduce((n, m) => n + m.length, 0) / 1024)} KiB)`,
    ['parser', 'msgs/s', 'MB/s', 'msgs/s (8 in flight)'],
    results.corpus.map((r) => [r.parser, r.sequential.msgsPerSec, r.sequential.mbPerSec, r.concurrent8.msgsPerSec]),
  );

  const sizes = QUICK ? [1, 5] : [1, 5, 20];
  const large = new Map(sizes.map((mb) => [mb, largeMessage(mb)]));
  for (const [mb, message] of large) {
    for (const parser of PARSERS) {
      const r = await largeThroughput(parser, message, mb >= 20 ? 3 : 5);
      results.large.push({ parser: parser.name, sizeMb: round(message.length / MB, 2), ...r });
    }
  }
  table(
    'Large messages (base64 attachments; median time per message)',
    ['parser', 'size MB', 'ms', 'MB/s'],
    results.large.map((r) => [r.parser, r.sizeMb, r.medianMs, r.mbPerSec]),
  );

  const lagMessage = large.get(sizes[sizes.length - 1]);
  for (const parser of PARSERS) {
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await eventLoopLag(parser, lagMessage));
    const worst = runs.reduce((a, b) => (b.maxLagMs > a.maxLagMs ? b : a));
    results.eventLoopLag.push({ parser: parser.name, sizeMb: round(lagMessage.length / MB, 2), ...worst });
  }
  table(
    `Event-loop lag while parsing one ${round(lagMessage.length / MB)} MB message (1 ms probe; worst of 3)`,
    ['parser', 'parse ms', 'max lag ms', 'p99 lag ms'],
    results.eventLoopLag.map((r) => [r.parser, r.parseMs, r.maxLagMs, r.p99LagMs]),
  );

  // A quick run is a smoke check: its figures must not replace real ones.
  if (!QUICK) {
    const out = path.join(__dirname, 'results', 'parse.json');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nwrote ${path.relative(ROOT, out)}`);
  }
  console.log(JSON.stringify(results));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
