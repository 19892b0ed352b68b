import type { Router, Request } from 'express';
import type { MailEngine, AccountOptions } from './index';
import type { Notifier } from './notify';

export interface Caller {
  tenant: string;
  admin?: boolean;
}

export interface GmailPushOptions {
  /** emailAddress -> account id (a function may be async and return null for "none"). */
  accounts:
    | ((emailAddress: string) => string | null | undefined | Promise<string | null | undefined>)
    | Map<string, string>
    | Record<string, string>;
  /** Shared secret expected as ?token= on the push URL (compared in constant time). */
  token?: string;
  /** Verify the Pub/Sub OIDC bearer JWT (RS256). token, oidc or both are required. */
  oidc?: {
    audience: string;
    /** key id -> RSA public key as PEM or JWK. */
    keys: Record<string, string | Buffer | JsonWebKey>;
    /** Default: 'https://accounts.google.com' and 'accounts.google.com'. */
    issuer?: string | string[];
    /** Also require this `email` claim (the push service account). */
    email?: string;
  };
}

export interface GraphPushOptions {
  subscriptions: Record<string, { accountId: string; clientState: string }> | Map<string, { accountId: string; clientState: string }>;
}

export interface RouterOptions {
  /**
   * Who is calling: resolve { tenant, admin } or throw. A thrown error with
   * status/statusCode 403 (or code 'FORBIDDEN') answers 403, anything else 401.
   */
  authorize: (req: Request) => Caller | Promise<Caller>;
  /** Defaults to the engine's own subscribe()/events()/health(). */
  notifier?: Pick<Notifier, 'subscribe' | 'events' | 'health'>;
  /** SSE comment-line heartbeat interval (ms). Default 15000. */
  heartbeatMs?: number;
  gmail?: GmailPushOptions;
  graph?: GraphPushOptions;
  /** Webhook rejections and failed syncs; never given a secret. Default console.warn. */
  logger?: (message: string) => void;
  /** Vet an account config from POST /idle/start (e.g. which hosts a tenant may reach); falsy -> 403. */
  accountPolicy?: (account: AccountOptions, caller: Required<Caller>) => boolean | Promise<boolean>;
  /**
   * Destinations tenants may reach beyond public addresses on ports 143 and 993:
   * 'host', 'host:port', '[v6]:port', an IP address or a CIDR block ('10.0.0.0/8').
   * An entry without a port allows any port. Default: none.
   */
  allowHosts?: string[];
  /** Resolves a tenant's host name (default dns.promises.lookup); every address is checked. */
  lookup?: (hostname: string, options: { all: true; verbatim: true }) => Promise<Array<{ address: string; family: number }>>;
  /** Bounds on tenant-set options and per-tenant quotas; see TenantLimits for the defaults. */
  limits?: Partial<TenantLimits>;
  /** How much GET /history (the dashboard's start) keeps; see HistoryOptions for the defaults. */
  history?: Partial<HistoryOptions>;
}

/** Every bound is an integer from 1 to 100000. */
export interface HistoryOptions {
  /** Recent events kept per tenant (a ring: the oldest goes). Default 200. */
  eventsPerTenant: number;
  /** Tenants kept; past it the least recently active one is forgotten. Default 100. */
  maxTenants: number;
  /** Accounts with counters per tenant, likewise. Default 200. */
  maxAccounts: number;
  /** Connection state changes kept per tenant (all its folders) for the timeline. Default 500. */
  transitions: number;
  /** pushLatencyMs samples kept per tenant. Default 100. */
  latencySamples: number;
  /** Minutes of events-per-minute counts. Default 30. */
  minutes: number;
  /** An admin's history (every tenant) carries the newest this many events and latency samples. Default 1000. */
  adminEvents: number;
}

/** One remembered event: the fields the dashboard shows, no bodies or previews. */
export interface HistoryEvent {
  /** Epoch ms when the router saw it. */
  at: number;
  type: 'newMessage' | 'messageDeleted' | 'flagsChanged' | 'connectionStatus' | 'folderReset' | 'folderUpdated' | 'syncCompleted' | 'push';
  accountId: string;
  folder?: string;
  /** Admins only: the owner, null for an account the app added and never assigned. */
  tenant?: string | null;
  uid?: number;
  /** newMessage: subject and senders ("Name <address>, …"), each cut at 200 characters, and the Date header as ISO text. */
  subject?: string | null;
  from?: string | null;
  date?: string | null;
  pushLatencyMs?: number;
  flags?: string[];
  state?: string;
  previous?: string;
  uidValidity?: number;
  merged?: number;
  ok?: boolean;
  durationMs?: number;
  source?: string;
  error?: { code: string; message: string };
}

export interface HistoryAccount {
  tenant?: string | null;
  accountId: string;
  /** newMessage events since 00:00 UTC. */
  messagesToday: number;
  /** Times a folder reached idle again after having been idle. */
  reconnects: number;
  lastError: { code: string; message: string; folder?: string } | null;
  lastErrorAt: number | null;
  timeline: Array<{ folder: string; states: Array<{ at: number; state: string }> }>;
}

/** GET /history. */
export interface HistoryResponse {
  admin: boolean;
  /** The caller's tenant (absent for admins, whose entries each name theirs). */
  tenant?: string;
  now: number;
  /** Oldest first. */
  events: HistoryEvent[];
  latency: Array<{ at: number; ms: number; accountId: string; folder?: string; tenant?: string | null }>;
  perMinute: Array<{ at: number; count: number }>;
  accounts: HistoryAccount[];
}

export interface TenantLimits {
  /** The shortest reconnect delay the jittered schedule may draw, initialDelayMs × (1 − jitter). Default 1000. */
  minReconnectDelayMs: number;
  /** idle.pollMs. Default 10000. */
  minPollMs: number;
  /** idle.refreshMs and idle.livenessMs (0, off, is allowed). Default 60000. */
  minIdleRefreshMs: number;
  /** timeouts.* and idle.doneTimeoutMs: default 1000 ... 300000. */
  minTimeoutMs: number;
  maxTimeoutMs: number;
  /** Default 20. */
  maxFolders: number;
  /** maxBodyBytes with fetchBodies. Default 10 MiB. */
  maxBodyBytes: number;
  /** Default 10. */
  maxAccountsPerTenant: number;
  /** An account costs one connection per folder plus the engine's pool.maxPerAccount. Default 50. */
  maxConnectionsPerTenant: number;
}

export interface ImapPushRouter extends Router {
  /** Records the owning tenant of an account the app added to the engine itself (the tenant knows it by this id). */
  assign(accountId: string, tenant: string): void;
  /** The engine's id for a tenant's account (for engine.sync(), the push webhooks' maps ...), or null. */
  accountKey(tenant: string, accountId: string): string | null;
  /** Ends open event streams and detaches metrics; the engine keeps running. */
  close(): void;
}

/**
 * Routes: POST /idle/start, POST /idle/stop, GET /idle/status[/:accountId],
 * GET /idle/admin/all, GET /events (SSE), GET /health, GET /metrics,
 * GET /history, GET /dashboard, POST /push/gmail, POST /push/graph.
 */
export function createRouter(engine: MailEngine, options: RouterOptions): ImapPushRouter;
