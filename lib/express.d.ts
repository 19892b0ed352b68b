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
}

export interface ImapPushRouter extends Router {
  /** Records the owning tenant of an account the app added to the engine itself. */
  assign(accountId: string, tenant: string): void;
  /** Ends open event streams and detaches metrics; the engine keeps running. */
  close(): void;
}

/**
 * Routes: POST /idle/start, POST /idle/stop, GET /idle/status[/:accountId],
 * GET /idle/admin/all, GET /events (SSE), GET /health, GET /metrics,
 * GET /dashboard, POST /push/gmail, POST /push/graph.
 */
export function createRouter(engine: MailEngine, options: RouterOptions): ImapPushRouter;
