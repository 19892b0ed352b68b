#!/usr/bin/env node
'use strict';

// The package's install step. With a prebuild for this machine that loads,
// there is nothing to do: no compiler is needed, and none is looked for.
// Otherwise, or when asked (npm install --build-from-source, which npm passes
// as npm_config_build_from_source, or IMAP_PUSH_BUILD_FROM_SOURCE=1), it
// builds from source with cmake-js, after checking that the build can run at
// all: if it cannot, it says which packages to install instead of failing
// deep inside cmake.

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { prebuildFile } = require('../lib/platform');

const root = path.join(__dirname, '..');
const say = (msg) => process.stderr.write(`imap-push: ${msg}\n`);

function askedForSource() {
  const npmFlag = process.env.npm_config_build_from_source;
  return ['1', 'true', 'imap-push'].includes(process.env.IMAP_PUSH_BUILD_FROM_SOURCE || '') ||
    npmFlag === 'true' || npmFlag === 'imap-push';
}

// A child process, so a prebuild that crashes or cannot link here does not
// take the install down with it.
function loads(file) {
  const probe = `try { require(${JSON.stringify(file)}) } catch (e) { console.error(e.message); process.exit(1) }`;
  const r = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8', timeout: 30000 });
  return r.status === 0 ? null : (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n')[0];
}

function onPath(cmd) {
  return (process.env.PATH || '').split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir, cmd), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const INCLUDE_DIRS = ['/usr/include', '/usr/local/include', '/usr/include/x86_64-linux-gnu', '/usr/include/aarch64-linux-gnu'];
const hasHeader = (rel) => INCLUDE_DIRS.some((d) => fs.existsSync(path.join(d, rel)));

/** What the source build lacks here, as [what, Debian package] pairs. */
function missingForSourceBuild() {
  const missing = [];
  if (!onPath('cmake')) missing.push(['cmake', 'cmake']);
  if (!['c++', 'g++', 'clang++'].some(onPath)) missing.push(['a C++17 compiler', 'g++']);
  if (!onPath('make') && !onPath('ninja')) missing.push(['make or ninja', 'make']);
  // Header locations are only known for Linux distributions; elsewhere cmake
  // reports what it cannot find.
  if (process.platform === 'linux') {
    if (!hasHeader('openssl/ssl.h')) missing.push(['OpenSSL headers and static libraries', 'libssl-dev']);
    if (!hasHeader('mimetic/codec/qp.h')) missing.push(['mimetic headers', 'libmimetic-dev']);
    if (!hasHeader('sqlite3.h')) missing.push(['SQLite headers', 'libsqlite3-dev']);
  }
  if (!fs.existsSync(path.resolve(process.execPath, '..', '..', 'include', 'node', 'uv.h'))) {
    missing.push([`Node's headers (include/node/uv.h next to ${process.execPath})`, 'nodejs']);
  }
  return missing;
}

// A clone of this repository being set up (npm install at its root), as
// opposed to an app installing the package: only then may the install step
// add system packages (scripts/setup.js).
function isCheckout() {
  return fs.existsSync(path.join(root, '.git')) && path.resolve(process.env.INIT_CWD || '.') === root;
}

function buildFromSource(reason) {
  say(`building from source (${reason})`);
  if (isCheckout() && !require('./setup').ensure(require('./setup').BUILD)) return 1;
  const missing = missingForSourceBuild();
  if (missing.length) {
    say(`cannot build from source: missing ${missing.map(([what]) => what).join(', ')}.`);
    say(`On Debian or Ubuntu: apt-get install ${[...new Set(missing.map(([, pkg]) => pkg))].join(' ')}`);
    say('Other systems: see "Build from source" in the README.');
    return 1;
  }
  const r = spawnSync(process.execPath, [require.resolve('cmake-js/bin/cmake-js'), 'compile', '--out', 'build'],
    { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    say('the source build failed (output above). It needs cmake, a C++17 compiler and the OpenSSL, mimetic and ' +
      'SQLite headers; on Debian or Ubuntu: apt-get install cmake g++ make libssl-dev libmimetic-dev libsqlite3-dev');
    return r.status || 1;
  }
  return 0;
}

function main() {
  if (askedForSource()) return buildFromSource('asked to');
  const rel = prebuildFile();
  const file = path.join(root, rel);
  if (!fs.existsSync(file)) return buildFromSource(`no prebuild for this machine at ${rel}`);
  const why = loads(file);
  if (why) return buildFromSource(`the prebuild ${rel} does not load here: ${why}`);
  say(`using the prebuilt addon ${rel}`);
  return 0;
}

if (require.main === module) process.exitCode = main();
module.exports = { missingForSourceBuild, askedForSource };
