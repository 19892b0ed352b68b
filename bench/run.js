#!/usr/bin/env node
'use strict';
// Runs every benchmark several times, prints the tables and rewrites the
// generated blocks of BENCHMARKS.md (between their markers; text outside them
// is kept). Each row shows the median over the runs and their spread (min–max).
//
//   npm run bench                 everything (~28 min on 2 cores): parser, push latency on the mock
//                                 (latency), no-change sync (sync), push latency with 10,000 idle
//                                 connections and on Dovecot (push), envelope fetch of 100,000
//                                 messages (envelope), flag/move/search/messages() on Dovecot
//                                 (actions), JS event-loop lag (lag), MIME parsing against
//                                 postal-mime and mailparser (mime), and 1,000 / 10,000 idle TLS
//                                 connections (scale), imap-push/cluster on Redis: failover, throughput,
//                                 memory, 1k-100k accounts over 10 workers (cluster); ImapFlow side by side
//                                 wherever it applies
//   node bench/run.js --quick     one short run each; prints only, unless --out FILE
//   node bench/run.js --out FILE  write the report to FILE instead of BENCHMARKS.md
//   node bench/run.js --no-write  print only
//   node bench/run.js --only push,lag   some sections (comma-separated). push, envelope, actions, lag,
//                                 mime, scale and cluster have blocks of their own, which this rewrites; the first
//                                 three share one block, which only a run of all three rewrites
//                                 (else it prints, or writes to --out FILE)
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { parseArgs } = require('util');

const { provenance, measure } = require('./blocks');
const { median } = require('./stats');
const { build } = require('./scale-server');

const ROOT = path.join(__dirname, '..');
const { values: args } = parseArgs({
  options: { quick: { type: 'boolean' }, out: { type: 'string' }, 'no-write': { type: 'boolean' }, only: { type: 'string' } },
});
const QUICK = !!args.quick;
const MAIN_SECTIONS = ['parser', 'latency', 'sync']; // the main block
// Sections with a block of their own each, in the order they run.
const BLOCKS = {
  push: require('./push-report'),
  envelope: require('./envelope-report'),
  actions: require('./actions-report'),
  lag: require('./lag-report'),
  mime: require('./mime-report'),
  scale: require('./scale-report'),
  cluster: require('./cluster-report'),
};
const SECTIONS = [...MAIN_SECTIONS, ...Object.keys(BLOCKS)];
const ONLY = args.only ? args.only.split(',').map((x) => x.trim()).filter(Boolean) : null;
if (ONLY && (!ONLY.length || ONLY.some((x) => !SECTIONS.includes(x)))) {
  process.stderr.write(`bench: --only takes ${SECTIONS.join(', ')} (comma-separated), not '${args.only}'\n`);
  process.exit(2);
}
const runs = (section) => !ONLY || ONLY.includes(section);
const CFG = QUICK
  ? { runs: 1, messages: 50, warmup: 5, gap: 3, idle: 100, windows: 1, windowMs: 1000, parserMessages: 20000, parserRuns: 1 }
  : { runs: 5, messages: 300, warmup: 20, gap: 3, idle: 1000, windows: 5, windowMs: 2000, parserMessages: 100000, parserRuns: 5 };
// imap-push is also run with fewer idle connections, to show how latency and
// idle CPU scale with the number of connections.
CFG.scaling = QUICK ? [] : [100, 300];
// No-change sync: [server, accounts] pairs, each measured cold (ImapFlow) and
// pooled (imap-push syncAll with maxConcurrent 50 and the default 5).
CFG.sync = QUICK
  ? { sizes: [['mock', 4], ['mock', 100]], cycles: 2, warmup: 1, singles: 10, messages: 10 }
  : { sizes: [['mock', 4], ['mock', 100], ['mock', 1000], ['dovecot', 4], ['dovecot', 100]], cycles: 5, warmup: 1, singles: 20, messages: 10 };
