// Types for `imap-push/testing`: the scriptable in-process IMAP server for
// tests (README "Testing your app").
import { EventEmitter } from 'events';

export interface MockImapServerOptions {
  /** Login name -> password for LOGIN and AUTHENTICATE PLAIN. Default: { user: 'pass' }. */
  users?: Record<string, string>;
  /** Login name -> OAuth token for AUTHENTICATE XOAUTH2 / OAUTHBEARER. */
  tokens?: Record<string, string>;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port, read it from `server.port` after `listen()`. */
  port?: number;
  /** 'implicit': TLS from the first byte, with a self-signed localhost certificate unless cert/key are given. */
  tls?: 'none' | 'implicit';
  /** Advertise and accept STARTTLS on a plain connection. */
  starttls?: boolean;
  /** Advertise LOGINDISABLED and refuse LOGIN until the connection is TLS. */
  loginDisabledWithoutTls?: boolean;
  /** PEM certificate and key for TLS; both or neither. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Replaces the default capability list (see DEFAULT_CAPS). */
  capabilities?: string[];
  /** Text after `* OK [CAPABILITY ...]` in the greeting. */
  greeting?: string;
  /** Greet every connection with `* BYE` instead of `* OK`. */
  rejectGreeting?: boolean;
  /** Connections past this many are greeted with `* BYE Too many connections`. */
  maxConnections?: number;
  /** >0: send `* OK Still here` this often while a client idles, like Dovecot. */
  idleKeepaliveMs?: number;
  /** INBOX's UIDVALIDITY (default DEFAULT_UIDVALIDITY). */
  uidValidity?: number;
  /** How ENVELOPE strings that need escaping are sent: as literals (default) or escaped quoted strings. */
  quoteStyle?: 'literal' | 'escape';
}

export interface MockMessageOptions {
  subject?: string;
  from?: string;
  to?: string;
  cc?: string;
  /** Plain-text body (UTF-8; sent 8bit when it is not ASCII). */
  body?: string;
  /** e.g. ['\\Seen', '\\Flagged', 'custom']. */
  flags?: string[];
  /** The Date header (a string is used verbatim). */
  date?: Date | string;
  /** INTERNALDATE; default `date`, else now. */
  internalDate?: Date | string;
  messageId?: string;
  inReplyTo?: string;
  /** Extra header fields, in order. */
  headers?: Record<string, string>;
  /** The whole RFC 5322 message instead of one built from the fields above. */
  raw?: string | Buffer;
}

export interface MockMessage {
  uid: number;
  flags: string[];
  internalDate: Date;
  /** The message as stored (CRLF line ends, latin1 byte string). */
  raw: string;
  modseq: number;
}

export interface MockMailbox {
  name: string;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  messages: MockMessage[];
  expunged: Array<{ uid: number; modseq: number }>;
}

/** One received command; credentials are never in `args`. */
export interface MockCommandLogEntry {
  /** Connection id (as in `clients()` and the 'connection' event). */
  conn: number;
  tag: string;
  /** Upper case, e.g. 'LOGIN', 'IDLE', 'DONE', 'UID FETCH'. */
  command: string;
  args: string;
  tls: boolean;
  plaintext: boolean;
  /** Epoch ms. */
  time: number;
  /** Set on LOGIN / AUTHENTICATE. */
  user?: string;
}

export interface MockClientInfo {
  id: number;
  state: 'notauth' | 'auth' | 'selected';
  user: string | null;
  tls: boolean;
  mailbox: string | null;
  idling: boolean;
  enabled: string[];
}

export interface MockImapServerEvents {
  /** A session started (its greeting is on the way). */
  connection: [id: number];
  disconnect: [id: number];
  command: [entry: MockCommandLogEntry];
  /** The listening socket failed after listen() resolved. */
  serverError: [error: Error];
}

export type MockCommandMatcher = string | ((entry: MockCommandLogEntry) => boolean);

export class MockImapServer extends EventEmitter {
  constructor(options?: MockImapServerOptions);

  /** Starts listening; resolves with the port (also `server.port`). */
  listen(): Promise<number>;
  /** Drops every connection and stops listening; pending waitFor() calls reject. */
  close(): Promise<void>;
  /** The listening port; set once listen() resolves. */
  readonly port: number;
  /** The certificate a client must trust in TLS mode (the generated one unless `cert` was given). */
  readonly caPem: string;

  /** Mutable at runtime: takes effect on the next login. */
  users: Record<string, string>;
  tokens: Record<string, string>;
  /** Every command received, oldest first. */
  readonly commandLog: MockCommandLogEntry[];
  /** Subscribed mailbox names (LSUB); createMailbox subscribes. */
  readonly subscriptions: Set<string>;
  readonly quotaLimits: Record<string, number> | null;
  /** Internal errors of the mock itself; a test may assert this stays empty. */
  readonly errors: Error[];
  readonly loginAttempts: number;
  readonly acceptedConnections: number;
  /** Open IMAP sessions. */
  readonly connections: number;
  clients(): MockClientInfo[];

