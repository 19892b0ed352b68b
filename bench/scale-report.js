'use strict';
// The "connection scale" section of bench/run.js: runs bench/scale.js for
// each configuration and formats its own block of BENCHMARKS.md, between
// markers of its own, so that `node bench/run.js --only scale` can rewrite it
// without leaving holes in the other sections' block.
const { build } = require('./scale-server');
const { markers, writeBlock, measure, render } = require('./blocks');

const MARKERS = markers('scale');
const MAIN_END = '<!-- bench/run.js: end -->';

// [client, connections, runs]: the first run of each also sits idle for idleMs.
function config(quick) {
  return quick
    ? { idleMs: 10000, batch: 500, configs: [['imap-push', 1000, 1], ['imapflow', 1000, 1]] }
    : { idleMs: 60000, batch: 500, configs: [['imap-push', 1000, 3], ['imap-push', 10000, 2], ['imapflow', 1000, 3], ['imapflow', 10000, 1]] };
}

function scaleArgs(cfg, client, n, runs) {
  return ['bench/scale.js', '--client', client, '--n', String(n), '--runs', String(runs), '--idle-ms', String(cfg.idleMs),
    '--batch', String(cfg.batch)];
}


// runJson(cmd, argv, timeoutMs) is run.js's: the last JSON line of stdout.
async function run(cfg, runJson) {
  let buildError = null;
  try {
    build('scale_server');
  } catch (err) {
    buildError = `scale_server did not build: ${err.message.split('\n')[0]}`;
  }
  const rows = [];
  for (const [client, n, runs] of cfg.configs) {
    const argv = scaleArgs(cfg, client, n, runs);
    const row = { client, n, runs, command: `node ${argv.join(' ')}` };
    rows.push(await measure(row, runJson, argv, 15 * 60 * 1000, buildError));
  }
  return rows;
}

// ---- formatting ----------------------------------------------------------------

