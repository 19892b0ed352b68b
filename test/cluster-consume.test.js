'use strict';

// Cluster.consume() and the topics it reads, on a real Redis: at-least-once
// delivery (an entry whose consumer was SIGKILLed, or whose handler never
// finishes, is claimed by another consumer of the group after claimMs; a
// handler that throws leaves its entry pending and gets it again), the
// EmailChanged entries a worker publishes for a flag change and an expunge,
// and every topic capped by MAXLEN ~.

const path = require('path');
const { fork } = require('child_process');
const { Cluster } = require('imap-push/cluster');
const { redisAvailable } = require('./support/redis');
const { startCluster, exited, SECRET } = require('./support/cluster-fixture');
const { waitUntil, sleep } = require('./support/wait');

const CHILD = path.join(__dirname, 'support', 'cluster-consumer-child.js');
const CLAIM_MS = 1000;

if (!redisAvailable() && !process.env.CI) console.warn('\n*** cluster-consume.test.js SKIPPED: redis-server is not installed ***\n');
const maybe = redisAvailable() || process.env.CI ? describe : describe.skip;

maybe('cluster consume()', () => {
  let fx;
  let extra = [];
  afterEach(async () => {
    for (const c of extra) await c.close();
    extra = [];
    if (fx) await fx.close();
    fx = null;
  });

  const payload = (n) => ({ accountId: 'a', provider: 'imap', messages: [{ id: `m${n}`, folder: 'INBOX', uid: n }] });
  const add = (n) => fx.redis.cli('XADD', 't:EmailNewMessage', '*', 'payload', JSON.stringify(payload(n))).trim();
  const pendingCount = () => Number(fx.redis.cli('XPENDING', 't:EmailNewMessage', 'store').split('\n')[0]);
  const pendingOf = (consumer) => fx.redis.cli('XPENDING', 't:EmailNewMessage', 'store', '-', '+', '10', consumer);

  test('a consumer SIGKILLed mid-handler: its entry is claimed by another consumer after claimMs and delivered', async () => {
    fx = await startCluster();
    const child = fork(CHILD, [JSON.stringify({ redis: fx.redis.url, prefix: 't', secret: SECRET, topic: 'EmailNewMessage',
      group: 'store', consumer: 'doomed', claimMs: CLAIM_MS })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const messages = [];
    child.on('message', (m) => messages.push(m));
    try {
      await waitUntil(() => messages.some((m) => m.type === 'started'), 10000, 'the child consumer');
      const entryId = add(1);
      await waitUntil(() => messages.some((m) => m.type === 'got'), 10000, 'the child in its handler');
      const gotAt = Date.now();
      expect(messages.find((m) => m.type === 'got')).toMatchObject({ entryId, payload: payload(1) });
      child.kill('SIGKILL');
      await exited(child);
      expect(pendingOf('doomed')).toContain(entryId); // never acknowledged

      const got = [];
      fx.cluster.consume('EmailNewMessage', { group: 'store', consumer: 'survivor', claimMs: CLAIM_MS, blockMs: 100 }, (p, id) => {
        got.push({ p, id, at: Date.now() });
      });
      await waitUntil(() => got.length === 1, CLAIM_MS + 5000, 'the entry claimed by the survivor');
      expect(got[0]).toMatchObject({ id: entryId, p: payload(1) });
      expect(got[0].at - gotAt).toBeGreaterThanOrEqual(CLAIM_MS - 50); // not before it had been pending claimMs
      await waitUntil(() => pendingCount() === 0, 5000, 'the entry acknowledged');
      await sleep(CLAIM_MS + 500);
      expect(got).toHaveLength(1); // acknowledged once handled: not delivered again
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 30000);

  test('a handler that never finishes: another consumer gets the entry after claimMs, and stop() still returns', async () => {
    fx = await startCluster();
    const stuck = [];
    const c1 = fx.cluster.consume('EmailNewMessage', { group: 'store', consumer: 'stuck', claimMs: CLAIM_MS, blockMs: 100 }, (p, id) => {
      stuck.push(id);
      return new Promise(() => {});
    });
    const entryId = add(1);
    await waitUntil(() => stuck.length === 1, 10000, 'the stuck handler');
    const other = new Cluster({ redis: fx.redis.url, prefix: 't', secret: SECRET });
    extra.push(other);
    const got = [];
    other.consume('EmailNewMessage', { group: 'store', consumer: 'other', claimMs: CLAIM_MS, blockMs: 100 }, (p, id) => { got.push(id); });
    await waitUntil(() => got.length === 1, CLAIM_MS + 5000, 'the entry claimed by the other consumer');
    expect(got).toEqual([entryId]);
    await waitUntil(() => pendingCount() === 0, 5000, 'the entry acknowledged');
    // The stuck consumer's stop() does not wait for a handler that will never settle.
    let timer;
    const tooLong = new Promise((resolve) => { timer = setTimeout(resolve, 3000, 'still stopping after 3 s'); });
    expect(await Promise.race([c1.stop().then(() => 'stopped'), tooLong])).toBe('stopped');
    clearTimeout(timer);
  }, 30000);

  test('a handler that throws leaves its entry pending; it is delivered again, later entries meanwhile', async () => {
    fx = await startCluster();
    const calls = [];
    fx.cluster.consume('EmailNewMessage', { group: 'store', consumer: 'c1', claimMs: CLAIM_MS, blockMs: 100 }, (p, id) => {
      calls.push({ uid: p.messages[0].uid, id, at: Date.now() });
      if (p.messages[0].uid === 1 && calls.filter((c) => c.uid === 1).length === 1) throw new Error('the store is down');
    });
    const first = add(1);
    await waitUntil(() => calls.length === 1, 10000, 'the first delivery');
    expect(pendingOf('c1')).toContain(first);
    const second = add(2);
    await waitUntil(() => calls.some((c) => c.uid === 2), 5000, 'the later entry');
    await waitUntil(() => calls.filter((c) => c.uid === 1).length === 2, CLAIM_MS + 5000, 'the failed entry again');
    const [a, b] = calls.filter((c) => c.uid === 1);
    expect(b.id).toBe(first);
    expect(b.at - a.at).toBeGreaterThanOrEqual(CLAIM_MS - 50);
    expect(calls.find((c) => c.uid === 2).id).toBe(second);
    await waitUntil(() => pendingCount() === 0, 5000, 'both acknowledged');
    await sleep(CLAIM_MS + 500);
    expect(calls).toHaveLength(3);
  }, 30000);

  test('EmailChanged: a flag change and an expunge, as { type, accountId, folder, uid, flags? }', async () => {
    fx = await startCluster({ users: { user1: 'Pw-of-user1-secret' } });
    const news = fx.collect('EmailNewMessage');
    const changed = fx.collect('EmailChanged');
    const w = await fx.startWorker('w1');
    await waitUntil(() => w.accounts().includes('user1') && fx.redis.cli('EXISTS', 't:state:user1').trim() === '1', 15000, 'user1 watched');
    const uid = fx.imap.appendMessage('INBOX', { subject: 'to be flagged' });
    await waitUntil(() => news.some((p) => p.messages[0].uid === uid), 10000, 'the message published');

    fx.imap.setFlags('INBOX', uid, ['\\Seen', '\\Flagged']);
    await waitUntil(() => changed.some((p) => p.type === 'flagsChanged'), 10000, 'flagsChanged');
    const flags = changed.find((p) => p.type === 'flagsChanged');
    expect(Object.keys(flags).sort()).toEqual(['accountId', 'flags', 'folder', 'type', 'uid']);
    expect(flags).toMatchObject({ type: 'flagsChanged', accountId: 'user1', folder: 'INBOX', uid });
    expect([...flags.flags].sort()).toEqual(['\\Flagged', '\\Seen']);

    fx.imap.expunge('INBOX', uid);
    await waitUntil(() => changed.some((p) => p.type === 'messageDeleted'), 10000, 'messageDeleted');
    expect(changed.find((p) => p.type === 'messageDeleted')).toEqual({ type: 'messageDeleted', accountId: 'user1', folder: 'INBOX', uid });
  }, 30000);

  test('MAXLEN ~: every topic a worker writes is capped near 100,000 entries', async () => {
    fx = await startCluster({ users: { user1: 'Pw-of-user1-secret' } });
    const topics = ['EmailNewMessage', 'EmailChanged', 'EmailStatus'];
    // 105,000 old entries in each, added in Redis itself without a cap. (One approximate trim removes at most
    // 100 x stream-node-max-entries = 10,000 entries, so a stream at its cap stays there entry by entry.)
    for (const topic of topics) {
      fx.redis.cli('EVAL', "for i = 1, 105000 do redis.call('XADD', KEYS[1], '*', 'payload', '{}') end return 1", '1', `t:${topic}`);
      expect(Number(fx.redis.cli('XLEN', `t:${topic}`))).toBe(105000);
    }
    const w = await fx.startWorker('w1');
    await waitUntil(() => w.accounts().includes('user1') && fx.redis.cli('EXISTS', 't:state:user1').trim() === '1', 15000, 'user1 watched');
    const uid = fx.imap.appendMessage('INBOX', { subject: 'one more' });
    const last = (topic) => JSON.parse(fx.redis.cli('--raw', 'XREVRANGE', `t:${topic}`, '+', '-', 'COUNT', '1').trim().split('\n')[2]);
    await waitUntil(() => last('EmailNewMessage').accountId === 'user1', 10000, 'the new message published');
    fx.imap.expunge('INBOX', uid);
    await waitUntil(() => last('EmailChanged').accountId === 'user1', 10000, 'the expunge published');
    expect(last('EmailStatus').accountId).toBe('user1');
    for (const topic of topics) {
      const len = Number(fx.redis.cli('XLEN', `t:${topic}`));
      // Trimmed in whole macro-nodes (stream-node-max-entries, 100 here): near the cap, never far past it.
      expect([topic, len >= 100000 && len <= 100100]).toEqual([topic, true]);
    }
  }, 60000);
});