  hasCapability(name: string): boolean;
  /**
   * Turns one capability on or off for what comes next (MOVE, UIDPLUS, ESEARCH, QUOTA, CONDSTORE, QRESYNC, ...).
   * 'X-GM-EXT-1' also accepts Gmail's X-GM-RAW search key, run as a plain TEXT search.
   */
  setCapability(name: string, enabled: boolean): void;

  mailbox(name?: string): MockMailbox | null;
  mailboxNames(): string[];
  createMailbox(name: string, options?: { uidValidity?: number }): MockMailbox;
  /** Removes a mailbox (never INBOX); false when there is none. */
  deleteMailbox(name: string): boolean;
  /** RENAME: messages and UIDVALIDITY move to the new name, children with it. */
  renameMailbox(from: string, to: string): void;
  /** What GETQUOTAROOT reports as limits (RFC 9208 names; STORAGE in KiB); null: no QUOTA data. */
  setQuota(limits: Record<string, number> | null): void;
  /** The usage GETQUOTAROOT reports: STORAGE (KiB of every message) and MESSAGE (their number). */
  quotaUsage(): { STORAGE: number; MESSAGE: number };
  /** Returns the new message's UID. A client idling on the folder sees `* n EXISTS` at once, others at their next command. */
  appendMessage(folder: string, message?: MockMessageOptions): number;
  appendMessage(message?: MockMessageOptions): number;
  /** false when there is no such UID. */
  expunge(folder: string, uid: number): boolean;
  setFlags(folder: string, uid: number, flags: string[]): boolean;
  /** By default renumbers the folder from UID 1 and sends `* BYE` to clients that had it selected. */
  setUidValidity(folder: string, uidValidity: number, options?: { renumber?: boolean; disconnect?: boolean }): void;

  /** First command (already logged ones count unless includePast is false) matching; rejects after timeoutMs (default 5000). */
  waitFor(matcher: MockCommandMatcher, timeoutMs?: number, options?: { includePast?: boolean }): Promise<MockCommandLogEntry>;
  waitForNext(matcher: MockCommandMatcher, timeoutMs?: number): Promise<MockCommandLogEntry>;

  // Faults.
  /** Destroys every connection (no BYE): a dropped network. */
  dropAll(): void;
  dropConnection(id: number): void;
  /** Stops reading every connection (for ms, default until unstall()): alive but silent. */
  stall(ms?: number): void;
  unstall(): void;
  stallConnection(id: number): void;
  /** Sends `* BYE text` to every connection and closes it. */
  byeAll(text?: string): void;
  /** Writes raw bytes (e.g. a malformed line) to selected connections, or to all with { all: true }. */
  injectRaw(data: string | Buffer, options?: { all?: boolean }): void;
  /** Starts an untagged FETCH literal of `size` bytes that never completes. */
  hugeLiteral(size: number, options?: { all?: boolean }): void;
  /** Commands matching are read and never answered; null turns it off. */
  neverAnswer(matcher: ((entry: MockCommandLogEntry) => boolean) | null): void;
  /**
   * Commands matching `matcher` are answered with `answer` instead of being run: one line starting 'NO ' or 'BAD '
   * (default 'NO Refused by the test'), e.g. 'NO [LIMIT] Too many keywords'. null turns it off.
   */
  refuse(matcher: ((entry: MockCommandLogEntry) => boolean) | null, answer?: string): void;
  /** Delays every response by ms (0: off). */
  delay(ms?: number): void;
  /** The next n connections are accepted and closed at once. */
  failNextConnections(n?: number): void;
  /** Every LOGIN / AUTHENTICATE fails while on. */
  setAuthFail(on?: boolean): void;
  /** New connections get `* BYE Too many connections` while on. */
  setTooManyConnections(on?: boolean): void;
  /** Greets new connections with `* BYE` while set. */
  rejectGreeting: boolean | string | null;

  on<K extends keyof MockImapServerEvents>(event: K, listener: (...args: MockImapServerEvents[K]) => void): this;
  once<K extends keyof MockImapServerEvents>(event: K, listener: (...args: MockImapServerEvents[K]) => void): this;
}

/** A self-signed certificate for CN=localhost / 127.0.0.1 (needs the openssl CLI); cached per process without dir. */
export function makeCerts(): { key: string; cert: string; caPem: string };
export function makeCerts(dir: string): { key: string; cert: string; caPem: string; keyPath: string; certPath: string };

export const DEFAULT_CAPS: readonly string[];
export const DEFAULT_UIDVALIDITY: number;
