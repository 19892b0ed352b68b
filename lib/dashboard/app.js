// Browser code, inlined into dashboard.html after charts.js (see there). The
// page holds no data: it loads the history, the status and health from the
// router, then follows the event stream.
(() => {
  'use strict';
  // The API sits beside the page, wherever the router is mounted and whether
  // or not the address ends in a slash (/imap/dashboard/ would otherwise
  // resolve 'health' to /imap/dashboard/health). A query token on the page
  // URL is forwarded; cookies go along by themselves.
  const base = location.pathname.replace(/\/dashboard\/*$/, '/');
  const qs = location.search;
  const api = (path) => `${base}${path}${qs}`;
  const TYPES = ['newMessage', 'messageDeleted', 'flagsChanged', 'connectionStatus', 'idleRefreshed', 'folderReset',
    'folderUpdated', 'syncStarted', 'syncCompleted', 'syncProgress', 'push'];
  // What a folder's "Last event" shows: its own mail and connection news, never sync bookkeeping.
  const FOLDER_NEWS = new Set(['newMessage', 'messageDeleted', 'flagsChanged', 'connectionStatus', 'folderReset', 'folderUpdated', 'idleRefreshed']);
  const MAX_LINES = 50;
  const MAX_SAMPLES = 100;
  const MAX_TRANSITIONS = 50;
  const WINDOW_MIN = 30;
  const STATE_RANK = ['error', 'disconnected', 'connecting', 'connected', 'authenticating', 'authenticated', 'idle'];
  const $ = (id) => document.getElementById(id);
  const time = (at) => new Date(at).toLocaleTimeString();
  const utcDay = () => Math.floor(Date.now() / 86400000); // the server counts messages per UTC day too

  let admin = false;
  const accounts = new Map(); // account key -> { tenant, accountId, messagesToday, reconnects, lastError, cells }
  const folders = new Map(); // account key \0 folder -> { tr, state, mode, last, when, transitions }
  const syncs = new Map(); // account key -> { count, failed, totalMs, cells }
  const latency = []; // { at, ms }
  const perMinute = new Map(); // minute -> count
  const seenErrors = new Set();

  // Admins see every tenant, so an account is named by tenant and id.
  const keyOf = (e) => `${admin ? e.tenant ?? '' : ''}\0${e.accountId}`;
  const who = (e) => (admin ? `${e.tenant ?? '(no tenant)'} · ${e.accountId}` : e.accountId);

  function prepend(listId, at, parts) {
    const li = document.createElement('li');
    setWords(li, [`${time(at)}  `, ...parts]);
    const list = $(listId);
    list.insertBefore(li, list.firstChild);
    while (list.children.length > MAX_LINES) list.removeChild(list.lastChild);
    return li;
  }

  function tenantCell(tr, e) {
    cell(tr, e.tenant ?? '—', 'tenant', true);
  }

  // A new row of one of the per-account tables: its placeholder hidden, the row keyed by account (and tenant, for
  // an admin), starting with the tenant and account cells.
  function accountTr(placeholder, e) {
    $(placeholder).hidden = true;
    const tr = document.createElement('tr');
    tr.dataset.account = e.accountId;
    if (admin) tr.dataset.tenant = e.tenant ?? '';
    tenantCell(tr, e);
    cell(tr, e.accountId, 'account', true);
    return tr;
  }

  function accountRow(e) {
    const key = keyOf(e);
    let a = accounts.get(key);
    if (!a) {
      const tr = accountTr('no-accounts', e);
      a = { tenant: e.tenant, accountId: e.accountId, messagesToday: 0, reconnects: 0, lastError: null, day: utcDay() };
      a.cells = { state: cell(tr, '—', 'state'), today: cell(tr, '0', 'today'), reconnects: cell(tr, '0', 'reconnects'), error: cell(tr, '—', 'last-error') };
      $('accounts').appendChild(tr);
      accounts.set(key, a);
    }
    return a;
  }

  function showCounters(a) {
    a.cells.today.textContent = String(a.messagesToday);
    a.cells.reconnects.textContent = String(a.reconnects);
    a.cells.error.textContent = a.lastError ? `${time(a.lastErrorAt)} ${a.lastError.code} ${a.lastError.message}` : '—';
  }

  function folderRow(e) {
    const key = `${keyOf(e)}\0${e.folder}`;
    let row = folders.get(key);
    if (!row) {
      const tr = accountTr('no-connections', e);
      tr.dataset.folder = e.folder;
      cell(tr, e.folder, 'folder', true);
      row = { tr, e: { tenant: e.tenant, accountId: e.accountId, folder: e.folder }, transitions: [] };
      Object.assign(row, { state: cell(tr, '', 'state'), mode: cell(tr, ''), last: cell(tr, '—', 'last-event', true), when: cell(tr, '', 'when') });
      $('connections').appendChild(tr);
      folders.set(key, row);
    }
    accountRow(e);
    return row;
  }

  function setState(row, state, mode) {
    row.state.textContent = state;
    row.state.className = `state ${state}`;
    if (mode !== undefined) row.mode.textContent = mode || '';
  }

  // An account's state is its least advanced folder's.
  function showAccountStates() {
    for (const [key, a] of accounts) {
      let rank = -1;
      for (const [fkey, row] of folders) {
        if (!fkey.startsWith(`${key}\0`)) continue;
        const r = STATE_RANK.indexOf(row.state.textContent);
        if (r >= 0 && (rank < 0 || r < rank)) rank = r;
      }
      const state = rank < 0 ? '—' : STATE_RANK[rank];
      a.cells.state.textContent = state;
      a.cells.state.className = `state ${state}`;
    }
  }

  function reportError(where, error, at) {
    const text = `${error.code || 'ERROR'} ${error.message || ''}`;
    if (seenErrors.has(`${where}\0${text}`)) return;
    if (seenErrors.size >= 1000) seenErrors.clear(); // a flapping server must not grow the page forever
    seenErrors.add(`${where}\0${text}`);
    prepend('errors', at, [{ text: where }, `: ${text}`]);
  }

  function syncRow(e) {
    const key = keyOf(e);
    let row = syncs.get(key);
    if (!row) {
      const tr = accountTr('no-syncs', e);
      row = {
        count: 0, failed: 0, totalMs: 0,
        cells: { count: cell(tr, '0', 'count'), failed: cell(tr, '0', 'failed'), lastMs: cell(tr, '—', 'last-duration'),
          avgMs: cell(tr, '—', 'avg-duration'), last: cell(tr, '—', 'last-event', true) },
      };
      $('syncs').appendChild(tr);
      syncs.set(key, row);
    }
    return row;
  }

  function onSyncCompleted(e) {
    const row = syncRow(e);
    row.count += 1;
    if (!e.ok) row.failed += 1;
    row.totalMs += e.durationMs || 0;
    row.cells.count.textContent = String(row.count);
    row.cells.failed.textContent = String(row.failed);
    row.cells.lastMs.textContent = `${Math.round(e.durationMs || 0)} ms`;
    row.cells.avgMs.textContent = `${Math.round(row.totalMs / row.count)} ms`;
  }

  function addMessage(e) {
    $('no-messages').hidden = true;
    const tr = document.createElement('tr');
    tr.dataset.account = e.accountId;
    tr.dataset.folder = e.folder;
    tr.dataset.uid = String(e.uid);
    cell(tr, time(e.at), 'when');
    tenantCell(tr, e);
    cell(tr, e.accountId, 'account', true);
    cell(tr, e.folder, 'folder', true);
    cell(tr, e.from || '—', 'from', true);
    cell(tr, e.subject || '(no subject)', 'subject', true);
    cell(tr, e.date ? new Date(e.date).toLocaleString() : '—', 'date');
    const list = $('messages');
    list.insertBefore(tr, $('no-messages').nextSibling);
    while (list.children.length > MAX_LINES + 1) list.removeChild(list.lastChild);
  }

  function noteTransition(row, at, state) {
    row.transitions.push({ at, state });
    if (row.transitions.length > MAX_TRANSITIONS) row.transitions.shift();
  }

  // live: counters and charts move here; replayed history brings its own.
  function handle(e, live) {
    const at = e.at ?? Date.now();
    const where = `${who(e)}${e.folder ? `/${e.folder}` : ''}`;
    const words = describe(e);
    prepend('log', at, [{ text: where }, '  ', ...words]);
    if (e.type === 'syncCompleted') onSyncCompleted(e);
    if (e.type === 'newMessage') addMessage({ ...e, at });
    const a = accountRow(e);
    if (e.error) {
      reportError(where, e.error, at);
      if (live) Object.assign(a, { lastError: e.error, lastErrorAt: at });
    }
    if (live) {
      const minute = Math.floor(at / 60000);
      perMinute.set(minute, (perMinute.get(minute) || 0) + 1);
      if (a.day !== utcDay()) Object.assign(a, { day: utcDay(), messagesToday: 0 });
      if (e.type === 'newMessage') a.messagesToday += 1;
      if (typeof e.pushLatencyMs === 'number') {
        latency.push({ at, ms: e.pushLatencyMs });
        if (latency.length > MAX_SAMPLES) latency.shift();
      }
    }
    if (!e.folder || !FOLDER_NEWS.has(e.type)) {
      // Account-level events (push, sync, a sync's progress through folders) show on the account's sync row.
      setWords(syncRow(e).cells.last, words);
      if (live) showCounters(a);
      return;
    }
    const row = folderRow(e);
    if (e.type === 'connectionStatus') {
      if (live && e.state === 'idle' && row.transitions.some((t) => t.state === 'idle')) a.reconnects += 1;
      noteTransition(row, at, e.state);
      setState(row, e.state);
    }
    setWords(row.last, words);
    row.when.textContent = time(at);
    if (live) showCounters(a);
  }

  function draw() {
    drawLatency($('latency-chart'), $('latency-caption'), latency);
    const newest = Math.floor(Date.now() / 60000);
    const minutes = [];
    for (let m = newest - WINDOW_MIN + 1; m <= newest; m++) minutes.push({ at: m * 60000, count: perMinute.get(m) || 0 });
    drawRate($('rate-chart'), $('rate-caption'), minutes);
    const lanes = [...folders.values()].map((row) => ({
      key: `${row.e.tenant ?? ''}/${row.e.accountId}/${row.e.folder}`, label: `${who(row.e)}/${row.e.folder}`, states: row.transitions,
    }));
    // From the first state known (at least a minute, at most WINDOW_MIN back), so a fresh page is not one thin line.
    const now = Date.now();
    const earliest = Math.min(now, ...lanes.filter((l) => l.states.length).map((l) => l.states[0].at));
    drawTimeline($('timeline'), lanes, Math.max(now - WINDOW_MIN * 60000, Math.min(earliest, now - 60000)), now);
    showAccountStates();
  }

  // A catch-up brings events by the thousand: redraw at most every 250 ms.
  let drawTimer = null;
  function scheduleDraw() {
    if (drawTimer === null) {
      drawTimer = setTimeout(() => {
        drawTimer = null;
        draw();
      }, 250);
    }
  }

  async function getJson(path) {
    const res = await fetch(api(path), { credentials: 'same-origin', headers: { accept: 'application/json' } });
    if (res.status === 401 || res.status === 403) throw new HttpError(res.status, res.status === 401 ? 'unauthorized' : 'forbidden');
    // A page served somewhere the API is not gets HTML back: say so instead of a JSON parse error.
    if (!/json/.test(res.headers.get('content-type') || '')) throw new HttpError(res.status, `HTTP ${res.status} from ${path}, not JSON`);
    return res.json(); // /health answers 503 with a body when unhealthy
  }

  function badge(text, cls) {
    $('stream').textContent = text;
    $('stream').className = `badge ${cls}`;
  }

  // 401/403 is final (a reload with a good token is the fix), unlike a network error.
  function failed(err) {
    if (err instanceof HttpError && (err.status === 401 || err.status === 403)) {
      badge(err.message, 'unauth');
      $('summary').textContent = err.status === 401 ? 'missing or wrong token (HTTP 401): open the page with a valid ?token=' : 'this caller may not see this (HTTP 403)';
      document.body.classList.add('unauthorized');
      return true;
    }
    reportError('dashboard', { code: 'FETCH', message: err.message }, Date.now());
    return false;
  }

  async function loadHistory() {
    const h = await getJson('history');
    admin = h.admin === true;
    document.body.classList.toggle('admin', admin);
    for (const e of h.events) handle(e, false);
    for (const c of h.accounts) {
      const a = accountRow(c);
      for (const t of c.timeline) if (t.folder) folderRow({ ...c, folder: t.folder }).transitions = t.states.slice(-MAX_TRANSITIONS);
      Object.assign(a, { messagesToday: c.messagesToday, reconnects: c.reconnects, lastError: c.lastError, lastErrorAt: c.lastErrorAt });
      showCounters(a);
    }
    latency.push(...h.latency.slice(-MAX_SAMPLES));
    for (const m of h.perMinute) perMinute.set(Math.floor(m.at / 60000), m.count);
  }

  async function refresh() {
    try {
      const { accounts: list } = await getJson(admin ? 'idle/admin/all' : 'idle/status');
      const present = new Set();
      const live = new Set();
      for (const account of list) {
        accountRow(account);
        live.add(keyOf(account));
        for (const f of account.folders) {
          const e = { ...account, folder: f.folder };
          present.add(`${keyOf(e)}\0${f.folder}`);
          const row = folderRow(e);
          if (row.transitions.length === 0) noteTransition(row, Date.now(), f.state);
          setState(row, f.state, f.mode);
          if (f.lastError) reportError(`${who(e)}/${f.folder}`, f.lastError, Date.now());
        }
      }
      for (const [key, row] of folders) {
        if (!present.has(key)) {
          row.tr.remove();
          folders.delete(key);
        }
      }
      $('no-connections').hidden = folders.size > 0;
      // A removed account leaves the table; its events stay in the log.
      for (const [key, a] of accounts) {
        if (!live.has(key)) {
          a.cells.state.parentNode.remove();
          accounts.delete(key);
        }
      }
      $('no-accounts').hidden = accounts.size > 0;
      const h = await getJson('health');
      $('summary').textContent = `${h.isHealthy ? 'healthy' : 'degraded'} · ${h.idleConnections} idle · `
        + `pool ${h.pooledConnections}`
        + (h.activeSyncs === undefined ? '' : ` · syncs ${h.activeSyncs} active, ${h.pendingSyncs} pending`); // admins only
      draw();
      return true;
    } catch (err) {
      return !failed(err);
    }
  }

  function connect() {
    const stream = new EventSource(api('events'), { withCredentials: true });
    for (const type of TYPES) {
      stream.addEventListener(type, (msg) => {
        handle(summarize({ type, ...JSON.parse(msg.data) }), true);
        scheduleDraw();
      });
    }
    stream.onopen = () => {
      badge('live', 'live');
      refresh(); // catch up on whatever happened while the stream was down
    };
    stream.onerror = () => {
      // EventSource retries by itself after a network error, but gives up for
      // good on an HTTP error: ask the API why before trying again.
      if (stream.readyState !== EventSource.CLOSED) {
        badge('reconnecting…', 'down');
        return;
      }
      getJson('health').then(() => true, (err) => !failed(err)).then((retry) => {
        if (!retry) return;
        badge('reconnecting…', 'down');
        setTimeout(connect, 5000);
      });
    };
  }

  (async () => {
    try {
      await loadHistory();
    } catch (err) {
      if (failed(err)) return; // nothing to stream without credentials
    }
    if (!(await refresh())) return;
    connect();
    const timer = setInterval(async () => {
      if (!(await refresh())) clearInterval(timer);
    }, 15000);
  })();
})();
