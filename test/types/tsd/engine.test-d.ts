// tsd assertions on lib/index.d.ts (run by test/types-tsd.test.js): the exact types the engine's methods and
// events give, and what must not compile. Each expectError holds one mistake in an otherwise valid call, so the
// error it sees is the intended one. Imported relatively ('../../..' resolves through package.json `types`);
// test/types.test.js covers the package-name imports.
import { expectType, expectError, expectAssignable, expectNotAssignable } from 'tsd';
import type { Readable } from 'stream';
import { MailEngine, ImapPushError, parseMessage } from '../../..';
import type {
  AccountOptions, AccountStatus, AppendResult, ConnectionLostEvent, ConnectionRestoredEvent, ConnectionState,
  ConnectionStatusEvent, CopyResult, EngineOptions, ErrorCode, FlagsChangedEvent, FolderCounts, FolderEvent, FolderInfo,
  FolderResetEvent, FolderUpdatedItem, Health, ListedMessage, Logger, MessageDeletedEvent, NewMessageEvent,
  NotificationItem, ParsedMessage, PartStream, PoolStats, PushEvent, QuotaResult, SearchCriteria, StoreResult,
  SyncProgressEvent, SyncResult, SyncStartedEvent,
} from '../../..';

const engine = new MailEngine();
expectType<MailEngine>(new MailEngine({ logger: console, stateFile: '/tmp/s.db' }));
expectType<MailEngine>(engine);

// ---- results ---------------------------------------------------------------

const account = { id: 'a', host: 'h', user: 'u', pass: 'p' };
expectType<Promise<AccountStatus>>(engine.addAccount(account));
expectType<Promise<void>>(engine.removeAccount('a'));
expectType<AccountStatus[]>(engine.status());
expectType<AccountStatus | null>(engine.status('a'));
expectType<Promise<void>>(engine.close());
expectType<Promise<SyncResult>>(engine.sync('a'));
expectType<Promise<SyncResult>>(engine.sync('a', { folders: ['INBOX'] }));
expectType<Promise<SyncResult[]>>(engine.syncAll());
expectType<Promise<FolderInfo[]>>(engine.listFolders('a', { refresh: true }));
expectType<Promise<FolderCounts>>(engine.folderStatus('a', 'Archive'));
expectType<Promise<ParsedMessage>>(engine.fetchMessage('a', 'INBOX', 1, { maxBytes: 1024 }));
expectType<Promise<StoreResult>>(engine.addFlags('a', 'INBOX', [1, 2], ['\\Seen']));
expectType<Promise<StoreResult>>(engine.addFlags('a', 'INBOX', '1:5,9', ['\\Seen'], { unchangedSince: 5 }));
expectType<Promise<StoreResult>>(engine.removeFlags('a', 'INBOX', 1, ['\\Seen']));
expectType<Promise<StoreResult>>(engine.setFlags('a', 'INBOX', 1, []));
expectType<Promise<{ uids: string }>>(engine.deleteMessages('a', 'INBOX', [1]));
expectType<Promise<CopyResult>>(engine.move('a', 'INBOX', [1], 'Archive'));
expectType<Promise<CopyResult>>(engine.copy('a', 'INBOX', '1:3', 'Archive'));
expectType<Promise<number[]>>(engine.search('a', 'INBOX'));
expectType<Promise<number[]>>(engine.search('a', 'INBOX', { seen: false, or: [{ subject: 'a' }, { not: { flagged: true } }] }));
expectType<Promise<AppendResult>>(engine.append('a', 'INBOX', 'Subject: x\r\n\r\n', { flags: ['\\Seen'], internalDate: Date.now() }));
expectType<Promise<AppendResult>>(engine.append('a', 'INBOX', new Uint8Array(1)));
expectType<Promise<{ path: string }>>(engine.createFolder('a', 'P'));
expectType<Promise<{ path: string; from: string }>>(engine.renameFolder('a', 'P', 'Q'));
expectType<Promise<{ path: string }>>(engine.deleteFolder('a', 'Q'));
expectType<Promise<{ path: string }>>(engine.subscribeFolder('a', 'Q'));
expectType<Promise<{ path: string }>>(engine.unsubscribeFolder('a', 'Q'));
expectType<AsyncIterableIterator<ListedMessage>>(engine.messages('a', 'INBOX'));
expectType<AsyncIterableIterator<ListedMessage>>(engine.messages('a', 'INBOX', { fields: ['bodyStructure', 'headers'], range: { start: 1 } }));
expectType<Promise<PartStream>>(engine.downloadPart('a', 'INBOX', 1, '2.1', { maxBytes: 1024 }));
expectType<Promise<QuotaResult>>(engine.quota('a'));
expectType<PoolStats>(engine.poolStats());
expectType<() => void>(engine.subscribe({ events: ['newMessage'] }, () => {}));
expectType<AsyncIterableIterator<NotificationItem | FolderUpdatedItem>>(engine.events());
expectType<Health>(engine.health());
expectType<{ active: number; pending: number; completed: number }>(engine.syncStats());
expectType<Promise<ParsedMessage>>(parseMessage(Buffer.from('Subject: x\r\n\r\n'), { maxBytes: 10 }));

