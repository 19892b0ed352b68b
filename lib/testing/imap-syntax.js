'use strict';
// IMAP wire-syntax helpers for the mock server. Everything works on latin1
// ("binary") strings so literal byte counts equal string lengths.

class SyntaxError_ extends Error {}

// Tokenizes a complete command (literal bytes already inlined after their
// {n}\r\n marker). Returns an array of tokens:
//   { type: 'atom', value }  { type: 'string', value, literal }  { type: 'list', value: [...] }
function tokenize(input) {
  let i = 0;
  const n = input.length;

  function parseList(closer) {
    const out = [];
    for (;;) {
      while (i < n && input[i] === ' ') i++;
      if (i >= n || input[i] === '\r' || input[i] === '\n') {
        if (closer) throw new SyntaxError_('unterminated list');
        return out;
      }
      const c = input[i];
      if (c === ')') {
        if (!closer) throw new SyntaxError_('unexpected )');
        i++;
        return out;
      }
      if (c === '(') {
        i++;
        out.push({ type: 'list', value: parseList(true) });
      } else if (c === '"') {
        out.push({ type: 'string', value: parseQuoted() });
      } else if (c === '{') {
        out.push({ type: 'string', value: parseLiteral(), literal: true });
      } else {
        out.push({ type: 'atom', value: parseAtom() });
      }
    }
  }

  function parseQuoted() {
    i++;
    let s = '';
    while (i < n) {
      const c = input[i++];
      if (c === '"') return s;
      if (c === '\\') {
        if (i >= n) break;
        s += input[i++];
      } else if (c === '\r' || c === '\n') {
        break;
      } else {
        s += c;
      }
    }
    throw new SyntaxError_('unterminated quoted string');
  }

  function parseLiteral() {
    const m = /^\{(\d+)(\+?)\}\r?\n/.exec(input.slice(i, i + 32));
    if (!m) throw new SyntaxError_('bad literal');
    i += m[0].length;
    const len = Number(m[1]);
    if (i + len > n) throw new SyntaxError_('short literal');
    const s = input.slice(i, i + len);
    i += len;
    return s;
  }

  // Atoms may contain a [...] section with spaces and parens inside
  // (BODY.PEEK[HEADER.FIELDS (SUBJECT)]<0.100>), so brackets are consumed whole.
  function parseAtom() {
    let s = '';
    while (i < n) {
      const c = input[i];
      if (c === ' ' || c === '(' || c === ')' || c === '\r' || c === '\n') break;
      if (c === '[') {
        const end = input.indexOf(']', i);
        if (end < 0) throw new SyntaxError_('unterminated [');
        s += input.slice(i, end + 1);
        i = end + 1;
        continue;
      }
      if (c === '"' || c === '{') {
        if (s === '') break;
      }
      s += c;
      i++;
    }
    if (s === '') throw new SyntaxError_(`unexpected character ${JSON.stringify(input[i])}`);
    return s;
  }

  return parseList(false);
}

const SEQ_RE = /^(\d+|\*)(:(\d+|\*))?(,(\d+|\*)(:(\d+|\*))?)*$/;

// Returns [[lo, hi], ...] with '*' left as null so the caller can resolve it
// against its own view (largest UID or message count).
function parseSeqSet(str) {
  if (!SEQ_RE.test(str)) throw new SyntaxError_(`invalid sequence set ${str}`);
  return str.split(',').map((part) => {
    const [a, b = a] = part.split(':');
    const num = (x) => {
      if (x === '*') return null;
      const v = Number(x);
      if (v < 1 || v > 0xffffffff) throw new SyntaxError_(`invalid number ${x}`);
      return v;
    };
    return [num(a), num(b)];
  });
}

// Resolving '*' to the max and normalising a:b to min..max is what makes
// "N:*" with N > max still match the highest message (RFC 3501 6.4.8).
function seqSetMatcher(ranges, max) {
  const resolved = ranges.map(([a, b]) => {
    const x = a === null ? max : a;
    const y = b === null ? max : b;
    return [Math.min(x, y), Math.max(x, y)];
  });
  return (v) => resolved.some(([lo, hi]) => v >= lo && v <= hi);
}

function maxExplicit(ranges) {
  let m = 0;
  for (const [a, b] of ranges) m = Math.max(m, a || 0, b || 0);
  return m;
}

function isSafeQuoted(s) {
  return s.length < 1000 && /^[\x20-\x7e]*$/.test(s) && !/["\\]/.test(s);
}

// quoteStyle 'literal' forces literals for anything not trivially quotable
// (exercises client literal handling); 'escape' uses \" and \\ where possible.
function str(s, quoteStyle = 'literal') {
  if (s === null || s === undefined) return 'NIL';
  s = String(s);
  if (isSafeQuoted(s)) return `"${s}"`;
  if (quoteStyle === 'escape' && /^[\x20-\x7e]*$/.test(s)) {
    return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  }
  return `{${s.length}}\r\n${s}`;
}

function astring(s) {
  return /^[A-Za-z0-9_.\-/&+]+$/.test(s) && s.toUpperCase() !== 'NIL' ? s : str(s, 'escape');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const pad2 = (v) => String(v).padStart(2, '0');

// "17-Jul-1996 02:44:25 +0000" (date-day-fixed is space padded).
function imapDate(d) {
  return `${String(d.getUTCDate()).padStart(2, ' ')}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} `
    + `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000`;
}

function rfc2822Date(d) {
  return `${DAYS[d.getUTCDay()]}, ${pad2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} `
    + `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000`;
}

// SEARCH SINCE/BEFORE dates: 1-Feb-1994
function parseSearchDate(s) {
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(s);
  if (!m) throw new SyntaxError_(`bad date ${s}`);
  const mon = MONTHS.findIndex((x) => x.toLowerCase() === m[2].toLowerCase());
  if (mon < 0) throw new SyntaxError_(`bad month ${s}`);
  return Date.UTC(Number(m[3]), mon, Number(m[1]));
}

function utf8ToLatin1(s) {
  return Buffer.from(s, 'utf8').toString('latin1');
}

function latin1ToUtf8(s) {
  return Buffer.from(s, 'latin1').toString('utf8');
}

module.exports = {
  ImapSyntaxError: SyntaxError_,
  tokenize,
  parseSeqSet,
  seqSetMatcher,
  maxExplicit,
  str,
  astring,
  imapDate,
  rfc2822Date,
  parseSearchDate,
  utf8ToLatin1,
  latin1ToUtf8,
};
