// Compiled by test/types.test.js with tsc --strict: a user's view of the public types, imported by
// package name as an app would (through package.json's exports, and again through typesVersions).
// It uses every documented method, option and event (test/types.test.js checks that too).
// Each @ts-expect-error line must fail to compile, or tsc reports the directive as unused.
import { MailEngine, parseMessage, ImapPushError } from 'imap-push';
import { MockImapServer, makeCerts, DEFAULT_CAPS, DEFAULT_UIDVALIDITY } from 'imap-push/testing';
import type { MockCommandLogEntry, MockMailbox, MockClientInfo } from 'imap-push/testing';
import type {
  CopyResult, AppendResult, QuotaResult, PartStream, FolderCounts, Logger, Health, PushEvent, NotificationItem,
  FolderUpdatedItem, NotificationFilter, SyncStartedEvent, SyncProgressEvent,
  AccountOptions, NewMessageEvent, SyncResult, FolderInfo, PoolStats, AccountStatus, ErrorCode, ParsedMessage,
} from 'imap-push';
import pino = require('pino');

async function main(): Promise<void> {
  const engine = new MailEngine({
    idle: { refreshMs: 1, pollMs: 1, doneTimeoutMs: 1, livenessMs: 0 },
    keepalive: { idleMs: 1000, intervalMs: 1000, count: 3 },
    reconnect: { initialDelayMs: 1, factor: 2, maxDelayMs: 2, jitter: 0, authFailureDelayMs: 1, stopOnAuthFailure: true },
    timeouts: { connectMs: 1, commandMs: 1, logoutMs: 1 },
    auth: { refreshBeforeMs: 1, tokenTimeoutMs: 1 },
    pool: { maxPerAccount: 1, maxTotal: 1, healthCheckMs: 1, idleTimeoutMs: 1 },
    sync: { maxConcurrent: 1, debounceMs: 0, initial: { last: 5 }, flagWindow: 10 },
    folders: { cacheTtlMs: 1 },
    stateFile: '/tmp/state.db',
    maxQueuedEvents: 10,
    notifications: { batchSize: 10, batchIntervalMs: 50, maxQueue: 100, healthIntervalMs: 0, preview: 200 },
    logger: pino({ level: 'debug' }),
  });
  new MailEngine({ logger: console });
  const own: Logger = { debug() {}, info() {}, warn() {}, error(fields, msg) { void [fields, msg]; }, child: () => own };
  new MailEngine({ logger: own });
  // @ts-expect-error a logger needs debug, info, warn and error
  new MailEngine({ logger: { info() {}, warn() {}, error() {} } });
  // @ts-expect-error preview is a number of characters
  new MailEngine({ notifications: { preview: true } });
  // @ts-expect-error not a notifications option
  new MailEngine({ notifications: { batchMs: 5 } });
  const account: AccountOptions = {
    id: 'a', host: '127.0.0.1', port: 143, tls: 'none', tlsOptions: { ca: 'pem', servername: 'x', rejectUnauthorized: true },
    user: 'u', pass: 'p', allowInsecureAuth: true, folders: ['INBOX'], fetchBodies: true, maxBodyBytes: 1024,
    idle: { pollMs: 5 }, keepalive: { count: 2 }, reconnect: { factor: 3 }, timeouts: { commandMs: 5 },
  };
  const st: AccountStatus = await engine.addAccount(account);
  await engine.addAccount({ id: 'b', host: 'h', user: 'u', accessToken: 't' });
  await engine.addAccount({ id: 'c', host: 'h', user: 'u', getAccessToken: async () => ({ accessToken: 't', expiresAt: new Date() }) });
  const code: ErrorCode | string | undefined = st.folders[0]?.lastError?.code;
  void code;

  engine.on('newMessage', (m: NewMessageEvent) => {
    const uid: number = m.uid;
    const subject: string = m.envelope.subject;
    const preview: string | undefined = m.preview;
    const body: ParsedMessage | undefined = m.message;
    const latency: number | undefined = m.pushLatencyMs;
    void [uid, subject, preview, body?.text, latency];
  });
  engine.on('messageDeleted', (e) => { const u: number = e.uid; void u; });
  engine.on('flagsChanged', (e) => { void e.flags.length; });
  engine.on('connectionStatus', (e) => { if (e.error instanceof ImapPushError) void e.error.code; void e.previous; });
  engine.on('idleRefreshed', (e) => { void e.folder; });
  engine.on('folderReset', (e) => { void e.uidValidity; });
  engine.on('folderChanged', (e: FolderCounts) => { const badge: number = e.unseen; const m: number | null = e.highestModseq; void [badge, m, e.exists, e.uidNext]; });
  engine.on('connectionLost', (e) => { const c: string = e.error.code; void [c, e.folder]; });
  engine.on('connectionRestored', (e) => { const ms: number = e.downtimeMs; void ms; });
  engine.on('syncStarted', (e: SyncStartedEvent) => { void [e.accountId, e.total]; });
  engine.on('syncProgress', (e: SyncProgressEvent) => { void [e.folder, e.done / e.total]; });
  engine.on('connectionStatus', (e) => { const n: number | undefined = e.attempt; const ms: number | undefined = e.retryInMs; void [n, ms]; });
  engine.on('batch', (items: Array<NotificationItem | FolderUpdatedItem>) => {
    for (const item of items) {
      if (item.type === 'folderUpdated') void [item.folder, item.merged, item.needsSync];
      else if (item.type === 'newMessage') void [item.uid, item.envelope.subject, item.preview];
      else if (item.type === 'syncCompleted') void item.folders.map((f) => f.newMessages);
      else if (item.type === 'push') void item.source;
    }
  });
  engine.on('healthCheck', (h: Health) => { void [h.isHealthy, h.queueDepth, h.accounts.map((a) => a.lastError?.code)]; });
  engine.on('push', (p: PushEvent) => { const source: 'gmail' | 'graph' = p.source; void [p.accountId, source]; });

  const filter: NotificationFilter = { accounts: ['a'], folders: ['INBOX'], events: ['newMessage', 'flagsChanged'] };
  const unsubscribe: () => void = engine.subscribe(filter, (item) => {
    if (item.type === 'newMessage') void item.envelope.from[0]?.address;
    else if (item.type === 'flagsChanged') void item.flags;
  });
  unsubscribe();
  // @ts-expect-error not an event type
  engine.subscribe({ events: ['newMesage'] }, () => {});
  const aborted = new AbortController();
  for await (const item of engine.events({ accounts: ['a'], events: ['newMessage'], signal: aborted.signal })) {
    if (item.type === 'folderUpdated') void item.needsSync;
    else if (item.type === 'newMessage') void item.uid;
    aborted.abort();
  }
  const health: Health = engine.health();
  void [health.idleConnections, health.pooledConnections, health.activeSyncs, health.pendingSyncs, health.listeners,
    health.merged, health.accounts[0]?.folders[0]?.state];
  engine.on('syncCompleted', (r: SyncResult) => { void r.folders.map((f) => f.newMessages); });

  const one: SyncResult = await engine.sync('a', { folders: ['INBOX'] });
  const all: SyncResult[] = await engine.syncAll();
  const folders: FolderInfo[] = await engine.listFolders('a', { refresh: true });
  const counts: FolderCounts = await engine.folderStatus('a', 'Archive');
  void counts.unseen;
  // @ts-expect-error the folder is a string
  await engine.folderStatus('a', 1);
  const msg: ParsedMessage = await engine.fetchMessage('a', 'INBOX', 1, { maxBytes: 100 });
  const stored = await engine.addFlags('a', 'INBOX', [1, 2], ['\\Seen'], { unchangedSince: 5 });
  const set: string = stored.uids;
  const modseq: number | undefined = stored.modseq;
  await engine.removeFlags('a', 'INBOX', '1:5,9', ['\\Flagged']);
  await engine.setFlags('a', 'INBOX', 3, []);
  const deleted: { uids: string } = await engine.deleteMessages('a', 'INBOX', [4]);
  // @ts-expect-error flags are an array
  await engine.addFlags('a', 'INBOX', 1, '\\Seen');
  // @ts-expect-error uids are numbers or a set string
  await engine.deleteMessages('a', 'INBOX', [true]);
  const moved: CopyResult = await engine.move('a', 'INBOX', [1, 2], 'Archive');
  const newUid: number | undefined = moved.uidMap[1];
  await engine.copy('a', 'INBOX', '1:3', 'Archive');
  const found: number[] = await engine.search('a', 'INBOX', {
    seen: false, from: 'a@example.com', since: new Date(), header: { 'X-Tag': 'x' }, or: [{ subject: 'a' }, { not: { flagged: true } }],
  });
  await engine.search('a', 'INBOX', {
    answered: true, deleted: false, draft: false, to: 'b', cc: 'c', bcc: 'd', body: 'e', text: 'f',
    before: '2026-01-01', on: Date.now(), larger: 1, smaller: 1e6, uid: '1:*'.replace('*', '9'), modseq: 5, gmailRaw: 'has:attachment',
  });
  await engine.search('a', 'INBOX');
  // @ts-expect-error seen is a boolean
  await engine.search('a', 'INBOX', { seen: 'no' });
  // @ts-expect-error not a search key
  await engine.search('a', 'INBOX', { colour: 'red' });
  const appended: AppendResult = await engine.append('a', 'INBOX', Buffer.from('Subject: x\r\n\r\n'), { flags: ['\\Seen'], internalDate: new Date() });
  const appendedUid: number | null = appended.uid;
  await engine.createFolder('a', 'P');
  const renamed: { path: string; from: string } = await engine.renameFolder('a', 'P', 'Q');
  await engine.subscribeFolder('a', 'Q');
  await engine.unsubscribeFolder('a', 'Q');
  await engine.deleteFolder('a', 'Q');
  const q: QuotaResult = await engine.quota('a');
  const usedBytes: number | undefined = q.storage?.usedBytes;
  // @ts-expect-error raw is bytes or a string
  await engine.append('a', 'INBOX', 42);
  for await (const m of engine.messages('a', 'INBOX', { uids: [1, 2], before: Date.now() })) void m.uid;
  for await (const m of engine.messages('a', 'INBOX', { since: new Date(), range: { start: 1, end: 50 }, batchSize: 50, fields: ['bodyStructure', 'headers'] })) {
    const subject: string | null = m.envelope.subject;
    const firstPart: string | null | undefined = m.bodyStructure?.childNodes?.[0]?.part;
    const listId: string[] | undefined = m.headers?.['list-id'];
    void subject; void firstPart; void listId;
  }
  const partStream: PartStream = await engine.downloadPart('a', 'INBOX', 1, '2.1', { maxBytes: 1024 });
  const partType: string = partStream.contentType;
  const wasCut: boolean = partStream.truncated;
  void [partStream.transferEncoding, partStream.size];
  partStream.pipe(process.stdout);
  void partType; void wasCut;
  // @ts-expect-error batchSize is a number
  engine.messages('a', 'INBOX', { batchSize: '5' });
  void set; void modseq; void deleted; void newUid; void found; void appendedUid; void renamed; void usedBytes;
  const pool: PoolStats = engine.poolStats('a');
  const stats = engine.syncStats();
  const statuses: AccountStatus[] = engine.status();
  const maybe: AccountStatus | null = engine.status('a');
  const parsed = await parseMessage(Buffer.from('Subject: x\r\n\r\nhi'), { maxBytes: 10 });
  void [one, all, folders, msg.subject, pool.open, stats.active, statuses, maybe, parsed.text];
  await engine.removeAccount('a');
  await engine.close();

  // @ts-expect-error pool is engine-wide; the runtime rejects it on an account
  await engine.addAccount({ id: 'x', host: 'h', user: 'u', pass: 'p', pool: { maxTotal: 1 } });
  // @ts-expect-error sync is engine-wide
  await engine.addAccount({ id: 'x', host: 'h', user: 'u', pass: 'p', sync: { debounceMs: 1 } });
  // @ts-expect-error stateFile is engine-wide
  await engine.addAccount({ id: 'x', host: 'h', user: 'u', pass: 'p', stateFile: 'f' });
  // @ts-expect-error notifications is engine-wide
  await engine.addAccount({ id: 'x', host: 'h', user: 'u', pass: 'p', notifications: {} });
  // @ts-expect-error two credentials at once
  await engine.addAccount({ id: 'x', host: 'h', user: 'u', pass: 'p', accessToken: 't' });
  // @ts-expect-error a credential is required
  await engine.addAccount({ id: 'x', host: 'h', user: 'u' });
  // @ts-expect-error folders on an account is a list of names, not the engine's cache option
  await engine.addAccount({ id: 'x', host: 'h', user: 'u', pass: 'p', folders: { cacheTtlMs: 1 } });
  // @ts-expect-error a deletion carries no sequence number
  engine.on('messageDeleted', (e) => { const s: number = e.seq; void s; });
  // @ts-expect-error no such event
  engine.on('newMesage', () => {});
  // @ts-expect-error newMessage's uid is a number
  engine.on('newMessage', (m) => { const u: string = m.uid; void u; });
}
void main;

