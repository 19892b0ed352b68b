// Browser code, inlined into dashboard.html before app.js (see charts.js):
// how server values become DOM text.

// Every value from the server is set as text, never as HTML, and text written
// by strangers (subjects, names, folders) is isolated (<bdi>), so a right-to-left
// subject cannot reorder what stands next to it. Explicit embeddings, overrides
// and isolates (U+202A-U+202E, U+2066-U+2069) are shown rather than obeyed:
// "Invoice U+202E fdp.exe" would otherwise read "Invoice exe.pdf".
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;
const showControls = (text) => String(text).replace(BIDI_CONTROLS, (c) => `[U+${c.charCodeAt(0).toString(16).toUpperCase()}]`);

function bdi(text) {
  const el = document.createElement('bdi');
  el.textContent = showControls(text);
  return el;
}

function cell(tr, text, cls, isolate) {
  const td = document.createElement('td');
  if (isolate) td.appendChild(bdi(text));
  else td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

// words: fixed strings, or { text } for values from the server (isolated each).
function setWords(el, words) {
  el.replaceChildren(...words.map((w) => (typeof w === 'string' ? w : bdi(w.text))));
}

const formatAddresses = (list) => (Array.isArray(list) && list.length
  ? list.map((a) => (a.name ? `${a.name} <${a.address}>` : a.address)).join(', ') : null);

// A live event in the history's summary shape (lib/dashboard-history.js).
function summarize(e) {
  if (e.type !== 'newMessage') return e;
  const env = e.envelope || {};
  return { ...e, subject: env.subject ?? null, from: formatAddresses(env.from), date: env.date ?? null };
}

// The words for an event: fixed strings and isolated server values.
function describe(e) {
  switch (e.type) {
    case 'newMessage': return ['new: ', { text: e.subject || '(no subject)' }, ` (uid ${e.uid})`];
    case 'messageDeleted': return [`deleted ${e.uid !== null && e.uid !== undefined ? `uid ${e.uid}` : `seq ${e.seq}`}`];
    case 'flagsChanged': return [`flags uid ${e.uid}: `, { text: (e.flags || []).join(' ') || '(none)' }];
    case 'connectionStatus': return [`${e.previous} → ${e.state}`];
    case 'idleRefreshed': return ['IDLE refreshed'];
    case 'folderReset': return [`UIDVALIDITY changed to ${e.uidValidity}`];
    case 'folderUpdated': return [`changed (${e.merged || 'several'} events merged), needs sync`];
    case 'syncStarted': return ['sync started'];
    case 'syncProgress': return [`sync ${e.done}/${e.total}`];
    case 'syncCompleted': return [`sync ${e.ok ? 'ok' : 'failed'} in ${Math.round(e.durationMs)} ms`];
    case 'push': return ['push from ', { text: String(e.source) }];
    default: return [String(e.type)];
  }
}

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}