// A partial run (--only) would leave BENCHMARKS.md with holes: it writes only to --out.
const OUT = args.out ? path.resolve(args.out) : QUICK || ONLY || args['no-write'] ? null : path.join(ROOT, 'BENCHMARKS.md');
const BEGIN = '<!-- bench/run.js: generated from here to the end marker; edit outside the markers -->';
const END = '<!-- bench/run.js: end -->';
for (const [name, mod] of Object.entries(BLOCKS)) CFG[name] = mod.config(QUICK);
// Blocks of their own are written even by --only.
const BLOCK_OUT = args.out ? path.resolve(args.out) : QUICK || args['no-write'] ? null : path.join(ROOT, 'BENCHMARKS.md');

// ---- running ----------------------------------------------------------------

// Runs a command, streams its stderr (progress), returns the last JSON line of its stdout.
function runJson(cmd, argv, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; process.stderr.write(d); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      if (code === 0 && line) return resolve(JSON.parse(line));
      const why = signal ? `killed (${signal}${signal === 'SIGKILL' ? `, over ${timeoutMs / 1000} s` : ''})` : `exit code ${code}`;
      // The last line that is not a stack frame: the error itself.
      const tail = err.trim().split('\n').filter((l) => !/^\s+at /.test(l)).slice(-1)[0] || '';
      return reject(new Error(`${why}${tail ? `: ${tail}` : ''}`));
    });
  });
}

async function parserBench() {
  const exe = path.join(__dirname, 'build', 'parser_throughput');
  build('parser_throughput');
  const runs = [];
  for (let i = 0; i < CFG.parserRuns; i++) runs.push(await runJson(exe, [String(CFG.parserMessages), '65536'], 120000));
  return { command: `bench/build/parser_throughput ${CFG.parserMessages} 65536`, runs };
}

function latencyArgs(client, idle) {
  return ['bench/push-latency.js', '--client', client, '--idle', String(idle), '--messages', String(CFG.messages),
    '--runs', String(CFG.runs), '--warmup', String(CFG.warmup), '--gap', String(CFG.gap), '--idle-windows', String(CFG.windows),
    '--window-ms', String(CFG.windowMs)];
}

async function latencyBench(client, idle) {
  // --expose-gc: RSS is sampled right after a full GC, so it is steadier.
  const argv = ['--expose-gc', ...latencyArgs(client, idle)];
  return { command: `node ${argv.join(' ')}`, result: await runJson(process.execPath, argv, 150000) };
}

function syncArgs(server, accounts, client, maxConcurrent) {
  return ['bench/sync.js', '--server', server, '--accounts', String(accounts), '--client', client,
    '--max-concurrent', String(maxConcurrent), '--cycles', String(CFG.sync.cycles), '--warmup', String(CFG.sync.warmup),
    '--singles', String(CFG.sync.singles), '--messages', String(CFG.sync.messages)];
}

async function syncBench() {
  let dovecot = false;
  try {
    dovecot = require('../test/support/dovecot').dovecotAvailable();
  } catch { /* support code missing */ }
  const out = [];
  for (const [server, accounts] of CFG.sync.sizes) {
    // ImapFlow reconnects per account, --max-concurrent (50) at a time; imap-push's syncAll
    // with sync.maxConcurrent 50, then with its default (5).
    for (const [client, k] of [['imapflow', 50], ['imap-push', 50], ['imap-push', 5]]) {
      const argv = syncArgs(server, accounts, client, k);
      const row = { server, accounts, client, maxConcurrent: k, command: `node ${argv.join(' ')}` };
      out.push(await measure(row, runJson, argv, 180000, server === 'dovecot' && !dovecot ? 'dovecot not installed' : null));
    }
  }
  return out;
}

// ---- statistics and formatting ---------------------------------------------

