#!/usr/bin/env node
'use strict';

// imap-push CLI: watch accounts and print events as JSON lines.
//   imap-push demo [--interval 1000] [--count 0]
//   imap-push watch --config accounts.json
//   imap-push watch --host imap.example.com --user me --pass-env IMAP_PASS [--tls starttls] [--folder INBOX]
//   imap-push cluster-worker --redis redis://host:6379 [--prefix P] [--lease-ms N] [--config engine.json] [--max-accounts N]

const { parseArgs } = require('util');
const { MailEngine } = require('../lib');
const { loadConfig, loadEngineConfig } = require('../lib/config-file');

const USAGE = `usage:
  imap-push demo [--interval ms] [--count n]     built-in local server, one message per interval
  imap-push watch --config file.json             {"engine": {...}, "accounts": [{...}]}
  imap-push watch --host H [--port P] [--tls implicit|starttls|none] --user U
                  (--pass-env VAR | --token-env VAR) [--folder F ...] [--id ID] [--allow-insecure-auth]
  imap-push cluster-worker --redis URL [--prefix P] [--lease-ms N] [--config engine.json] [--max-accounts N]
                  [--token-module FILE]          secret from IMAP_PUSH_SECRET (URL also from IMAP_PUSH_REDIS); FILE exports getAccessToken`;

