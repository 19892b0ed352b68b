import { EventEmitter } from 'events';
import type { Readable } from 'stream';

export * from './mime';
import type { ParsedMessage } from './mime';
import type {
  NotificationOptions, NotificationFilter, NotificationItem, FolderUpdatedItem, EventsOptions, Health, PushEvent,
} from './notify';
export type {
  NotificationOptions, NotificationFilter, NotificationItem, FolderUpdatedItem, EventsOptions, Health, PushEvent,
} from './notify';

export type ConnectionState =
  | 'disconnected' | 'connecting' | 'connected' | 'authenticating' | 'authenticated' | 'idle' | 'error';

export type ErrorCode =
  | 'AUTH_FAILED' | 'TLS_FAILED' | 'CONNECT_FAILED' | 'CONNECTION_LOST' | 'TIMEOUT' | 'SERVER_BYE'
  | 'PROTOCOL_ERROR' | 'INSECURE_AUTH' | 'SELECT_FAILED' | 'ACCOUNT_EXISTS' | 'UNKNOWN_ACCOUNT' | 'CLOSED'
  // src/imap (a command the server answered NO/BAD, with the server's text in the message),
  // src/engine (fetchMessage of a missing UID), binding/addon.cc.
  // NOT_FOUND from a mailbox action also means an unknown account: ImapPushError.what tells which.
  | 'COMMAND_FAILED' | 'NOT_FOUND' | 'STATE_FILE_FAILED'
  // mailbox actions (lib/actions.js, src/imap/actions.cpp)
  | 'MODIFIED' | 'UNSUPPORTED' | 'TRYCREATE';

export class ImapPushError extends Error {
  code: ErrorCode | string;
  accountId?: string;
  folder?: string;
  /**
   * NOT_FOUND from a mailbox action (append, search, add/remove/setFlags, move, copy, deleteMessages, messages,
   * downloadPart, create/rename/delete/subscribe/unsubscribeFolder, quota, folderStatus): what is missing.
   * 'account' for an account never added or removed meanwhile (the older methods say UNKNOWN_ACCOUNT).
   */
  what?: 'account' | 'folder' | 'message' | 'part';
  /** MODIFIED: the UID set a conditional STORE left alone. */
  modified?: string;
  /** MODIFIED: the highest MODSEQ the server reported. */
  modseq?: number | null;
}

/** A UID, an array of UIDs, or an IMAP UID set such as '1:5,9'. */
export type Uids = number | number[] | string;

export interface StoreOptions {
  /**
   * CONDSTORE: leave messages changed since this MODSEQ alone (the call then rejects with MODIFIED). UNSUPPORTED,
   * before anything is sent, on a server without CONDSTORE.
   */
  unchangedSince?: number;
}

export interface StoreResult {
  /** The compressed UID set that was sent. */
  uids: string;
  /** The highest MODSEQ the server reported, where it reports one (CONDSTORE). */
  modseq?: number;
}

export interface IdleOptions {
  /** Re-issue IDLE this often (ms). Default 25 min; must be under 29 min and at least 10 ms. */
  refreshMs?: number;
  /** NOOP polling interval when the server lacks IDLE (ms). Default 60 s; at least 10 ms. */
  pollMs?: number;
  /** DONE must be answered within this (ms). Default 10 s. */
  doneTimeoutMs?: number;
  /**
   * End IDLE (DONE, then IDLE again) after this long without a byte from the server (ms), so a hung server
   * is noticed within livenessMs + doneTimeoutMs. Default 4 min; 0 turns it off, else at least 10 ms.
   */
  livenessMs?: number;
}

/**
 * TCP keepalive on every connection, plus TCP_USER_TIMEOUT of idleMs + intervalMs * count: a peer that went
 * silent (blackhole, NAT drop) fails the connection that long after its last packet. Whole seconds.
 */
