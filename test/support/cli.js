'use strict';

// bin/imap-push.js in a child process: its JSON stdout lines parsed as they
// come, its stderr kept, and a SIGKILL after killMs so no test leaves one behind.

const { spawn } = require('child_process');
const path = require('path');
const readline = require('readline');

const CLI = path.join(__dirname, '..', '..', 'bin', 'imap-push.js');

function startCli(args, env = {}, { killMs = 20000 } = {}) {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  let stderr = '';
  readline.createInterface({ input: child.stdout }).on('line', (l) => lines.push(JSON.parse(l)));
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const kill = setTimeout(() => child.kill('SIGKILL'), killMs);
  exited.then(() => clearTimeout(kill));
  return { child, lines, exited, stderr: () => stderr };
}

module.exports = { startCli, CLI };
