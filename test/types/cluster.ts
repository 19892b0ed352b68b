// Compiled by test/types.test.js with tsc --strict: a user's view of imap-push/cluster.
// Each @ts-expect-error line must fail to compile, or tsc reports the directive as unused.
import { Cluster, ClusterWorker } from 'imap-push/cluster';
import type { ClusterAccount, EmailNewMessagePayload, EmailStatusPayload, WorkerInfo, ClusterWarning } from 'imap-push/cluster';

async function cluster(): Promise<void> {
  const c = new Cluster({ redis: 'redis://127.0.0.1:6379', prefix: 'p', secret: 's'.repeat(16) });
  await c.addAccount({ id: 'a', host: 'h', user: 'u', pass: 'p', folders: ['INBOX'], fetchBodies: true });
  await c.addAccount({ id: 'b', host: 'h', user: 'u', accessToken: 't' });
  const oauth: ClusterAccount = { id: 'c', host: 'h', user: 'u', auth: 'oauth', tls: 'implicit' };
  const { accountId } = await c.addAccount(oauth);
  const { requestId } = await c.requestFullSync(accountId, { folders: ['INBOX', 'Archive'], since: new Date() });
  await c.requestFullSync('a');
  await c.removeAccount('b');
  const owners: Record<string, string | null> = await c.owners();
  const workers: WorkerInfo[] = await c.workers();
  const max: number | null = workers[0]?.maxAccounts ?? null;
  const news = c.consume('EmailNewMessage', { group: 'store', consumer: 'c1', claimMs: 1000, blockMs: 100 }, async (p: EmailNewMessagePayload, entryId: string) => {
    for (const m of p.messages) void [m.id, m.uid, m.envelope.subject, m.body?.text, m.body?.truncated, m.headers?.[0]?.[1], m.attachments?.[0]?.content.length, p.fullSync, entryId];
  });
  c.consume('EmailStatus', { group: 'g', consumer: 'c' }, (s: EmailStatusPayload) => {
    if (s.type === 'connection') void [s.state, s.error?.code];
    else if (s.type === 'fullSync') void [s.requestId, s.ok, s.messages];
    else if (s.type === 'watched') void s.folders.length;
  });
  c.consume('EmailChanged', { group: 'g', consumer: 'c' }, (e) => { const u: number | null = e.uid; void [u, e.flags]; });
  c.on('warning', (w: ClusterWarning) => void [w.code, w.message]);
  await news.stop();
  await c.close();
  void [requestId, owners, max];

  // @ts-expect-error a function cannot be stored in Redis
  await c.addAccount({ id: 'x', host: 'h', user: 'u', getAccessToken: async () => ({ accessToken: 't' }) });
  // @ts-expect-error oauth accounts store no password
  await c.addAccount({ id: 'x', host: 'h', user: 'u', auth: 'oauth', pass: 'p' });
  // @ts-expect-error a credential or auth: 'oauth' is required
  await c.addAccount({ id: 'x', host: 'h', user: 'u' });
  // @ts-expect-error folders is a list
  await c.requestFullSync('a', { folders: 'INBOX' });
  // @ts-expect-error not a topic
  c.consume('EmailFullSync', { group: 'g', consumer: 'c' }, () => {});
  // @ts-expect-error Cluster has no such event
  c.on('accountWatched', () => {});
  // @ts-expect-error the secret is required
  new Cluster({ redis: 'redis://x' });
}
void cluster;

async function worker(): Promise<void> {
  const w = new ClusterWorker({
    redis: 'redis://127.0.0.1:6379', secret: 's'.repeat(16), leaseMs: 10000, maxAccounts: 100, id: 'w1',
    engine: { reconnect: { initialDelayMs: 50 } },
    getAccessToken: async ({ accountId, user, host }) => ({ accessToken: `${accountId}${user}${host}`, expiresAt: Date.now() + 1000 }),
  });
  w.on('accountWatched', (id) => { const s: string = id; void s; });
  w.on('accountReleased', (id) => void id);
  w.on('leaseLost', (id) => void id);
  w.on('fullSyncDone', (id, requestId) => void [id, requestId]);
  w.on('warning', (err: ClusterWarning) => void [err.code, err.accountId, err.message]);
  await w.start();
  const held: string[] = w.accounts();
  const id: string = w.id;
  await w.stop();
  void [held, id];
  // @ts-expect-error no such event
  w.on('accountWached', () => {});
  // @ts-expect-error maxAccounts is a number
  new ClusterWorker({ redis: 'redis://x', secret: 's', maxAccounts: '5' });
}
void worker;
