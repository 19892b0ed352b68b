'use strict';

// The benchmarks still run (a small version of each). Nothing here times
// anything: the numbers are printed, never asserted.

const { spawnSync } = require('child_process');
const path = require('path');

const ROOT = path.join(__dirname, '..');

test('bench/run.js --quick runs every main section and prints its tables', () => {
  const r = spawnSync(process.execPath, ['bench/run.js', '--quick', '--only', 'parser,latency,sync', '--no-write'], {
    cwd: ROOT, encoding: 'utf8', timeout: 240000,
  });
  const out = `${r.stdout}\n${r.stderr}`;
  expect(r.error).toBeUndefined();
  expect(r.status).toBe(0);
  expect(out).toMatch(/Parser throughput/);
  expect(out).toMatch(/Push latency/);
  expect(out).toMatch(/No-change sync/);
  expect(out).not.toMatch(/not measured/);
}, 250000);

test('bench/parse.js compares parseMessage with the JS parsers', () => {
  const r = spawnSync(process.execPath, ['bench/parse.js', '--quick'], { cwd: ROOT, encoding: 'utf8', timeout: 240000 });
  expect(r.status).toBe(0);
  expect(`${r.stdout}`).toMatch(/postal-mime/);
}, 250000);