function section(rows, cfg, h) {
  const { cell, fmt, table, median } = h;
  const KiB = 1024;
  const MiB = 1024 * 1024;
  const label = (r) => (r.client === 'imapflow' ? 'ImapFlow' : 'imap-push');
  const ok = rows.filter((r) => r.result);
  const perConn = (run, k, when = 'connectedMem') => (run[when][k] - run.baseline[k]) / run.n;
  const memRows = [];
  const idleRows = [];
  for (const r of rows) {
    if (!r.result) {
      memRows.push([label(r), fmt(r.n, 0), `not measured: ${r.error}`, '', '', '', '', '', '', '', '']);
      continue;
    }
    const runs = r.result.runs;
    const col = (f) => runs.map(f);
    const first = runs[0];
    const short = runs.filter((x) => x.connected < x.n);
    const srv = runs.map((x) => `${fmt(x.server.connections, 0)} / ${fmt(x.server.idling, 0)} / ${fmt(x.server.commands / Math.max(1, x.server.connections), 1)}`);
    memRows.push([
      label(r),
      short.length ? `${fmt(r.n, 0)} (connected: ${short.map((x) => fmt(x.connected, 0)).join(', ')})` : fmt(r.n, 0),
      String(runs.length),
      cell(col((x) => x.connectMs / 1000), 1),
      cell(col((x) => x.baseline.rss / MiB), 1),
      cell(col((x) => x.connectedMem.rss / MiB), 1),
      cell(col((x) => perConn(x, 'rss') / KiB), 1),
      cell(col((x) => perConn(x, 'rssAnon') / KiB), 1),
      cell(col((x) => perConn(x, 'heapUsed')), 0),
      first.afterIdle ? fmt(perConn(first, 'rss', 'afterIdle') / KiB, 1) : '',
      [...new Set(srv)].join('; '),
    ]);
    if (first.idle) {
      const w = first.idle;
      idleRows.push([label(r), fmt(r.n, 0), fmt(w.wallMs / 1000, 0), fmt(w.cpuPercent, 3),
        `${fmt(w.mainThreadUs / 1000, 0)} / ${fmt(w.otherThreadsUs / 1000, 0)}`, fmt(w.contextSwitchesPerSec, 1),
        fmt(w.serverCpuPercent, 4), fmt(w.serverCommands, 0),
        fmt((first.server.rssKiB - first.server.rssBaselineKiB) / first.server.connections, 1)]);
    }
  }

  // Targets: per connection at the largest N, the ratio to ImapFlow at each N, idle CPU.
  const find = (client, n) => ok.find((r) => r.client === client && r.n === n);
  const sizes = [...new Set(rows.map((r) => r.n))].sort((a, b) => a - b);
  const targets = [];
  const big = sizes[sizes.length - 1];
  const pushBig = find('imap-push', big);
  if (pushBig) {
    const v = median(pushBig.result.runs.map((x) => perConn(x, 'rss') / KiB));
    const after = pushBig.result.runs[0].afterIdle ? perConn(pushBig.result.runs[0], 'rss', 'afterIdle') / KiB : null;
    targets.push(`≤ 32 KiB RSS per idle TLS connection: imap-push at ${fmt(big, 0)} connections ${fmt(v, 1)} KiB`
      + `${after !== null ? ` (${fmt(after, 1)} KiB after the idle window)` : ''}: ${v <= 32 ? 'met' : after !== null && after <= 32 ? 'met only after the idle window' : 'not met'}`);
  }
  for (const n of sizes) {
    const p = find('imap-push', n);
    const f = find('imapflow', n);
    if (!p || !f) continue;
    const a = median(p.result.runs.map((x) => perConn(x, 'rss')));
    const b = median(f.result.runs.map((x) => perConn(x, 'rss')));
    const fa = f.result.runs.filter((x) => x.connected === n);
    if (!fa.length) continue;
    const ratio = a / b;
    const pi = p.result.runs[0].afterIdle;
    const fi = f.result.runs[0].afterIdle;
    const idle = pi && fi && f.result.runs[0].connected === n
      ? `; after the idle window ${fmt(perConn(p.result.runs[0], 'rss', 'afterIdle') / KiB, 1)} / ${fmt(perConn(f.result.runs[0], 'rss', 'afterIdle') / KiB, 1)} KiB = ${fmt(perConn(p.result.runs[0], 'rss', 'afterIdle') / perConn(f.result.runs[0], 'rss', 'afterIdle'), 2)}`
      : '';
    targets.push(`≤ 1/5 of ImapFlow's cost per connection at ${fmt(n, 0)}: ${fmt(a / KiB, 1)} / ${fmt(b / KiB, 1)} KiB = ${fmt(ratio, 2)} (ImapFlow ${fmt(b / a, 1)}× imap-push)${idle}: ${ratio <= 0.2 ? 'met' : 'not met'}`);
  }
  if (pushBig && pushBig.result.runs[0].idle) {
    const w = pushBig.result.runs[0].idle;
    const f = find('imapflow', big);
    const fw = f && f.result.runs[0].idle;
    targets.push(`idle CPU at ${fmt(big, 0)}: imap-push ${fmt(w.cpuPercent, 3)} % of one core (${fmt((w.cpuPercent * 10), 1)} ms/s)${fw ? `, ImapFlow ${fmt(fw.cpuPercent, 3)} %` : ''}`);
  }

  return [
    `The server is \`bench/scale-server.cpp\` (built into \`bench/build/\`, Release): one thread, libuv polling, OpenSSL
on the non-blocking sockets with \`SSL_MODE_RELEASE_BUFFERS\`, a fresh self-signed ECDSA P-256 certificate,
TLS 1.3 (OpenSSL's default two session tickets), in a process of its own, fresh for every run. It answers
CAPABILITY, AUTHENTICATE/LOGIN, ENABLE, SELECT (an empty INBOX with UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ),
IDLE/DONE, NOOP and LOGOUT, and counts connections, sessions in IDLE and commands. Client and server run
with the highest descriptor limit allowed (\`ulimit -n\`), on 127.0.0.1. **imap-push**: one \`MailEngine\`,
one account per connection (INBOX only, implicit TLS, \`tlsOptions: { ca }\` with the server's certificate, so
verification is on), \`addAccount()\` ${cfg.batch} at a time (it resolves once the folder is in IDLE).
**ImapFlow**: one \`ImapFlow\` per connection (\`secure: true\`, \`tls: { rejectUnauthorized: false }\`,
\`autoIdleDelay: 0\`), \`connect()\` then \`mailboxOpen('INBOX')\`, ${cfg.batch} at a time; it enters IDLE on its own.
Each run opens and closes one warm-up connection, reads the baseline RSS after a full GC, opens the N
connections, waits until the server counts N in IDLE, waits 2 s and reads RSS after a full GC again:
"per connection" is the difference / N; "anonymous" is the same from \`RssAnon\` (no code pages);
"JS heap" is V8's \`heapUsed\`.`,
    '',
    table(['client', 'connections', 'runs', 'connect all s', 'RSS before MiB', 'RSS with N in IDLE MiB',
      'per connection KiB', 'per connection KiB (anonymous)', 'JS heap per connection bytes',
      'per connection KiB after the idle window', 'server saw: connections / in IDLE / commands each'], memRows),
    '',
    `Idle cost, first run of each configuration only (one run, no spread): CPU (user+system, every thread of
the client process, from \`process.cpuUsage()\`; the split by thread from \`/proc\`, 10 ms ticks) over
${fmt(cfg.idleMs / 1000, 0)} s with every connection in IDLE and nothing sent or received, context switches of every
thread per second, and the server's CPU and RSS per connection over the same window:`,
    '',
    table(['client', 'connections', 'window s', 'client CPU %', 'JS main thread ms / other threads ms',
      'context switches/s', 'server CPU %', 'server commands in the window', 'server RSS per connection KiB'], idleRows),
    '',
    ...(targets.length ? ['Targets:', '', ...targets.map((t) => `- ${t}`), ''] : []),
  ].join('\n');
}

function report(rows, cfg, h, meta) {
  return render(MARKERS, { title: 'Connection scale: idle TLS connections', meta, quickNote: 'N = 1,000 and a 10 s idle window only', body: section(rows, cfg, h), rows });
}

const write = (file, generated) => writeBlock(file, MARKERS, generated, MAIN_END);

const failed = (rows) => rows.some((r) => r.error);

module.exports = { config, run, report, write, failed };
