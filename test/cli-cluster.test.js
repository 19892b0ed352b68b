'use strict';

// imap-push cluster-worker: the CLI's cluster mode against a real Redis and
// the mock IMAP server. It takes an account added through Cluster, publishes
// its mail, logs its id and account changes as JSON lines, reads the secret
// from IMAP_PUSH_SECRET only, and on SIGTERM hands its accounts over (at once,
// not by lease expiry) and exits 0.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { redisAvailable } = require('./support/redis');
const { startCluster, SECRET } = require('./support/cluster-fixture');
const { startCli } = require('./support/cli');
const { waitUntil } = require('./support/wait');

if (!redisAvailable() && !process.env.CI) console.warn('\n*** cli-cluster.test.js SKIPPED: redis-server is not installed ***\n');
const maybe = redisAvailable() || process.env.CI ? describe : describe.skip;

const USERS = { carol: 'Pw-of-carol-secret' };
const LEASE_MS = 10000; // long: a handover within it is the SIGTERM's, not the lease running out

maybe('CLI cluster-worker', () => {
  let fx;
  let dir;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-cli-cluster-'));
  });
  afterEach(async () => {
    if (fx) await fx.close();
    fx = null;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('watches what Cluster adds, publishes its mail, logs account changes, and hands over on SIGTERM', async () => {
    fx = await startCluster({ users: USERS, accounts: [], leaseMs: LEASE_MS });
    const config = path.join(dir, 'engine.json');
    fs.writeFileSync(config, JSON.stringify({ engine: { reconnect: { initialDelayMs: 50, maxDelayMs: 200 } } }));
    const cli = startCli(['cluster-worker', '--redis', fx.redis.url, '--prefix', 't', '--lease-ms', String(LEASE_MS), '--config', config,
      '--max-accounts', '5'], { IMAP_PUSH_SECRET: SECRET }, { killMs: 40000 });
    await waitUntil(() => cli.lines.some((l) => l.event === 'workerStarted'), 10000, 'workerStarted');
    const { workerId } = cli.lines.find((l) => l.event === 'workerStarted');
    expect(workerId).toEqual(expect.any(String));
    expect((await fx.cluster.workers()).find((w) => w.id === workerId)).toMatchObject({ maxAccounts: 5 });

    const news = fx.collect('EmailNewMessage');
    await fx.cluster.addAccount(fx.account('carol'));
    await waitUntil(() => cli.lines.some((l) => l.event === 'accountWatched' && l.accountId === 'carol'), 15000, 'carol watched');
    expect(await fx.cluster.owners()).toEqual({ carol: workerId });
    fx.imap.appendMessage('INBOX', { subject: 'through the cli worker' });
    await waitUntil(() => news.some((p) => p.messages[0].envelope.subject === 'through the cli worker'), 10000, 'the push');

    const other = await fx.startWorker('w2');
    const termAt = Date.now();
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(cli.lines.map((l) => l.event)).toEqual(expect.arrayContaining(['workerStopping', 'accountReleased', 'workerStopped']));
    await waitUntil(async () => (await fx.cluster.owners()).carol === 'w2', LEASE_MS, 'w2 owning carol');
    console.log(`cli handover: carol owned by w2 ${Date.now() - termAt} ms after SIGTERM (lease ${LEASE_MS} ms)`);
    expect(Date.now() - termAt).toBeLessThan(LEASE_MS);
    expect(other.accounts()).toEqual(['carol']);
    const out = JSON.stringify(cli.lines) + cli.stderr();
    expect(out).not.toContain(SECRET);
    expect(out).not.toContain(USERS.carol);
  }, 60000);

  test("--token-module: the worker's getAccessToken for auth: 'oauth' accounts", async () => {
    fx = await startCluster({ users: USERS, tokens: { carol: 'carol-oauth-token' }, accounts: [] });
    const tokens = path.join(dir, 'tokens.js');
    fs.writeFileSync(tokens, "exports.getAccessToken = async ({ user }) => ({ accessToken: `${user}-oauth-token`, expiresAt: Date.now() + 3600000 });\n");
    const account = fx.account('carol', { auth: 'oauth' });
    delete account.pass;
    await fx.cluster.addAccount(account);
    const cli = startCli(['cluster-worker', '--redis', fx.redis.url, '--prefix', 't', '--lease-ms', '2000', '--token-module', tokens],
      { IMAP_PUSH_SECRET: SECRET });
    await waitUntil(() => cli.lines.some((l) => l.event === 'accountWatched' && l.accountId === 'carol'), 15000, 'carol watched');
    expect(fx.imap.commandLog.some((e) => e.command === 'AUTHENTICATE' && /^XOAUTH2/.test(e.args))).toBe(true);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(JSON.stringify(cli.lines) + cli.stderr()).not.toContain('carol-oauth-token');
  }, 60000);

  test('refuses to start without IMAP_PUSH_SECRET, with a bad number, or with accounts in its config, quoting none of it', async () => {
    delete process.env.IMAP_PUSH_SECRET; // the children inherit this process's environment
    const noSecret = startCli(['cluster-worker', '--redis', 'redis://127.0.0.1:1'], {});
    expect(await noSecret.exited).toBe(1);
    expect(noSecret.stderr()).toMatch(/IMAP_PUSH_SECRET is not set/);

    const badLease = startCli(['cluster-worker', '--redis', 'redis://127.0.0.1:1', '--lease-ms', '10s'], { IMAP_PUSH_SECRET: SECRET });
    expect(await badLease.exited).toBe(1);
    expect(badLease.stderr()).toMatch(/leaseMs/);

    const shortSecret = startCli(['cluster-worker', '--redis', 'redis://127.0.0.1:1'], { IMAP_PUSH_SECRET: 'short' });
    expect(await shortSecret.exited).toBe(1);
    expect(shortSecret.stderr()).toMatch(/'secret'/);

    const config = path.join(dir, 'engine.json');
    fs.writeFileSync(config, JSON.stringify({ engine: {}, accounts: [{ id: 'x', host: 'h', user: 'u', pass: 'Hunter2-in-config' }] }));
    const withAccounts = startCli(['cluster-worker', '--redis', 'redis://127.0.0.1:1', '--config', config], { IMAP_PUSH_SECRET: SECRET });
    expect(await withAccounts.exited).toBe(1);
    expect(withAccounts.stderr()).toMatch(/only the key 'engine'/);
    expect(withAccounts.stderr()).not.toContain('Hunter2');

    delete process.env.IMAP_PUSH_REDIS;
    const noRedis = startCli(['cluster-worker'], { IMAP_PUSH_SECRET: SECRET });
    expect(await noRedis.exited).toBe(1);
    expect(noRedis.stderr()).toMatch(/--redis/);
  }, 60000);
});
