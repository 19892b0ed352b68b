#!/usr/bin/env node
'use strict';

// The system packages a checkout of this project needs, installed when they
// are missing, so the README's two commands work on a bare Debian or Ubuntu
// machine that has only Node and npm:
//   npm install   calls this (scripts/install.js) before a source build in a checkout,
//   npm test      calls it with --test (scripts/test.js) for what the tests run.
// Quiet and quick when everything is there. As root it runs apt-get; as
// anyone else it prints the command to run and fails. It never runs for an
// app that installs imap-push as a dependency: that uses the prebuild.
//   node scripts/setup.js [--test] [--check]
// --check installs nothing: it names what is missing and fails, or says
// nothing and succeeds.

const { spawnSync } = require('child_process');
const fs = require('fs');

const BUILD = ['cmake', 'g++', 'make', 'pkg-config', 'libssl-dev', 'libmimetic-dev', 'libsqlite3-dev', 'ca-certificates'];
// C++ unit tests (GoogleTest, Debian's libuv), a real Dovecot, headless
// Chromium (dashboard), OpenSSL's CLI and sqlite3 (fixtures), and the network
// namespace tools the blackhole tests use as root.
const TEST = [...BUILD, 'libgtest-dev', 'libuv1-dev', 'dovecot-imapd', 'chromium', 'openssl', 'sqlite3',
  'iproute2', 'nftables', 'redis-server'];

const say = (msg) => process.stderr.write(`setup: ${msg}\n`);

function isDebian() {
  return process.platform === 'linux' && fs.existsSync('/etc/debian_version') && fs.existsSync('/usr/bin/dpkg-query');
}

function missing(packages) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\n', ...packages], { encoding: 'utf8' });
  const installed = new Set(String(r.stdout).split('\n').filter((l) => / installed$/.test(l)).map((l) => l.split(' ')[0]));
  return packages.filter((p) => !installed.has(p));
}

function apt(args) {
  const r = spawnSync('apt-get', args, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return r.status === 0;
}

/** Installs what `packages` lacks (with check: only says what); returns false (having said why) when it cannot. */
function ensure(packages, { check = false } = {}) {
  if (!isDebian()) return true; // elsewhere the README's "Build from source" lists the equivalents
  const need = missing(packages);
  if (!need.length) return true;
  const cmd = `apt-get install -y --no-install-recommends ${need.join(' ')}`;
  if (check) {
    say(`missing system packages: ${need.join(' ')}. Install them with: ${cmd}`);
    return false;
  }
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    say(`missing system packages: ${need.join(' ')}. Run: sudo ${cmd}`);
    return false;
  }
  say(`installing ${need.join(' ')} (apt-get)`);
  // A fresh machine has no package lists yet; an old list can name files the mirror no longer has.
  if (!apt(['update', '-qq']) ||
      !apt(['install', '-y', '-qq', '--no-install-recommends', ...need])) {
    say(`apt-get failed; run: ${cmd}`);
    return false;
  }
  // Dovecot's package starts a system instance; the tests run their own on loopback.
  if (need.includes('dovecot-imapd')) {
    spawnSync('sh', ['-c', 'systemctl stop dovecot 2>/dev/null || service dovecot stop 2>/dev/null || true'], { stdio: 'ignore' });
  }
  const still = missing(packages);
  if (still.length) {
    say(`still missing after apt-get: ${still.join(' ')}`);
    return false;
  }
  return true;
}

module.exports = { ensure, missing, BUILD, TEST };

if (require.main === module) {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--test' && a !== '--check');
  if (unknown.length) {
    say(`unknown argument ${unknown[0]}; usage: node scripts/setup.js [--test] [--check]`);
    process.exitCode = 2;
  } else {
    process.exitCode = ensure(args.includes('--test') ? TEST : BUILD, { check: args.includes('--check') }) ? 0 : 1;
  }
}
