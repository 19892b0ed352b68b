'use strict';

const fs = require('fs');
const path = require('path');
const { prebuildFile } = require('./platform');

const root = path.join(__dirname, '..');

// The order sharp and better-sqlite3 use: an explicit file, the prebuild for
// this platform, then a source build. IMAP_PUSH_ADDON names one file to load
// and nothing else (the sanitizer runs load an ASan build this way): if it
// cannot load, that is the error, with no fallback to another build.
// A prebuild that exists but cannot load here (an older glibc, say) falls
// through to a source build if there is one.
const SOURCE_BUILD_HINT = 'build it from source: npm rebuild imap-push --build-from-source ' +
  '(needs cmake, a C++17 compiler, and the OpenSSL, mimetic and SQLite headers; on Debian or Ubuntu: ' +
  'apt-get install cmake g++ make libssl-dev libmimetic-dev libsqlite3-dev)';

function candidates() {
  if (process.env.IMAP_PUSH_ADDON) return [{ file: path.resolve(process.env.IMAP_PUSH_ADDON), explicit: true }];
  return [
    { file: path.join(root, prebuildFile()) },
    { file: path.join(root, 'build', 'Release', 'imap_push.node') },
    { file: path.join(root, 'build', 'Debug', 'imap_push.node') },
  ];
}

function load() {
  const tried = [];
  for (const { file, explicit } of candidates()) {
    if (!fs.existsSync(file)) {
      if (explicit) {
        const err = new Error(`imap-push: IMAP_PUSH_ADDON names ${file}, which does not exist`);
        err.code = 'ADDON_NOT_FOUND';
        throw err;
      }
      tried.push(`${file} (absent)`);
      continue;
    }
    let addon;
    try {
      addon = require(file);
    } catch (err) {
      if (explicit) throw err;
      tried.push(`${file} (${String(err.message).split('\n')[0]})`);
      continue;
    }
    Object.defineProperty(addon, 'loadedFrom', { value: file, enumerable: false });
    return addon;
  }
  const err = new Error(`imap-push: no native addon for ${process.platform}-${process.arch} loads here; ` +
    `tried ${tried.join('; ')}. ${SOURCE_BUILD_HINT}`);
  err.code = 'ADDON_NOT_FOUND';
  throw err;
}

module.exports = load();
