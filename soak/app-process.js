'use strict';
// The driver's handle on one run of soak/app.js: requests over IPC with a bound on every answer,
// and the run's event log read as it grows.
const fs = require('fs');
const path = require('path');
const { fork, spawn } = require('child_process');

const APP = path.join(__dirname, 'app.js');

class AppProcess {
  // net: the app's network namespace (soak/netns.js), or null to run it in the soak's own.
  constructor({ run, dir, stateFile, options, env, net }) {
    this.run = run;
    this.logPath = path.join(dir, `events-${run}.jsonl`);
    fs.writeFileSync(this.logPath, '');
    this.offset = 0;
    this.partial = '';
    this.pending = new Map();
    this.nextId = 1;
    this.expectedExit = false;
    this.stderr = '';
    const args = [stateFile, this.logPath, JSON.stringify(options)];
    const how = { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...process.env, ...env } };
    // The IPC channel is a socketpair the child inherits, not network: a blackhole does not touch it.
    this.child = net ? spawn(...net.wrap(process.execPath, [APP, ...args]), how) : fork(APP, args, how);
    this.child.stderr.on('data', (d) => { this.stderr = (this.stderr + d).slice(-20000); });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => {
      for (const { reject, timer } of this.pending.values()) {
        clearTimeout(timer);
        reject(new Error('app exited'));
      }
      this.pending.clear();
      resolve({ code, signal });
    }));
    this.ready = new Promise((resolve, reject) => {
      this.child.once('message', (m) => (m.ready ? resolve() : reject(new Error('bad hello'))));
      this.exited.then(() => reject(new Error(`app exited before it was ready: ${this.stderr}`)));
    });
    this.child.on('message', (m) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(m.error));
    });
  }

  request(op, arg, timeoutMs) {
    return new Promise((resolve, reject) => {
      if (!this.child.connected) {
        reject(new Error('app not running'));
        return;
      }
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        const err = new Error(`${op} did not answer within ${timeoutMs} ms`);
        err.hung = true;
        reject(err);
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.child.send({ id, op, arg }, (err) => {
        if (err && this.pending.delete(id)) {
          clearTimeout(timer);
          reject(err);
        }
      });
    });
  }

  kill() {
    this.expectedExit = true;
    this.child.kill('SIGKILL');
    return this.exited;
  }

  // Lets the app exit on its own (it does once its IPC channel closes), SIGKILL if it does not.
  async disconnect(timeoutMs) {
    this.expectedExit = true;
    if (this.child.connected) this.child.disconnect();
    let timer;
    const timedOut = new Promise((resolve) => { timer = setTimeout(() => resolve(null), timeoutMs); });
    const r = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (r) return r;
    this.child.kill('SIGKILL');
    await this.exited;
    return { hung: true };
  }

  // The lines written since the last call; a line cut by a SIGKILL mid-write is never completed.
  readEvents() {
    const fd = fs.openSync(this.logPath, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= this.offset) return [];
      const buf = Buffer.alloc(size - this.offset);
      fs.readSync(fd, buf, 0, buf.length, this.offset);
      this.offset = size;
      const lines = (this.partial + buf.toString('utf8')).split('\n');
      this.partial = lines.pop();
      return lines.filter(Boolean).map((l) => JSON.parse(l));
    } finally {
      fs.closeSync(fd);
    }
  }
}

module.exports = { AppProcess };
