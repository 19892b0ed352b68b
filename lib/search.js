'use strict';

// engine.search() criteria -> SEARCH tokens for the engine. Keys are a
// fixed vocabulary turned into keywords here; every value a user typed is
// sent as a string token, which the engine quotes or sends as a literal
// (CHARSET UTF-8 when it is 8-bit), so no value becomes command syntax.

const { optionError } = require('./errors');

const FLAG_KEYS = {
  seen: ['SEEN', 'UNSEEN'],
  flagged: ['FLAGGED', 'UNFLAGGED'],
  answered: ['ANSWERED', 'UNANSWERED'],
  deleted: ['DELETED', 'UNDELETED'],
  draft: ['DRAFT', 'UNDRAFT'],
};
const STRING_KEYS = { from: 'FROM', to: 'TO', cc: 'CC', bcc: 'BCC', subject: 'SUBJECT', body: 'BODY', text: 'TEXT' };
const DATE_KEYS = { since: 'SINCE', before: 'BEFORE', on: 'ON' };
const SIZE_KEYS = { larger: 'LARGER', smaller: 'SMALLER' };
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
// Bounds the work a criteria object can ask for (nesting and size).
const MAX_DEPTH = 16;
const MAX_TOKENS = 1000;
// The most characters a `uid` set takes on the command line, as the engine's
// own split of STORE/EXPUNGE sets (src/imap/actions.cpp kMaxSetChars): a
// SEARCH cannot be split, so a longer top-level set goes as its span
// (first:last) and search() keeps the UIDs the set names.
const MAX_SET_CHARS = 4000;

/** A Date, a date string or a time in ms as a valid Date; a TypeError naming `path` otherwise. */
function dateOption(v, path) {
  const d = v instanceof Date ? v : typeof v === 'string' || typeof v === 'number' ? new Date(v) : null;
  if (!d || Number.isNaN(d.getTime())) throw optionError(path, 'must be a Date, a date string or a time in milliseconds');
  return d;
}

/** A Date, a date string or a time in ms -> IMAP date (RFC 3501 date: 1-Feb-2026), in UTC. */
function imapDate(v, path) {
  const d = dateOption(v, path);
  return `${d.getUTCDate()}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()}`;
}

function text(v, path) {
  if (typeof v !== 'string') throw optionError(path, 'must be a string');
  if (/[\r\n\0]/.test(v)) throw optionError(path, 'must not contain CR, LF or NUL');
  return v;
}

/**
 * Compiles criteria into [kinds, texts] for the engine's searchMessages:
 * kinds[i] is 'a' (keyword, number, date or set), 's' (string), '(' or ')'.
 * `uidSet` turns the `uid` key's value into a compressed set string. A
 * top-level one longer than MAX_SET_CHARS is sent as its span and comes back
 * third, [kinds, texts, within]: the results must be cut to it. Inside or/not
 * a span would change the meaning, so there it is a TypeError.
 */
