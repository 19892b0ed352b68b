'use strict';
// Just enough RFC 5322 / MIME parsing for the mock server to produce
// ENVELOPE, BODYSTRUCTURE and BODY[section] the way a real server would.
// Strings are latin1 so byte offsets and literal lengths line up.
const { str, rfc2822Date, utf8ToLatin1 } = require('./imap-syntax');

function toCrlf(raw) {
  const s = Buffer.isBuffer(raw) ? raw.toString('latin1') : utf8ToLatin1(String(raw));
  return s.replace(/\r?\n/g, '\r\n');
}

function splitMessage(raw) {
  const idx = raw.indexOf('\r\n\r\n');
  if (idx < 0) return { header: raw.endsWith('\r\n') ? `${raw}\r\n` : `${raw}\r\n\r\n`, body: '' };
  return { header: raw.slice(0, idx + 4), body: raw.slice(idx + 4) };
}

// Returns [{ name, lname, value (unfolded), raw (original lines incl. CRLF) }]
function parseHeaderFields(header) {
  const fields = [];
  for (const line of header.split('\r\n')) {
    if (line === '') continue;
    if (/^[ \t]/.test(line) && fields.length) {
      const f = fields[fields.length - 1];
      f.value += line;
      f.raw += `${line}\r\n`;
      continue;
    }
    const c = line.indexOf(':');
    if (c <= 0) continue;
    const name = line.slice(0, c).trim();
    fields.push({ name, lname: name.toLowerCase(), value: line.slice(c + 1).trim(), raw: `${line}\r\n` });
  }
  return fields;
}

function headerValue(fields, name) {
  const f = fields.find((x) => x.lname === name);
  return f ? f.value : null;
}

// Splits an address header into IMAP address tuples, including group
// start/end markers. Encoded words stay encoded: decoding is the client's job.
function parseAddressList(value) {
  if (value === null || value.trim() === '') return null;
  const out = [];
  let cur = { phrase: '', angle: null, comment: null };
  let inGroup = false;
  const flush = () => {
    const addr = toAddress(cur);
    if (addr) out.push(addr);
    cur = { phrase: '', angle: null, comment: null };
  };
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"') {
      let j = i + 1;
      let s = '';
      while (j < value.length && value[j] !== '"') {
        if (value[j] === '\\' && j + 1 < value.length) j++;
        s += value[j++];
      }
      cur.phrase += s;
      i = j;
    } else if (c === '(') {
      let depth = 1;
      let j = i + 1;
      let s = '';
      while (j < value.length && depth > 0) {
        if (value[j] === '(') depth++;
        else if (value[j] === ')') depth--;
        if (depth > 0) s += value[j];
        j++;
      }
      if (cur.comment === null) cur.comment = s.trim();
      i = j - 1;
    } else if (c === '<') {
      const j = value.indexOf('>', i);
      cur.angle = value.slice(i + 1, j < 0 ? value.length : j).trim();
      i = j < 0 ? value.length : j;
    } else if (c === ',') {
      flush();
    } else if (c === ':' && !inGroup && cur.angle === null && !cur.phrase.includes('@')) {
      out.push([null, null, cur.phrase.trim(), null]);
      cur = { phrase: '', angle: null, comment: null };
      inGroup = true;
    } else if (c === ';' && inGroup) {
      flush();
      out.push([null, null, null, null]);
      inGroup = false;
    } else {
      cur.phrase += c;
    }
  }
  flush();
  if (inGroup) out.push([null, null, null, null]);
  return out.length ? out : null;
}

function toAddress({ phrase, angle, comment }) {
  let name = null;
  let spec;
  if (angle !== null) {
    spec = angle;
    name = phrase.trim().replace(/\s+/g, ' ') || comment || null;
  } else {
    spec = phrase.trim();
    name = comment || null;
  }
  let adl = null;
  const route = /^(@[^:]+):(.*)$/.exec(spec);
  if (route) {
    adl = route[1];
    spec = route[2];
  }
  if (!spec && !name) return null;
  const at = spec.lastIndexOf('@');
  const mailbox = at < 0 ? spec : spec.slice(0, at);
  // Dovecot's convention for a domain-less address; NIL host would mean "group".
  const host = at < 0 ? 'MISSING_DOMAIN' : spec.slice(at + 1);
  return [name, adl, mailbox || null, host];
}

