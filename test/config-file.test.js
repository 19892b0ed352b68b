'use strict';

// lib/config-file.js finds JSON syntax errors itself, to report a line and
// column without quoting the text: it must agree with JSON.parse on what is
// valid, or a good config would be refused (or a bad one reach JSON.parse).

const { syntaxError } = require('../lib/config-file');

const SAMPLE = JSON.stringify({
  engine: { reconnect: { initialDelayMs: 1000, jitter: 0.2 }, sync: { initial: { last: -1e3 } } },
  accounts: [{ id: 'a\u00e9\\"x', host: 'h', port: 993, tls: 'implicit', user: 'u', pass: 'p\\u0041', fetchBodies: true, folders: ['INBOX', 'A/B'], x: null, y: false }],
}, null, 1);

const agrees = (text) => {
  let parses = true;
  try {
    JSON.parse(text);
  } catch {
    parses = false;
  }
  return (syntaxError(text) === null) === parses;
};

test('agrees with JSON.parse on every one-character deletion, insertion and replacement of a config', () => {
  const chars = ['"', "'", ',', ':', '{', '}', '[', ']', '\\', '\n', ' ', '0', '-', '.', 'e', 'u', 'n', 't', '\u0001'];
  const bad = [];
  for (let i = 0; i <= SAMPLE.length; i += 1) {
    const cases = [SAMPLE.slice(0, i) + SAMPLE.slice(i + 1)];
    for (const c of chars) cases.push(SAMPLE.slice(0, i) + c + SAMPLE.slice(i), SAMPLE.slice(0, i) + c + SAMPLE.slice(i + 1));
    for (const text of cases) if (!agrees(text)) bad.push(text);
  }
  expect(bad.slice(0, 3)).toEqual([]);
});

test.each([
  ['', 0], ['{', 1], ['{"a":1,}', 7], ['[1,]', 3], ['{"a" 1}', 5], ['"a\\x"', 3], ['01', 1], ['{"a":1} x', 8], ['tru', 0], ['\ufeff{}', 0],
])('%j: the error is at offset %d', (text, at) => {
  expect(syntaxError(text)).toMatchObject({ at });
});

test('valid JSON of every kind has no error', () => {
  for (const text of ['{}', '[]', '0', '9'.repeat(1000), '-0.5e+3', '"\\ud83d\\ude00"', ' null ', 'true', '[[[]]]', SAMPLE]) expect(syntaxError(text)).toBeNull();
});
