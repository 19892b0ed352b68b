'use strict';

// In a process of its own (an abort must fail the test, not the runner): a
// worker watches with a stateFile and calls process.exit() while mail keeps
// arriving, so event batches reach it after it can no longer run JS. Those
// must not be acknowledged: an engine restarted from the same stateFile must
// report every message the worker's listener did not get. Each round prints
// nothing; the end prints one JSON line and exits 0.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { Worker } = require('worker_threads');
const { MailEngine } = require('../..');
const { MockImapServer } = require('imap-push/testing');
const { waitUntil, sleep } = require('../support/wait');

const ROUNDS = Number(process.argv[2]) || 25;

// Appends each UID its listener gets to a file, synchronously: what is in the
// file is exactly what reached JS.
const WATCHER = `
  const fs = require('fs');
  const { parentPort, workerData } = require('worker_threads');
  const { MailEngine } = require(workerData.lib);
  const engine = new MailEngine({ stateFile: workerData.stateFile });
  engine.on('newMessage', (m) => fs.appendFileSync(workerData.seenFile, m.uid + '\\n'));
  parentPort.on('message', () => process.exit(0));
  engine.addAccount(workerData.account).then(() => parentPort.postMessage('ready'));
`;

async function round(dir, n) {
  const server = new MockImapServer({ users: { u: 'p' } });
  await server.listen();
  const account = { id: 'a', host: '127.0.0.1', port: server.port, tls: 'none', allowInsecureAuth: true, user: 'u', pass: 'p' };
  const stateFile = path.join(dir, `state-${n}.db`);
  const seenFile = path.join(dir, `seen-${n}.txt`);
  fs.writeFileSync(seenFile, '');
  const worker = new Worker(WATCHER, { eval: true, workerData: { lib: path.join(__dirname, '..', '..'), account, stateFile, seenFile } });
  const exited = new Promise((resolve) => worker.on('exit', resolve));
  await new Promise((resolve) => worker.once('message', resolve));
  await waitUntil(() => server.clients().some((c) => c.idling), 10000, 'the worker to idle');
  // The first sync's baseline must be on disk, or the restart would start from nothing.
  await sleep(300);

  const flood = setInterval(() => { for (let i = 0; i < 4; i++) server.appendMessage('INBOX', { subject: 'flood' }); }, 1);
  await sleep(40);
  worker.postMessage('exit');
  const code = await exited;
  clearInterval(flood);
  const all = server.mailbox('INBOX').messages.map((m) => m.uid);
  const seenByWorker = fs.readFileSync(seenFile, 'utf8').split('\n').filter(Boolean).map(Number);

  const restarted = new MailEngine({ stateFile });
  const reported = [];
  restarted.on('newMessage', (m) => reported.push(m.uid));
  await restarted.addAccount(account);
  const got = new Set(seenByWorker);
  const covered = () => {
    for (const uid of reported) got.add(uid);
    return all.every((uid) => got.has(uid));
  };
  // A lost message never comes: the deadline ends the wait and `lost` names it.
  await waitUntil(covered, 3000, 'every message to be reported').catch(() => {});
  await restarted.close();
  await server.close();
  covered();
  return { code, lost: all.filter((uid) => !got.has(uid)), total: all.length, byWorker: seenByWorker.length };
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-worker-exit-'));
  try {
    const rounds = [];
    for (let n = 0; n < ROUNDS; n++) rounds.push(await round(dir, n));
    process.stdout.write(`${JSON.stringify(rounds)}\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exitCode = 3;
});
