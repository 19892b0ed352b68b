#!/usr/bin/env node
'use strict';

// Sanitizer runs, each build in its own git-ignored directory:
//   node scripts/sanitize.js              ctest under ASan+UBSan and under TSan, then
//                                         the ASan addon running the engine's Jest suites
//   node scripts/sanitize.js --cpp        the two ctest runs only
//   node scripts/sanitize.js --addon      the ASan addon Jest run only
//   node scripts/sanitize.js --leakcheck  the full leak check (10,000 / 1,000 cycles),
//                                         on the release addon, then under ASan
// Debian's default c++ (gcc) builds everything: its libasan is the one
// preloaded into node.

const { spawnSync, execFileSync } = require('child_process');
const path = require('path');
const fs = require('fs');

const root = path.join(__dirname, '..');
const supp = (name) => path.join(root, 'test', 'sanitize', name);
const args = process.argv.slice(2);
const modes = ['--cpp', '--addon', '--leakcheck'].filter((m) => args.includes(m));
const want = (m) => (modes.length === 0 ? m !== '--leakcheck' : modes.includes(m));

// The suites that drive the addon from node alone. The preload reaches every
// child process too: suites that start Chromium or `ip netns` stay out.
const ADDON_SUITES = ['engine', 'reliability', 'hostile', 'lifecycle', 'leak', 'loop-close', 'sync', 'push',
  'liveness', 'fetch-message', 'protocol-edge', 'parse-message', 'dovecot', 'actions', 'differential',
  'copy-search', 'mailbox', 'messages', 'download-part', 'folder-events', 'context-aware'].map((s) => `test/${s}.test.js`);
const FULL_LEAK = { LEAK_ACCOUNT_CYCLES: '10000', LEAK_ENGINE_CYCLES: '1000' };

// halt_on_error everywhere: a report is a failure, not a log line.
const UBSAN = 'print_stacktrace=1:halt_on_error=1';
const ASAN = 'detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1';

function run(cmd, cmdArgs, env = {}) {
  const shown = Object.entries(env).map(([k, v]) => `${k}=${v} `).join('');
  process.stdout.write(`\n$ ${shown}${cmd} ${cmdArgs.join(' ')}\n`);
  const started = Date.now();
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    process.stderr.write(`sanitize: '${cmd} ${cmdArgs.join(' ')}' failed (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status || 1);
  }
  process.stdout.write(`sanitize: done in ${Math.round((Date.now() - started) / 1000)} s\n`);
}

function ctest(dir, sanitizer, env) {
  const build = path.join(root, dir);
  run('cmake', ['-S', '.', '-B', build, '-DIMAP_PUSH_TESTS=ON', '-DCMAKE_BUILD_TYPE=RelWithDebInfo',
    `-DIMAP_PUSH_SANITIZE=${sanitizer}`]);
  run('cmake', ['--build', build, '--parallel', '2']);
  run('ctest', ['--test-dir', build, '--output-on-failure', '--timeout', '600'], env);
}

function asanAddon() {
  run(process.execPath, [require.resolve('cmake-js/bin/cmake-js'), 'compile', '--out', 'build-asan-addon',
    '--parallel', '2', '--CDIMAP_PUSH_SANITIZE=address', '--CDCMAKE_BUILD_TYPE=RelWithDebInfo']);
  const addon = path.join(root, 'build-asan-addon', 'Release', 'imap_push.node');
  if (!fs.existsSync(addon)) throw new Error(`sanitize: ${addon} was not built`);
  return {
    IMAP_PUSH_ADDON: addon,
    // ASan must come first in the process; node itself is not instrumented.
    LD_PRELOAD: execFileSync('gcc', ['-print-file-name=libasan.so']).toString().trim(),
    ASAN_OPTIONS: ASAN,
    UBSAN_OPTIONS: UBSAN,
    LSAN_OPTIONS: `suppressions=${supp('lsan.supp')}:print_suppressions=0`,
  };
}

function jest(files, env, nodeFlags = []) {
  run(process.execPath, [...nodeFlags, require.resolve('jest/bin/jest'), '--runInBand', ...files], env);
}

if (want('--cpp')) {
  ctest('build-asan', 'address', { ASAN_OPTIONS: ASAN, UBSAN_OPTIONS: UBSAN });
  ctest('build-tsan', 'thread', {
    TSAN_OPTIONS: `halt_on_error=1:second_deadlock_stack=1:suppressions=${supp('tsan.supp')}`,
  });
}

if (want('--addon')) jest(ADDON_SUITES, asanAddon());

if (want('--leakcheck')) {
  if (!fs.existsSync(path.join(root, 'build', 'Release', 'imap_push.node'))) run('npm', ['run', 'build']);
  jest(['test/leak.test.js'], { ...FULL_LEAK }, ['--expose-gc']);
  // Under ASan the RSS bound is wider: its quarantine holds freed memory
  // until it is full. LeakSanitizer's report at exit is the check there.
  jest(['test/leak.test.js'], { ...asanAddon(), ...FULL_LEAK, LEAK_RSS_GROWTH_MB: '300' }, ['--expose-gc']);
}
