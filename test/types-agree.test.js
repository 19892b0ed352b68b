'use strict';

// The runtime against the .d.ts files (read with the TypeScript compiler API):
// option keys, the key sets of every event, notification item and method
// result, and the ErrorCode union, so a field added, renamed or dropped on one
// side only fails here. Event and result keys come from a real session against
// the mock server, never from a hand-written list: every sample of a type must
// have its required keys and no undeclared one, and across the samples every
// optional key must turn up at least once.
const fs = require('fs');
const path = require('path');
const { Readable } = require('stream');
const ts = require('typescript');
const { normalizeEngineOptions } = require('../lib/options');

const lib = path.join(__dirname, '..', 'lib');
const file = path.join(lib, 'index.d.ts');
const notifyFile = path.join(lib, 'notify.d.ts');
const testingFile = path.join(lib, 'testing.d.ts');
const program = ts.createProgram([file, notifyFile, testingFile], { strict: true, types: ['node'] });
const checker = program.getTypeChecker();
const exportsFrom = (f) => checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(f)));
const exportsOf = exportsFrom(file);
const notifyExports = exportsFrom(notifyFile);
const testingExports = exportsFrom(testingFile);
function typeOf(name, from = exportsOf) {
  const symbol = from.find((s) => s.getName() === name);
  if (!symbol) throw new Error(`no exported type ${name}`);
  return checker.getDeclaredTypeOfSymbol(symbol.getFlags() & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol);
}
// Keys typed `never` (undefined once optional) are declared only to be refused.
const live = (p) => !(checker.getTypeOfSymbol(p).flags & (ts.TypeFlags.Never | ts.TypeFlags.Undefined));
function keys(type) {
  return type.getProperties().filter(live).map((p) => p.getName()).sort();
}
const requiredKeys = (type) => type.getProperties().filter((p) => live(p) && !(p.getFlags() & ts.SymbolFlags.Optional))
  .map((p) => p.getName()).sort();
const propType = (type, name) => checker.getNonNullableType(checker.getTypeOfSymbol(checker.getPropertyOfType(type, name)));
const elementType = (type) => checker.getNonNullableType(type.getNumberIndexType());
/** What a method's promise resolves with (or what it returns, for a synchronous one). */
function resultType(method, overload = 0) {
  const sig = checker.getSignaturesOfType(propType(typeOf('MailEngine'), method), ts.SignatureKind.Call)[overload];
  const ret = sig.getReturnType();
  return checker.getNonNullableType(checker.getAwaitedType(ret) || ret);
}

// ---- comparing runtime samples with declared types ---------------------