function compileCriteria(criteria, uidSet) {
  const kinds = [];
  const texts = [];
  let within = null;
  const push = (kind, t) => {
    if (kinds.length >= MAX_TOKENS) throw optionError('criteria', `is too large (more than ${MAX_TOKENS} terms)`);
    kinds.push(kind);
    texts.push(t);
  };
  const group = (c, path, depth) => {
    push('(', '');
    body(c, path, depth + 1);
    kinds.push(')');
    texts.push('');
  };
  function body(c, path, depth) {
    if (depth > MAX_DEPTH) throw optionError(path, `nests deeper than ${MAX_DEPTH}`);
    if (c === null || typeof c !== 'object' || Array.isArray(c)) throw optionError(path, 'must be an object of search keys');
    const keys = Object.keys(c);
    if (!keys.length) push('a', 'ALL');
    for (const key of keys) {
      const v = c[key];
      const at = `${path}.${key}`;
      if (v === undefined) continue;
      if (FLAG_KEYS[key]) {
        if (typeof v !== 'boolean') throw optionError(at, 'must be true or false');
        push('a', FLAG_KEYS[key][v ? 0 : 1]);
      } else if (STRING_KEYS[key]) {
        push('a', STRING_KEYS[key]);
        push('s', text(v, at));
      } else if (DATE_KEYS[key]) {
        push('a', DATE_KEYS[key]);
        push('a', imapDate(v, at));
      } else if (SIZE_KEYS[key]) {
        if (!Number.isSafeInteger(v) || v < 0) throw optionError(at, 'must be a non-negative integer (bytes)');
        push('a', SIZE_KEYS[key]);
        push('a', String(v));
      } else if (key === 'uid') {
        let set = uidSet(v);
        if (set.length > MAX_SET_CHARS) {
          if (depth > 0) throw optionError(at, `a UID set this long (${set.length} characters once compressed) can only be a top-level key`);
          within = set;
          set = `${set.match(/^\d+/)[0]}:${set.match(/\d+$/)[0]}`;
        }
        push('a', 'UID');
        push('a', set);
      } else if (key === 'modseq') {
        if (!Number.isSafeInteger(v) || v < 0) throw optionError(at, 'must be a MODSEQ (a non-negative integer)');
        push('a', 'MODSEQ');
        push('a', String(v));
      } else if (key === 'header') {
        if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.keys(v).length) {
          throw optionError(at, 'must be an object of { name: value }');
        }
        for (const [name, value] of Object.entries(v)) {
          if (!/^[!-9;-~]+$/.test(name)) throw optionError(`${at}.${name}`, 'must be a header field name');
          push('a', 'HEADER');
          push('s', name);
          push('s', text(value, `${at}.${name}`));
        }
      } else if (key === 'gmailRaw') {
        push('a', 'X-GM-RAW');
        push('s', text(v, at));
      } else if (key === 'not') {
        push('a', 'NOT');
        group(v, at, depth);
      } else if (key === 'or') {
        if (!Array.isArray(v) || v.length < 2) throw optionError(at, 'must be an array of two or more criteria objects');
        // OR takes two keys: a OR b OR c is OR a (OR b c).
        for (let i = 0; i < v.length - 1; i++) {
          push('a', 'OR');
          group(v[i], `${at}[${i}]`, depth);
        }
        group(v[v.length - 1], `${at}[${v.length - 1}]`, depth);
      } else {
        throw optionError(at, 'is not a search key (see the README: seen, flagged, from, subject, since, or, not, ...)');
      }
    }
  }
  body(criteria === undefined ? {} : criteria, 'criteria', 0);
  return within ? [kinds.join(''), texts, within] : [kinds.join(''), texts];
}

/** The ascending `uids` that the compressed (ascending, merged) set string `set` names. */
function withinSet(uids, set) {
  const ranges = set.split(',').map((part) => part.split(':').map(Number));
  const out = [];
  let i = 0;
  for (const uid of uids) {
    while (i < ranges.length && (ranges[i][1] ?? ranges[i][0]) < uid) i++;
    if (i === ranges.length) break;
    if (uid >= ranges[i][0]) out.push(uid);
  }
  return out;
}

// A server's answer sizes the arrays built from it: a hostile set like
// 1:4294967295 must not become four billion numbers.
const MAX_RESULT_UIDS = 10 * 1000 * 1000;

/** Counts the UIDs in a set string without expanding it. */
function setSize(set) {
  let n = 0;
  for (const part of set.split(',')) {
    const [a, b = a] = part.split(':').map(Number);
    n += Math.abs(b - a) + 1;
  }
  return n;
}

/** A set string -> its UIDs, each range ascending, in the order given. */
function expandSet(set) {
  const out = [];
  if (!set) return out;
  for (const part of set.split(',')) {
    const [a, b = a] = part.split(':').map(Number);
    for (let u = Math.min(a, b); u <= Math.max(a, b); u++) out.push(u);
  }
  return out;
}

module.exports = { compileCriteria, imapDate, dateOption, expandSet, setSize, withinSet, MAX_RESULT_UIDS, MAX_SET_CHARS, MONTHS };