const sorted = (xs) => [...xs].sort((a, b) => a - b);
function fmt(x, digits) {
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
// "median (min–max)", or just the value for a single run.
function cell(xs, digits = 2) {
  if (!xs.length) return 'n/a';
  if (xs.length === 1) return fmt(xs[0], digits);
  const s = sorted(xs);
  return `${fmt(median(s), digits)} (${fmt(s[0], digits)}–${fmt(s[s.length - 1], digits)})`;
}
const MB = 1024 * 1024;
const table = (head, rows) => [
  `| ${head.join(' | ')} |`,
  `|${head.map((h, i) => (i ? '---:' : '---')).join('|')}|`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n');

function machine() {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'binding', 'lib'], { cwd: ROOT }).toString().trim();
    if (dirty) commit += ' + uncommitted changes in src/binding/lib';
  } catch { /* not a git checkout */ }
  return {
    cpu: os.cpus()[0].model,
    cores: os.cpus().length,
    ramGiB: (os.totalmem() / 1024 ** 3).toFixed(1),
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    load: os.loadavg().map((l) => l.toFixed(2)).join(' '),
    commit,
    imapflow: (() => {
      try {
        return require('imapflow/package.json').version;
      } catch {
        return 'not installed (npm install: it is a devDependency)';
      }
    })(),
  };
}

function latencySection(results) {
  const rows = [];
  const memRows = [];
  for (const [label, r] of results) {
    if (r.error) {
      rows.push([label, `not measured: ${r.error}`, '', '', '', '']);
      continue;
    }
    const x = r.result;
    const col = (k) => x.runs.map((run) => run[k]);
    rows.push([label, cell(col('p50'), 3), cell(col('p99'), 3), cell(col('max'), 3), cell(col('mean'), 3),
      `${x.runs.length}×${x.messagesPerRun}`]);
    const w = x.idleWindows;
    const perConn = x.idleConnections ? `${fmt((x.rssConnected - x.rssBaseline) / 1024 / (x.idleConnections + 1), 1)} KiB` : '';
    memRows.push([label, fmt(x.setupMs / 1000, 2), fmt(x.rssBaseline / MB, 1), fmt(x.rssConnected / MB, 1), perConn,
      fmt(x.rssAfter / MB, 1),
      w.length ? cell(w.map((v) => v.cpuPercent), 3) : '', w.length ? cell(w.map((v) => v.serverCpuPercent), 3) : '']);
  }
  // The mock waits (up to 2 s, outside the timed span) for the client to be
  // back in IDLE before each append; say so if it ever gave up waiting.
  const late = results.filter(([, r]) => !r.error && r.result.notIdleAtAppend > 0)
    .map(([label, r]) => `${label}: ${r.result.notIdleAtAppend} message(s) appended while the client was not in IDLE.`);
  return [
    table(['client / scenario', 'p50 ms', 'p99 ms', 'max ms', 'mean ms', 'runs×messages'], rows),
    ...(late.length ? ['', ...late] : []),
    '',
    'Memory and idle cost of the same client processes. RSS is read after a full GC: before connecting, once every',
    'connection is in IDLE (before any message; "per connection" = the difference / connections), and after the',
    'runs. CPU is user+system of the whole process, engine thread included, over',
    `${CFG.windows} idle window(s) of ${CFG.windowMs / 1000} s with nothing sent or received:`,
    '',
    table(['client / scenario', 'setup s', 'RSS before connecting MiB', 'RSS connected MiB', 'per connection',
      'RSS after the runs MiB', 'client CPU % idle', 'mock server CPU % idle'], memRows),
  ].join('\n');
}

function parserSection(p) {
  if (p.error) return `Not measured: ${p.error}`;
  const col = (k) => p.runs.map((r) => r[k]);
  const r0 = p.runs[0];
  return [
    `${fmt(r0.messages, 0)} FETCH responses, ${fmt(r0.bytes / 1e6, 1)} MB (${fmt(r0.bytes / r0.messages, 0)} bytes each), fed in ${r0.chunkBytes / 1024} KiB chunks; ${p.runs.length} run(s).`,
    '',
    table(['pass', 'messages/s', 'MB/s (10^6 bytes)'], [
      ['parse only (imap::Parser::feed)', cell(col('parseMsgPerSec'), 0), cell(col('parseMBPerSec'), 1)],
      ['parse + decode (items, decodeEnvelope, parseInternalDate)', cell(col('decodeMsgPerSec'), 0), cell(col('decodeMBPerSec'), 1)],
    ]),
  ].join('\n');
}

