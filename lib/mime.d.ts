/// <reference types="node" />
// Types for lib/mime.js (parseMessage, and fetchMessage's and newMessage's `message`); index.d.ts re-exports them.

export interface MessageAddress {
  /** Display name, RFC 2047 decoded; '' when there is none. */
  name: string;
  /** mailbox@host; '' for a name-only entry. */
  address: string;
}

export interface MessageAttachment {
  /** RFC 2231 / RFC 2047 decoded; null when the part names no file. */
  filename: string | null;
  /** 'type/subtype', lower case, without parameters (e.g. 'image/png', 'message/rfc822'). */
  contentType: string;
  /** 'inline' for parts shown in the body (Content-ID in multipart/related), else 'attachment'. */
  disposition: 'attachment' | 'inline';
  /** As sent, with angle brackets: '<logo@example.com>'; null when absent. */
  contentId: string | null;
  /** content.length */
  size: number;
  /** Transfer-decoded bytes (base64 and quoted-printable undone). */
  content: Buffer;
}

export interface ParsedMessage {
  /** Top-level header fields in order: [name as sent, value unfolded and RFC 2047 decoded]. */
  headers: Array<[string, string]>;
  subject: string;
  from: MessageAddress[];
  sender: MessageAddress[];
  to: MessageAddress[];
  cc: MessageAddress[];
  bcc: MessageAddress[];
  replyTo: MessageAddress[];
  date: Date | null;
  /** '<id@host>' */
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  /** Inline text/plain parts in UTF-8 with '\n' line ends; null when there are none. */
  text: string | null;
  /** Inline text/html parts in UTF-8 with '\n' line ends; null when there are none. */
  html: string | null;
  attachments: MessageAttachment[];
  /** Input length in bytes. */
  size: number;
  /** A limit (maxBytes, nesting depth, header size, part count) cut something off. */
  truncated: boolean;
}

export interface ParseMessageOptions {
  /** Bytes of the input that are parsed; the rest is ignored and `truncated` is set. Default 64 MiB. */
  maxBytes?: number;
}

/**
 * Parses a whole RFC 5322 / MIME message (e.g. IMAP BODY[]) on the libuv
 * threadpool. A string is taken as UTF-8; a Buffer or Uint8Array is read in
 * place, so do not modify it until the promise settles. Throws a TypeError
 * for a bad argument; never rejects for malformed mail.
 */
export function parseMessage(input: Buffer | Uint8Array | string, options?: ParseMessageOptions): Promise<ParsedMessage>;
