'use strict';

// tsd (its own TypeScript, @tsd/typescript, strict, no skipLibCheck) on the public .d.ts files:
// test/types/tsd/*.test-d.ts pin the exact types of method results and event payloads (expectType) and
// what must not compile (expectError, expectNotAssignable): engine-wide options on an account, wrong option
// types, unknown events, search keys and misspelt options. test/types.test.js keeps the tsc --strict
// compile of consumer.ts and its @ts-expect-error lines; this is the finer-grained half.
//
// tsd reports an expectError that finds no error, a type that is only assignable where expectType wants it
// identical, and any plain compile error in the files or in lib/*.d.ts. test/types/tsd-fail/wrong.test-d.ts
// is run alone to show that each of those is reported.
const fs = require('fs');
const path = require('path');
const tsd = require('tsd').default;
const { formatter } = require('tsd');

const root = path.join(__dirname, '..');
const typingsFile = 'lib/index.d.ts';

const where = (d) => `${path.relative(root, d.fileName)}:${d.line}:${d.column}`;
const show = (diagnostics) => diagnostics.map((d) => `${where(d)} ${d.message}`).join('\n');

test('tsd: every assertion in test/types/tsd holds', async () => {
  const testFiles = fs.readdirSync(path.join(__dirname, 'types', 'tsd')).filter((f) => f.endsWith('.test-d.ts'));
  expect(testFiles.length).toBeGreaterThanOrEqual(4);
  const diagnostics = await tsd({ cwd: root, typingsFile, testFiles: ['test/types/tsd/*.test-d.ts'] });
  if (diagnostics.length) console.error(formatter(diagnostics));
  expect(show(diagnostics)).toBe('');
}, 180000);

test('tsd: a deliberately wrong file yields a diagnostic on exactly its marked lines', async () => {
  const file = path.join(__dirname, 'types', 'tsd-fail', 'wrong.test-d.ts');
  const marked = fs.readFileSync(file, 'utf8').split('\n')
    .map((line, i) => (/\/\/ must fail\b/.test(line) ? i + 1 : 0)).filter(Boolean);
  expect(marked.length).toBeGreaterThanOrEqual(8);
  const diagnostics = await tsd({ cwd: root, typingsFile, testFiles: [path.relative(root, file)] });
  expect(diagnostics.every((d) => d.fileName === file)).toBe(true);
  expect([...new Set(diagnostics.map((d) => d.line))].sort((a, b) => a - b)).toEqual(marked);
  // One of each kind tsd reports, in its own words.
  const text = show(diagnostics);
  expect(text).toMatch(/is declared too wide for argument type/);
  expect(text).toMatch(/Expected an error, but found none/);
  expect(text).toMatch(/is assignable to parameter of type `AccountOptions`/);
  expect(text).toMatch(/to be marked as `@deprecated`/);
  expect(text).toMatch(/Type '\{\}' is not assignable to type 'undefined'/);
}, 180000);