export interface KeepaliveOptions {
  /** Silence before the first probe (ms). Default 15 s; 0 turns keepalive and the user timeout off, else >= 1000. */
  idleMs?: number;
  /** Between probes (ms), >= 1000. Default 5 s. */
  intervalMs?: number;
  /** Unanswered probes before the connection fails, 1..127. Default 3. */
  count?: number;
}

export interface ReconnectOptions {
  /** First delay after a failure (ms). Default 1000; initialDelayMs * (1 - jitter) must be at least 10 ms. */
  initialDelayMs?: number;
  factor?: number;
  maxDelayMs?: number;
  /** 0..1: each delay is drawn from [d*(1-jitter), d]. Default 0.2. */
  jitter?: number;
  /** Minimum wait after AUTH_FAILED (ms). Default 5 min. */
  authFailureDelayMs?: number;
  /** Stay in 'error' after AUTH_FAILED instead of retrying. */
  stopOnAuthFailure?: boolean;
}

export interface TimeoutOptions {
  connectMs?: number;
  commandMs?: number;
  logoutMs?: number;
}

export interface PoolOptions {
  /** Pooled command connections per account (besides the IDLE ones). Default 2. */
  maxPerAccount?: number;
  /** Pooled connections across all accounts. Default 1000. */
  maxTotal?: number;
  /** NOOP before reusing a connection unused this long (ms). Default 60 s. */
  healthCheckMs?: number;
  /** Close connections unused this long (ms). Default 5 min. */
  idleTimeoutMs?: number;
}

export interface SyncOptions {
  /** Accounts synced at once, whoever starts the sync (syncAll, sync, IDLE, first syncs); the rest queue fairly. Default 5. */
  maxConcurrent?: number;
  /** IDLE events schedule a sync this long after the first one (ms). Default 1000. */
  debounceMs?: number;
  /** The first sync of a folder reports this many existing messages. */
  initial?: { last?: number };
  /** Without CONDSTORE, flags of this many newest messages are compared. Default 500. */
  flagWindow?: number;
}

export interface AuthOptions {
  /** Refresh an OAuth token this long before it expires (ms). Default 5 min. */
  refreshBeforeMs?: number;
  /**
   * A getAccessToken() call not settled by then counts as failed: AUTH_FAILED
   * naming the timeout, and the next attempt calls it again; its late result
   * is ignored (ms, at most 2^31-1). Default 30 s.
   */
  tokenTimeoutMs?: number;
}

/** Pino-compatible logger (or `console`) for `new MailEngine({ logger })`. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child?(bindings: object): Logger;
}
export interface EngineLoggerOption {
  logger?: Logger | Console;
}

export interface EngineOptions extends EngineLoggerOption {
  idle?: IdleOptions;
  keepalive?: KeepaliveOptions;
  reconnect?: ReconnectOptions;
  timeouts?: TimeoutOptions;
  auth?: AuthOptions;
  pool?: PoolOptions;
  sync?: SyncOptions;
  folders?: { cacheTtlMs?: number };
  /** SQLite file for sync state; without it state lives in memory. */
  stateFile?: string;
  /** Events handed to JS and not yet taken, past which the engine stops reading from the servers until JS catches up. Default 10000. */
  maxQueuedEvents?: number;
  notifications?: NotificationOptions;
}

export interface TlsOptions {
  /** Trusted CA certificate(s) in PEM; replaces the system store. */
  ca?: string | Buffer | Array<string | Buffer>;
  servername?: string;
  /** Default true. */
  rejectUnauthorized?: boolean;
}

