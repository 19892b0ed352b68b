'use strict';

// The public .d.ts files must compile under --strict without skipLibCheck, and
// test/types/consumer.ts's @ts-expect-error lines must each be a real error
// (tsc fails on an unused directive), so a type that loosens is caught too.
const { execFileSync } = require('child_process');
const path = require('path');

const tsc = require.resolve('typescript/bin/tsc');

test('consumer.ts compiles with tsc --strict and every expected error happens', () => {
  let out = '';
  try {
    execFileSync(process.execPath, [tsc, '-p', path.join(__dirname, 'types')], { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    out = `${err.stdout}${err.stderr}`;
  }
  expect(out).toBe('');
}, 120000);