function printEvent(event, payload, extra = {}) {
  const line = { event, ...extra, ...payload };
  if (payload.error) line.error = { code: payload.error.code, message: payload.error.message };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function watchAll(engine, onEvent = printEvent) {
  for (const name of ['newMessage', 'messageDeleted', 'flagsChanged', 'connectionStatus', 'idleRefreshed', 'folderReset']) {
    engine.on(name, (payload) => onEvent(name, payload));
  }
}

function stopOnSignals(stop) {
  let stopping = false;
  const handler = () => {
    if (stopping) process.exit(130);
    stopping = true;
    stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

function fromEnv(name, what) {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${what}: environment variable ${name} is not set`);
  return value;
}

function accountsFromFlags(v) {
  if (!v.host || !v.user) throw new Error('watch needs --config, or --host and --user');
  const account = {
    id: v.id || `${v.user}@${v.host}`,
    host: v.host,
    user: v.user,
    folders: v.folder && v.folder.length ? v.folder : undefined,
    allowInsecureAuth: v['allow-insecure-auth'] || undefined,
  };
  if (v.port) account.port = Number(v.port);
  if (v.tls) account.tls = v.tls;
  if (v['pass-env']) account.pass = fromEnv(v['pass-env'], '--pass-env');
  else if (v['token-env']) account.accessToken = fromEnv(v['token-env'], '--token-env');
  else throw new Error('watch needs --pass-env or --token-env (credentials never go on the command line)');
  return { engine: {}, accounts: [account] };
}

async function watch(v) {
  // Checked whole before anything connects; its errors never quote the file (it holds passwords).
  const config = v.config ? loadConfig(v.config) : accountsFromFlags(v);
  const engine = new MailEngine(config.engine);
  watchAll(engine);
  stopOnSignals(() => engine.close());
  const results = await Promise.allSettled(config.accounts.map((a) => engine.addAccount(a)));
  results.forEach((r, i) => {
    const id = config.accounts[i].id;
    if (r.status === 'fulfilled') printEvent('watching', { accountId: id });
    else printEvent('accountFailed', { accountId: id, error: r.reason });
  });
  if (results.every((r) => r.status === 'rejected')) {
    await engine.close();
    process.exitCode = 1;
  }
}

// A ClusterWorker until SIGTERM/SIGINT, which hand its accounts over before
// the exit. The secret comes from the environment only: argv shows in ps.
async function clusterWorker(v) {
  const { ClusterWorker } = require('../lib/cluster');
  // A URL with a password belongs in the environment, like the secret.
  const redis = v.redis || process.env.IMAP_PUSH_REDIS;
  if (!redis) throw new Error('cluster-worker needs --redis redis://host:port (or IMAP_PUSH_REDIS in the environment)');
  const secret = fromEnv('IMAP_PUSH_SECRET', 'cluster-worker');
  const int = (name) => (v[name] === undefined ? undefined : /^\d+$/.test(v[name]) ? Number(v[name]) : NaN);
  const tokens = v['token-module'] ? require(require('path').resolve(v['token-module'])) : null;
  const worker = new ClusterWorker({
    redis, prefix: v.prefix, secret, leaseMs: int('lease-ms'), maxAccounts: int('max-accounts'),
    engine: v.config ? loadEngineConfig(v.config) : {},
    getAccessToken: tokens ? tokens.getAccessToken || tokens : undefined,
  });
  for (const name of ['accountWatched', 'accountReleased', 'leaseLost']) worker.on(name, (accountId) => printEvent(name, { accountId, workerId: worker.id }));
  worker.on('fullSyncDone', (accountId, requestId) => printEvent('fullSyncDone', { accountId, requestId }));
  worker.on('warning', (err) => printEvent('warning', { accountId: err.accountId, error: err }));
  stopOnSignals(async () => {
    printEvent('workerStopping', { workerId: worker.id, accounts: worker.accounts().length });
    await worker.stop();
    printEvent('workerStopped', { workerId: worker.id });
  });
  await worker.start();
  printEvent('workerStarted', { workerId: worker.id, pid: process.pid });
}

async function demo(v) {
  const { MockImapServer } = require('imap-push/testing');
  const interval = Number(v.interval || 1000);
  const count = Number(v.count || 0);
  const server = new MockImapServer({ tls: 'implicit', users: { demo: 'demo-password' } });
  await server.listen();
  const engine = new MailEngine();
  const sentAt = new Map();
  let received = 0;
  let timer = null;
  const stop = async () => {
    clearInterval(timer);
    await engine.close();
    await server.close();
  };
  watchAll(engine, (name, payload) => {
    if (name !== 'newMessage') return printEvent(name, payload);
    const started = sentAt.get(payload.envelope.messageId);
    sentAt.delete(payload.envelope.messageId);
    const latencyMs = started === undefined ? null : Number((Number(process.hrtime.bigint() - started) / 1e6).toFixed(2));
    printEvent(name, payload, { latencyMs });
    if (count && ++received >= count) stop().then(() => process.exit(0));
  });
  stopOnSignals(stop);
  process.stderr.write(`demo: mock IMAP server on 127.0.0.1:${server.port} (implicit TLS), one message every ${interval} ms; Ctrl-C stops\n`);
  await engine.addAccount({
    id: 'demo',
    host: '127.0.0.1',
    port: server.port,
    tls: 'implicit',
    tlsOptions: { ca: server.caPem },
    user: 'demo',
    pass: 'demo-password',
  });
  let n = 0;
  timer = setInterval(() => {
    n += 1;
    const messageId = `<demo-${n}-${Date.now()}@imap-push.local>`;
    sentAt.set(messageId, process.hrtime.bigint());
    server.appendMessage('INBOX', { subject: `Demo message #${n}`, from: 'Demo Sender <sender@example.com>', to: 'demo@example.com', messageId });
  }, interval);
}

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      config: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, tls: { type: 'string' },
      user: { type: 'string' }, 'pass-env': { type: 'string' }, 'token-env': { type: 'string' },
      folder: { type: 'string', multiple: true }, id: { type: 'string' }, 'allow-insecure-auth': { type: 'boolean' },
      interval: { type: 'string' }, count: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      redis: { type: 'string' }, prefix: { type: 'string' }, 'lease-ms': { type: 'string' }, 'max-accounts': { type: 'string' },
      'token-module': { type: 'string' },
    },
  });
  const mode = positionals[0];
  const modes = { demo, watch, 'cluster-worker': clusterWorker };
  if (values.help || !Object.hasOwn(modes, mode)) {
    process.stderr.write(`${USAGE}\n`);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  await modes[mode](values);
}

main().catch((err) => {
  const code = err.code && err.code !== 'INVALID_CONFIG' ? `${err.code}: ` : '';
  process.stderr.write(`imap-push: ${code}${err.message}\n`);
  process.exit(1);
});