const SERVER_LABEL = { mock: 'mock', dovecot: 'Dovecot' };

function syncSection(rows) {
  const find = (server, accounts, client, k) => rows.find((r) => r.server === server && r.accounts === accounts
    && r.client === client && r.maxConcurrent === k);
  const cycles = (r, digits) => (!r ? 'n/a' : r.error ? `not measured: ${r.error}` : cell(r.result.cycleMs, digits));
  const main = [];
  const check = [];
  const targets = [];
  for (const [server, accounts] of CFG.sync.sizes) {
    const cold = find(server, accounts, 'imapflow', 50);
    const p50 = find(server, accounts, 'imap-push', 50);
    const p5 = find(server, accounts, 'imap-push', 5);
    const ok = (r) => r && !r.error;
    const ratio = ok(cold) && ok(p50) ? `${fmt(median(cold.result.cycleMs) / median(p50.result.cycleMs), 0)}×` : '';
    main.push([SERVER_LABEL[server], fmt(accounts, 0), cycles(cold, 1), cycles(p50, 2), cycles(p5, 2), ratio,
      ok(cold) ? fmt(cold.result.perAccountMs.p50, 1) : '', ok(p50) ? cell(p50.result.singleMs, 2) : '']);
    for (const r of [cold, p50, p5]) {
      if (!r) continue;
      const who = r.client === 'imapflow' ? 'cold (ImapFlow)' : `pooled, maxConcurrent ${r.maxConcurrent}`;
      if (r.error) {
        check.push([SERVER_LABEL[server], fmt(accounts, 0), who, `not measured: ${r.error}`, '', '', '', '', '', '']);
        continue;
      }
      const x = r.result;
      const n = x.cycleMs.length;
      const cmds = x.commandsPerAccount
        ? Object.entries(x.commandsPerAccount).map(([k, v]) => `${k} ${fmt(v, Number.isInteger(v) ? 0 : 2)}`).join(', ') : 'not seen';
      const faults = r.client === 'imapflow'
        ? x.errorCount + x.wrongStatus
        : x.problemCount + Math.max(0, x.extraSyncsDuringTimed);
      check.push([SERVER_LABEL[server], fmt(accounts, 0), who,
        r.client === 'imap-push' ? `${fmt(x.addMs / 1000, 2)} / ${x.startupSyncs ? fmt(x.startupSyncs, 0) : 'none'}` : '',
        r.client === 'imap-push' ? `${fmt(x.warmupMs[0], 1)} (${fmt(x.poolCreatedDuringWarmup, 0)} opened)` : fmt(x.warmupMs[0], 1),
        `${fmt(x.loginsDuringTimed, 0)} (${fmt(x.loginsDuringTimed / n, 0)}/cycle)`,
        x.connectionsDuringTimed === null ? 'not seen' : fmt(x.connectionsDuringTimed, 0),
        cmds,
        r.client === 'imap-push' ? `${fmt(x.engineDurationMs.p50, 2)} / ${fmt(x.engineDurationMs.max, 2)}` : `${fmt(x.perAccountMs.p50, 1)} / ${fmt(x.perAccountMs.max, 1)}`,
        fmt(faults, 0)]);
    }
    if (server === 'mock' && ok(p50) && (accounts === 4 || accounts === 1000)) {
      const limit = accounts === 4 ? 10 : 1000;
      const med = median(p50.result.cycleMs);
      const worst = Math.max(...p50.result.cycleMs);
      targets.push(`${accounts} accounts ≤ ${fmt(limit, 0)} ms: median ${fmt(med, 2)} ms, slowest cycle ${fmt(worst, 2)} ms (${worst <= limit ? 'met' : med <= limit ? 'median met, not every cycle' : 'not met'})`);
    }
  }
  return [
    table(['server', 'accounts', 'cold: ImapFlow ms/cycle', 'pooled: syncAll() ms, maxConcurrent 50',
      'pooled: syncAll() ms, maxConcurrent 5 (default)', 'cold / pooled (50)', 'cold: one account ms (p50)',
      'pooled: one sync(id) ms'], main),
    '',
    ...(targets.length ? [`Targets (pooled, maxConcurrent 50, loopback mock): ${targets.join('; ')}.`, ''] : []),
    'What the server saw during the timed cycles (logins: the mock\'s LOGIN/AUTHENTICATE count, Dovecot\'s',
    '"imap-login: Login:" log lines; connections and commands: mock only). "addAccount" is the time to add',
    'every account (100 at a time), then how many startup syncs the engine ran by itself (it skips them on',
    'QRESYNC servers without saved state, so on Dovecot the warm-up syncAll() opens the pooled connections);',
    '"per account" is cold: connect → logout in JS; pooled: the engine\'s `folders[].durationMs` (on the',
    'leased connection; `SyncResult.durationMs` is whole ms). "Faults": failed or miscounted STATUS (cold),',
    'failed syncs or reported changes (pooled), and syncs the engine started on its own during the timed cycles:',
    '',
    table(['server', 'accounts', 'client', 'addAccount s / startup syncs', 'warm-up cycle ms (pooled connections opened)', 'logins', 'new connections', 'commands per account per cycle',
      'per account ms p50 / max', 'faults'], check),
  ].join('\n');
}

