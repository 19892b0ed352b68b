'use strict';

// Where the prebuilt addon for this machine would be, relative to the
// package root: prebuilds/<platform>-<arch>/imap_push[.<libc>].node. On Linux
// the C library is part of the name, because a glibc build cannot load under
// musl (Alpine) and the other way round.

function libc() {
  if (process.platform !== 'linux') return null;
  const header = process.report && typeof process.report.getReport === 'function'
    ? process.report.getReport().header : {};
  return header.glibcVersionRuntime ? 'glibc' : 'musl';
}

function prebuildFile(platform = process.platform, arch = process.arch, lib = libc()) {
  return `prebuilds/${platform}-${arch}/imap_push${lib ? `.${lib}` : ''}.node`;
}

module.exports = { libc, prebuildFile };
