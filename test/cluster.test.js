'use strict';

// imap-push/cluster against a real Redis (Debian's redis-server, on
// loopback) and the mock IMAP server, with workers in processes of their own:
// every account is watched by exactly one worker (counted as IDLE sessions on
// the server), credentials are sealed, mail reaches EmailNewMessage, and a
// worker SIGKILLed or stopped hands its accounts over with the mail that
// arrived meanwhile still published.

const path = require('path');
const { fork } = require('child_process');
const { Cluster } = require('imap-push/cluster');
const { MockImapServer } = require('imap-push/testing');
const { startRedis, redisAvailable } = require('./support/redis');
const { waitUntil } = require('./support/wait');

const CHILD = path.join(__dirname, 'support', 'cluster-worker-child.js');
const SECRET = 'cluster-test-secret-0123456789';
const LEASE_MS = 2000;
const USERS = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`user${i + 1}`, `Pw-of-user${i + 1}-secret`]));

if (!redisAvailable() && !process.env.CI) console.warn('\n*** cluster.test.js SKIPPED: redis-server is not installed ***\n');
const maybe = redisAvailable() || process.env.CI ? describe : describe.skip;

maybe('cluster on Redis', () => {
  let redis;
  let imap;
  let cluster;
  let workers;
  let received;
  let consumer;

  function spawnWorker(name) {
    const child = fork(CHILD, [JSON.stringify({ redis: redis.url, prefix: 't', secret: SECRET, leaseMs: LEASE_MS, id: name,
      engine: { reconnect: { initialDelayMs: 50, maxDelayMs: 200 } } })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const w = { name, child, messages: [] };
    child.on('message', (m) => w.messages.push(m));
    workers.push(w);
    return w;
  }
  const idleUsers = () => imap.clients().filter((c) => c.idling).map((c) => c.user).sort();
  const allOwned = async (by) => {
    const owners = await cluster.owners();
    return Object.keys(USERS).every((u) => (by ? by.includes(owners[u]) : owners[u]));
  };

  beforeEach(async () => {
    redis = await startRedis();
    imap = new MockImapServer({ users: USERS });
    await imap.listen();
    cluster = new Cluster({ redis: redis.url, prefix: 't', secret: SECRET });
    workers = [];
    received = [];
    consumer = cluster.consume('EmailNewMessage', { group: 'store', consumer: 'c1', blockMs: 200 }, (p) => { received.push(p); });
    for (const user of Object.keys(USERS)) {
      await cluster.addAccount({ id: user, host: '127.0.0.1', port: imap.port, tls: 'none', allowInsecureAuth: true, user, pass: USERS[user] });
    }
  });

  afterEach(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await consumer.stop();
    await cluster.close();
    await imap.close();
    await redis.stop();
  });

  const subjects = () => received.flatMap((p) => p.messages.map((m) => m.envelope.subject));

  test('each account is watched by exactly one worker, credentials are sealed, and mail reaches EmailNewMessage', async () => {
    spawnWorker('w1');
    spawnWorker('w2');
    // The first worker up takes everything; the next tick after the second one's heartbeat hands it its share.
    await waitUntil(async () => (await allOwned()) && new Set(Object.values(await cluster.owners())).size === 2, 15000,
      'every account owned, by both workers');
    await waitUntil(() => idleUsers().length === 6, 15000, 'six IDLE sessions');
    expect(idleUsers()).toEqual(Object.keys(USERS).sort()); // one per user: never two workers on one account
    const owners = await cluster.owners();
    expect(new Set(Object.values(owners))).toEqual(new Set(['w1', 'w2']));
    expect((await cluster.workers()).map((w) => w.id).sort()).toEqual(['w1', 'w2']);
    const stored = redis.cli('HGETALL', 't:accounts');
    for (const pass of Object.values(USERS)) expect(stored).not.toContain(pass);
    expect(stored).not.toContain('user1@');

    // The mock's users share one mailbox set: one append is a new message for each of the six accounts.
    imap.appendMessage('INBOX', { subject: 'first booking' });
    await waitUntil(() => subjects().filter((s) => s === 'first booking').length === 6, 15000, 'six pushes in EmailNewMessage');
    const entries = received.filter((p) => p.messages[0].envelope.subject === 'first booking');
    expect(entries.map((p) => p.accountId).sort()).toEqual(Object.keys(USERS).sort());
    expect(entries[0]).toMatchObject({ provider: 'imap', messages: [{ folder: 'INBOX', uid: 1, id: expect.any(String) }] });
    expect(new Set(entries.map((p) => p.messages[0].id)).size).toBe(6); // ids differ per account
  }, 60000);

  test('a SIGKILLed worker: its accounts are watched elsewhere within leaseMs + 2 s, and mail from the gap is published', async () => {
    const w1 = spawnWorker('w1');
    spawnWorker('w2');
    await waitUntil(() => allOwned(), 15000, 'every account owned');
    await waitUntil(() => idleUsers().length === 6, 15000, 'six IDLE sessions');
    imap.appendMessage('INBOX', { subject: 'before the kill' });
    await waitUntil(() => subjects().filter((s) => s === 'before the kill').length === 6, 15000, 'the first pushes');
    const killedAt = Date.now();
    w1.child.kill('SIGKILL');
    imap.appendMessage('INBOX', { subject: 'during the gap' });
    await waitUntil(() => allOwned(['w2']), LEASE_MS + 8000, 'w2 owning everything');
    const tookOverMs = Date.now() - killedAt;
    console.log(`failover: every account owned by w2 ${tookOverMs} ms after the SIGKILL (lease ${LEASE_MS} ms)`);
    await waitUntil(() => idleUsers().length === 6, 15000, 'six IDLE sessions again');
    // Every account, including the ones w1 watched when it died, publishes the gap's mail.
    await waitUntil(() => new Set(received.filter((p) => p.messages[0].envelope.subject === 'during the gap').map((p) => p.accountId)).size === 6,
      15000, 'the gap mail of all six accounts in EmailNewMessage');
    expect(idleUsers()).toEqual(Object.keys(USERS).sort());
  }, 60000);

  test('a worker stopped gracefully hands over at once', async () => {
    const w1 = spawnWorker('w1');
    spawnWorker('w2');
    await waitUntil(() => allOwned(), 15000, 'every account owned');
    const stoppedAt = Date.now();
    w1.child.send('stop');
    await new Promise((resolve) => w1.child.once('exit', resolve));
    await waitUntil(() => allOwned(['w2']), LEASE_MS + 8000, 'w2 owning everything');
    console.log(`graceful handover: every account owned by w2 ${Date.now() - stoppedAt} ms after stop (lease ${LEASE_MS} ms)`);
    await waitUntil(() => idleUsers().length === 6, 15000, 'six IDLE sessions');
  }, 60000);
});
