'use strict';

// lib/cluster.d.ts against the runtime of imap-push/cluster (read with the
// TypeScript compiler API, as types-agree.test.js does for the engine): the
// option keys each constructor accepts, requestFullSync's options, the
// message entries published, the events emitted, and the public methods.
const fs = require('fs');
const path = require('path');
const ts = require('typescript');
const cluster = require('imap-push/cluster');
const { parseMessage } = require('imap-push');
const { CLUSTER_KEYS, WORKER_KEYS, TOPICS, messageEntry } = require('../lib/cluster/common');
const { FULL_SYNC_KEYS } = require('../lib/cluster/full-sync');

const file = path.join(__dirname, '..', 'lib', 'cluster.d.ts');
const program = ts.createProgram([file], { strict: true, types: ['node'] });
const checker = program.getTypeChecker();
const exportsOf = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(file)));
const typeOf = (name) => checker.getDeclaredTypeOfSymbol(exportsOf.find((s) => s.getName() === name));
const keys = (type) => type.getProperties().map((p) => p.getName()).sort();
const ownKeys = (type) => type.getProperties()
  .filter((p) => (p.getDeclarations() || []).some((d) => d.getSourceFile().fileName === file)).map((p) => p.getName()).sort();

test('option keys: exactly the ones the constructors and requestFullSync accept', () => {
  expect(keys(typeOf('ClusterOptions'))).toEqual([...CLUSTER_KEYS].sort());
  expect(keys(typeOf('ClusterWorkerOptions'))).toEqual([...WORKER_KEYS].sort());
  expect(keys(typeOf('FullSyncOptions'))).toEqual([...FULL_SYNC_KEYS].sort());
  expect(() => new cluster.ClusterWorker({ redis: 'redis://127.0.0.1:1', secret: 's'.repeat(16), maxAcounts: 1 })).toThrow(/maxAcounts/);
});

test('ClusterMessage has the keys of a published message entry, its body and attachments those of theirs', async () => {
  const raw = ['Subject: s', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: text/plain', '',
    'hi', '--b', 'Content-Type: image/png', 'Content-Disposition: attachment; filename=x.png', 'Content-Transfer-Encoding: base64', '',
    'iVBORw0KGgo=', '--b--', ''].join('\r\n');
  const m = messageEntry({ accountId: 'a', folder: 'INBOX', uid: 1, uidValidity: 1, envelope: {}, flags: [] }, await parseMessage(raw));
  expect(Object.keys(m).sort()).toEqual(keys(typeOf('ClusterMessage')));
  expect(Object.keys(m.body).sort()).toEqual(keys(typeOf('ClusterMessageBody')));
  expect(m.attachments).toHaveLength(1);
  expect(Object.keys(m.attachments[0]).sort()).toEqual(keys(typeOf('ClusterAttachment')));
  expect(typeof m.attachments[0].content).toBe('string');
});

test('TopicPayloads has a payload type for each topic consume() reads', () => {
  expect(keys(typeOf('TopicPayloads'))).toEqual([...TOPICS].sort());
});

test('ClusterWorkerEvents names every event the cluster code emits', () => {
  const dir = path.join(__dirname, '..', 'lib', 'cluster');
  const emitted = new Set();
  for (const f of fs.readdirSync(dir)) {
    for (const m of fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/\.emit\('(\w+)'/g)) emitted.add(m[1]);
  }
  expect(keys(typeOf('ClusterWorkerEvents'))).toEqual([...emitted].sort());
});

test('every declared method exists, every public method is declared, and the module exports what is declared', () => {
  for (const name of ['Cluster', 'ClusterWorker']) {
    const declared = ownKeys(typeOf(name)).filter((n) => !['on', 'once', 'off', 'emit', 'id'].includes(n));
    const methods = Object.getOwnPropertyNames(cluster[name].prototype).filter((n) => n !== 'constructor' && !n.startsWith('_'));
    expect(declared).toEqual(methods.sort());
  }
  const values = exportsOf.filter((s) => s.getFlags() & ts.SymbolFlags.Value).map((s) => s.getName());
  expect(Object.keys(cluster).sort()).toEqual(values.sort());
});
