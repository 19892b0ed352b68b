'use strict';
// The envelope-fetch section of bench/run.js: bench/envelope.js (raw socket,
// imap-push and ImapFlow taking turns on one Dovecot mailbox) and its block
// of BENCHMARKS.md.
const { markers, writeBlock, measure, render } = require('./blocks');

const MARKERS = markers('envelope');

const config = (quick) => (quick ? { messages: 3000, runs: 1 } : { messages: 100000, runs: 5 });

async function run(cfg, runJson) {
  const argv = ['--expose-gc', 'bench/envelope.js', '--messages', String(cfg.messages), '--runs', String(cfg.runs)];
  let dovecot = false;
  try {
    dovecot = require('../test/support/dovecot').dovecotAvailable();
  } catch { /* support code missing */ }
  const row = { command: `node ${argv.join(' ')}` };
  return [await measure(row, runJson, argv, 30 * 60 * 1000, dovecot ? null : 'dovecot not installed')];
}

const LABEL = {
  raw: 'raw TLS socket (counts `FETCH` lines, parses nothing): the limit',
  'imap-push': 'imap-push (`newMessage` events with envelope)',
  imapflow: 'ImapFlow (`for await … fetch(\'1:*\')`)',
};

function section([row], cfg, { cell, fmt, table, median }) {
  if (row.error) return `Not measured: ${row.error}`;
  const x = row.result;
  const rawMs = x.samples.raw && x.samples.raw.length ? median(x.samples.raw.map((r) => r.ms)) : null;
  const rows = x.clients.map((c) => {
    const ok = x.samples[c].filter((r) => r.ms !== null && r.count === x.messages);
    if (!ok.length) return [LABEL[c], 'no complete run', '', '', '', '', ''];
    const ms = ok.map((r) => r.ms);
    return [LABEL[c], cell(ms, 0), cell(ok.map((r) => (x.messages / r.ms) * 1000), 0),
      rawMs ? `${fmt((100 * rawMs) / median(ms), 0)} %` : '',
      cell(ok.map((r) => r.cpuMs), 0), cell(ok.map((r) => r.jsThreadCpuMs), 0), `${ok.length} of ${x.samples[c].length}`];
  });
  const pushRuns = (x.samples['imap-push'] || []).filter((r) => r.fromFirstEventMs);
  const streaming = pushRuns.length
    ? [`imap-push from its first \`newMessage\` to the last: ${cell(pushRuns.map((r) => r.fromFirstEventMs), 0)} ms; the rest of its time is
connect, LOGIN, SELECT, UID SEARCH and the FETCH's first response (${cell(pushRuns.map((r) => r.firstEventMs), 0)} ms to the first event).`, '']
    : [];
  const push = x.summary['imap-push'];
  const targets = push && push.ofRaw
    ? [`≥ 150,000 messages/s: imap-push ${fmt(push.medianRate, 0)} (the raw socket itself: ${fmt(x.summary.raw.medianRate, 0)}): ${push.medianRate >= 150000 ? 'met' : 'not met'}`,
      `≥ 75 % of the raw rate: ${fmt(push.ofRaw * 100, 0)} % (median against median): ${push.ofRaw >= 0.75 ? 'met' : 'not met'}`]
    : [];
  return [
    `One INBOX of ${fmt(x.messages, 0)} messages (${fmt(x.avgMessageBytes, 0)} bytes on average), written straight into the
Maildir's \`cur/\` and indexed by two raw FETCHes of the whole mailbox before the timed runs, on a throwaway
Dovecot 2.3 (\`test/support/dovecot.js\`), implicit TLS on 127.0.0.1. Every client asks for
\`UID FLAGS ENVELOPE INTERNALDATE RFC822.SIZE\` of every message. The three take turns in one process, and
their order rotates from run to run. **raw**: a Node \`tls\` socket sends LOGIN, SELECT and the FETCH, and
counts \` FETCH (\` in what it reads: the rate the server and the socket allow. **imap-push**: a fresh
\`MailEngine\` with \`sync: { initial: { last: ${x.messages} } }\` and no state file; timed from \`addAccount()\`
(so connect, LOGIN, SELECT and UID SEARCH are in it) to the last \`newMessage\` event, each with its
envelope parsed. **ImapFlow**: connect and \`mailboxOpen\` untimed, then the \`fetch()\` loop. CPU is the
client process's user+system over the run; "JS thread" is the main thread's share (\`/proc\`, 10 ms ticks;
imap-push's engine thread is the rest).`,
    '',
    table(['client', 'ms', 'messages/s', 'vs raw (medians)', 'client CPU ms', 'of which JS thread ms', 'complete runs'], rows),
    '',
    ...streaming,
    ...(targets.length ? ['Targets:', '', ...targets.map((t) => `- ${t}`), ''] : []),
  ].join('\n');
}

function report(rows, cfg, h, meta) {
  return render(MARKERS, { title: 'Envelope fetch throughput', meta, quickNote: `${cfg.messages} messages, one run`, body: section(rows, cfg, h), rows });
}

const write = (file, generated) => writeBlock(file, MARKERS, generated, markers('scale').end);
const failed = (rows) => rows.some((r) => r.error);

module.exports = { config, run, report, write, failed };
