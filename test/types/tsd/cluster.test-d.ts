// tsd assertions on lib/cluster.d.ts (imap-push/cluster), run by test/types-tsd.test.js.
import { expectType, expectError, expectAssignable, expectNotAssignable } from 'tsd';
import { Cluster, ClusterWorker } from '../../../lib/cluster';
import type {
  ClusterAccount, ClusterWarning, ClusterWorkerOptions, EmailChangedPayload, EmailNewMessagePayload, EmailStatusPayload,
  StatusError, TopicConsumer, WorkerInfo,
} from '../../../lib/cluster';
import type { ConnectionState } from '../../..';

const c = new Cluster({ redis: 'redis://127.0.0.1:6379', secret: 's'.repeat(16) });
expectType<Cluster>(c);
expectType<Promise<{ accountId: string }>>(c.addAccount({ id: 'a', host: 'h', user: 'u', pass: 'p' }));
expectType<Promise<{ accountId: string }>>(c.addAccount({ id: 'b', host: 'h', user: 'u', auth: 'oauth' }));
expectType<Promise<void>>(c.removeAccount('a'));
expectType<Promise<{ requestId: string }>>(c.requestFullSync('a'));
expectType<Promise<{ requestId: string }>>(c.requestFullSync('a', { folders: ['INBOX'], since: '2026-01-01' }));
expectType<Promise<Record<string, string | null>>>(c.owners());
expectType<Promise<WorkerInfo[]>>(c.workers());
expectType<Promise<void>>(c.close());
expectType<Cluster>(c.on('warning', (w) => expectType<ClusterWarning>(w)));

const consumer = c.consume('EmailNewMessage', { group: 'g', consumer: 'c' }, (payload, entryId) => {
  expectType<EmailNewMessagePayload>(payload);
  expectType<string>(entryId);
  expectType<'imap'>(payload.provider);
  expectType<string | undefined>(payload.fullSync);
  expectType<string>(payload.messages[0].id);
});
expectType<TopicConsumer>(consumer);
expectType<Promise<void>>(consumer.stop());
expectType<Promise<void>>(consumer.done);
c.consume('EmailChanged', { group: 'g', consumer: 'c', claimMs: 1000, blockMs: 100 }, (payload) => {
  expectType<EmailChangedPayload>(payload);
  expectType<'messageDeleted' | 'flagsChanged'>(payload.type);
  expectType<number | null>(payload.uid);
});
c.consume('EmailStatus', { group: 'g', consumer: 'c' }, async (payload) => {
  expectType<EmailStatusPayload>(payload);
  if (payload.type === 'connection') {
    expectType<ConnectionState>(payload.state);
    expectType<StatusError | undefined>(payload.error);
  } else if (payload.type === 'failed') {
    expectType<StatusError>(payload.error);
    expectType<number>(payload.retryInMs);
  } else if (payload.type === 'fullSync') {
    expectType<string>(payload.requestId);
    expectType<Array<{ folder: string; messages: number }> | undefined>(payload.folders);
  } else {
    expectType<'watched'>(payload.type);
    expectType<string[]>(payload.folders);
  }
});

const w = new ClusterWorker({ redis: 'redis://127.0.0.1:6379', secret: 's'.repeat(16), engine: { reconnect: { initialDelayMs: 50 } } });
expectType<ClusterWorker>(w);
expectType<string>(w.id);
expectType<Promise<void>>(w.start());
expectType<Promise<void>>(w.stop());
expectType<string[]>(w.accounts());
expectType<ClusterWorker>(w.on('accountWatched', (id) => expectType<string>(id)));
w.on('accountReleased', (id) => expectType<string>(id));
w.on('leaseLost', (id) => expectType<string>(id));
w.on('fullSyncDone', (id, requestId) => expectType<[string, string]>([id, requestId]));
w.once('warning', (err) => {
  expectType<ClusterWarning>(err);
  expectType<string | undefined>(err.accountId);
});
expectAssignable<ClusterWorkerOptions>({
  redis: 'r', secret: 's', getAccessToken: async ({ accountId, user, host }) => ({ accessToken: accountId + user + host }),
});

// What must not compile.
expectError(w.id = 'other');
expectError(new Cluster({ redis: 'redis://x' }));
expectError(new Cluster({ redis: 'redis://x', secret: 's', leaseMs: 1000 }));
expectError(new ClusterWorker({ redis: 'redis://x', secret: 's', maxAccounts: '5' }));
expectError(new ClusterWorker({ redis: 'redis://x', secret: 's', maxAcounts: 5 }));
expectError(new ClusterWorker({ redis: 'redis://x', secret: 's', engine: { pol: {} } }));
expectError(c.addAccount({ id: 'x', host: 'h', user: 'u' }));
expectError(c.addAccount({ id: 'x', host: 'h', user: 'u', getAccessToken: async () => ({ accessToken: 't' }) }));
expectError(c.addAccount({ id: 'x', host: 'h', user: 'u', auth: 'oauth', pass: 'p' }));
expectError(c.addAccount({ id: 'x', host: 'h', user: 'u', pass: 'p', pool: { maxTotal: 1 } }));
expectError(c.requestFullSync('a', { folders: 'INBOX' }));
expectError(c.requestFullSync('a', { folder: ['INBOX'] }));
expectError(c.consume('EmailFullSync', { group: 'g', consumer: 'c' }, () => {}));
expectError(c.consume('EmailNewMessage', { group: 'g' }, () => {}));
expectError(c.consume('EmailChanged', { group: 'g', consumer: 'c' }, (p: EmailNewMessagePayload) => p));
expectError(c.on('accountWatched', () => {}));
expectError(w.on('accountWached', () => {}));
expectError(w.on('fullSyncDone', (id: number) => id));
expectNotAssignable<ClusterAccount>({ id: 'x', host: 'h', user: 'u', pass: 'p', auth: 'oauth' as const });
expectNotAssignable<ClusterAccount>({ id: 'x', host: 'h', user: 'u', accessToken: 't', stateFile: 'f' });
expectAssignable<ClusterAccount>({ id: 'x', host: 'h', user: 'u', auth: 'oauth' as const, tls: 'implicit' as const });
