// require('imap-push/cluster'): accounts leased across worker processes through one Redis (needs the ioredis package).
import { EventEmitter } from 'events';
import type { AccessToken, AccountOptions, ConnectionState, EngineOptions, Envelope, ErrorCode } from './index';
import type { MessageAttachment } from './mime';

export interface ClusterOptions {
  /** redis:// or rediss:// URL. */
  redis: string;
  /** Key prefix: 1-64 characters of A-Z a-z 0-9 _ . : -. Default 'imap-push'. */
  prefix?: string;
  /** Seals stored credentials (AES-256-GCM under a key derived from it): at least 16 characters, the same on every process. */
  secret: string;
}

/** What the owning worker's getAccessToken is called with. */
export interface ClusterTokenContext {
  accountId: string;
  user: string;
  host: string;
}

export interface ClusterWorkerOptions extends ClusterOptions {
  /** A lease lasts this long unrenewed; renewed every leaseMs/3 (ms, at least 1000). Default 10000. */
  leaseMs?: number;
  /** The worker's MailEngine options. */
  engine?: EngineOptions;
  /** Holds at most this many accounts; the rest go to workers with room, or stay unowned. Default: no limit. */
  maxAccounts?: number;
  /** Default: `${hostname}-${pid}-${random}`. */
  id?: string;
  /** Tokens for the accounts stored with auth: 'oauth'. */
  getAccessToken?: (ctx: ClusterTokenContext) => Promise<AccessToken> | AccessToken;
}

type PasswordAccount = Extract<AccountOptions, { pass: string }>;
type TokenAccount = Extract<AccountOptions, { accessToken: string }>;
type ProviderAccount = Extract<AccountOptions, { getAccessToken: (...args: never[]) => unknown }>;

/** An account as Cluster stores it: the engine's account options, with a credential or auth: 'oauth' (no function: Redis stores data). */
export type ClusterAccount =
  | (Omit<PasswordAccount, 'auth'> & { auth?: 'password' })
  | (Omit<TokenAccount, 'auth'> & { auth?: 'password' })
  | (Omit<ProviderAccount, 'auth' | 'getAccessToken'> & { auth: 'oauth'; getAccessToken?: never });

export interface FullSyncOptions {
  /** Default: the account's watched folders. */
  folders?: string[];
  /** Only messages whose internal date is on or after this day (IMAP SINCE). */
  since?: Date | string | number;
}

export interface WorkerInfo {
  id: string;
  pid: number;
  host: string;
  accounts: number;
  /** null: no limit. */
  maxAccounts: number | null;
  heartbeatAt: number;
}

export interface ClusterMessage {
  /** Stable for (account, folder, uidValidity, uid): deduplicate on it. */
  id: string;
  folder: string;
  uid: number;
  uidValidity: number;
  envelope: Envelope;
  flags: string[];
  /** With the account's fetchBodies (on every path: IDLE, a catch-up, a full sync): the header fields in order, [name, value decoded]. */
  headers?: Array<[string, string]>;
  /** With fetchBodies. */
  body?: ClusterMessageBody;
  /** With fetchBodies. */
  attachments?: ClusterAttachment[];
}

/** A message's body as our MIME parser (parseMessage) reads it. */
export interface ClusterMessageBody {
  /** Inline text/plain parts in UTF-8 with '\n' line ends; null when there are none. */
  text: string | null;
  /** Inline text/html parts in UTF-8 with '\n' line ends; null when there are none. */
  html: string | null;
  /** The message's size in bytes, as parsed. */
  size: number;
  /** maxBodyBytes (or another parser limit) cut something off. */
  truncated: boolean;
}

/** A MessageAttachment with its bytes in base64. */
export interface ClusterAttachment extends Omit<MessageAttachment, 'content'> {
  /** The transfer-decoded bytes, base64-encoded. */
  content: string;
}

export interface EmailNewMessagePayload {
  accountId: string;
  provider: 'imap';
  messages: ClusterMessage[];
  /** Set on the entries a full sync re-publishes: its request id. */
  fullSync?: string;
}

export interface EmailChangedPayload {
  type: 'messageDeleted' | 'flagsChanged';
  accountId: string;
  folder: string;
  uid: number | null;
  /** flagsChanged: the message's flags now. */
  flags?: string[];
}

export interface StatusError {
  code: ErrorCode | string;
  message: string;
}

interface StatusBase {
  accountId: string;
  workerId: string;
  /** ms since epoch, on the worker. */
  at: number;
}

