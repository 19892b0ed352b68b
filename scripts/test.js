#!/usr/bin/env node
'use strict';

// The one test command: C++ unit tests (GoogleTest through ctest), then the
// Jest suite against the mock server and a real Dovecot.
//   node scripts/test.js          everything
//   node scripts/test.js --cpp    C++ only
//   node scripts/test.js --js     Jest only (extra args go to Jest)

const { spawnSync } = require('child_process');
const path = require('path');
const fs = require('fs');

const root = path.join(__dirname, '..');
const args = process.argv.slice(2);
const only = args.includes('--cpp') ? 'cpp' : args.includes('--js') ? 'js' : null;
const passThrough = args.filter((a) => a !== '--cpp' && a !== '--js');

function run(cmd, cmdArgs) {
  process.stdout.write(`\n$ ${cmd} ${cmdArgs.join(' ')}\n`);
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit' });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    process.stderr.write(`test: '${cmd} ${cmdArgs.join(' ')}' failed (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status || 1);
  }
}

// On a bare Debian machine, the packages the tests need (installed as root).
if (!require('./setup').ensure(require('./setup').TEST)) process.exit(1);

if (only !== 'js') {
  const dir = path.join(root, 'build-tests');
  run('cmake', ['-S', '.', '-B', dir, '-DIMAP_PUSH_TESTS=ON', '-DCMAKE_BUILD_TYPE=RelWithDebInfo']);
  run('cmake', ['--build', dir, '--parallel', '2']);
  run('ctest', ['--test-dir', dir, '--output-on-failure', '--timeout', '120']);
}

if (only !== 'cpp') {
  if (!fs.existsSync(path.join(root, 'build', 'Release', 'imap_push.node'))) run('npm', ['run', 'build:source']);
  // The tests are of the sources: a prebuild left in prebuilds/ by npm run
  // prebuild would otherwise be loaded first (lib/binding.js).
  process.env.IMAP_PUSH_ADDON = process.env.IMAP_PUSH_ADDON || path.join(root, 'build', 'Release', 'imap_push.node');
  run(process.execPath, [require.resolve('jest/bin/jest'), '--runInBand', ...passThrough]);
}
