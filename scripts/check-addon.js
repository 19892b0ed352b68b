#!/usr/bin/env node
'use strict';

// What a shipped addon may depend on and expose, read off the ELF file with
// binutils (readelf, nm). A prebuild must run on a machine that has glibc,
// libstdc++ and libgcc and nothing else, and must not clash with the OpenSSL
// (Node) or BoringSSL (Electron) of the process that loads it: it exports
// only the Node-API entry points and imports no TLS symbol from the host.
//   node scripts/check-addon.js FILE [--prebuild]
// --prebuild also forbids libsqlite3 (a prebuild links SQLite in).
// Prints the findings and the newest glibc symbol version it needs.

const { execFileSync } = require('child_process');

const SYSTEM_LIBS = ['libc.so.6', 'libm.so.6', 'libstdc++.so.6', 'libgcc_s.so.1', 'ld-linux-x86-64.so.2',
  'libpthread.so.0', 'libdl.so.2', 'librt.so.1'];
const ENTRY_POINTS = ['napi_register_module_v1', 'node_api_module_get_api_version_v1'];
// Names a TLS library defines; an addon importing any of them would bind to
// whatever TLS library the host process carries.
const TLS_SYMBOL = /^(SSL_|SSL$|EVP_|CRYPTO_|OPENSSL_|BIO_|X509|PEM_|ERR_|RAND_|OBJ_|ASN1_|TLS_|DTLS_|BN_|RSA_|EC_|HMAC)/;

function tool(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (err) {
    if (err.code === 'ENOENT') throw new Error(`${cmd} not found (Debian: binutils)`);
    throw err;
  }
}

function inspect(file) {
  const needed = [...tool('readelf', ['-d', file]).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const symbols = (flag) => tool('nm', ['-D', flag, file]).split('\n').filter(Boolean)
    .map((line) => line.trim().split(/\s+/).pop().replace(/@.*$/, ''));
  const versionInfo = tool('readelf', ['-V', file]);
  // The newest symbol version of a library is the oldest release that can load the addon.
  const newest = (prefix) => [...versionInfo.matchAll(new RegExp(`Name: ${prefix}_([0-9.]+)`, 'g'))].map((m) => m[1])
    .sort((a, b) => {
      const [x, y] = [a, b].map((v) => v.split('.').map(Number));
      for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) - (y[i] || 0);
      return 0;
    }).pop() || null;
  return { needed, exported: symbols('--defined-only'), imported: symbols('--undefined-only'),
    glibc: newest('GLIBC'), glibcxx: newest('GLIBCXX') };
}

/** Problems with `file` as a shipped addon: an empty list means it passes. */
function check(file, { prebuild = false } = {}) {
  const info = inspect(file);
  const problems = [];
  for (const lib of info.needed) {
    if (SYSTEM_LIBS.includes(lib)) continue;
    if (!prebuild && /^libsqlite3\.so/.test(lib)) continue;
    problems.push(`needs ${lib} at run time`);
  }
  const extra = info.exported.filter((s) => !ENTRY_POINTS.includes(s));
  if (extra.length) problems.push(`exports ${extra.length} symbol(s) beyond the Node-API entry points: ${extra.slice(0, 5).join(', ')}`);
  if (!info.exported.includes('napi_register_module_v1')) problems.push('does not export napi_register_module_v1');
  const tls = [...info.exported, ...info.imported].filter((s) => TLS_SYMBOL.test(s));
  if (tls.length) problems.push(`has TLS symbols in its dynamic table: ${tls.slice(0, 5).join(', ')}`);
  return { ...info, problems };
}

module.exports = { check, inspect, SYSTEM_LIBS, ENTRY_POINTS };

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node scripts/check-addon.js FILE [--prebuild]');
    process.exit(2);
  }
  const r = check(file, { prebuild: process.argv.includes('--prebuild') });
  console.log(`${file}: needs ${r.needed.join(', ')}; exports ${r.exported.join(', ')}; newest glibc symbol GLIBC_${r.glibc}, libstdc++ GLIBCXX_${r.glibcxx}`);
  for (const p of r.problems) console.error(`  problem: ${p}`);
  process.exit(r.problems.length ? 1 : 0);
}
