'use strict';
// The JS-responsiveness section of bench/run.js: bench/lag.js (event-loop lag
// of the client process while ~1,000 newMessage events/s arrive) for both
// clients, with and without traffic; its own block of BENCHMARKS.md.
const { markers, writeBlock, render } = require('./blocks');

const MARKERS = markers('lag');

function config(quick) {
  return {
    runs: quick ? 1 : 3,
    seconds: quick ? 3 : 10,
    configs: [['imap-push', 'off'], ['imap-push', 'on'], ['imapflow', 'off'], ['imapflow', 'on']],
  };
}

async function run(cfg, runJson) {
  const rows = [];
  for (const [client, traffic] of cfg.configs) {
    const argv = ['bench/lag.js', '--client', client, '--traffic', traffic, '--seconds', String(cfg.seconds)];
    const row = { client, traffic, command: `node ${argv.join(' ')}  (× ${cfg.runs})`, runs: [] };
    try {
      for (let i = 0; i < cfg.runs; i++) row.runs.push(await runJson(process.execPath, argv, (cfg.seconds + 60) * 1000));
    } catch (err) {
      row.error = err.message;
    }
    rows.push(row);
  }
  return rows;
}

function section(rows, cfg, { cell, fmt, table }) {
  const out = rows.map((r) => {
    const head = [r.client === 'imapflow' ? 'ImapFlow' : 'imap-push', r.traffic === 'on' ? '~1,000 messages/s' : 'none'];
    if (r.error) return [...head, `not measured: ${r.error}`, '', '', '', '', '', ''];
    const col = (f) => r.runs.map(f);
    return [...head, cell(col((x) => x.eventsPerSec), 0),
      r.traffic === 'on' ? `${fmt(r.runs.reduce((a, x) => a + x.receivedTotal, 0), 0)} of ${fmt(r.runs.reduce((a, x) => a + x.appended, 0), 0)}` : '',
      cell(col((x) => x.lagMs.p50), 2), cell(col((x) => x.lagMs.p99), 2), cell(col((x) => x.lagMs.p999), 2),
      cell(col((x) => x.lagMs.max), 2), cell(col((x) => x.cpuPercent), 1)];
  });
  return [
    `A \`setInterval(1 ms)\` probe in the client process; lag = time between two ticks − 1 ms, over a ${cfg.seconds} s
window per run. A mock server in a child process appends 10 messages every 10 ms on its own timer,
round-robin over 10 folders, each watched by one account: imap-push, 10 accounts in one \`MailEngine\`
(plain TCP); ImapFlow, 10 clients (\`autoIdleDelay: 0\`), each fetching the envelope of what \`exists\`
announces. "Received" counts envelopes in JS, also those that arrived just after the window. CPU is
the client process's user+system over the window, as % of one core.`,
    '',
    table(['client', 'traffic', 'events/s in JS', 'received of appended', 'lag p50 ms', 'p99 ms', 'p99.9 ms', 'max ms',
      'client CPU %'], out),
    '',
  ].join('\n');
}

function report(rows, cfg, h, meta) {
  return render(MARKERS, { title: 'JS event-loop lag while ~1,000 events/s arrive', meta, quickNote: `one ${cfg.seconds} s run each`, body: section(rows, cfg, h), rows });
}

const write = (file, generated) => writeBlock(file, MARKERS, generated, markers('envelope').end);
const failed = (rows) => rows.some((r) => r.error);

module.exports = { config, run, report, write, failed };
