'use strict';
// The MIME-parsing section of bench/run.js: bench/parse.js (parseMessage
// against postal-mime and mailparser, same inputs in the same run), several
// runs, and its own block of BENCHMARKS.md.
const { markers, writeBlock, measure, render } = require('./blocks');

const MARKERS = markers('mime');

const config = (quick) => ({ runs: quick ? 1 : 3, quick });

async function run(cfg, runJson) {
  const argv = ['bench/parse.js', ...(cfg.quick ? ['--quick'] : [])];
  const row = { command: `node ${argv.join(' ')}  (× ${cfg.runs})`, runs: [] };
  for (let i = 0; i < cfg.runs && !row.error; i++) {
    const one = await measure({}, runJson, argv, 15 * 60 * 1000);
    if (one.error) row.error = one.error;
    else row.runs.push(one.result);
  }
  return [row];
}

function section([row], cfg, { cell, fmt, table, median }) {
  if (row.error) return `Not measured: ${row.error}`;
  const first = row.runs[0];
  const parsers = first.corpus.map((c) => c.parser);
  const pick = (f) => parsers.map((p) => row.runs.map((r) => f(r, p)).filter((x) => x !== undefined));
  const corpusOf = (r, p) => r.corpus.find((c) => c.parser === p);
  const rows = [
    ['corpus, messages/s, one at a time', ...pick((r, p) => corpusOf(r, p).sequential.msgsPerSec).map((xs) => cell(xs, 0))],
    ['corpus, messages/s, 8 at once', ...pick((r, p) => corpusOf(r, p).concurrent8.msgsPerSec).map((xs) => cell(xs, 0))],
  ];
  const sizes = [...new Set(first.large.map((l) => l.sizeMb))];
  for (const mb of sizes) {
    rows.push([`${fmt(mb, 1)} MB message, ms (median of 3–5 parses)`,
      ...pick((r, p) => (r.large.find((l) => l.parser === p && l.sizeMb === mb) || {}).medianMs).map((xs) => cell(xs, 1))]);
  }
  const lagMb = first.eventLoopLag[0].sizeMb;
  rows.push([`JS event-loop lag while one ${fmt(lagMb, 1)} MB message parses: max ms (worst of 3)`,
    ...pick((r, p) => r.eventLoopLag.find((l) => l.parser === p).maxLagMs).map((xs) => cell(xs, 1))]);
  const med = (f) => median(row.runs.map(f));
  const ours = parsers[0];
  const postal = parsers.find((p) => p.startsWith('postal-mime'));
  const corpusX = med((r) => corpusOf(r, ours).sequential.msgsPerSec) / med((r) => corpusOf(r, postal).sequential.msgsPerSec);
  const corpus8X = med((r) => corpusOf(r, ours).concurrent8.msgsPerSec) / med((r) => corpusOf(r, postal).concurrent8.msgsPerSec);
  const largeX = sizes.map((mb) => {
    const t = (p) => med((r) => r.large.find((l) => l.parser === p && l.sizeMb === mb).medianMs);
    return t(postal) / t(ours);
  });
  return [
    `All three parsers read the same inputs in the same process: the ${first.corpus[0].messages}-message corpus in
\`test/corpus/\` (real-world shapes, including four malformed messages) and generated multipart messages with
base64 attachments. parseMessage runs on the libuv threadpool (${first.threadpool} threads); postal-mime and
mailparser on the JS thread. ${row.runs.length} run(s); each cell is the median over the runs (spread).`,
    '',
    table(['', ...parsers], rows),
    '',
    `Target "≥ 5× postal-mime": ${fmt(corpusX, 1)}× on the corpus one message at a time (${fmt(corpus8X, 1)}× with 8 in flight), ${largeX.map((x) => `${fmt(x, 1)}×`).join(' / ')} on the ${sizes.map((mb) => `${fmt(mb, 0)} MB`).join(' / ')} messages (medians): ${corpusX >= 5 && largeX.every((x) => x >= 5) ? 'met' : corpusX >= 5 ? 'met on the corpus, not on every large message' : 'not met'}.`,
    '',
  ].join('\n');
}

function report(rows, cfg, h, meta) {
  return render(MARKERS, { title: 'MIME parsing: parseMessage vs postal-mime and mailparser', meta, quickNote: 'small messages, one run', body: section(rows, cfg, h), rows });
}

const write = (file, generated) => writeBlock(file, MARKERS, generated, markers('lag').end);
const failed = (rows) => rows.some((r) => r.error);

module.exports = { config, run, report, write, failed };