function addrListToImap(list, q) {
  if (!list) return 'NIL';
  return `(${list.map((a) => `(${a.map((x) => str(x, q)).join(' ')})`).join('')})`;
}

function envelope(raw, quoteStyle) {
  const fields = parseHeaderFields(splitMessage(raw).header);
  const h = (n) => headerValue(fields, n);
  const from = parseAddressList(h('from'));
  // RFC 3501: absent/empty Sender and Reply-To default to From.
  const sender = parseAddressList(h('sender')) || from;
  const replyTo = parseAddressList(h('reply-to')) || from;
  const q = quoteStyle;
  return `(${[
    str(h('date'), q), str(h('subject'), q),
    addrListToImap(from, q), addrListToImap(sender, q), addrListToImap(replyTo, q),
    addrListToImap(parseAddressList(h('to')), q), addrListToImap(parseAddressList(h('cc')), q),
    addrListToImap(parseAddressList(h('bcc')), q),
    str(h('in-reply-to'), q), str(h('message-id'), q),
  ].join(' ')})`;
}

function parseContentType(value) {
  const v = value || 'text/plain; charset=us-ascii';
  const [type, ...paramParts] = v.split(';');
  const [t, s] = type.trim().split('/');
  const params = [];
  for (const p of paramParts) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const k = p.slice(0, eq).trim();
    const val = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    if (k) params.push([k, val]);
  }
  return { type: (t || 'text').toUpperCase(), subtype: (s || 'plain').toUpperCase(), params };
}

// Content-Disposition as BODYSTRUCTURE extension data: ("ATTACHMENT" ("FILENAME" "x.pdf")), or NIL.
function dispositionOf(fields) {
  const value = headerValue(fields, 'content-disposition');
  if (!value) return 'NIL';
  // Its syntax is a content type's without the "/subtype": parse it as one.
  const d = parseContentType(`x/${value}`);
  const params = d.params.length ? `(${d.params.map(([k, v]) => `${str(k.toUpperCase())} ${str(v)}`).join(' ')})` : 'NIL';
  return `(${str(d.subtype.toUpperCase())} ${params})`;
}

function bodyStructure(raw, extended) {
  const { header, body } = splitMessage(raw);
  const fields = parseHeaderFields(header);
  const ct = parseContentType(headerValue(fields, 'content-type'));
  const paramList = ct.params.length
    ? `(${ct.params.map(([k, v]) => `${str(k.toUpperCase())} ${str(v)}`).join(' ')})` : 'NIL';
  if (ct.type === 'MULTIPART') {
    const boundary = (ct.params.find(([k]) => k.toLowerCase() === 'boundary') || [])[1];
    const parts = boundary ? splitMultipart(body, boundary) : [];
    if (parts.length) {
      const inner = parts.map((p) => bodyStructure(p, extended)).join('');
      return `(${inner} ${str(ct.subtype)}${extended ? ` ${paramList} NIL NIL NIL` : ''})`;
    }
  }
  const enc = (headerValue(fields, 'content-transfer-encoding') || '7BIT').toUpperCase();
  const size = body.length;
  const lines = (body.match(/\r\n/g) || []).length;
  let s = `${str(ct.type)} ${str(ct.subtype)} ${paramList} `
    + `${str(headerValue(fields, 'content-id'))} ${str(headerValue(fields, 'content-description'))} `
    + `${str(enc)} ${size}`;
  if (ct.type === 'TEXT') s += ` ${lines}`;
  if (extended) s += ` NIL ${dispositionOf(fields)} NIL NIL`;
  return `(${s})`;
}