/** Per account, only these engine options may be overridden. */
interface AccountBase extends Pick<EngineOptions, 'idle' | 'keepalive' | 'reconnect' | 'timeouts'> {
  id: string;
  host: string;
  port?: number;
  tls?: 'implicit' | 'starttls' | 'none';
  tlsOptions?: TlsOptions;
  user: string;
  allowInsecureAuth?: boolean;
  folders?: string[];
  /** Fetch and parse each new message; newMessage then carries `message`. Default false. */
  fetchBodies?: boolean;
  /** Largest body fetched for fetchBodies (bytes, at most 64 MiB). */
  maxBodyBytes?: number;
  // Engine-wide only: the runtime rejects these on an account.
  pool?: never;
  sync?: never;
  stateFile?: never;
  notifications?: never;
  auth?: never;
  maxQueuedEvents?: never;
  logger?: never;
}

export interface AccessToken {
  accessToken: string;
  /** When it expires (ms since epoch or a Date); refreshed auth.refreshBeforeMs earlier. */
  expiresAt?: number | Date;
}

export type AccountOptions =
  | (AccountBase & { pass: string; accessToken?: never; getAccessToken?: never })
  | (AccountBase & { accessToken: string; pass?: never; getAccessToken?: never })
  | (AccountBase & {
      getAccessToken: (ctx: { accountId: string; user: string }) => Promise<AccessToken> | AccessToken;
      pass?: never;
      accessToken?: never;
    });

export interface Address {
  name: string;
  address: string;
}

export interface Envelope {
  subject: string;
  from: Address[];
  sender: Address[];
  to: Address[];
  cc: Address[];
  bcc: Address[];
  replyTo: Address[];
  date: Date | null;
  messageId: string | null;
  inReplyTo: string | null;
}

export interface FolderEvent {
  accountId: string;
  folder: string;
}

export interface NewMessageEvent extends FolderEvent {
  uid: number;
  uidValidity: number;
  seq: number;
  flags: string[];
  size: number;
  internalDate: Date | null;
  modseq?: number;
  envelope: Envelope;
  /** The first notifications.preview characters of the text, when that option is set. */
  preview?: string;
  /** The parsed message, when the account has fetchBodies. */
  message?: ParsedMessage;
  /**
   * Only on a message pushed while its folder sat in IDLE: milliseconds from
   * the engine reading the untagged EXISTS off the socket (steady clock) to
   * handing this event to JS, covering the envelope fetch, any preview or body
   * fetch and the thread hop. Absent for messages found by a sync, a catch-up
   * after a reconnect, polling or messages().
   */
  pushLatencyMs?: number;
}

export interface MessageDeletedEvent extends FolderEvent {
  /** Always known: VANISHED names it, and a plain EXPUNGE is reported once a sync found which UID went. */
  uid: number;
  /** Always null: by the time the UID is known, sequence numbers have moved on. */
  seq: null;
}

export interface FlagsChangedEvent extends FolderEvent {
  uid: number | null;
  seq: number | null;
  flags: string[];
  modseq?: number;
}

export interface ConnectionStatusEvent extends FolderEvent {
  state: ConnectionState;
  previous: ConnectionState;
  error?: ImapPushError;
  /** On a failure after which the engine reconnects: the how-many-th reconnect in a row this is (1 = the first). */
  attempt?: number;
  /** With attempt: milliseconds until that reconnect (the backoff schedule, with jitter). */
  retryInMs?: number;
}

export interface FolderResetEvent extends FolderEvent {
  uidValidity: number;
}

/** A folder's counts (STATUS): folderChanged, and what folderStatus() resolves with. */
export interface FolderCounts extends FolderEvent {
  exists: number;
  unseen: number;
  uidNext: number;
  /** null on a server without CONDSTORE. */
  highestModseq: number | null;
}

/** A watched folder's connection failed while it was watching (idle); a removal or close is no loss. */
export interface ConnectionLostEvent extends FolderEvent {
  error: ImapPushError;
}

/** The folder is watched again after a connectionLost. */
export interface ConnectionRestoredEvent extends FolderEvent {
  /** Milliseconds since the connectionLost (monotonic clock). */
  downtimeMs: number;
}

