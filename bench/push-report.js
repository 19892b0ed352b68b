'use strict';
// The "push latency at scale and against Dovecot" section of bench/run.js:
// bench/latency-extra.js for both clients, with 10,000 other idle TLS
// connections in the same process, and on a real Dovecot; its own block of
// BENCHMARKS.md.
const { markers, writeBlock, measure, render } = require('./blocks');

const MARKERS = markers('push');

// [server, client, idle connections]
function config(quick) {
  return quick
    ? { mock: { runs: 1, messages: 30 }, dovecot: { runs: 1, messages: 3, gap: 1500 }, configs: [
      ['mock', 'imap-push', 20], ['mock', 'imapflow', 20], ['dovecot', 'imap-push', 0], ['dovecot', 'imapflow', 0]] }
    : { mock: { runs: 5, messages: 200 }, dovecot: { runs: 3, messages: 20, gap: 1500 }, configs: [
      ['mock', 'imap-push', 0], ['mock', 'imap-push', 10000], ['mock', 'imapflow', 0], ['mock', 'imapflow', 10000],
      ['dovecot', 'imap-push', 0], ['dovecot', 'imapflow', 0]] };
}

function args(cfg, server, client, idle) {
  const s = cfg[server];
  return ['--expose-gc', 'bench/latency-extra.js', '--server', server, '--client', client, '--idle', String(idle),
    '--runs', String(s.runs), '--messages', String(s.messages), ...(s.gap ? ['--gap', String(s.gap)] : [])];
}

async function run(cfg, runJson) {
  let dovecot = false;
  try {
    dovecot = require('../test/support/dovecot').dovecotAvailable();
  } catch { /* support code missing */ }
  const rows = [];
  for (const [server, client, idle] of cfg.configs) {
    const argv = args(cfg, server, client, idle);
    const row = { server, client, idle, command: `node ${argv.join(' ')}` };
    rows.push(await measure(row, runJson, argv, 20 * 60 * 1000, server === 'dovecot' && !dovecot ? 'dovecot not installed' : null));
  }
  return rows;
}

function section(rows, cfg, { cell, fmt, table }) {
  const name = (r) => (r.client === 'imapflow' ? 'ImapFlow' : 'imap-push');
  const out = rows.map((r) => {
    const head = [name(r), r.server === 'dovecot' ? 'Dovecot' : 'mock', fmt(r.idle, 0)];
    if (r.error) return [...head, `not measured: ${r.error}`, '', '', '', '', '', ''];
    const x = r.result;
    const col = (k) => x.runs.map((run) => run[k]);
    const i = x.idleInfo;
    return [...head, cell(col('p50'), 3), cell(col('p99'), 3), cell(col('max'), 3), cell(col('min'), 3),
      `${x.runs.length}×${x.messages}`,
      i ? `${fmt(i.addMs / 1000, 1)} (${fmt(i.serverIdling, 0)} in IDLE, ${fmt(i.failed, 0)} failed)` : '',
      i && i.rssWithIdle ? fmt((i.rssWithIdle - i.rssBeforeIdle) / 1024 / r.idle, 1) : ''];
  });
  return [
    `Latency = from just before the server side makes the message (the mock's \`appendMessage()\`, which sends
\`* N EXISTS\` at once; on Dovecot, \`deliver()\` renaming a file into the Maildir's \`new/\`) until the new
message's envelope is in JS (imap-push: \`newMessage\`; ImapFlow: \`exists\`, then
\`fetchOne(seq, { envelope: true, uid: true })\`; \`autoIdleDelay: 0\`). One measured connection; the
"other idle" ones are in the **same process**: imap-push accounts in the same \`MailEngine\`, or one
\`ImapFlow\` client each, with implicit TLS to \`bench/build/scale_server\` (the connection-scale
server), INBOX selected and in IDLE before the first message. Mock: plain TCP, ${cfg.mock.messages} messages
per run one at a time (3 ms apart), after 20 warm-up messages. Dovecot: implicit TLS, ${cfg.dovecot.messages}
messages per run, ${fmt(cfg.dovecot.gap, 0)} ms apart, after 2 warm-up messages; Dovecot holds an IDLE
notification back for about 0.5 s, so ~500 ms is the floor there for any client.`,
    '',
    table(['client', 'server', 'other idle TLS connections', 'p50 ms', 'p99 ms', 'max ms', 'min ms', 'runs×messages',
      'idle setup s', 'RSS per idle connection KiB'], out),
    '',
  ].join('\n');
}

function report(rows, cfg, h, meta) {
  return render(MARKERS, { title: 'Push latency with 10,000 idle connections, and on Dovecot', meta, quickNote: 'N = 20 idle, one short run', body: section(rows, cfg, h), rows });
}

const write = (file, generated) => writeBlock(file, MARKERS, generated, '<!-- bench/run.js: end -->');
const failed = (rows) => rows.some((r) => r.error);

module.exports = { config, run, report, write, failed };
