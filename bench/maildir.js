'use strict';
// Large Dovecot mailboxes for the benchmarks, written straight into the
// Maildir (appending 100,000 messages over IMAP would take minutes), and the
// raw socket FETCH that both warms Dovecot's index and gives the server's
// own rate. Used by bench/envelope.js and bench/actions.js.
const fs = require('fs');
const path = require('path');
const tls = require('tls');

const now = () => process.hrtime.bigint();
const msSince = (t0, t1 = now()) => Number(t1 - t0) / 1e6;

const FIRST = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin', 'Frank', 'Grace', 'Heidi', 'Ivan', 'Judy', 'Mallory', 'Niaj', 'Olivia', 'Peggy', 'Rupert', 'Sybil', 'Trent', 'Victor', 'Walter'];
const LAST = ['Smith', 'Jones', 'Müller', 'García', 'Rossi', 'Nowak', 'Dubois', 'Silva', 'Kim', 'Tanaka'];
const DOMAINS = ['example.com', 'example.org', 'mail.example.net', 'corp.example', 'bookings.example.co.uk'];
// No topic is a substring of another, so a SUBJECT search for one matches
// exactly the messages with i % TOPICS.length equal to its index (the
// encoded-word subjects carry TOPICS[3] only).
const TOPICS = ['Invoice', 'Re: Meeting notes', 'Fwd: Booking confirmation', 'Weekly report', 'Your order has shipped', 'Question about the contract', 'Re: Re: lunch?', 'Password reset', 'Newsletter', 'Ticket update'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n) => String(n).padStart(2, '0');

