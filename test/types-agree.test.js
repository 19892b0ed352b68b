'use strict';

// The runtime's accepted option keys and its newMessage payload keys, against
// the keys the .d.ts declares (read with the TypeScript compiler API), so an
// option or field added on one side only fails here.
const path = require('path');
const ts = require('typescript');
const { newMessage } = require('../lib/events');
const { normalizeEngineOptions } = require('../lib/options');

const file = path.join(__dirname, '..', 'lib', 'index.d.ts');
const testingFile = path.join(__dirname, '..', 'lib', 'testing.d.ts');
const program = ts.createProgram([file, testingFile], { strict: true, types: ['node'] });
const checker = program.getTypeChecker();
const exportsFrom = (f) => checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(f)));
const exportsOf = exportsFrom(file);
const testingExports = exportsFrom(testingFile);
const typeOf = (name, from = exportsOf) => checker.getDeclaredTypeOfSymbol(from.find((s) => s.getName() === name));
// Keys typed `never` (undefined once optional) are declared only to be refused.
function keys(type) {
  return type.getProperties()
    .filter((p) => !(checker.getTypeOfSymbol(p).flags & (ts.TypeFlags.Never | ts.TypeFlags.Undefined)))
    .map((p) => p.getName()).sort();
}

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

test('engine option keys agree', () => {
  const typed = keys(typeOf('EngineOptions'));
  for (const k of typed) expect(() => normalizeEngineOptions({ [k]: undefined })).not.toThrow();
  expect(() => normalizeEngineOptions({ fetchBodies: true })).toThrow(/fetchBodies/);
});

test('newMessage payload keys agree with NewMessageEvent and Envelope', () => {
  const m = newMessage('a', 'INBOX', 1, 1, 1, [], 1, null, 5, 's', [], [], [], [], [], [], null, null, null);
  // preview, message and pushLatencyMs are set by the binding after this builder (convert.cc newMessageToJs).
  const runtime = [...Object.keys(m), 'preview', 'message', 'pushLatencyMs'].sort();
  expect(runtime).toEqual(keys(typeOf('NewMessageEvent')));
  expect(Object.keys(m.envelope).sort()).toEqual(keys(typeOf('Envelope')));
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

test('folderChanged, folderStatus, connectionLost and connectionRestored payload keys agree with their types', async () => {
  const { MailEngine } = require('..');
  const { MockImapServer } = require('imap-push/testing');
  const { waitForEvent } = require('./support/wait');
  const server = new MockImapServer({ users: { u: 'p' } });
  await server.listen();
  const engine = new MailEngine({ reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
  try {
    await engine.addAccount({ id: 'a', host: '127.0.0.1', port: server.port, tls: 'none', allowInsecureAuth: true, user: 'u', pass: 'p' });
    const changed = waitForEvent(engine, 'folderChanged');
    server.appendMessage('INBOX', { subject: 'x' });
    expect(Object.keys(await changed).sort()).toEqual(keys(typeOf('FolderCounts')));
    expect(Object.keys(await engine.folderStatus('a', 'INBOX')).sort()).toEqual(keys(typeOf('FolderCounts')));
    const lost = waitForEvent(engine, 'connectionLost');
    const restored = waitForEvent(engine, 'connectionRestored');
    server.dropAll();
    expect(Object.keys(await lost).sort()).toEqual(keys(typeOf('ConnectionLostEvent')));
    expect(Object.keys(await restored).sort()).toEqual(keys(typeOf('ConnectionRestoredEvent')));
  } finally {
    await engine.close();
    await server.close();
  }
});