(async () => {
  const counts = await engine.folderStatus('a', 'INBOX');
  expectType<string>(counts.accountId);
  expectType<number>(counts.unseen);
  expectType<number | null>(counts.highestModseq);

  const stored = await engine.addFlags('a', 'INBOX', 1, ['\\Seen']);
  expectType<string>(stored.uids);
  expectType<number | undefined>(stored.modseq);

  const moved = await engine.move('a', 'INBOX', 1, 'Archive');
  expectType<string>(moved.destination);
  expectType<Record<number, number>>(moved.uidMap);

  const appended = await engine.append('a', 'INBOX', Buffer.alloc(0));
  expectType<number | null>(appended.uid);
  expectType<number | null>(appended.uidValidity);

  const synced = await engine.sync('a');
  expectType<boolean>(synced.ok);
  expectType<ImapPushError | null>(synced.error);
  expectType<ImapPushError | undefined>(synced.folders[0].error);

  const status = await engine.addAccount(account);
  expectType<string>(status.accountId);
  expectType<ConnectionState>(status.folders[0].state);
  expectType<'idle' | 'poll' | null>(status.folders[0].mode);
  expectType<{ code: string; message: string } | null>(status.folders[0].lastError);

  const folders = await engine.listFolders('a');
  expectType<'\\All' | '\\Archive' | '\\Drafts' | '\\Flagged' | '\\Junk' | '\\Sent' | '\\Trash' | null>(folders[0].specialUse);

  const part = await engine.downloadPart('a', 'INBOX', 1, '1');
  expectAssignable<Readable>(part);
  expectType<string>(part.contentType);
  expectType<string>(part.transferEncoding);
  expectType<boolean>(part.truncated);
  expectType<number>(part.size);

  const quota = await engine.quota('a', 'INBOX');
  expectType<{ usedBytes: number; limitBytes: number } | undefined>(quota.storage);

  for await (const m of engine.messages('a', 'INBOX', { fields: ['headers'] })) {
    expectType<number>(m.uid);
    expectType<string[]>(m.flags);
    expectType<Date | null>(m.internalDate);
    expectType<string>(m.envelope.subject);
    expectType<Record<string, string[]> | undefined>(m.headers);
    expectType<string | null | undefined>(m.bodyStructure?.part);
    // Only a push carries these.
    expectError(m.preview);
    expectError(m.message);
    expectError(m.pushLatencyMs);
  }

  const parsed = await parseMessage('Subject: x\r\n\r\nhi');
  expectType<Array<[string, string]>>(parsed.headers);
  expectType<string | null>(parsed.text);
  expectType<string | null>(parsed.html);
  expectType<Buffer>(parsed.attachments[0].content);
  expectType<'attachment' | 'inline'>(parsed.attachments[0].disposition);
  expectType<Date | null>(parsed.date);
  expectType<boolean>(parsed.truncated);

  try {
    await engine.removeAccount('a');
  } catch (err) {
    if (err instanceof ImapPushError) {
      expectType<ErrorCode | string>(err.code);
      expectType<'account' | 'folder' | 'message' | 'part' | undefined>(err.what);
      expectType<number | null | undefined>(err.modseq);
    }
  }
})();

// ---- events ----------------------------------------------------------------