export type EmailStatusPayload =
  | (StatusBase & { type: 'watched'; folders: string[] })
  | (StatusBase & { type: 'connection'; folder: string; state: ConnectionState; previous: ConnectionState; error?: StatusError })
  /** Released; this worker takes it again after retryInMs (leaseMs / 3, doubling per failure, at most 5 minutes). */
  | (StatusBase & { type: 'failed'; error: StatusError; retryInMs: number })
  | (StatusBase & {
      type: 'fullSync';
      requestId: string;
      ok: boolean;
      folders?: Array<{ folder: string; messages: number }>;
      messages?: number;
      error?: StatusError;
    });

export interface TopicPayloads {
  EmailNewMessage: EmailNewMessagePayload;
  EmailChanged: EmailChangedPayload;
  EmailStatus: EmailStatusPayload;
}

export interface ConsumeOptions {
  group: string;
  consumer: string;
  /** Entries pending this long on another consumer (one that died) are claimed by this one (ms). Default 30000. */
  claimMs?: number;
  /** XREADGROUP BLOCK (ms). Default 1000. */
  blockMs?: number;
}

export interface TopicConsumer {
  stop(): Promise<void>;
  done: Promise<void>;
}

export interface ClusterEvents {
  /** Redis unreachable (code REDIS_UNAVAILABLE), once per outage; calls meanwhile reject. */
  warning: [ClusterWarning];
}

export class Cluster extends EventEmitter {
  /** Throws a TypeError naming an invalid option. */
  constructor(options: ClusterOptions);
  /** Rejects with ACCOUNT_EXISTS for a taken id, and a TypeError for an account the engine would refuse. */
  addAccount(account: ClusterAccount): Promise<{ accountId: string }>;
  /** UNKNOWN_ACCOUNT for an id not stored; its sync state and outstanding full syncs go with it. */
  removeAccount(id: string): Promise<void>;
  /** Run by whichever worker owns the account, now or after a failover; UNKNOWN_ACCOUNT for an id not stored. */
  requestFullSync(id: string, options?: FullSyncOptions): Promise<{ requestId: string }>;
  /** Every stored account: the worker holding its lease, or null. */
  owners(): Promise<Record<string, string | null>>;
  workers(): Promise<WorkerInfo[]>;
  /** At least once: the handler settling acknowledges the entry; one that throws leaves it pending, claimed again after claimMs. */
  consume<T extends keyof TopicPayloads>(topic: T, options: ConsumeOptions,
    handler: (payload: TopicPayloads[T], entryId: string) => unknown): TopicConsumer;
  close(): Promise<void>;

  on<K extends keyof ClusterEvents>(event: K, listener: (...args: ClusterEvents[K]) => void): this;
  once<K extends keyof ClusterEvents>(event: K, listener: (...args: ClusterEvents[K]) => void): this;
  off<K extends keyof ClusterEvents>(event: K, listener: (...args: ClusterEvents[K]) => void): this;
  emit<K extends keyof ClusterEvents>(event: K, ...args: ClusterEvents[K]): boolean;
}

export interface ClusterWarning extends Error {
  code?: string;
  accountId?: string;
}

export interface ClusterWorkerEvents {
  /** Started and caught up: its mail is published from here on. */
  accountWatched: [accountId: string];
  /** Let go with its lease released: removed, rebalanced, failed to start, or stop(). */
  accountReleased: [accountId: string];
  /** Someone else holds its lease now (this worker was paused or cut off past leaseMs); nothing more is published for it here. */
  leaseLost: [accountId: string];
  fullSyncDone: [accountId: string, requestId: string];
  warning: [ClusterWarning];
}

export class ClusterWorker extends EventEmitter {
  /** Throws a TypeError naming an invalid option. */
  constructor(options: ClusterWorkerOptions);
  readonly id: string;
  start(): Promise<void>;
  /** Hands every account over at once (leases released) and closes the engine. */
  stop(): Promise<void>;
  /** The accounts this worker holds. */
  accounts(): string[];

  on<K extends keyof ClusterWorkerEvents>(event: K, listener: (...args: ClusterWorkerEvents[K]) => void): this;
  once<K extends keyof ClusterWorkerEvents>(event: K, listener: (...args: ClusterWorkerEvents[K]) => void): this;
  off<K extends keyof ClusterWorkerEvents>(event: K, listener: (...args: ClusterWorkerEvents[K]) => void): this;
  emit<K extends keyof ClusterWorkerEvents>(event: K, ...args: ClusterWorkerEvents[K]): boolean;
}