function rfcDate(d) {
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

function message(i) {
  const f = FIRST[i % FIRST.length];
  const l = LAST[(i * 7) % LAST.length];
  const t = FIRST[(i * 3 + 5) % FIRST.length];
  const dom = DOMAINS[i % DOMAINS.length];
  const date = new Date(Date.UTC(2026, 0, 1) + i * 60 * 1000 + (i % 977) * 1000);
  // Some subjects are MIME encoded-words, some recipients come with a Cc.
  const subject = i % 10 === 3
    ? `=?UTF-8?B?${Buffer.from(`Grüße zu ${TOPICS[i % TOPICS.length]} #${i}`).toString('base64')}?=`
    : `${TOPICS[i % TOPICS.length]} #${i}`;
  const lines = [
    `Return-Path: <${f.toLowerCase()}@${dom}>`,
    `From: "${f} ${l}" <${f.toLowerCase()}.${i % 100}@${dom}>`,
    `To: ${t} <${t.toLowerCase()}@example.com>`,
    ...(i % 4 === 0 ? [`Cc: team-${i % 13}@example.com, "Ops" <ops@example.com>`] : []),
    `Subject: ${subject}`,
    `Date: ${rfcDate(date)}`,
    `Message-ID: <${i}.${(i * 2654435761 >>> 0).toString(16)}@${dom}>`,
    ...(i % 3 === 0 && i > 0 ? [`In-Reply-To: <${i - 1}.${((i - 1) * 2654435761 >>> 0).toString(16)}@${dom}>`] : []),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Hello ${t},`,
    '',
    `this is benchmark message number ${i}. It carries a short plain-text body so`,
    'that the whole message stays around five hundred bytes, like a small notification.',
    '',
    `-- ${f}`,
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

// A folder's Maildir++ directory (INBOX is the Maildir itself), created with
// cur/new/tmp and owned like the Maildir, which startDovecot chowned to the
// mail user when running as root: Dovecot lists it as a folder at once.
function folderDir(dc, user, folder = 'INBOX') {
  const root = dc.maildir(user);
  const dir = folder.toUpperCase() === 'INBOX' ? root : path.join(root, `.${folder.replace(/\//g, '.')}`);
  const st = fs.statSync(root);
  for (const p of [dir, ...['cur', 'new', 'tmp'].map((s) => path.join(dir, s))]) {
    if (fs.existsSync(p)) continue;
    fs.mkdirSync(p, { mode: 0o700 });
    if (process.getuid() === 0) fs.chownSync(p, st.uid, st.gid);
  }
  return dir;
}

// Writes n messages into folder's cur/ (so Dovecot sees them as already
// delivered), message(first + k) for k < n, with Maildir flags flags(i) ('S'
// for \Seen, '' for none). Returns the average message size in bytes.
function populate(dc, user, { folder = 'INBOX', n, first = 0, flags = () => 'S', log = () => {} }) {
  const cur = path.join(folderDir(dc, user, folder), 'cur');
  const st = fs.statSync(cur);
  const root = process.getuid() === 0;
  const base = Math.floor(Date.now() / 1000) - n;
  let bytes = 0;
  const t0 = now();
  for (let k = 0; k < n; k++) {
    const i = first + k;
    const data = message(i);
    bytes += data.length;
    const file = path.join(cur, `${base + k}.M${i}P${process.pid}.bench,S=${data.length}:2,${flags(i)}`);
    fs.writeFileSync(file, data, { mode: 0o600 });
    if (root) fs.chownSync(file, st.uid, st.gid);
  }
  log(`wrote ${n} messages into ${folder} (${(bytes / n).toFixed(0)} B avg, ${(bytes / 1048576).toFixed(1)} MiB) in ${msSince(t0).toFixed(0)} ms`);
  return bytes / n;
}

// The Maildir flags of every message file in a folder (cur/ and new/), one
// string per message: what Dovecot itself recorded, read without IMAP.
function maildirFlags(dc, user, folder) {
  const dir = folderDir(dc, user, folder);
  const out = [];
  for (const sub of ['cur', 'new']) {
    for (const name of fs.readdirSync(path.join(dir, sub))) {
      const k = name.lastIndexOf(':2,');
      out.push(k >= 0 ? name.slice(k + 3) : '');
    }
  }
  return out;
}

// A node tls socket: LOGIN, SELECT folder, then
// `UID FETCH 1:* (UID FLAGS ENVELOPE INTERNALDATE RFC822.SIZE)`; untagged
// FETCH responses are counted, never parsed. Timed from sending the FETCH
// to its tagged OK.
function rawFetch(dc, { user, pass, folder = 'INBOX', timeoutMs }) {
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ port: dc.tlsPort, host: '127.0.0.1', ca: dc.caPem, servername: 'localhost' });
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('raw: timed out')); }, timeoutMs);
    let stage = 0; // 0 greeting, 1 login, 2 select, 3 fetch
    let text = '';
    let count = 0;
    let bytes = 0;
    let tail = '';
    let t0;
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
    sock.on('data', (chunk) => {
      if (stage < 3) {
        text += chunk.toString('latin1');
        if (stage === 0 && /^\* OK/m.test(text)) {
          stage = 1; text = '';
          sock.write(`A1 LOGIN ${user} "${pass}"\r\n`);
        } else if (stage === 1 && /^A1 /m.test(text)) {
          // The server's answer only: the command line holds the password.
          if (!/^A1 OK/m.test(text)) { reject(new Error('raw login refused')); sock.destroy(); return; }
          stage = 2; text = '';
          sock.write(`A2 SELECT "${folder}"\r\n`);
        } else if (stage === 2 && /^A2 /m.test(text)) {
          if (!/^A2 OK/m.test(text)) { reject(new Error(`raw select: ${text}`)); sock.destroy(); return; }
          stage = 3; text = '';
          t0 = now();
          sock.write('A3 UID FETCH 1:* (UID FLAGS ENVELOPE INTERNALDATE RFC822.SIZE)\r\n');
        }
        return;
      }
      // Counting only: " FETCH (" occurrences (the generated headers never contain it).
      bytes += chunk.length;
      const s = tail + chunk.toString('latin1');
      let k = s.indexOf(' FETCH (');
      while (k !== -1) { count++; k = s.indexOf(' FETCH (', k + 8); }
      const done = s.includes('\r\nA3 OK') || s.startsWith('A3 OK');
      const bad = /\r\nA3 (NO|BAD)/.exec(s);
      tail = s.slice(-7); // shorter than ' FETCH (' so nothing is counted twice
      if (done || bad) {
        const ms = msSince(t0);
        clearTimeout(timer);
        sock.end('A4 LOGOUT\r\n');
        sock.destroy();
        if (bad) reject(new Error('raw: FETCH failed'));
        else resolve({ ms, count, bytes });
      }
    });
  });
}

module.exports = { message, TOPICS, folderDir, populate, maildirFlags, rawFetch };