expectType<MailEngine>(engine.on('newMessage', (m) => {
  expectType<NewMessageEvent>(m);
  expectType<number>(m.uid);
  expectType<number>(m.uidValidity);
  expectType<number | undefined>(m.modseq);
  expectType<string | undefined>(m.preview);
  expectType<ParsedMessage | undefined>(m.message);
  expectType<number | undefined>(m.pushLatencyMs);
  expectType<Date | null>(m.envelope.date);
  expectType<string | null>(m.envelope.messageId);
}));
engine.on('messageDeleted', (e) => {
  expectType<MessageDeletedEvent>(e);
  expectType<number>(e.uid);
  expectType<null>(e.seq);
});
engine.on('flagsChanged', (e) => {
  expectType<FlagsChangedEvent>(e);
  expectType<number | null>(e.uid);
  expectType<string[]>(e.flags);
  expectType<number | undefined>(e.modseq);
});
engine.on('folderChanged', (e) => {
  expectType<FolderCounts>(e);
  expectType<number>(e.exists);
  expectType<number>(e.uidNext);
});
engine.on('connectionStatus', (e) => {
  expectType<ConnectionStatusEvent>(e);
  expectType<ConnectionState>(e.state);
  expectType<ConnectionState>(e.previous);
  expectType<ImapPushError | undefined>(e.error);
  expectType<number | undefined>(e.attempt);
  expectType<number | undefined>(e.retryInMs);
});
engine.once('idleRefreshed', (e) => expectType<FolderEvent>(e));
engine.once('folderReset', (e) => expectType<FolderResetEvent>(e));
engine.once('connectionLost', (e) => expectType<ConnectionLostEvent>(e));
engine.once('connectionRestored', (e) => expectType<ConnectionRestoredEvent>(e));
engine.off('syncStarted', (e) => expectType<SyncStartedEvent>(e));
engine.on('syncProgress', (e) => expectType<SyncProgressEvent>(e));
engine.on('syncCompleted', (e) => expectType<SyncResult>(e));
engine.on('push', (e) => expectType<PushEvent>(e));
engine.on('healthCheck', (e) => expectType<Health>(e));
engine.on('batch', (items) => expectType<Array<NotificationItem | FolderUpdatedItem>>(items));
engine.subscribe({ events: ['newMessage', 'flagsChanged'] }, (item) => {
  if (item.type === 'newMessage') expectType<{ type: 'newMessage' } & NewMessageEvent>(item);
  if (item.type === 'folderChanged') expectType<number>(item.unseen);
});

// The event map is closed, and each listener gets its own payload.
expectError(engine.on('newMesage', () => {}));
expectError(engine.once('message', () => {}));
expectError(engine.on('newMessage', (m: MessageDeletedEvent) => m));
expectError(engine.emit('messageDeleted', { accountId: 'a', folder: 'INBOX', uid: 1, seq: 3 }));
expectError(engine.subscribe({ events: ['newMesage'] }, () => {}));
expectError(engine.events({ events: ['batch'] }));

// ---- what must not compile: engine options -----------------------------------

expectError(new MailEngine({ pol: {} }));
expectError(new MailEngine({ idle: { refreshMs: '25m' } }));
expectError(new MailEngine({ idle: { refresh: 1000 } }));
expectError(new MailEngine({ keepalive: { count: '3' } }));
expectError(new MailEngine({ reconnect: { stopOnAuthFailure: 'yes' } }));
expectError(new MailEngine({ timeouts: { connect: 1000 } }));
expectError(new MailEngine({ pool: { maxPerAccount: '2' } }));
expectError(new MailEngine({ sync: { initial: 5 } }));
expectError(new MailEngine({ folders: ['INBOX'] }));
expectError(new MailEngine({ stateFile: true }));
expectError(new MailEngine({ notifications: { preview: true } }));
expectError(new MailEngine({ logger: { info() {}, warn() {}, error() {} } }));
expectError(new MailEngine({ logger: (msg: string) => msg }));
// Accounts go to addAccount(), not the constructor.
expectError(new MailEngine({ accounts: [account] }));
expectAssignable<Logger>(console);
expectAssignable<EngineOptions>({ logger: { debug() {}, info() {}, warn() {}, error() {}, child() { return this; } } });

// ---- what must not compile: accounts -----------------------------------------

// The engine-wide options, which the runtime refuses on an account (lib/options.js ACCOUNT_KEYS): as a literal
// passed to addAccount() ...
expectError(engine.addAccount({ ...account, pool: { maxTotal: 1 } }));
expectError(engine.addAccount({ ...account, sync: { debounceMs: 1 } }));
expectError(engine.addAccount({ ...account, stateFile: 'f' }));
expectError(engine.addAccount({ ...account, notifications: {} }));
expectError(engine.addAccount({ ...account, auth: { refreshBeforeMs: 1 } }));
expectError(engine.addAccount({ ...account, maxQueuedEvents: 10 }));
expectError(engine.addAccount({ ...account, logger: console }));
// ... and built elsewhere, where no excess-property check helps: the account types refuse them by name.
expectAssignable<AccountOptions>(account);
const withPool = { ...account, pool: { maxTotal: 1 } };
const withSync = { ...account, sync: { debounceMs: 1 } };
const withStateFile = { ...account, stateFile: 'f' };
const withNotifications = { ...account, notifications: { preview: 100 } };
const withAuth = { ...account, auth: { refreshBeforeMs: 1 } };
const withMaxQueued = { ...account, maxQueuedEvents: 10 };
const withLogger = { ...account, logger: console };
expectNotAssignable<AccountOptions>(withPool);
expectNotAssignable<AccountOptions>(withSync);
expectNotAssignable<AccountOptions>(withStateFile);
expectNotAssignable<AccountOptions>(withNotifications);
expectNotAssignable<AccountOptions>(withAuth);
expectNotAssignable<AccountOptions>(withMaxQueued);
expectNotAssignable<AccountOptions>(withLogger);
// The per-account tunables are allowed.
expectAssignable<AccountOptions>({ ...account, idle: { pollMs: 5 }, keepalive: { count: 2 }, reconnect: { factor: 3 }, timeouts: { commandMs: 5 } });

