// tsd assertions on lib/express.d.ts and lib/notify.d.ts, run by test/types-tsd.test.js.
import { expectType, expectError, expectAssignable, expectNotAssignable } from 'tsd';
import type { Router } from 'express';
import { MailEngine } from '../../..';
import type { FolderUpdatedItem, Health, NotificationFilter, NotificationItem, NotificationOptions } from '../../..';
import { createRouter } from '../../../lib/express';
import type { HistoryOptions, ImapPushRouter, RouterOptions, TenantLimits } from '../../../lib/express';
import { Notifier, EVENT_TYPES } from '../../../lib/notify';
import type { NotificationType } from '../../../lib/notify';

const engine = new MailEngine();

// ---- imap-push/express -------------------------------------------------------

const router = createRouter(engine, { authorize: () => ({ tenant: 't' }) });
expectType<ImapPushRouter>(router);
expectAssignable<Router>(router);
expectType<void>(router.assign('a', 't'));
expectType<string | null>(router.accountKey('t', 'a'));
expectType<void>(router.close());
expectType<ImapPushRouter>(createRouter(engine, {
  authorize: async (req) => ({ tenant: String(req.headers['x-tenant']), admin: false }),
  notifier: new Notifier(engine),
  heartbeatMs: 1000,
  gmail: { accounts: { 'me@example.com': 'a' }, token: 't', oidc: { audience: 'x', keys: { k: 'pem' } } },
  graph: { subscriptions: new Map([['s', { accountId: 'a', clientState: 'c' }]]) },
  logger: (message) => expectType<string>(message),
  accountPolicy: (account, caller) => {
    expectType<string>(account.host);
    expectType<Required<{ tenant: string; admin?: boolean }>>(caller);
    return true;
  },
  allowHosts: ['10.0.0.0/8'],
  lookup: async () => [{ address: '192.0.2.1', family: 4 }],
  limits: { maxFolders: 5 },
  history: { eventsPerTenant: 50 },
}));

expectError(createRouter(engine, {}));
expectError(createRouter(engine, { authorize: () => ({ admin: true }) }));
expectError(createRouter(engine, { authorize: () => ({ tenant: 't' }), allowHosts: '10.0.0.0/8' }));
expectError(createRouter(engine, { authorize: () => ({ tenant: 't' }), limits: { maxFolder: 5 } }));
expectError(createRouter(engine, { authorize: () => ({ tenant: 't' }), limits: { maxFolders: '5' } }));
expectError(createRouter(engine, { authorize: () => ({ tenant: 't' }), history: { ringSize: 5 } }));
expectError(createRouter(engine, { authorize: () => ({ tenant: 't' }), gmail: { token: 't' } }));
expectError(createRouter(engine, { authorize: () => ({ tenant: 't' }), logger: console }));
expectError(createRouter({}, { authorize: () => ({ tenant: 't' }) }));
expectAssignable<Partial<TenantLimits>>({ maxBodyBytes: 1024, maxConnectionsPerTenant: 12 });
expectNotAssignable<Partial<HistoryOptions>>({ minutes: '30' });
expectNotAssignable<RouterOptions>({ authorize: () => ({ tenant: 't' }), heartbeatMs: '15s' });

// ---- notify.d.ts ---------------------------------------------------------------

const notifier = new Notifier(engine, { batchSize: 10, preview: 100 });
expectType<Notifier>(notifier);
expectType<Readonly<Required<NotificationOptions>>>(notifier.options);
expectType<() => void>(notifier.subscribe({ accounts: ['a'] }, (item) => expectType<NotificationItem>(item)));
expectType<AsyncIterableIterator<NotificationItem | FolderUpdatedItem>>(notifier.events({ signal: new AbortController().signal }));
expectType<Health>(notifier.health());
expectType<void>(notifier.stop());
expectType<readonly NotificationType[]>(EVENT_TYPES);

(async () => {
  for await (const item of notifier.events()) {
    if (item.type === 'folderUpdated') {
      expectType<FolderUpdatedItem>(item);
      expectType<string | null>(item.folder);
      expectType<true>(item.needsSync);
    } else if (item.type === 'messageDeleted') {
      expectType<null>(item.seq);
    } else if (item.type === 'syncCompleted') {
      expectType<boolean>(item.ok);
    } else if (item.type === 'push') {
      expectType<'gmail' | 'graph'>(item.source);
    }
  }
})();

expectError(notifier.options.batchSize = 5);
expectError(new Notifier(engine, { batchMs: 5 }));
expectError(new Notifier(engine, { preview: true }));
expectError(new Notifier({}));
expectNotAssignable<NotificationFilter>({ events: ['batch'] });
expectNotAssignable<NotificationFilter>({ events: ['folderUpdated'] });
expectNotAssignable<NotificationFilter>({ accounts: 'a' });
expectAssignable<NotificationFilter>({ events: ['newMessage', 'push', 'syncProgress', 'connectionRestored'] });
