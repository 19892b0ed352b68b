'use strict';

const path = require('path');

// A source build (npm install) wins over a shipped prebuild for this platform.
// IMAP_PUSH_ADDON names one build to load instead (the sanitizer runs load an
// ASan build from its own directory); it must exist, there is no fallback.
const candidates = process.env.IMAP_PUSH_ADDON ? [path.resolve(process.env.IMAP_PUSH_ADDON)] : [
  path.join(__dirname, '..', 'build', 'Release', 'imap_push.node'),
  path.join(__dirname, '..', 'build', 'Debug', 'imap_push.node'),
  path.join(__dirname, '..', 'prebuilds', `${process.platform}-${process.arch}`, 'imap_push.node'),
];

function load() {
  const errors = [];
  for (const file of candidates) {
    try {
      return require(file);
    } catch (err) {
      if (err.code !== 'MODULE_NOT_FOUND') throw err;
      errors.push(file);
    }
  }
  const err = new Error(`imap-push: native addon not found (looked in ${errors.join(', ')}); run 'npm run build'`);
  err.code = 'ADDON_NOT_FOUND';
  throw err;
}

module.exports = load();