export interface FolderStatus {
  folder: string;
  state: ConnectionState;
  mode: 'idle' | 'poll' | null;
  uidValidity: number | null;
  uidNext: number | null;
  highestModseq: number | null;
  exists: number;
  lastError: { code: string; message: string } | null;
}

export interface AccountStatus {
  accountId: string;
  folders: FolderStatus[];
}

/** syncStarted: a sync() (or syncAll(), an IDLE-triggered or first sync) began; `total` folders to go. */
export interface SyncStartedEvent {
  accountId: string;
  total: number;
}

/** syncProgress: `done` of `total` folders synced; `folder` is the one just finished. */
export interface SyncProgressEvent {
  accountId: string;
  folder: string;
  done: number;
  total: number;
}

export interface FolderSyncResult {
  folder: string;
  uidValidity: number | null;
  highestModseq: number | null;
  newMessages: number;
  changed: number;
  deleted: number;
  durationMs: number;
  error?: ImapPushError;
}

export interface SyncResult {
  accountId: string;
  ok: boolean;
  durationMs: number;
  folders: FolderSyncResult[];
  error: ImapPushError | null;
}

export interface FolderInfo {
  path: string;
  name: string;
  delimiter: string | null;
  flags: string[];
  specialUse: '\\All' | '\\Archive' | '\\Drafts' | '\\Flagged' | '\\Junk' | '\\Sent' | '\\Trash' | null;
  subscribed: boolean;
}

export interface PoolStats {
  open: number;
  busy: number;
  idle: number;
  created: number;
  reused: number;
  healthChecks: number;
  failures: number;
  waitTimeMs: number;
}

export interface MailEngineEvents {
  batch: [Array<NotificationItem | FolderUpdatedItem>];
  healthCheck: [Health];
  push: [PushEvent];
  syncStarted: [SyncStartedEvent];
  syncProgress: [SyncProgressEvent];
  syncCompleted: [SyncResult];
  newMessage: [NewMessageEvent];
  messageDeleted: [MessageDeletedEvent];
  flagsChanged: [FlagsChangedEvent];
  connectionStatus: [ConnectionStatusEvent];
  idleRefreshed: [FolderEvent];
  folderReset: [FolderResetEvent];
  /** A watched folder's counts differ from the last folderChanged (debounced STATUS after a change). */
  folderChanged: [FolderCounts];
  connectionLost: [ConnectionLostEvent];
  connectionRestored: [ConnectionRestoredEvent];
}

/**
 * Every method returning a promise reports bad arguments by rejecting with a
 * TypeError (code 'INVALID_OPTION', `option` names the argument) and engine
 * state by rejecting with an ImapPushError: 'CLOSED' once close() was called
 * (also for requests still pending when it finishes), 'UNKNOWN_ACCOUNT' for an
 * account never added or removed meanwhile; the mailbox actions say
 * 'NOT_FOUND' with what: 'account' for that instead. None throws synchronously.
 */
export interface MessagesOptions {
  uids?: Uids;
  since?: Date | string | number;
  before?: Date | string | number;
  /** Positions start..end (1-based, inclusive) of the messages chosen, in UID order. */
  range?: { start: number; end?: number };
  /** UIDs fetched per round trip: 1 to 1000, default 100. */
  batchSize?: number;
  /** Also fetch these: the part tree (BODYSTRUCTURE) and the header block (BODY.PEEK[HEADER]). */
  fields?: Array<'bodyStructure' | 'headers'>;
}

/** One node of messages()' bodyStructure (RFC 3501 7.4.2). */
export interface BodyStructure {
  /** '1', '2.1' (downloadPart's numbering); null for a multipart at the root. */
  part: string | null;
  /** 'text/plain', 'multipart/mixed', lower case. */
  type: string;
  parameters: Record<string, string | null>;
  id?: string | null;
  description?: string | null;
  encoding?: string | null;
  size?: number | null;
  lines?: number | null;
  md5?: string | null;
  disposition: string | null;
  dispositionParameters: Record<string, string | null>;
  language: string[] | null;
  location: string | null;
  childNodes?: BodyStructure[];
}