// A plain object of any realm: Jest runs this file in a context of its own, and
// what the addon makes (N-API) has the outer context's Object.prototype.
function isPlain(v) {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/**
 * Collects samples per declared type, wherever it turns up ('newMessage',
 * 'newMessage.envelope.from[]', a BodyStructure's childNodes), descending into
 * plain objects and arrays of them. Records (string or number index, no
 * properties) are checked value by value.
 */
class Samples {
  constructor() {
    this.types = new Map(); // type -> { places, samples }
  }

  add(place, type, value) {
    if (Array.isArray(value)) {
      const elem = type.getNumberIndexType();
      if (elem) value.forEach((v) => this.add(`${place}[]`, checker.getNonNullableType(elem), v));
      return;
    }
    if (!isPlain(value)) return; // Date, Buffer, ImapPushError, a string...
    const index = type.getStringIndexType() || type.getNumberIndexType();
    if (index && type.getProperties().length === 0) {
      for (const v of Object.values(value)) this.add(`${place}{}`, checker.getNonNullableType(index), v);
      return;
    }
    let entry = this.types.get(type);
    if (!entry) this.types.set(type, (entry = { places: new Set(), samples: [] }));
    entry.places.add(place);
    entry.samples.push(Object.keys(value).sort());
    for (const [k, v] of Object.entries(value)) {
      if (checker.getPropertyOfType(type, k)) this.add(`${place}.${k}`, propType(type, k), v);
    }
  }

  /** One line per disagreement; [] when the runtime and the types agree. */
  problems() {
    const out = [];
    for (const [type, { places, samples }] of this.types) {
      const place = `${checker.typeToString(type)} (${[...places].join(', ')})`;
      const declared = keys(type);
      const required = requiredKeys(type);
      const seen = new Set(samples.flat());
      for (const k of seen) if (!declared.includes(k)) out.push(`${place}: runtime key '${k}' is not declared`);
      for (const k of declared) if (!seen.has(k)) out.push(`${place}: declared key '${k}' never appeared at runtime`);
      for (const k of required) {
        const without = samples.filter((s) => !s.includes(k)).length;
        if (without) out.push(`${place}: required key '${k}' missing in ${without} of ${samples.length} samples`);
      }
    }
    return out.sort();
  }
}

// ---- options ------------------------------------------------------------

test('account option keys: exactly the ones the runtime accepts', () => {
  const { normalizeAccount, ACCOUNT_KEYS } = require('../lib/options');
  // Each credential is its own union member; together they name every key.
  const typed = [...new Set(typeOf('AccountOptions').types.flatMap(keys))].sort();
  expect(typed).toEqual([...ACCOUNT_KEYS].sort());
  const base = { id: 'a', host: 'h', user: 'u', pass: 'p' };
  for (const k of ['pool', 'sync', 'stateFile', 'notifications', 'auth', 'maxQueuedEvents']) {
    expect(() => normalizeAccount({ ...base, [k]: {} }, normalizeEngineOptions({}))).toThrow(/is not a known option/);
  }
});

test('engine option keys agree, section by section', () => {
  const { ENGINE_KEYS } = require('../lib/options');
  const { NOTIFICATION_DEFAULTS } = require('../lib/notify');
  const engine = typeOf('EngineOptions');
  expect(keys(engine)).toEqual([...ENGINE_KEYS].sort());
  expect(() => normalizeEngineOptions({ fetchBodies: true })).toThrow(/fetchBodies/);
  // Each section's defaults name exactly the keys it accepts.
  const normalized = normalizeEngineOptions({});
  for (const section of ['idle', 'keepalive', 'reconnect', 'timeouts', 'auth', 'pool', 'sync', 'folders']) {
    expect([section, keys(propType(engine, section))]).toEqual([section, Object.keys(normalized[section]).sort()]);
  }
  expect(keys(propType(propType(engine, 'sync'), 'initial'))).toEqual(Object.keys(normalized.sync.initial).sort());
  expect(keys(propType(engine, 'notifications'))).toEqual(Object.keys(NOTIFICATION_DEFAULTS).sort());
});

// ---- error codes --------------------------------------------------------

// The codes the engine's errors can carry: those the C++ reports (the first
// argument of its failure callbacks, or a ternary's arms there; errorCode
// assignments; the binding's err.Set("code", ...)) and those lib/ creates in
// the modules MailEngine is made of.
function cppCodes() {
  const files = [];
  const walk = (dir) => {
    for (const name of fs.readdirSync(dir)) {
      const p = path.join(dir, name);
      if (fs.statSync(p).isDirectory()) walk(p);
      else if (/\.(cpp|h|cc)$/.test(name)) files.push(p);
    }
  };
  walk(path.join(__dirname, '..', 'src'));
  walk(path.join(__dirname, '..', 'binding'));
  const codes = new Set();
  const call = /\b(?:fail|error|failNow|finish|answer|lost|done|finishWith|lease)\(\s*(?:(?:\*?out|nullptr|\{\}|done)\s*,\s*)*([^;]*?)"([A-Z][A-Z_]+)"\s*(?::\s*"([A-Z][A-Z_]+)"\s*)?,/g;
  const underscored = new Set();
  for (const f of files) {
    const text = fs.readFileSync(f, 'utf8').replace(/\/\/.*$/gm, '');
    let m;
    while ((m = call.exec(text))) {
      call.lastIndex = m.index + 1; // a call inside another call's arguments
      if (m[1] && !/\?\s*$/.test(m[1])) continue;
      codes.add(m[2]);
      if (m[3]) codes.add(m[3]);
    }
    for (const re of [/errorCode\s*=\s*"([A-Z][A-Z_]+)"/g, /Set\("code",\s*"([A-Z][A-Z_]+)"\)/g]) {
      while ((m = re.exec(text))) codes.add(m[1]);
    }
    // Every CODE_LIKE literal outside a table ({"SHIFT_JIS", ...}) must have been found above.
    for (const lit of text.matchAll(/([{]?)\s*"([A-Z]+_[A-Z_]+)"/g)) if (!lit[1]) underscored.add(lit[2]);
  }
  return { codes, unmatched: [...underscored].filter((c) => !codes.has(c)) };
}

function jsCodes() {
  const seen = new Set();
  const codes = new Set();
  const visit = (f) => {
    if (seen.has(f)) return;
    seen.add(f);
    const text = fs.readFileSync(f, 'utf8');
    for (const m of text.matchAll(/new ImapPushError\(\s*'([A-Z][A-Z_]+)'/g)) codes.add(m[1]);
    for (const m of text.matchAll(/require\('\.\/([\w./-]+)'\)/g)) visit(require.resolve(path.join(path.dirname(f), m[1])));
  };
  visit(path.join(lib, 'index.js'));
  return codes;
}

test('the ErrorCode union is exactly the codes the runtime can emit', () => {
  const { codes, unmatched } = cppCodes();
  expect(unmatched).toEqual([]);
  expect(codes.size).toBeGreaterThan(10);
  const runtime = [...new Set([...codes, ...jsCodes()])].sort();
  const declared = typeOf('ErrorCode').types.map((t) => t.value).sort();
  expect(declared).toEqual(runtime);
});

// ---- events and results, from a real session ---------------------------

describe('events and results of a session against the mock server', () => {
  const { MailEngine, parseMessage } = require('..');
  const { Notifier } = require('../lib/notify');
  const { graphHandler } = require('../lib/push');
  const { MockImapServer } = require('imap-push/testing');
  const { waitForEvent, waitUntil } = require('./support/wait');

  const samples = new Samples();
  const events = {}; // name -> payloads
  const items = {}; // notification type -> items
  const eventTypes = typeOf('MailEngineEvents');
  const payloadType = (name) => checker.getTypeArguments(propType(eventTypes, name))[0];
  const noteItem = (item) => (items[item.type] = items[item.type] || []).push(item);

  const MULTIPART = [
    'From: Ann Example <ann@example.com>', 'To: bob@example.com', 'Cc: cy@example.com', 'Subject: agree multipart',
    'Message-ID: <agree-1@example.com>', 'In-Reply-To: <agree-0@example.com>', 'References: <agree-0@example.com>',
    'Date: Mon, 7 Dec 2026 10:00:00 +0000', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary=b1', '',
    '--b1', 'Content-Type: text/plain; charset=utf-8', '', 'the text part of the message', '',
    '--b1', 'Content-Type: image/png; name=dot.png', 'Content-Disposition: attachment; filename=dot.png',
    'Content-Transfer-Encoding: base64', 'Content-ID: <dot@example.com>', '', 'iVBORw0KGgo=', '--b1--', '',
  ].join('\r\n');

  let server;
  let engine;
  let spare;
  const results = {}; // method -> results

  beforeAll(async () => {
    server = new MockImapServer({ users: { u: 'p' } });
    await server.listen();
    server.createMailbox('Archive');
    server.setQuota({ STORAGE: 1000, MESSAGE: 100 });
    engine = new MailEngine({
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
      idle: { refreshMs: 400 },
      notifications: { preview: 40, healthIntervalMs: 100, batchIntervalMs: 10 },
    });
    for (const name of eventTypes.getProperties().map((p) => p.getName())) {
      engine.on(name, (payload) => (events[name] = events[name] || []).push(payload));
    }
    engine.subscribe({}, noteItem);
    engine.on('batch', (list) => list.forEach(noteItem));
    const aborted = new AbortController();
    const iterated = (async () => {
      for await (const item of engine.events({ signal: aborted.signal })) noteItem(item);
    })();
    // A second notifier whose iterator holds one item and merges the rest into folderUpdated.
    spare = new Notifier(engine, { maxQueue: 1, healthIntervalMs: 0 });
    const backlog = spare.events({ events: ['newMessage', 'flagsChanged', 'messageDeleted'] });

    results.addAccount = [await engine.addAccount({
      id: 'a', host: '127.0.0.1', port: server.port, tls: 'none', allowInsecureAuth: true, user: 'u', pass: 'p',
      fetchBodies: true, folders: ['INBOX', 'Archive'],
    })];
    await waitUntil(() => events.syncCompleted, 10000, 'the first sync');

    // Pushed while idle: preview, message, pushLatencyMs and (CONDSTORE) modseq.
    const pushed = waitForEvent(engine, 'newMessage', (m) => m.envelope.subject === 'agree multipart');
    server.appendMessage('INBOX', { raw: Buffer.from(MULTIPART) });
    const { uid } = await pushed;
    const flagged = waitForEvent(engine, 'flagsChanged');
    server.setFlags('INBOX', uid, ['\\Seen']);
    await flagged;
    await waitUntil(() => events.idleRefreshed && events.folderChanged, 10000, 'idleRefreshed and folderChanged');

    results.folderStatus = [await engine.folderStatus('a', 'INBOX')];
    results.listFolders = [await engine.listFolders('a')];
    results.status = [engine.status('a'), ...engine.status()];
    results.poolStats = [engine.poolStats(), engine.poolStats('a')];
    results.syncStats = [engine.syncStats()];
    results.health = [engine.health()];
    results.fetchMessage = [await engine.fetchMessage('a', 'INBOX', uid)];
    results.addFlags = [await engine.addFlags('a', 'INBOX', uid, ['\\Flagged'])];
    results.removeFlags = [await engine.removeFlags('a', 'INBOX', uid, ['\\Flagged'])];
    results.setFlags = [await engine.setFlags('a', 'INBOX', uid, ['\\Seen'])];
    results.copy = [await engine.copy('a', 'INBOX', uid, 'Archive')];
    results.append = [await engine.append('a', 'INBOX', 'Subject: appended\r\n\r\nbody\r\n')];
    results.move = [await engine.move('a', 'INBOX', results.append[0].uid, 'Archive')];
    results.createFolder = [await engine.createFolder('a', 'Tmp')];
    results.subscribeFolder = [await engine.subscribeFolder('a', 'Tmp')];
    results.unsubscribeFolder = [await engine.unsubscribeFolder('a', 'Tmp')];
    results.renameFolder = [await engine.renameFolder('a', 'Tmp', 'Tmp2')];
    results.deleteFolder = [await engine.deleteFolder('a', 'Tmp2')];
    results.quota = [await engine.quota('a')];
    results.messages = [];
    for await (const m of engine.messages('a', 'INBOX', { fields: ['bodyStructure', 'headers'] })) results.messages.push(m);
    const part = await engine.downloadPart('a', 'INBOX', uid, '2');
    part.resume();
    results.downloadPart = [part];
    results.sync = [await engine.sync('a', { folders: ['INBOX', 'NoSuchFolder'] })];
    results.syncAll = [await engine.syncAll()];
    results.parseMessage = [await parseMessage(MULTIPART), await parseMessage('Subject: plain\r\n\r\nhi\r\n')];

    // A provider push, through the webhook handler the router mounts.
    const handler = graphHandler(engine, { subscriptions: { s1: { accountId: 'a', clientState: 'cs' } } }, () => {});
    const res = { status: () => res, end: () => res };
    const synced = events.syncCompleted.length;
    handler({ query: {}, body: { value: [{ subscriptionId: 's1', clientState: 'cs' }] } }, res);
    await waitUntil(() => events.push && events.syncCompleted.length > synced, 10000, 'push and its sync');

    results.deleteMessages = [await engine.deleteMessages('a', 'Archive', results.move[0].uidMap[results.append[0].uid])];
    const deleted = waitForEvent(engine, 'messageDeleted', (e) => e.folder === 'INBOX');
    server.expunge('INBOX', uid);
    await deleted;

    // A drop: connectionStatus with error, attempt and retryInMs; lost and restored.
    const restored = waitForEvent(engine, 'connectionRestored');
    server.failNextConnections(1);
    server.dropAll();
    await restored;
    await waitUntil(() => engine.status('a').folders.every((f) => f.state === 'idle'), 10000, 'idle again');
    results.status.push(engine.status('a'));
    results.health.push(engine.health());

    const reset = waitForEvent(engine, 'folderReset');
    server.setUidValidity('INBOX', 4242);
    await reset;
    await waitUntil(() => engine.status('a').folders.every((f) => f.state === 'idle'), 10000, 'idle after the reset');
    await waitUntil(() => events.healthCheck && events.healthCheck.length > 0, 10000, 'healthCheck');
    await new Promise((r) => setTimeout(r, 50)); // the last batch

    // What the spare iterator holds (stop() would drop it): whatever next() has at once.
    for (;;) {
      const item = await Promise.race([backlog.next(), new Promise((r) => setImmediate(() => r(null)))]);
      if (!item || item.done) break;
      noteItem(item.value);
    }
    aborted.abort();
    await iterated;
  }, 60000);

  afterAll(async () => {
    if (spare) spare.stop();
    if (engine) await engine.close();
    if (server) await server.close();
  });

  test('every event in MailEngineEvents was seen, and the runtime emits no other', () => {
    const declared = eventTypes.getProperties().map((p) => p.getName()).sort();
    expect(Object.keys(events).sort()).toEqual(declared);
    const { EVENT_TYPES } = require('../lib/notify');
    const noteTypes = checker.getPropertiesOfType(typeOf('NotificationPayloads', notifyExports)).map((p) => p.getName());
    expect([...EVENT_TYPES].sort()).toEqual(noteTypes.sort());
  });

  test('event payload keys agree with MailEngineEvents', () => {
    const s = new Samples();
    for (const [name, payloads] of Object.entries(events)) {
      if (name === 'batch') continue; // its items are checked with the notifications
      for (const p of payloads) s.add(name, payloadType(name), p);
    }
    expect(s.problems()).toEqual([]);
  });

  test('connectionStatus carried attempt and retryInMs, taken from real events', () => {
    expect(events.connectionStatus.some((e) => e.attempt >= 1 && e.retryInMs >= 0 && e.error)).toBe(true);
    const pushed = events.newMessage.find((m) => m.pushLatencyMs !== undefined);
    expect(pushed).toMatchObject({ preview: expect.any(String), message: expect.any(Object) });
  });

  test('notification items (subscribe, events(), batch, folderUpdated) agree with notify.d.ts', () => {
    const s = new Samples();
    const byType = new Map();
    for (const member of typeOf('NotificationItem', notifyExports).types) {
      byType.set(checker.getTypeOfSymbol(checker.getPropertyOfType(member, 'type')).value, member);
    }
    byType.set('folderUpdated', typeOf('FolderUpdatedItem', notifyExports));
    expect(Object.keys(items).sort()).toEqual([...byType.keys()].sort());
    for (const [type, list] of Object.entries(items)) for (const item of list) s.add(`item:${type}`, byType.get(type), item);
    expect(s.problems()).toEqual([]);
  });

  test('method results agree with their declared return types', () => {
    const s = new Samples();
    const overload = { status: 1 }; // status(id)
    for (const [method, list] of Object.entries(results)) {
      if (['messages', 'downloadPart', 'parseMessage'].includes(method)) continue;
      const type = method === 'syncAll' ? elementType(resultType(method)) : resultType(method, overload[method]);
      for (const r of method === 'syncAll' ? list.flat() : list) s.add(`${method}()`, type, r);
    }
    for (const m of results.messages) s.add('messages()', typeOf('ListedMessage'), m);
    const parseType = checker.getAwaitedType(checker.getSignaturesOfType(
      checker.getTypeOfSymbol(exportsOf.find((x) => x.getName() === 'parseMessage')), ts.SignatureKind.Call)[0].getReturnType());
    for (const p of results.parseMessage) s.add('parseMessage()', parseType, p);
    expect(s.problems()).toEqual([]);
    expect(results.messages.some((m) => m.bodyStructure && m.bodyStructure.childNodes)).toBe(true);
  });

  test('downloadPart: the PartStream members beyond a Readable', () => {
    const partStream = resultType('downloadPart');
    const own = partStream.getProperties()
      .filter((p) => (p.getDeclarations() || []).some((d) => d.getSourceFile().fileName === file))
      .map((p) => p.getName()).sort();
    const plain = new Set(Object.keys(Readable.from([Buffer.alloc(1)], { objectMode: false })));
    expect(Object.keys(results.downloadPart[0]).filter((k) => !plain.has(k)).sort()).toEqual(own);
  });
});

describe('imap-push/testing', () => {
  const testing = require('imap-push/testing');

  test('MockImapServer option keys: exactly the ones its constructor accepts', () => {
    const { MOCK_OPTION_KEYS } = require('../lib/testing/mock-options');
    expect(keys(typeOf('MockImapServerOptions', testingExports))).toEqual([...MOCK_OPTION_KEYS].sort());
    expect(() => new testing.MockImapServer({ userz: {} })).toThrow(TypeError);
  });

  test('every declared MockImapServer member exists, and every public method is declared', async () => {
    // Members the class declares itself; EventEmitter's come from @types/node.
    const declared = typeOf('MockImapServer', testingExports).getProperties()
      .filter((p) => (p.getDeclarations() || []).some((d) => d.getSourceFile().fileName === testingFile))
      .map((p) => p.getName()).sort();
    const server = new testing.MockImapServer();
    await server.listen(); // port exists once listening
    try {
      expect(declared.filter((name) => !(name in server))).toEqual([]);
      const methods = Object.getOwnPropertyNames(testing.MockImapServer.prototype)
        .filter((n) => n !== 'constructor' && !n.startsWith('_'));
      expect(methods.filter((n) => !declared.includes(n))).toEqual([]);
    } finally {
      await server.close();
    }
  });

  test('the module exports the values testing.d.ts declares', () => {
    const values = testingExports.filter((s) => s.getFlags() & ts.SymbolFlags.Value).map((s) => s.getName());
    expect(Object.keys(testing).sort()).toEqual(values.sort());
  });
});
