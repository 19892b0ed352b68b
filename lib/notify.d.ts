import type {
  MailEngine, ConnectionState, FolderStatus, NewMessageEvent, MessageDeletedEvent, FlagsChangedEvent,
  ConnectionStatusEvent, FolderEvent, FolderResetEvent, FolderCounts, ConnectionLostEvent, ConnectionRestoredEvent,
  SyncStartedEvent, SyncProgressEvent, SyncResult,
} from './index';
export type { SyncStartedEvent, SyncProgressEvent } from './index';

export interface NotificationOptions {
  /** Flush a batch when it holds this many items. Default 50. */
  batchSize?: number;
  /** ...or this long after its first item (ms). Default 100. */
  batchIntervalMs?: number;
  /** Items a queue holds before it merges events into one folderUpdated per folder. Default 10000. */
  maxQueue?: number;
  /** 'healthCheck' interval (ms); 0 disables it. Default 30000. */
  healthIntervalMs?: number;
  /**
   * newMessage carries `preview`: the first this many characters of the text, fetched by a partial
   * BODY.PEEK of the text part. Default 0 (off).
   */
  preview?: number;
}

/** syncCompleted's payload: the sync() result. */
export type SyncCompletedEvent = SyncResult;
/** Emitted by the push webhooks of imap-push/express. */
export interface PushEvent {
  accountId: string;
  source: 'gmail' | 'graph';
}

export interface NotificationPayloads {
  newMessage: NewMessageEvent;
  messageDeleted: MessageDeletedEvent;
  flagsChanged: FlagsChangedEvent;
  connectionStatus: ConnectionStatusEvent;
  idleRefreshed: FolderEvent;
  folderReset: FolderResetEvent;
  syncStarted: SyncStartedEvent;
  syncCompleted: SyncCompletedEvent;
  syncProgress: SyncProgressEvent;
  push: PushEvent;
  folderChanged: FolderCounts;
  connectionLost: ConnectionLostEvent;
  connectionRestored: ConnectionRestoredEvent;
}

export type NotificationType = keyof NotificationPayloads;

/** What an overflowing queue reports instead of the events it merged. */
export interface FolderUpdatedItem {
  type: 'folderUpdated';
  accountId: string;
  /** null: the merged events concerned the whole account (push, sync). */
  folder: string | null;
  needsSync: true;
  /** How many events this item stands for. */
  merged: number;
}

export type NotificationItem = { [K in NotificationType]: { type: K } & NotificationPayloads[K] }[NotificationType];

/** Each filter is optional; events without a folder (push, sync*) pass a folder filter. */
export interface NotificationFilter {
  accounts?: string[];
  folders?: string[];
  events?: NotificationType[];
}

export interface EventsOptions extends NotificationFilter {
  /** Aborting ends the iteration cleanly (no throw). */
  signal?: AbortSignal;
}

export interface HealthAccount {
  accountId: string;
  /** The least advanced state among its folders ('error' first). */
  state: ConnectionState;
  lastError: { folder: string; code: string; message: string } | null;
  folders: FolderStatus[];
}

export interface Health {
  /** Every watched folder is idle (true for an engine with no accounts). */
  isHealthy: boolean;
  idleConnections: number;
  pooledConnections: number;
  activeSyncs: number;
  pendingSyncs: number;
  /** Active subscriptions and event iterators. */
  listeners: number;
  /** Items waiting in the batch queue and iterator buffers. */
  queueDepth: number;
  /** Events merged into folderUpdated items since start. */
  merged: number;
  accounts: HealthAccount[];
}

export class Notifier {
  constructor(engine: MailEngine, options?: NotificationOptions);
  /** The options in force, defaults filled in: a copy, so writing to it changes nothing. */
  readonly options: Readonly<Required<NotificationOptions>>;
  /** handler gets every matching event as it happens; returns unsubscribe(). */
  subscribe(filter: NotificationFilter, handler: (item: NotificationItem) => void): () => void;
  /** Bounded buffer: a slow consumer gets folderUpdated items instead of an unbounded backlog. */
  events(options?: EventsOptions): AsyncIterableIterator<NotificationItem | FolderUpdatedItem>;
  health(): Health;
  /** Flushes the pending batch, ends iterators, stops the health timer and detaches from the engine. */
  stop(): void;
}

export const EVENT_TYPES: readonly NotificationType[];

