'use strict';
// The mailbox-actions section of bench/run.js: bench/actions.js (flag, move,
// search and messages() paging, imap-push and ImapFlow on one Dovecot), then
// bench/envelope.js's imap-push client on a mailbox of the same size, so the
// messages() rate is compared with an envelope-fetch rate of the same session,
// and the block of BENCHMARKS.md.
const { markers, writeBlock, measure, render } = require('./blocks');

const MARKERS = markers('actions');

const config = (quick) => (quick
  ? { messages: 3000, batch: 300, pageBatch: 1000, runs: 1 }
  : { messages: 100000, batch: 10000, pageBatch: 1000, runs: 3 });

async function run(cfg, runJson) {
  let dovecot = false;
  try {
    dovecot = require('../test/support/dovecot').dovecotAvailable();
  } catch { /* support code missing */ }
  const unavailable = dovecot ? null : 'dovecot not installed';
  const actions = ['bench/actions.js', '--messages', String(cfg.messages), '--batch', String(cfg.batch),
    '--page-batch', String(cfg.pageBatch), '--runs', String(cfg.runs)];
  const envelope = ['--expose-gc', 'bench/envelope.js', '--clients', 'imap-push', '--messages', String(cfg.messages),
    '--runs', String(cfg.runs)];
  const rows = [await measure({ command: `node ${actions.join(' ')}` }, runJson, actions, 30 * 60 * 1000, unavailable)];
  rows.push(await measure({ command: `node ${envelope.join(' ')}` }, runJson, envelope, 20 * 60 * 1000, unavailable));
  return rows;
}

const MiB = 1024 * 1024;

