'use strict';
// SEARCH criteria for the mock server: the common keys a sync engine uses,
// AND-ed as in RFC 3501, with NOT / OR / parenthesised groups, MODSEQ
// (CONDSTORE) and, with X-GM-EXT-1 on, Gmail's X-GM-RAW (as TEXT).
const syn = require('./imap-syntax');
const mime = require('./mime');

const { ImapSyntaxError } = syn;

const FLAG_KEYS = {
  SEEN: ['\\Seen', true],
  UNSEEN: ['\\Seen', false],
  DELETED: ['\\Deleted', true],
  UNDELETED: ['\\Deleted', false],
  FLAGGED: ['\\Flagged', true],
  UNFLAGGED: ['\\Flagged', false],
  ANSWERED: ['\\Answered', true],
  UNANSWERED: ['\\Answered', false],
  DRAFT: ['\\Draft', true],
  UNDRAFT: ['\\Draft', false],
};

function runSearch(session, args) {
  let pos = 0;
  let usedModseq = false;
  const view = session.view;
  const maxUid = view.length ? view[view.length - 1].uid : 0;

  const next = (what) => {
    const t = args[pos++];
    if (!t || t.type === 'list') throw new ImapSyntaxError(`Missing ${what}`);
    return t.value;
  };
  const headerHas = (msg, name, needle) => {
    const fields = mime.parseHeaderFields(mime.splitMessage(msg.raw).header);
    return fields.some((f) => f.lname === name.toLowerCase() && f.value.toLowerCase().includes(needle.toLowerCase()));
  };
  const day = (d) => Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());

  function key() {
    const t = args[pos++];
    if (!t) throw new ImapSyntaxError('Missing search key');
    if (t.type === 'list') {
      const saved = [args, pos];
      args = t.value;
      pos = 0;
      const preds = [];
      while (pos < args.length) preds.push(key());
      [args, pos] = saved;
      return (m, s) => preds.every((p) => p(m, s));
    }
    const k = String(t.value).toUpperCase();
    if (FLAG_KEYS[k]) {
      const [flag, want] = FLAG_KEYS[k];
      return (m) => m.flags.includes(flag) === want;
    }
    switch (k) {
      case 'ALL': case 'OLD': return () => true;
      case 'NEW': case 'RECENT': return () => false;
      case 'KEYWORD': { const f = next('keyword'); return (m) => m.flags.includes(f); }
      case 'UNKEYWORD': { const f = next('keyword'); return (m) => !m.flags.includes(f); }
      case 'UID': { const match = syn.seqSetMatcher(syn.parseSeqSet(next('uid set')), maxUid); return (m) => match(m.uid); }
      case 'MODSEQ': { usedModseq = true; const v = Number(next('modseq')); return (m) => m.modseq >= v; }
      case 'SINCE': { const d = syn.parseSearchDate(next('date')); return (m) => day(m.internalDate) >= d; }
      case 'BEFORE': { const d = syn.parseSearchDate(next('date')); return (m) => day(m.internalDate) < d; }
      case 'ON': { const d = syn.parseSearchDate(next('date')); return (m) => day(m.internalDate) === d; }
      case 'LARGER': { const n = Number(next('size')); return (m) => m.raw.length > n; }
      case 'SMALLER': { const n = Number(next('size')); return (m) => m.raw.length < n; }
      case 'SUBJECT': case 'FROM': case 'TO': case 'CC': case 'BCC': {
        const needle = next('string');
        return (m) => headerHas(m, k, needle);
      }
      case 'HEADER': { const h = next('header'); const needle = next('string'); return (m) => headerHas(m, h, needle); }
      case 'BODY': { const needle = next('string').toLowerCase(); return (m) => mime.section(m.raw, 'TEXT').toLowerCase().includes(needle); }
      case 'TEXT': { const needle = next('string').toLowerCase(); return (m) => m.raw.toLowerCase().includes(needle); }
      // Gmail's search syntax, only with X-GM-EXT-1 (setCapability): run as a plain TEXT search.
      case 'X-GM-RAW': {
        if (!session.server.hasCapability('X-GM-EXT-1')) throw new ImapSyntaxError(`Unknown search key ${k}`);
        const needle = next('string').toLowerCase();
        return (m) => m.raw.toLowerCase().includes(needle);
      }
      case 'NOT': { const p = key(); return (m, s) => !p(m, s); }
      case 'OR': { const a = key(); const b = key(); return (m, s) => a(m, s) || b(m, s); }
      default: {
        if (/^[\d*]/.test(k)) {
          const ranges = syn.parseSeqSet(k);
          const match = syn.seqSetMatcher(ranges, view.length);
          return (m, s) => match(s);
        }
        throw new ImapSyntaxError(`Unknown search key ${k}`);
      }
    }
  }

  if (args[0] && String(args[0].value).toUpperCase() === 'CHARSET') pos = 2;
  const preds = [];
  while (pos < args.length) preds.push(key());
  if (!preds.length) throw new ImapSyntaxError('Missing search criteria');
  const hits = view.map((m, i) => [m, i + 1]).filter(([m, s]) => preds.every((p) => p(m, s)));
  return { hits, usedModseq };
}

module.exports = { runSearch };
