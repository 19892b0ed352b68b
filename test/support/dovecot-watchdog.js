'use strict';
// Runs `dovecot -F` on behalf of test/support/dovecot.js and tears it down
// when told to (SIGTERM) *or* when the test process goes away (our stdin pipe
// closes). Test runners such as Jest sandbox `process`, so an in-process
// 'exit' hook cannot be relied on to kill a forgotten daemon.
//
// usage: node dovecot-watchdog.js <dovecot-binary> <config> <temp-dir> <instance-name>
const fs = require('fs');
const { spawn } = require('child_process');

const [bin, conf, dir, instance] = process.argv.slice(2);
const STOP_TIMEOUT_MS = 8000;

function instancePids() {
  const prefix = `dovecot-${instance}/`;
  return fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).filter((e) => {
    try {
      return fs.readFileSync(`/proc/${e}/cmdline`, 'latin1').startsWith(prefix);
    } catch (_) {
      return false;
    }
  }).map(Number);
}

const child = spawn(bin, ['-F', '-c', conf], { stdio: ['ignore', 'inherit', 'inherit'] });
process.stdout.write(`${JSON.stringify({ pid: child.pid })}\n`);

let stopping = false;
function shutdown() {
  if (stopping) return;
  stopping = true;
  try { child.kill('SIGTERM'); } catch (_) { /* already gone */ }
  setTimeout(() => {
    try { child.kill('SIGKILL'); } catch (_) { /* already gone */ }
  }, STOP_TIMEOUT_MS).unref();
}

process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.stdin.on('end', shutdown);
process.stdin.on('error', shutdown);
process.stdin.resume();

child.on('error', (e) => {
  process.stderr.write(`watchdog: cannot run ${bin}: ${e.message}\n`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  // The master normally reaps its services; SIGKILL any straggler of ours.
  for (const pid of instancePids()) {
    try { process.kill(pid, 'SIGKILL'); } catch (_) { /* gone */ }
  }
  if (stopping) fs.rmSync(dir, { recursive: true, force: true });
  process.exit(code === null ? (signal === 'SIGTERM' ? 0 : 1) : code);
});
