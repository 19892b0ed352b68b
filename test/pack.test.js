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
  'lib/binding.js', 'lib/bodystructure.js', 'lib/cluster.d.ts', ...['accounts', 'common', 'full-sync', 'index', 'outages', 'placement', 'status', 'sync-state', 'worker'].map((n) => `lib/cluster/${n}.js`), 'lib/dashboard.html', 'lib/dashboard-history.js', 'lib/dashboard-page.js',
  'lib/dashboard/app.js', 'lib/dashboard/charts.js', 'lib/dashboard/text.js', 'lib/errors.js', 'lib/events.js', 'lib/express-actions.js', 'lib/express.d.ts', 'lib/express.js',
  'lib/http.js', 'lib/index.d.ts', 'lib/index.js', 'lib/jwt.js', 'lib/metrics.js', 'lib/mime.d.ts', 'lib/mime.js',
  'lib/notify.d.ts', 'lib/notify.js', 'lib/search.js', 'lib/options.js', 'lib/push.js', 'lib/actions.js', 'lib/logger.js', 'lib/mailbox.js', 'lib/messages.js', 'lib/platform.js', 'scripts/install.js',
  'lib/config-file.js', 'lib/host-policy.js', 'lib/tenancy.js', 'lib/tenant-limits.js',
  'package.json', 'prebuilds/README.md',
  // imap-push/testing: the mock IMAP server for users' own tests, and no other test code.
  'lib/testing.js', 'lib/testing.d.ts',
  ...['certs', 'imap-syntax', 'mime', 'mock-imap-copy', 'mock-imap-faults', 'mock-imap-folders', 'mock-imap-search', 'mock-imap-server', 'mock-imap-session', 'mock-options']
    .map((n) => `lib/testing/${n}.js`),
];

// The pack list is checked twice in CI (.ci/run): by `npm test`, before any
// prebuild exists, with the prepack hook told to let that pass; and after
// `npm run prebuild` with IMAP_PUSH_REQUIRE_PREBUILD=1, when the hook runs as
// a publish would and the prebuild must be in the list.
const requirePrebuild = process.env.IMAP_PUSH_REQUIRE_PREBUILD === '1';
const root = path.join(__dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function packList(cwd, env) {
  const out = execFileSync(npm, ['pack', '--dry-run', '--json'], {
    cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env },
  });
  return JSON.parse(out)[0].files.map((f) => f.path).sort();
}

test('npm pack --dry-run ships exactly the expected files', () => {
  const env = requirePrebuild ? { IMAP_PUSH_PACK_WITHOUT_PREBUILD: '' } : { IMAP_PUSH_PACK_WITHOUT_PREBUILD: '1' };
  const files = packList(root, env);
  // A prebuild (npm run prebuild) ships when one has been made, and must when asked.
  const present = fs.existsSync(path.join(root, prebuildFile()));
  const prebuilt = requirePrebuild || present ? [prebuildFile()] : [];
  expect(files.filter((f) => !f.startsWith('src/'))).toEqual([...EXPECTED_OUTSIDE_SRC, ...prebuilt].sort());
  const src = files.filter((f) => f.startsWith('src/'));
  expect(src.length).toBeGreaterThan(0);
  expect(src.filter((f) => !/\.(cpp|h)$|\/README\.md$/.test(f))).toEqual([]);
}, 120000);

// The prepack hook, through npm itself, in a copy of the package's own
// package.json and hook: no tarball without the linux-x64 prebuild, nor with
// one older than the sources, unless IMAP_PUSH_PACK_WITHOUT_PREBUILD=1.
describe('the prepack hook', () => {
  const os = require('os');
  const { REQUIRED } = require('../scripts/prepack');
  const pkg = require('../package.json');
  let dir;
  const write = (rel, text, mtime) => {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    if (mtime) fs.utimesSync(file, mtime, mtime);
  };
  const pack = (env = {}) => {
    try {
      return { files: packList(dir, { IMAP_PUSH_PACK_WITHOUT_PREBUILD: '', ...env }), err: '' };
    } catch (err) {
      return { files: null, err: String(err.stderr) };
    }
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-prepack-'));
    write('package.json', JSON.stringify({ name: 'imap-push', version: pkg.version, scripts: { prepack: pkg.scripts.prepack }, files: pkg.files }));
    for (const rel of ['scripts/prepack.js', 'lib/platform.js']) write(rel, fs.readFileSync(path.join(root, rel), 'utf8'));
    const old = new Date(Date.now() - 3600e3);
    write('src/core/x.cpp', '// source\n', old);
    write('binding/addon.cc', '// binding\n', old);
    write('CMakeLists.txt', '# cmake\n', old);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('package.json runs it on pack and publish', () => {
    expect(pkg.scripts.prepack).toBe('node scripts/prepack.js');
    expect(REQUIRED).toEqual(['prebuilds/linux-x64/imap_push.glibc.node']);
  });

  test('refuses without the prebuild', () => {
    const r = pack();
    expect(r.files).toBeNull();
    expect(r.err).toContain('prebuilds/linux-x64/imap_push.glibc.node is missing: run `npm run prebuild` first');
  }, 60000);

  test('refuses a prebuild older than the sources', () => {
    write(REQUIRED[0], 'ELF', new Date(Date.now() - 7200e3));
    const r = pack();
    expect(r.files).toBeNull();
    expect(r.err).toMatch(/imap_push\.glibc\.node is older than (src\/core\/x\.cpp|binding\/addon\.cc|CMakeLists\.txt)/);
  }, 60000);

  test('packs with a current prebuild, and it is in the tarball', () => {
    write(REQUIRED[0], 'ELF');
    const r = pack();
    expect(r.err).toBe('');
    expect(r.files).toContain(REQUIRED[0]);
  }, 60000);

  test('IMAP_PUSH_PACK_WITHOUT_PREBUILD=1 packs anyway, saying so on stderr only', () => {
    const out = execFileSync(npm, ['pack', '--dry-run', '--json'], {
      cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, IMAP_PUSH_PACK_WITHOUT_PREBUILD: '1' },
    });
    expect(JSON.parse(out)[0].files.map((f) => f.path)).not.toContain(REQUIRED[0]);
  }, 60000);
});