function splitMultipart(body, boundary) {
  const delim = `--${boundary}`;
  const parts = [];
  const segs = `\r\n${body}`.split(`\r\n${delim}`);
  for (let k = 1; k < segs.length; k++) {
    const seg = segs[k];
    if (seg.startsWith('--')) break;
    parts.push(seg.replace(/^[ \t]*\r\n/, ''));
  }
  return parts;
}

function boundaryOf(raw) {
  const ct = parseContentType(headerValue(parseHeaderFields(splitMessage(raw).header), 'content-type'));
  if (ct.type !== 'MULTIPART') return null;
  return (ct.params.find(([k]) => k.toLowerCase() === 'boundary') || [])[1] || null;
}

// Walks a part path like "1.2"; returns the raw entity (headers + body) or null.
function partByPath(raw, nums) {
  let cur = raw;
  for (const n of nums) {
    const boundary = boundaryOf(cur);
    if (boundary) {
      const parts = splitMultipart(splitMessage(cur).body, boundary);
      if (n < 1 || n > parts.length) return null;
      cur = parts[n - 1];
    } else if (n !== 1) {
      return null; // a non-multipart entity only has part 1 (itself)
    }
  }
  return cur;
}

// Section text for BODY[section]; returns null when the section is unknown.
function section(raw, spec) {
  const s = spec.toUpperCase();
  const m = /^((?:\d+\.)*\d+)(?:\.(HEADER|TEXT|MIME))?$/.exec(s);
  if (m) {
    const nums = m[1].split('.').map(Number);
    const part = partByPath(raw, nums);
    if (part === null) return null;
    const kind = m[2];
    // Top-level non-multipart "1" is the message body, not the whole message.
    if (!kind) return nums.length === 1 && !boundaryOf(raw) ? splitMessage(raw).body : splitMessage(part).body;
    return kind === 'TEXT' ? splitMessage(part).body : splitMessage(part).header;
  }
  const { header, body } = splitMessage(raw);
  if (s === '') return raw;
  if (s === 'HEADER') return header;
  if (s === 'TEXT') return body;
  const f = /^HEADER\.FIELDS(\.NOT)? \(([^)]*)\)$/.exec(s);
  if (f) {
    const names = f[2].trim().split(/\s+/).map((x) => x.replace(/"/g, '').toLowerCase());
    const fields = parseHeaderFields(header);
    const keep = fields.filter((x) => (f[1] ? !names.includes(x.lname) : names.includes(x.lname)));
    return `${keep.map((x) => x.raw).join('')}\r\n`;
  }
  return null;
}

let msgCounter = 0;

function buildMessage(opts = {}) {
  const date = opts.date instanceof Date ? opts.date : new Date(opts.date || Date.now());
  const n = ++msgCounter;
  const headers = [
    ['Date', typeof opts.date === 'string' ? opts.date : rfc2822Date(date)],
    ['From', opts.from || 'Mock Sender <sender@example.com>'],
    ['To', opts.to || 'user@example.com'],
  ];
  if (opts.cc) headers.push(['Cc', opts.cc]);
  headers.push(['Subject', opts.subject !== undefined ? opts.subject : `Test message ${n}`]);
  headers.push(['Message-ID', opts.messageId || `<mock.${Date.now()}.${n}@mock.example>`]);
  if (opts.inReplyTo) headers.push(['In-Reply-To', opts.inReplyTo]);
  for (const [k, v] of Object.entries(opts.headers || {})) headers.push([k, v]);
  const body = opts.body !== undefined ? String(opts.body) : `Hello from the mock IMAP server (#${n}).\n`;
  // eslint-disable-next-line no-control-regex
  const eightBit = /[^\x00-\x7f]/.test(body);
  headers.push(['MIME-Version', '1.0']);
  headers.push(['Content-Type', 'text/plain; charset=utf-8']);
  headers.push(['Content-Transfer-Encoding', eightBit ? '8bit' : '7bit']);
  const text = `${headers.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`;
  return toCrlf(text);
}

module.exports = {
  toCrlf,
  splitMessage,
  parseHeaderFields,
  parseAddressList,
  envelope,
  bodyStructure,
  section,
  buildMessage,
};