// Credentials: exactly one.
expectNotAssignable<AccountOptions>({ id: 'x', host: 'h', user: 'u' });
expectNotAssignable<AccountOptions>({ ...account, accessToken: 't' });
expectNotAssignable<AccountOptions>({ id: 'x', host: 'h', user: 'u', accessToken: 't', getAccessToken: () => ({ accessToken: 't' }) });
expectAssignable<AccountOptions>({ id: 'x', host: 'h', user: 'u', accessToken: 't' });
expectAssignable<AccountOptions>({ id: 'x', host: 'h', user: 'u', getAccessToken: async () => ({ accessToken: 't', expiresAt: new Date() }) });
expectError(engine.addAccount({ id: 'x', host: 'h', user: 'u', getAccessToken: async () => ({ token: 't' }) }));

// Wrong types and misspellings.
expectError(engine.addAccount({ ...account, folders: { cacheTtlMs: 1 } }));
expectError(engine.addAccount({ ...account, folders: 'INBOX' }));
expectError(engine.addAccount({ ...account, folder: ['INBOX'] }));
expectError(engine.addAccount({ ...account, tls: 'ssl' }));
expectError(engine.addAccount({ ...account, tls: true }));
expectError(engine.addAccount({ ...account, port: '993' }));
expectError(engine.addAccount({ ...account, tlsOptions: { rejectUnauthorised: false } }));
expectError(engine.addAccount({ ...account, tlsOptions: { ca: 42 } }));
expectError(engine.addAccount({ ...account, fetchBodies: 'yes' }));
expectError(engine.addAccount({ ...account, password: 'p' }));
expectError(engine.addAccount({ ...account, id: 1 }));

// ---- what must not compile: method arguments ---------------------------------

expectError(engine.sync('a', { folder: ['INBOX'] }));
expectError(engine.sync('a', { folders: 'INBOX' }));
expectError(engine.listFolders('a', { refresh: 'yes' }));
expectError(engine.folderStatus('a', 1));
expectError(engine.fetchMessage('a', 'INBOX', '1'));
expectError(engine.fetchMessage('a', 'INBOX', 1, { maxbytes: 10 }));
expectError(engine.addFlags('a', 'INBOX', 1, '\\Seen'));
expectError(engine.addFlags('a', 'INBOX', 1, ['\\Seen'], { unchangedSince: '5' }));
expectError(engine.deleteMessages('a', 'INBOX', [true]));
expectError(engine.move('a', 'INBOX', 1));
expectError(engine.append('a', 'INBOX', 42));
expectError(engine.append('a', 'INBOX', 'x', { flags: '\\Seen' }));
expectError(engine.messages('a', 'INBOX', { batchSize: '5' }));
expectError(engine.messages('a', 'INBOX', { fields: ['body'] }));
expectError(engine.messages('a', 'INBOX', { range: { end: 5 } }));
expectError(engine.downloadPart('a', 'INBOX', 1, 2));
expectError(engine.poolStats(1));
expectError(parseMessage(42));
expectError(parseMessage('x', { maxbytes: 1 }));

// Search criteria: a closed set of keys, with their value types.
expectError(engine.search('a', 'INBOX', { colour: 'red' }));
expectError(engine.search('a', 'INBOX', { subjet: 'x' }));
expectError(engine.search('a', 'INBOX', { seen: 'no' }));
expectError(engine.search('a', 'INBOX', { larger: '1k' }));
expectError(engine.search('a', 'INBOX', { header: 'X-Tag: x' }));
expectError(engine.search('a', 'INBOX', { or: { seen: true } }));
expectError(engine.search('a', 'INBOX', { not: [{ seen: true }] }));
expectError(engine.search('a', 'INBOX', { or: [{ colour: 'red' }] }));
expectError(engine.search('a', 'INBOX', { uid: [true] }));
expectAssignable<SearchCriteria>({ not: { or: [{ since: '2026-01-01' }, { before: new Date(), uid: '1:9' }] }, header: { 'X-Tag': 'x' } });
expectNotAssignable<SearchCriteria>({ seen: 1 });
