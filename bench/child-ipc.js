'use strict';

// The request/response loop of a benchmark helper process: the parent sends
// { id, cmd, ...args } and gets { id, result } or { id, error } back.
function serveIpc(handlers) {
  process.on('message', async ({ id, cmd, ...args }) => {
    try {
      const result = await handlers[cmd](args);
      process.send({ id, result });
      if (cmd === 'close') process.disconnect();
    } catch (err) {
      process.send({ id, error: err.stack || String(err) });
    }
  });
  // Never outlive the benchmark, even if it crashes.
  process.on('disconnect', () => process.exit(0));
}

module.exports = { serveIpc };
