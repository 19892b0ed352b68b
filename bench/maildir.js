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

// A bare IMAP session on a node tls socket, for the servers' own rates:
// command(line) sends one tagged command and resolves at its tagged OK with
// the time from sending and what came back; with { count: marker } the
// answer is not kept, only the occurrences of marker in it are counted (a
// 100,000-message FETCH is 40 MiB).
function rawSession(dc, { user, pass, timeoutMs }) {
  const sock = tls.connect({ port: dc.tlsPort, host: '127.0.0.1', ca: dc.caPem, servername: 'localhost' });
  let pending = null;
  let seq = 0;
  let failed = null;
  const fail = (err) => {
    failed = failed || err;
    if (pending) { clearTimeout(pending.timer); pending.reject(failed); pending = null; }
  };
  sock.on('error', fail);
  sock.on('close', () => fail(new Error('raw: connection closed')));
  sock.on('data', (chunk) => {
    const p = pending;
    if (!p) return;
    const s = chunk.toString('latin1');
    if (p.marker) {
      // The marker's own length less one carries over, so nothing is counted twice.
      const c = p.countTail + s;
      for (let k = c.indexOf(p.marker); k !== -1; k = c.indexOf(p.marker, k + p.marker.length)) p.count++;
      p.countTail = c.slice(-(p.marker.length - 1));
    } else {
      p.text += s;
    }
    p.bytes += chunk.length;
    const tail = p.tail + s;
    p.tail = tail.slice(-1024);
    const m = p.done.exec(tail);
    if (!m) return;
    clearTimeout(p.timer);
    pending = null;
    if (m[1] && m[1] !== 'OK') p.reject(new Error(`raw: ${p.what} answered ${m[1]}`));
    else p.resolve({ ms: msSince(p.t0), text: p.text, count: p.count, bytes: p.bytes });
  });
  // `what` names the command in errors: never the LOGIN line, which holds the password.
  const send = (line, what, done, marker) => new Promise((resolve, reject) => {
    if (failed) { reject(failed); return; }
    const timer = setTimeout(() => { fail(new Error(`raw: ${what} timed out`)); sock.destroy(); }, timeoutMs);
    pending = { what, done, marker, resolve, reject, timer, text: '', count: 0, countTail: '', tail: '', bytes: 0, t0: now() };
    if (line !== null) sock.write(line);
  });
  const command = (line, { count } = {}) => {
    const tag = `R${++seq}`;
    return send(`${tag} ${line}\r\n`, line.split(' ')[0], new RegExp(`(?:^|\\r\\n)${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`), count);
  };
  return (async () => {
    await send(null, 'greeting', /^\* OK[^\r\n]*\r\n/);
    const tag = `R${++seq}`;
    await send(`${tag} LOGIN ${user} "${pass}"\r\n`, 'LOGIN', new RegExp(`(?:^|\\r\\n)${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`));
    return {
      command,
      async close() {
        await command('LOGOUT').catch(() => {});
        sock.destroy();
      },
    };
  })();
}

// `UID FETCH 1:* (UID FLAGS ENVELOPE INTERNALDATE RFC822.SIZE)` of a folder
// on a raw session; untagged FETCH responses are counted, never parsed
// (the generated headers never contain ' FETCH ('). Timed from sending the
// FETCH to its tagged OK.
async function rawFetch(dc, { user, pass, folder = 'INBOX', timeoutMs }) {
  const session = await rawSession(dc, { user, pass, timeoutMs });
  try {
    await session.command(`SELECT "${folder}"`);
    const { ms, count, bytes } = await session.command('UID FETCH 1:* (UID FLAGS ENVELOPE INTERNALDATE RFC822.SIZE)', { count: ' FETCH (' });
    return { ms, count, bytes };
  } finally {
    await session.close();
  }
}

module.exports = { message, TOPICS, folderDir, populate, maildirFlags, rawSession, rawFetch };
