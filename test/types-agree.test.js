'use strict';

// The runtime's accepted option keys and its newMessage payload keys, against
// the keys the .d.ts declares (read with the TypeScript compiler API), so an
// option or field added on one side only fails here.
const path = require('path');
const ts = require('typescript');
const { newMessage } = require('../lib/events');
const { normalizeEngineOptions } = require('../lib/options');

const file = path.join(__dirname, '..', 'lib', 'index.d.ts');
const program = ts.createProgram([file], { strict: true, types: ['node'] });
const checker = program.getTypeChecker();
const exportsOf = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(file)));
const typeOf = (name) => checker.getDeclaredTypeOfSymbol(exportsOf.find((s) => s.getName() === name));
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
  // preview and message are set by the binding after this builder (convert.cc newMessageToJs).
  const runtime = [...Object.keys(m), 'preview', 'message'].sort();
  expect(runtime).toEqual(keys(typeOf('NewMessageEvent')));
  expect(Object.keys(m.envelope).sort()).toEqual(keys(typeOf('Envelope')));
});
