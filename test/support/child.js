'use strict';

// Runs a script in a fresh node process (the same runtime as this one, so a
// version matrix tests what it says); resolves with its exit code, signal and
// output, or rejects if it has not exited within the deadline (i.e. something
// kept the event loop alive). A crash in the child shows up as a signal
// instead of taking the test runner down with it.

const { spawn } = require('child_process');
const path = require('path');

const ROOT = path.join(__dirname, '..', '..');

function runChild(script, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child still running after ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out });
    });
  });
}

module.exports = { runChild, ROOT };
