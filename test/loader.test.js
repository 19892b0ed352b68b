'use strict';

// Which addon file the package loads (lib/binding.js) and what its install
// step does (scripts/install.js), in a copy of the package's layout with
// real addon files: an explicit IMAP_PUSH_ADDON, then the prebuild for this
// platform, then build/Release.

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { prebuildFile } = require('../lib/platform');

const root = path.join(__dirname, '..');
const built = path.join(root, 'build', 'Release', 'imap_push.node');
let dir;

function layout({ prebuild = null, release = false } = {}) {
  fs.rmSync(dir, { recursive: true, force: true });
  for (const f of ['lib/binding.js', 'lib/platform.js', 'scripts/install.js']) {
    fs.mkdirSync(path.join(dir, path.dirname(f)), { recursive: true });
    fs.copyFileSync(path.join(root, f), path.join(dir, f));
  }
  const put = (rel, from) => {
    fs.mkdirSync(path.join(dir, path.dirname(rel)), { recursive: true });
    if (from === 'garbage') fs.writeFileSync(path.join(dir, rel), 'not an ELF file\n');
    else fs.copyFileSync(from, path.join(dir, rel));
  };
  if (prebuild) put(prebuildFile(), prebuild === 'garbage' ? 'garbage' : built);
  if (release) put('build/Release/imap_push.node', built);
}

// A PATH with node and nothing else: no cmake, no compiler, no make.
let BARE_PATH;

function node(args, env = {}) {
  const clean = Object.fromEntries(Object.entries(process.env)
    .filter(([k]) => k !== 'IMAP_PUSH_ADDON' && k !== 'IMAP_PUSH_BUILD_FROM_SOURCE' && !/^npm_config_build_from_source$/i.test(k)));
  return spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', timeout: 30000, env: { ...clean, ...env } });
}

const loadedFrom = (env) => node(['-e', "const b = require('./lib/binding'); console.log(b.loadedFrom, typeof b.NativeEngine)"], env);

beforeAll(() => {
  expect(fs.existsSync(built)).toBe(true);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-loader-'));
  BARE_PATH = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-bare-path-'));
  fs.symlinkSync(process.execPath, path.join(BARE_PATH, 'node'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(BARE_PATH, { recursive: true, force: true });
});

describe('lib/binding.js load order', () => {
  test('the prebuild wins over build/Release', () => {
    layout({ prebuild: true, release: true });
    const r = loadedFrom();
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`${path.join(dir, prebuildFile())} function`);
  });

  test('without a prebuild, build/Release', () => {
    layout({ release: true });
    expect(loadedFrom().stdout.trim()).toBe(`${path.join(dir, 'build/Release/imap_push.node')} function`);
  });

  test('a prebuild that cannot load here falls through to build/Release', () => {
    layout({ prebuild: 'garbage', release: true });
    expect(loadedFrom().stdout.trim()).toBe(`${path.join(dir, 'build/Release/imap_push.node')} function`);
  });

  test('IMAP_PUSH_ADDON wins over both', () => {
    layout({ prebuild: true, release: true });
    const other = path.join(dir, 'elsewhere.node');
    fs.copyFileSync(built, other);
    expect(loadedFrom({ IMAP_PUSH_ADDON: other }).stdout.trim()).toBe(`${other} function`);
  });

  test('an IMAP_PUSH_ADDON that is missing or broken is the error, with no fallback', () => {
    layout({ prebuild: true, release: true });
    const missing = loadedFrom({ IMAP_PUSH_ADDON: path.join(dir, 'nope.node') });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain(`IMAP_PUSH_ADDON names ${path.join(dir, 'nope.node')}, which does not exist`);
    fs.writeFileSync(path.join(dir, 'broken.node'), 'junk');
    const broken = loadedFrom({ IMAP_PUSH_ADDON: path.join(dir, 'broken.node') });
    expect(broken.status).not.toBe(0);
    expect(broken.stderr).toMatch(/broken\.node: (invalid ELF header|file too short)/);
  });

  test('with nothing that loads, the error names every file tried and how to build', () => {
    layout({ prebuild: 'garbage' });
    const r = loadedFrom();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('ADDON_NOT_FOUND');
    expect(r.stderr).toContain(`${path.join(dir, prebuildFile())} (`);
    expect(r.stderr).toContain(`${path.join(dir, 'build/Release/imap_push.node')} (absent)`);
    expect(r.stderr).toContain('apt-get install cmake g++ make libssl-dev libmimetic-dev libsqlite3-dev');
  });
});

describe('scripts/install.js', () => {
  test('a prebuild that loads is used: no compiler is looked for and nothing is built', () => {
    layout({ prebuild: true });
    const r = node(['scripts/install.js'], { PATH: BARE_PATH });
    expect(r.stderr).toBe(`imap-push: using the prebuilt addon ${prebuildFile()}\n`);
    expect(r.status).toBe(0);
    expect(fs.existsSync(path.join(dir, 'build'))).toBe(false);
  });

  test.each([
    ['IMAP_PUSH_BUILD_FROM_SOURCE=1', { IMAP_PUSH_BUILD_FROM_SOURCE: '1' }, 'asked to'],
    ['npm install --build-from-source', { npm_config_build_from_source: 'true' }, 'asked to'],
  ])('%s builds from source even with a prebuild, and says what a build lacks', (_, env, reason) => {
    layout({ prebuild: true });
    const r = node(['scripts/install.js'], { PATH: BARE_PATH, ...env });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`building from source (${reason})`);
    expect(r.stderr).toContain('missing cmake, a C++17 compiler, make or ninja');
    expect(r.stderr).toMatch(/apt-get install cmake g\+\+ make\b/);
  });

  test('no prebuild, or one that does not load: a source build, and the packages it lacks', () => {
    layout({});
    const none = node(['scripts/install.js'], { PATH: BARE_PATH });
    expect(none.status).toBe(1);
    expect(none.stderr).toContain(`no prebuild for this machine at ${prebuildFile()}`);
    layout({ prebuild: 'garbage' });
    const bad = node(['scripts/install.js'], { PATH: BARE_PATH });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`the prebuild ${prebuildFile()} does not load here`);
    expect(bad.stderr).toMatch(/apt-get install cmake g\+\+ make\b/);
  });
});

describe('scripts/check-addon.js', () => {
  const { check } = require('../scripts/check-addon');

  test('this build needs only system libraries (and SQLite) and exports only the Node-API entry points', () => {
    const r = check(built);
    expect(r.problems).toEqual([]);
    expect(r.exported.sort()).toEqual(['napi_register_module_v1', 'node_api_module_get_api_version_v1']);
    expect(r.imported.filter((s) => /^(SSL|EVP|CRYPTO|OPENSSL)_/.test(s))).toEqual([]);
  });

  test('it fails a library that exports and imports TLS symbols', () => {
    const libssl = ['/usr/lib/x86_64-linux-gnu/libssl.so.3', '/lib/x86_64-linux-gnu/libssl.so.3'].find((f) => fs.existsSync(f));
    expect(libssl).toBeDefined();
    const r = check(libssl);
    expect(r.problems.join('\n')).toMatch(/needs libcrypto\.so\.3/);
    expect(r.problems.join('\n')).toMatch(/has TLS symbols in its dynamic table: BIO_f_ssl/);
    expect(r.problems.join('\n')).toMatch(/does not export napi_register_module_v1/);
  });

  test('a prebuild may not need libsqlite3', () => {
    expect(check(built, { prebuild: true }).problems).toEqual(['needs libsqlite3.so.0 at run time']);
  });
});
