#!/usr/bin/env node
'use strict';

// npm run prebuild: builds the self-contained addon that `npm pack` ships,
// prebuilds/linux-x64/imap_push.glibc.node. OpenSSL is linked in from
// Debian's static (PIC) libssl.a/libcrypto.a as in every build; SQLite is
// compiled in from the amalgamation inside a pinned npm package (the
// registry is one of the two sources this project may fetch from); mimetic
// is used through its headers only. The result is checked by
// scripts/check-addon.js: it may need glibc, libstdc++ and libgcc and nothing
// else, and exports only the Node-API entry points.
// Needs what a source build needs (README, "Build from source").

const { execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { check } = require('./check-addon');
const { prebuildFile } = require('../lib/platform');

const root = path.join(__dirname, '..');
const depsDir = path.join(root, 'build-deps');
const buildDir = path.join(root, 'build-prebuild');

// better-sqlite3 ships the SQLite amalgamation it compiles in deps/sqlite3.
// Pinned by version and by the registry's own integrity hash.
const SQLITE_PACKAGE = {
  spec: 'better-sqlite3@12.5.0',
  tarball: 'better-sqlite3-12.5.0.tgz',
  integrity: 'sha512-WwCZ/5Diz7rsF29o27o0Gcc1Du+l7Zsv7SYtVPG0X3G/uUI1LqdxrQI7c9Hs2FWpqXXERjW9hp6g3/tH7DlVKg==',
  files: ['package/deps/sqlite3/sqlite3.c', 'package/deps/sqlite3/sqlite3.h'],
};

function run(cmd, args, opts = {}) {
  process.stdout.write(`$ ${cmd} ${args.join(' ')}\n`);
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
}

function integrityOf(file) {
  return `sha512-${crypto.createHash('sha512').update(fs.readFileSync(file)).digest('base64')}`;
}

function sqliteSource() {
  const out = path.join(depsDir, 'sqlite3');
  const tgz = path.join(depsDir, SQLITE_PACKAGE.tarball);
  if (!fs.existsSync(tgz) || integrityOf(tgz) !== SQLITE_PACKAGE.integrity) {
    fs.mkdirSync(depsDir, { recursive: true });
    // `npm pack <spec>` only downloads the registry tarball: no install scripts run.
    run('npm', ['pack', SQLITE_PACKAGE.spec, '--pack-destination', depsDir, '--silent']);
  }
  const got = integrityOf(tgz);
  if (got !== SQLITE_PACKAGE.integrity) {
    throw new Error(`${SQLITE_PACKAGE.tarball}: integrity ${got}, expected ${SQLITE_PACKAGE.integrity}`);
  }
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  run('tar', ['-xzf', tgz, '-C', out, '--strip-components=3', ...SQLITE_PACKAGE.files]);
  return out;
}

function main() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`prebuilds are made on linux-x64 only (this is ${process.platform}-${process.arch}); build from source instead`);
  }
  const sqlite = sqliteSource();
  fs.rmSync(buildDir, { recursive: true, force: true });
  run(process.execPath, [require.resolve('cmake-js/bin/cmake-js'), 'compile', '--out', buildDir,
    `--CDIMAP_PUSH_SQLITE_SOURCE=${sqlite}`]);
  const dest = path.join(root, prebuildFile());
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.copyFileSync(path.join(buildDir, 'Release', 'imap_push.node'), dest);
  run('strip', ['--strip-unneeded', dest]);
  const r = check(dest, { prebuild: true });
  console.log(`${path.relative(root, dest)}: ${fs.statSync(dest).size} bytes; needs ${r.needed.join(', ')}; ` +
    `exports ${r.exported.join(', ')}; newest glibc symbol GLIBC_${r.glibc}, libstdc++ GLIBCXX_${r.glibcxx}`);
  if (r.problems.length) {
    for (const p of r.problems) console.error(`prebuild: ${p}`);
    fs.rmSync(dest);
    process.exit(1);
  }
}

main();