// imap-push/testing, as a user's own test drives it.
async function mockServer(): Promise<void> {
  const server = new MockImapServer({ users: { alice: 'secret' }, tokens: { alice: 't' }, capabilities: [...DEFAULT_CAPS], idleKeepaliveMs: 0 });
  const port: number = await server.listen();
  const same: number = server.port;
  const uid: number = server.appendMessage('INBOX', { subject: 's', from: 'a@b', to: 'c@d', body: 'hi', flags: ['\\Seen'] });
  server.appendMessage({ raw: Buffer.from('Subject: x\r\n\r\n') });
  const box: MockMailbox = server.createMailbox('Archive', { uidValidity: 7 });
  const gone: boolean = server.expunge('INBOX', uid);
  server.setFlags('INBOX', 1, ['\\Flagged']);
  const entry: MockCommandLogEntry = await server.waitFor('IDLE', 1000);
  await server.waitForNext((e) => e.command === 'DONE' && e.conn === entry.conn);
  const who: MockClientInfo[] = server.clients();
  server.on('connection', (id) => { const n: number = id; void n; });
  server.on('command', (e) => { void e.args; });
  server.dropAll(); server.stall(100); server.unstall(); server.byeAll(); server.injectRaw('* garbage\r\n', { all: true });
  server.dropConnection(who[0]?.id ?? 1); server.stallConnection(1); server.failNextConnections(2); server.setAuthFail(false);
  const { key, cert } = makeCerts();
  const tls = new MockImapServer({ tls: 'implicit', key, cert });
  const ca: string = tls.caPem;
  const { keyPath } = makeCerts('/tmp/x');
  await server.close();
  void [port, same, box.uidNext, gone, ca, keyPath.length, DEFAULT_UIDVALIDITY];
  // @ts-expect-error users maps a name to a password string
  new MockImapServer({ users: { alice: 1 } });
  // @ts-expect-error STARTTLS is the starttls flag, not a tls mode
  new MockImapServer({ tls: 'starttls' });
  // @ts-expect-error flags are an array
  server.appendMessage('INBOX', { flags: '\\Seen' });
  // @ts-expect-error no such event
  server.on('conection', () => {});
  // @ts-expect-error makeCerts() without a dir keeps no files
  void makeCerts().keyPath;
}
void mockServer;