/** A message as messages() lists it: the newMessage fields, without what only a push or an enriched event carries. */
export type ListedMessage = Omit<NewMessageEvent, 'preview' | 'message' | 'pushLatencyMs'> & {
  /** With fields: ['bodyStructure']. */
  bodyStructure?: BodyStructure | null;
  /** With fields: ['headers']: lower-case names, raw (undecoded) values, folded lines joined. */
  headers?: Record<string, string[]>;
};

/** downloadPart()'s bytes, with what the BODYSTRUCTURE said about the part. */
export interface PartStream extends Readable {
  /** "image/png", lower case. */
  contentType: string;
  /** The part's Content-Transfer-Encoding as sent (the bytes are decoded). */
  transferEncoding: string;
  /** The part was longer than maxBytes (default 25 MiB, at most 64 MiB) and was cut there. */
  truncated: boolean;
  /** Bytes in the stream. */
  size: number;
}

export interface AppendOptions {
  flags?: string[];
  /** The message's internal date (sent in UTC); the server's clock when absent. */
  internalDate?: Date | string | number;
}

export interface AppendResult {
  /** From APPENDUID, or without UIDPLUS by a Message-ID search; null when it cannot be known. */
  uid: number | null;
  uidValidity: number | null;
}

export interface QuotaResult {
  /** Each quota root of the folder and its resources (RFC 9208 names: STORAGE in KiB, MESSAGE, ...). */
  roots: Array<{ root: string; resources: Record<string, { usage: number; limit: number }> }>;
  /** The first root's STORAGE in bytes, when there is one. */
  storage?: { usedBytes: number; limitBytes: number };
}

export interface CopyResult {
  destination: string;
  /** Source UID -> UID in the destination, from the server's COPYUID; empty without UIDPLUS. */
  uidMap: Record<number, number>;
}

/** engine.search() criteria: every key given must match (AND); or/not combine. */
export interface SearchCriteria {
  seen?: boolean;
  flagged?: boolean;
  answered?: boolean;
  deleted?: boolean;
  draft?: boolean;
  from?: string;
  to?: string;
  cc?: string;
  bcc?: string;
  subject?: string;
  body?: string;
  text?: string;
  header?: Record<string, string>;
  /** Dates compare the internal date's day (UTC): a Date, a date string or a time in ms. */
  since?: Date | string | number;
  before?: Date | string | number;
  on?: Date | string | number;
  larger?: number;
  smaller?: number;
  /** Sent compressed; a set longer than 4,000 characters is sent as its span and the answer cut to it (top level only). */
  uid?: Uids;
  modseq?: number;
  /** Gmail's search syntax (X-GM-RAW); UNSUPPORTED elsewhere. */
  gmailRaw?: string;
  or?: SearchCriteria[];
  not?: SearchCriteria;
}

