'use strict';

// imap-push/cluster's per-worker limits and credentials, on a real Redis and
// the mock IMAP server: a worker never holds more than maxAccounts, the rest
// go to workers with room or stay unowned (null in owners()) while every
// worker is full; accounts stored with auth: 'oauth' log in with XOAUTH2
// using the token of the owning worker's own getAccessToken.

const { ClusterWorker } = require('imap-push/cluster');
const { redisAvailable } = require('./support/redis');
const { startCluster, SECRET } = require('./support/cluster-fixture');
const { waitUntil } = require('./support/wait');

if (!redisAvailable() && !process.env.CI) console.warn('\n*** cluster-capacity.test.js SKIPPED: redis-server is not installed ***\n');
const maybe = redisAvailable() || process.env.CI ? describe : describe.skip;

const USERS = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`user${i + 1}`, `Pw-of-user${i + 1}-secret`]));

maybe('cluster capacity and OAuth', () => {
  let fx;
  afterEach(async () => {
    if (fx) await fx.close();
    fx = null;
  });

  test('maxAccounts: never more on a worker, the rest to workers with room, unowned while all are full', async () => {
    fx = await startCluster({ users: USERS });
    const { cluster, imap } = fx;
    const most = new Map();
    const sampler = setInterval(() => {
      for (const w of fx.workers) most.set(w.id, Math.max(most.get(w.id) || 0, w.accounts().length));
    }, 10);
    const count = async () => {
      const owners = await cluster.owners();
      const by = {};
      for (const owner of Object.values(owners)) by[owner] = (by[owner] || 0) + 1;
      return by;
    };
    const idling = () => imap.clients().filter((c) => c.idling).length;
    try {
      await fx.startWorker('w1', { maxAccounts: 2 });
      await waitUntil(async () => (await count()).w1 === 2 && idling() === 2, 10000, 'w1 full');
      // Stays so: four accounts unowned, listed with null.
      await new Promise((resolve) => setTimeout(resolve, fx.leaseMs));
      expect(await count()).toEqual({ w1: 2, null: 4 });
      expect(Object.keys(await cluster.owners()).sort()).toEqual(Object.keys(USERS).sort());
      expect((await cluster.workers()).find((w) => w.id === 'w1')).toMatchObject({ accounts: 2, maxAccounts: 2 });

      await fx.startWorker('w2', { maxAccounts: 2 });
      await waitUntil(async () => { const c = await count(); return c.w1 === 2 && c.w2 === 2 && c.null === 2; }, 15000, 'w1 and w2 full');
      await fx.startWorker('w3');
      // w3 has room: the accounts that rank it first move to it, and the two left over land on it too.
      await waitUntil(async () => { const c = await count(); return c.w3 >= 2 && !c.null; }, 15000, 'w3 taking the rest');
      await waitUntil(() => idling() === 6, 10000, 'six IDLE sessions');
      expect(imap.clients().filter((c) => c.idling).map((c) => c.user).sort()).toEqual(Object.keys(USERS).sort());

      const owners = await cluster.owners();
      // w3's arrival may have taken all of w1's accounts: remove any owned one.
      const owned = Object.keys(owners).find((id) => owners[id]);
      await cluster.removeAccount(owned);
      await waitUntil(async () => { const c = await count(); return (c.w1 || 0) + (c.w2 || 0) + (c.w3 || 0) === 5 && !c.null; }, 15000, 'five owned');
    } finally {
      clearInterval(sampler);
    }
    expect(most.get('w1')).toBe(2);
    expect(most.get('w2')).toBe(2);
  }, 90000);

  test("auth: 'oauth' accounts log in with the owning worker's getAccessToken (XOAUTH2)", async () => {
    const tokens = { user1: 'oauth-token-of-user1' };
    fx = await startCluster({ users: { user1: USERS.user1 }, tokens, accounts: [] });
    const { cluster, imap } = fx;
    const base = fx.account('user1');
    delete base.pass;

    // Checked when stored, as the engine would check them.
    await expect(cluster.addAccount({ ...base, auth: 'oauth', pass: 'x' })).rejects.toMatchObject({ name: 'TypeError', option: 'pass' });
    await expect(cluster.addAccount({ ...base, auth: 'oauth', accessToken: 't' })).rejects.toMatchObject({ name: 'TypeError', option: 'accessToken' });
    await expect(cluster.addAccount({ ...base, auth: 'sso' })).rejects.toMatchObject({ name: 'TypeError', option: 'auth' });
    await expect(cluster.addAccount({ ...base, getAccessToken: async () => ({ accessToken: 't' }) })).rejects.toMatchObject({ option: 'getAccessToken' });
    await expect(cluster.addAccount(base)).rejects.toMatchObject({ name: 'TypeError', option: 'pass' }); // no credential, not oauth
    await expect(cluster.addAccount({ ...base, auth: 'oauth', port: 'x' })).rejects.toMatchObject({ name: 'TypeError', option: 'port' });
    expect(() => new ClusterWorker({ redis: fx.redis.url, secret: SECRET, getAccessToken: 'tok' })).toThrow(expect.objectContaining({ option: 'getAccessToken' }));

    const statuses = fx.collect('EmailStatus');
    await cluster.addAccount({ ...base, auth: 'oauth' });
    // A worker without a provider cannot start it: it says so and lets the account go.
    const plain = await fx.startWorker('w0');
    await waitUntil(() => statuses.some((s) => s.type === 'failed'), 10000, 'failed without a provider');
    expect(statuses.find((s) => s.type === 'failed')).toMatchObject({ accountId: 'user1', workerId: 'w0', error: { code: 'NO_TOKEN_PROVIDER' } });
    await plain.stop();

    const calls = [];
    const w1 = await fx.startWorker('w1', {
      getAccessToken: async (ctx) => {
        calls.push(ctx);
        return { accessToken: tokens[ctx.user], expiresAt: Date.now() + 3600000 };
      },
    });
    await waitUntil(() => statuses.some((s) => s.type === 'watched' && s.workerId === 'w1'), 10000, 'watched by w1');
    expect(w1.accounts()).toEqual(['user1']);
    expect(calls[0]).toEqual({ accountId: 'user1', user: 'user1', host: '127.0.0.1' });
    expect(imap.commandLog.some((e) => e.command === 'AUTHENTICATE' && /^XOAUTH2/.test(e.args))).toBe(true);
    await waitUntil(() => imap.clients().some((c) => c.idling && c.user === 'user1'), 10000, 'IDLE as user1');
    const news = fx.collect('EmailNewMessage');
    imap.appendMessage('INBOX', { subject: 'via oauth' });
    await waitUntil(() => news.some((p) => p.messages[0].envelope.subject === 'via oauth'), 10000, 'the push');
    expect(fx.redis.cli('HGETALL', 't:accounts')).not.toContain(tokens.user1);
    expect(JSON.stringify(statuses)).not.toContain(tokens.user1);
  }, 60000);
});
