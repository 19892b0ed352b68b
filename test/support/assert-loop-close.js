'use strict';
// Loaded before every Jest suite (package.json jest.setupFilesAfterEnv): every
// MailEngine a test closes must have ended its libuv loop with
// uv_loop_close() == 0. A handle left open is a leak no other test would see.

const { MailEngine } = require('../../lib');

function checkLoopClosed(engine) {
  if (engine._loopClosedCleanly !== true) {
    throw new Error(`imap-push: the engine's uv_loop_close() did not return 0 at close() (loopClosedCleanly: ${engine._loopClosedCleanly})`);
  }
}

const close = MailEngine.prototype.close;
MailEngine.prototype.close = function closeAndCheckLoop() {
  return close.call(this).then(() => checkLoopClosed(this));
};

module.exports = { checkLoopClosed };
