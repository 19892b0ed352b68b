'use strict';

// What `npm pack` ships: lib/bin/binding and the build inputs, and none of the
// project's tests. src/ is checked by kind rather than by name
// so a file split inside src/ does not need this list touched.
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { prebuildFile } = require('../lib/platform');

const EXPECTED_OUTSIDE_SRC = [
  'CMakeLists.txt', 'LICENSE', 'README.md', 'bin/imap-push.js',
  'binding/addon.cc', 'binding/convert.cc', 'binding/convert.h', 'binding/decode_fetch.cc', 'binding/keys.cc',
  'binding/exports.map', 'binding/keys.h', 'binding/mime_convert.cc', 'binding/mime_convert.h',
  'lib/binding.js', 'lib/dashboard.html', 'lib/errors.js', 'lib/events.js', 'lib/express.d.ts', 'lib/express.js',
  'lib/http.js', 'lib/index.d.ts', 'lib/index.js', 'lib/jwt.js', 'lib/metrics.js', 'lib/mime.d.ts', 'lib/mime.js',
  'lib/notify.d.ts', 'lib/notify.js', 'lib/options.js', 'lib/push.js', 'lib/actions.js', 'lib/logger.js', 'lib/platform.js', 'scripts/install.js',
  'package.json', 'prebuilds/README.md',
  // The demo (bin/imap-push.js) runs the mock server from here until it moves to lib/testing (issue 12 item 5).
  ...['assert-loop-close', 'blackhole-child', 'certs', 'dovecot-watchdog', 'dovecot', 'http', 'imap-syntax', 'mime',
    'mock-imap-search', 'mock-imap-server', 'mock-imap-session', 'notifier', 'raw-client', 'script-server', 'wait']
    .map((n) => `test/support/${n}.js`),
];

test('npm pack --dry-run ships exactly the expected files', () => {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: path.join(__dirname, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
  const files = JSON.parse(out)[0].files.map((f) => f.path).sort();
  // A prebuild (npm run prebuild) ships when one has been made.
  const prebuilt = fs.existsSync(path.join(__dirname, '..', prebuildFile())) ? [prebuildFile()] : [];
  expect(files.filter((f) => !f.startsWith('src/'))).toEqual([...EXPECTED_OUTSIDE_SRC, ...prebuilt].sort());
  const src = files.filter((f) => f.startsWith('src/'));
  expect(src.length).toBeGreaterThan(0);
  expect(src.filter((f) => !/\.(cpp|h)$|\/README\.md$/.test(f))).toEqual([]);
}, 120000);