export class MailEngine extends EventEmitter {
  /** Throws a TypeError naming an invalid option. */
  constructor(options?: EngineOptions);
  addAccount(account: AccountOptions): Promise<AccountStatus>;
  /** Also for an account still being added: its connections close, and its addAccount() rejects with UNKNOWN_ACCOUNT. */
  removeAccount(id: string): Promise<void>;
  status(): AccountStatus[];
  status(id: string): AccountStatus | null;
  /** Idempotent: resolves again once closed. */
  close(): Promise<void>;
  /** Server faults resolve with ok: false and the error; see the class comment for rejections. */
  sync(accountId: string, options?: { folders?: string[] }): Promise<SyncResult>;
  /** One result per account; an account removed meanwhile is a failed result of its own. */
  syncAll(): Promise<SyncResult[]>;
  listFolders(accountId: string, options?: { refresh?: boolean }): Promise<FolderInfo[]>;
  /** STATUS of any folder, watched or not, on a pooled connection; NOT_FOUND (what: 'folder' or 'account') when there is none. */
  folderStatus(accountId: string, folder: string): Promise<FolderCounts>;
  /** Rejects with a coded ImapPushError (NOT_FOUND, SELECT_FAILED, ...) for server faults too. */
  fetchMessage(accountId: string, folder: string, uid: number, options?: { maxBytes?: number }): Promise<ParsedMessage>;
  /** UID STORE +FLAGS on a pooled connection; the change comes back once, as flagsChanged. */
  addFlags(accountId: string, folder: string, uids: Uids, flags: string[], options?: StoreOptions): Promise<StoreResult>;
  removeFlags(accountId: string, folder: string, uids: Uids, flags: string[], options?: StoreOptions): Promise<StoreResult>;
  setFlags(accountId: string, folder: string, uids: Uids, flags: string[], options?: StoreOptions): Promise<StoreResult>;
  /** Expunges exactly these UIDs (UID EXPUNGE); rejects with UNSUPPORTED without UIDPLUS. */
  deleteMessages(accountId: string, folder: string, uids: Uids): Promise<{ uids: string }>;
  /** UID MOVE (else COPY, \\Deleted and UID EXPUNGE of exactly these UIDs); TRYCREATE when the destination is missing. */
  move(accountId: string, folder: string, uids: Uids, destination: string): Promise<CopyResult>;
  /** UID COPY; the source is left as it was. */
  copy(accountId: string, folder: string, uids: Uids, destination: string): Promise<CopyResult>;
  /** UID SEARCH (ESEARCH where offered): the matching UIDs, ascending. */
  search(accountId: string, folder: string, criteria?: SearchCriteria): Promise<number[]>;
  /** APPEND (bare LF becomes CRLF; at most 64 MiB); TRYCREATE when the folder is missing. */
  append(accountId: string, folder: string, raw: Buffer | Uint8Array | string, options?: AppendOptions): Promise<AppendResult>;
  createFolder(accountId: string, path: string): Promise<{ path: string }>;
  renameFolder(accountId: string, from: string, to: string): Promise<{ path: string; from: string }>;
  deleteFolder(accountId: string, path: string): Promise<{ path: string }>;
  subscribeFolder(accountId: string, path: string): Promise<{ path: string }>;
  unsubscribeFolder(accountId: string, path: string): Promise<{ path: string }>;
  /**
   * The folder's messages in UID order, fetched batchSize at a time as the loop reaches them. Throws a TypeError
   * for bad options; server faults reject the iteration.
   */
  messages(accountId: string, folder: string, options?: MessagesOptions): AsyncIterableIterator<ListedMessage>;
  /** One body part ('1', '2.1'), decoded (BINARY where offered); NOT_FOUND (what: 'message', 'part', ...) for a missing one. */
  downloadPart(accountId: string, folder: string, uid: number, part: string, options?: { maxBytes?: number }): Promise<PartStream>;
  /** GETQUOTAROOT (RFC 9208); UNSUPPORTED without QUOTA. */
  quota(accountId: string, folder?: string): Promise<QuotaResult>;
  poolStats(accountId?: string): PoolStats;
  subscribe(filter: NotificationFilter, handler: (item: NotificationItem) => void): () => void;
  events(options?: EventsOptions): AsyncIterableIterator<NotificationItem | FolderUpdatedItem>;
  health(): Health;
  syncStats(): { active: number; pending: number; completed: number };

  on<K extends keyof MailEngineEvents>(event: K, listener: (...args: MailEngineEvents[K]) => void): this;
  once<K extends keyof MailEngineEvents>(event: K, listener: (...args: MailEngineEvents[K]) => void): this;
  off<K extends keyof MailEngineEvents>(event: K, listener: (...args: MailEngineEvents[K]) => void): this;
  emit<K extends keyof MailEngineEvents>(event: K, ...args: MailEngineEvents[K]): boolean;
}
