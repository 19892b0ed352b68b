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

// The parent side: forks `script` and returns { child, call }, where
// call(cmd, args) resolves with the child's result. Pending calls fail if the
// child exits.
function forkIpc(script, args = []) {
  const { fork } = require('child_process');
  const child = fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map();
  let seq = 0;
  child.on('message', ({ id, result, error }) => {
    const p = pending.get(id);
    pending.delete(id);
    if (error) p.reject(new Error(`mock server: ${error}`));
    else p.resolve(result);
  });
  child.on('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`mock server exited (${code})`));
  });
  const call = (cmd, callArgs = {}) => new Promise((resolve, reject) => {
    const id = ++seq;
    pending.set(id, { resolve, reject });
    child.send({ id, cmd, ...callArgs });
  });
  return { child, call };
}

module.exports = { serveIpc, forkIpc };