import { createRouter } from 'imap-push/express';
import type { TenantLimits, HistoryResponse, HistoryOptions } from 'imap-push/express';

function router(engine: MailEngine): void {
  const limits: Partial<TenantLimits> = { maxFolders: 5, maxConnectionsPerTenant: 12 };
  const r = createRouter(engine, {
    authorize: () => ({ tenant: 't' }),
    allowHosts: ['imap.internal', '10.0.0.0/8', 'mail.example:1143'],
    lookup: async () => [{ address: '192.0.2.1', family: 4 }],
    limits,
  });
  const key: string | null = r.accountKey('t', 'main');
  void key;
  // @ts-expect-error allowHosts is a list
  createRouter(engine, { authorize: () => ({ tenant: 't' }), allowHosts: '10.0.0.0/8' });
  // @ts-expect-error no such limit
  createRouter(engine, { authorize: () => ({ tenant: 't' }), limits: { maxFolder: 5 } });
  const history: Partial<HistoryOptions> = { eventsPerTenant: 50, maxTenants: 10 };
  createRouter(engine, { authorize: () => ({ tenant: 't' }), history });
  // @ts-expect-error no such history option
  createRouter(engine, { authorize: () => ({ tenant: 't' }), history: { ringSize: 5 } });
  const shown = (h: HistoryResponse): string[] => h.events.map((e) => `${e.tenant ?? ''} ${e.subject ?? ''} ${e.pushLatencyMs ?? ''}`)
    .concat(h.accounts.map((a) => `${a.messagesToday} ${a.reconnects} ${a.lastError?.code ?? ''}`));
  void shown;
}
void router;