function section([act, env], cfg, { cell, fmt, table, median }, m) {
  if (act.error) return `Not measured: ${act.error}`;
  const x = act.result;
  const push = x.samples['imap-push'] || [];
  const flow = x.samples.imapflow || [];
  const raw = x.samples.raw || [];
  const ops = [
    [`flag ${fmt(x.batch, 0)}: one call, \`+\\Flagged\``, (s) => s.flag.ms, x.batch],
    [`move ${fmt(x.batch, 0)} to another folder: one call`, (s) => s.move.ms, x.batch],
    [`search ${fmt(x.messages, 0)}: unseen (${fmt(x.expected.unseen, 0)} found)`, (s) => s.search.unseen.ms, x.messages],
    [`search ${fmt(x.messages, 0)}: SUBJECT "Invoice" (${fmt(x.expected.subject, 0)} found)`, (s) => s.search.subject.ms, x.messages],
    [`search ${fmt(x.messages, 0)}: ALL (${fmt(x.expected.all, 0)} found)`, (s) => s.search.all.ms, x.messages],
    [`page through ${fmt(x.messages, 0)}: \`messages()\` batchSize ${fmt(x.pageBatch, 0)} / \`fetch('1:*')\``, (s) => s.page.ms, x.messages],
  ];
  const targets = [];
  const rows = ops.map(([label, f, n]) => {
    const pm = push.map(f);
    const fm = flow.map(f);
    const rm = raw.map(f);
    const ratio = pm.length && fm.length ? median(fm) / median(pm) : null;
    const floor = rm.length ? (ms) => ` (raw ${fmt(ms.length ? median(ms) / median(rm) : 0, 1)}×)` : () => '';
    if (ratio !== null) {
      // A miss the server explains: even a client that took no time of its own (the raw socket) would not be 2× ImapFlow.
      const bound = ratio < 2 && rm.length && median(fm) / median(rm) < 2
        ? `: the server's own time (raw) is ${fmt((100 * median(rm)) / median(fm), 0)} % of ImapFlow's, so a client at the floor would be ${fmt(median(fm) / median(rm), 2)}× ImapFlow`
        : '';
      targets.push(`${label.replace(/`/g, '')}: ${fmt(ratio, 2)}× (${ratio >= 2 ? 'met' : 'not met'}); imap-push ${fmt(median(pm), 0)} ms${floor(pm)}, ImapFlow ${fmt(median(fm), 0)} ms${floor(fm)}${bound}`);
    }
    return [label, rm.length ? cell(rm, 1) : '', cell(pm, 1), cell(fm, 1), cell(pm.map((ms) => (n / ms) * 1000), 0),
      cell(fm.map((ms) => (n / ms) * 1000), 0), ratio === null ? '' : `${fmt(ratio, 2)}×`];
  });
  const pageRows = [['imap-push `messages()`', push], ['ImapFlow `fetch()`', flow]].filter(([, s]) => s.length)
    .map(([label, s]) => [label, cell(s.map((r) => (x.messages / r.page.ms) * 1000), 0), cell(s.map((r) => r.page.maxRss / MiB), 0),
      cell(s.map((r) => r.rssBeforePage / MiB), 0), cell(s.map((r) => r.page.cpuMs), 0)]);
  let envelopeLine = '';
  if (env && env.error) envelopeLine = `Envelope-fetch rate of this session: not measured (${env.error}).`;
  else if (env && push.length) {
    const e = env.result.samples['imap-push'].filter((r) => r.ms !== null && r.count === env.result.messages);
    if (e.length) {
      const envRate = median(e.map((r) => (env.result.messages / r.ms) * 1000));
      const pageRate = (x.messages / median(push.map((r) => r.page.ms))) * 1000;
      envelopeLine = `\`messages()\` against the envelope fetch of this session (\`bench/envelope.js --clients imap-push\`, the
startup sync's \`newMessage\` events for all ${fmt(env.result.messages, 0)} messages of a mailbox written the same way, ${e.length} run(s):
${cell(e.map((r) => (env.result.messages / r.ms) * 1000), 0)} messages/s): ${fmt(pageRate, 0)} / ${fmt(envRate, 0)} = ${fmt((100 * pageRate) / envRate, 0)} %
(target ≥ 90 %: ${pageRate >= 0.9 * envRate ? 'met' : 'not met'}). \`messages()\` asks for one batch ahead of the loop, so
the server's round trip overlaps the loop's work (with one \`UID FETCH\` in flight it ran at 81 % on 2026-12-07); the raw
socket's one \`UID FETCH 1:*\` streams without a pause.`;
    } else envelopeLine = 'Envelope-fetch rate of this session: no complete run.';
  }
  const load = Number(m.load.split(' ')[0]);
  const shared = load > m.cores / 2
    ? `\n\nThe machine was shared with other work (load average ${m.load.split(' ')[0]} on ${m.cores} cores when the run started):
the spreads are wide, and the medians are what to compare.`
    : '';
  return `One Dovecot 2.3 (\`test/support/dovecot.js\`), implicit TLS on 127.0.0.1. INBOX holds ${fmt(x.messages, 0)} messages
(${fmt(x.avgMessageBytes, 0)} bytes on average, 1 in 10 unseen), written straight into the Maildir (\`bench/maildir.js\`,
as \`bench/envelope.js\` does) and indexed by two raw FETCHes before any client runs. Each run gives each client
(order rotating) a fresh process and a new folder of ${fmt(x.batch, 0)} messages, also indexed beforehand: the client
pages through INBOX, runs the three searches, flags every message of its folder in one call
(\`engine.addFlags(id, folder, uids, ['\\\\Flagged'])\` / \`messageFlagsAdd(uids, ['\\\\Flagged'], { uid: true })\`, the UIDs as an
array) and moves them all to an empty folder in one call (\`engine.move\` / \`messageMove\`; Dovecot has MOVE and
UIDPLUS). Opening a folder is untimed (ImapFlow's \`mailboxOpen\`, imap-push's first request on the folder); imap-push's
\`messages()\` time includes its \`UID SEARCH\` for the folder's UIDs. imap-push uses the default options and watches an
empty folder, so nothing measured becomes events. Every count is checked (found, paged in UID order with an envelope,
flagged, moved with a UID map; the flags and moved files also in the Maildir), or the run fails. **raw** is a bare
TLS socket in the parent process sending the same commands (\`UID FETCH 1:* (UID FLAGS ENVELOPE INTERNALDATE
RFC822.SIZE)\`, \`UID SEARCH …\`, \`UID STORE 1:${x.batch} +FLAGS (\\Flagged)\`, \`UID MOVE 1:${x.batch} …\`) on a folder
of its own and counting the untagged answers, parsing nothing: what the server itself needs. imap-push sends
\`+FLAGS.SILENT\`; ImapFlow (by default) and raw send \`+FLAGS\`, to which the server answers with one FETCH per
message. ImapFlow sends the UID array as a comma-separated list, imap-push (and raw) as ranges. ${x.runs} run(s).${shared}

${table(['operation', 'raw socket ms (the floor)', 'imap-push ms', 'ImapFlow ms', 'imap-push messages/s', 'ImapFlow messages/s', 'ImapFlow ms / imap-push ms (medians)'], rows)}

Paging: peak RSS is the client process's \`getrusage\` maximum right after the loop (a fresh process per run,
so it holds startup, connecting and the paging, nothing else); "before" is RSS after a full GC just before it. CPU
is the process's user+system during the loop (imap-push's engine thread included).

${table(['client', 'messages/s', 'peak RSS MiB', 'RSS before paging MiB', 'CPU ms'], pageRows)}

${envelopeLine}

Targets (≥ 2× ImapFlow, medians; "raw N×" is a client's time over the raw socket's):

${targets.map((t) => `- ${t}`).join('\n')}
`;
}

function report(rows, cfg, h, meta) {
  return render(MARKERS, {
    title: 'Mailbox actions: flag, move, search, page', meta,
    quickNote: `${cfg.messages} messages, ${cfg.batch} flagged and moved, one run`, body: section(rows, cfg, h, meta.m), rows,
  });
}

const write = (file, generated) => writeBlock(file, MARKERS, generated, markers('envelope').end);
const failed = (rows) => rows.some((r) => r.error);

module.exports = { config, run, report, write, failed };