function report(m, parser, latency, sync, command, started) {
  const lat = (client, idle) => latency.find((l) => l.client === client && l.idle === idle);
  const latencyText = !runs('latency') ? '' : `## Push latency

From just before the mock server's \`appendMessage()\` (which sends \`* N EXISTS\` to
the idling connection at once) until the new message's envelope is in JS:
imap-push's \`newMessage\` event; ImapFlow's \`exists\` event followed by
\`fetchOne(seq, { envelope: true, uid: true })\` resolving. ${CFG.messages} messages per
run, one at a time (each after the previous one arrived, then a ${CFG.gap} ms pause, and
only once the client is back in IDLE), after ${CFG.warmup} warm-up messages. The mock
server runs in its own process; both sides read \`process.hrtime.bigint()\`
(CLOCK_MONOTONIC, shared by all processes). Plain TCP on 127.0.0.1.
"+ N idle" means N more connections from the same client
process sit in IDLE on another folder of the same server while one is measured.

${latencySection([
    [`imap-push, 1 account`, lat('imap-push', 0)],
    ...CFG.scaling.map((n) => [`imap-push, 1 account + ${n} idle`, lat('imap-push', n)]),
    [`imap-push, 1 account + ${CFG.idle} idle`, lat('imap-push', CFG.idle)],
    [`ImapFlow, 1 client`, lat('imapflow', 0)],
    [`ImapFlow, 1 client + ${CFG.idle} idle`, lat('imapflow', CFG.idle)],
  ])}

`;
  const parserText = !runs('parser') ? '' : `## Parser throughput

\`bench/parser-throughput.cpp\` (built by this script into \`bench/build/\`, Release, -O2)
feeds \`imap::Parser\` a synthetic stream of new-message responses,
\`* n FETCH (UID n FLAGS (...) ENVELOPE (...) INTERNALDATE "..." RFC822.SIZE n)\`,
with subjects mostly plain, 15 % UTF-8 base64 and 10 % Latin-1 quoted-printable
encoded words (iconv) and 5 % literals; 1–3 To and sometimes Cc addresses.
One engine thread, no I/O.

${parserSection(parser)}

`;
  const syncText = !runs('sync') ? '' : `## No-change sync

One cycle asks every account "anything new in INBOX?" when nothing changed (INBOX holds
${CFG.sync.messages} messages; each account logs in as its own user). **Cold** is what apps do today: per
account a new ImapFlow client connects and logs in, runs \`status('INBOX', { uidNext, messages })\`
and logs out, 50 accounts at a time. **Pooled** is one imap-push \`MailEngine\` that holds
the accounts (tls \`'none'\`; their IDLE connections, and pooled connections opened by the
engine's startup syncs, which the run waits for, or else by the warm-up cycle) and times
\`await engine.syncAll()\`, with \`sync: { maxConcurrent: 50 }\` and with the default 5. "One sync(id)" is
${CFG.sync.singles} sequential \`engine.sync(id)\` calls after the cycles (every call in
the cell). ${CFG.sync.cycles} timed cycles after ${CFG.sync.warmup} warm-up, each
configuration in a fresh process with a fresh server: the mock in a child process
(one JS thread), or a throwaway Dovecot 2.3 (\`test/support/dovecot.js\`: one imap
process per connection). Plain TCP on 127.0.0.1 for both clients (ImapFlow with
\`doSTARTTLS: false\`, since Dovecot offers STARTTLS).

${syncSection(sync)}

`;
  const commands = [parser.command, ...latency.map((l) => l.command), ...sync.map((r) => r.command)].filter(Boolean);
  return `${BEGIN}

${provenance({ m, command, started, quick: QUICK }, 'one short run each')}${ONLY ? ` Sections: ${ONLY.join(', ')}.` : ''}

${latencyText}${parserText}${syncText}## Commands

${commands.map((c) => `- \`${c}\``).join('\n')}

