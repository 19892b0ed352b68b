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
  'binding/exports.map', 'binding/imap_value.cc', 'binding/imap_value.h', 'binding/keys.h', 'binding/mime_convert.cc', 'binding/mime_convert.h', 'binding/requests.cc', 'binding/requests.h',
  'lib/binding.js', 'lib/bodystructure.js', 'lib/cluster.d.ts', ...['accounts', 'common', 'full-sync', 'index', 'outages', 'placement', 'status', 'worker'].map((n) => `lib/cluster/${n}.js`), 'lib/dashboard.html', 'lib/dashboard-history.js', 'lib/dashboard-page.js',
  'lib/dashboard/app.js', 'lib/dashboard/charts.js', 'lib/dashboard/text.js', 'lib/errors.js', 'lib/events.js', 'lib/express-actions.js', 'lib/express.d.ts', 'lib/express.js',
  'lib/http.js', 'lib/index.d.ts', 'lib/index.js', 'lib/jwt.js', 'lib/metrics.js', 'lib/mime.d.ts', 'lib/mime.js',
  'lib/notify.d.ts', 'lib/notify.js', 'lib/search.js', 'lib/options.js', 'lib/push.js', 'lib/actions.js', 'lib/logger.js', 'lib/mailbox.js', 'lib/messages.js', 'lib/platform.js', 'scripts/install.js',
  'lib/config-file.js', 'lib/host-policy.js', 'lib/tenancy.js', 'lib/tenant-limits.js',
  'package.json', 'prebuilds/README.md',
  // imap-push/testing: the mock IMAP server for users' own tests, and no other test code.
  'lib/testing.js', 'lib/testing.d.ts',
  ...['certs', 'imap-syntax', 'mime', 'mock-imap-copy', 'mock-imap-folders', 'mock-imap-search', 'mock-imap-server', 'mock-imap-session', 'mock-options']
    .map((n) => `lib/testing/${n}.js`),
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