${END}`;
}

function writeReport(file, generated) {
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const b = text.indexOf(BEGIN);
  const e = text.indexOf(END);
  if (b >= 0 && e > b) text = text.slice(0, b) + generated + text.slice(e + END.length);
  else text = `# Benchmarks\n\n${generated}\n${text ? `\n${text}` : ''}`;
  fs.writeFileSync(file, text);
}

// ---- main ------------------------------------------------------------------

async function main() {
  const started = new Date();
  const m = machine();
  const command = process.env.npm_lifecycle_event === 'bench'
    ? `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`
    : `node bench/run.js${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
  process.stderr.write(`bench: ${QUICK ? 'quick' : 'full'} run; load average ${m.load}\n`);

  let parser = {};
  if (runs('parser')) {
    try {
      parser = await parserBench();
    } catch (err) {
      parser = { error: err.message.split('\n')[0] };
    }
  }
  const latency = [];
  const scenarios = !runs('latency') ? [] : [['imap-push', 0], ...CFG.scaling.map((n) => ['imap-push', n]),
    ['imap-push', CFG.idle], ['imapflow', 0], ['imapflow', CFG.idle]];
  for (const [client, idle] of scenarios) {
    try {
      latency.push({ client, idle, ...(await latencyBench(client, idle)) });
    } catch (err) {
      latency.push({ client, idle, command: `node ${latencyArgs(client, idle).join(' ')}`, error: err.message });
    }
  }
  const sync = runs('sync') ? await syncBench() : [];
  const mainRan = MAIN_SECTIONS.some(runs);
  const generated = mainRan ? report(m, parser, latency, sync, command, started) : null;
  if (generated) process.stdout.write(`\n${generated.split('\n').slice(1, -1).join('\n')}\n`);
  for (const [name, mod] of Object.entries(BLOCKS)) {
    if (!runs(name)) continue;
    const rows = await mod.run(CFG[name], runJson);
    const text = mod.report(rows, CFG[name], { cell, fmt, table, median }, { m, command, started, quick: QUICK });
    process.stdout.write(`\n${text.split('\n').slice(1, -1).join('\n')}\n`);
    if (BLOCK_OUT) {
      mod.write(BLOCK_OUT, text);
      process.stderr.write(`bench: wrote the ${name} block of ${path.relative(process.cwd(), BLOCK_OUT) || BLOCK_OUT}\n`);
    }
    if (mod.failed(rows)) process.exitCode = 1;
  }
  if (!mainRan) {
    process.stderr.write(`bench: done in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  } else if (OUT) {
    writeReport(OUT, generated);
    process.stderr.write(`bench: wrote ${path.relative(process.cwd(), OUT) || OUT} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  } else {
    process.stderr.write(`bench: done in ${((Date.now() - started) / 1000).toFixed(0)} s; nothing written${QUICK ? ' (--quick)' : ONLY ? ' (--only)' : ''}\n`);
  }
  if (parser.error || latency.some((l) => l.error) || sync.some((r) => r.error)) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`bench: ${err.stack || err}\n`);
  process.exit(1);
});
