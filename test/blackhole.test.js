'use strict';

// A real blackhole: the server and the engine (default options) run in a
// network namespace of their own, on its loopback, and nftables drops every
// packet of the IMAP connection both ways. No FIN, no RST, no ICMP: only the
// engine's own checks can notice. Needs root (ip netns, nft); CI runs as
// root and must not skip this.

const { execFileSync, spawn } = require('child_process');
const path = require('path');

const DETECTION_BOUND_MS = 60 * 1000;
const CHILD = path.join(__dirname, 'support', 'blackhole-child.js');

function missingPrivileges() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not running as root';
  for (const [tool, version] of [['ip', '-V'], ['nft', '--version']]) {
    try {
      execFileSync(tool, [version], { stdio: 'ignore' });
    } catch {
      return `'${tool}' is missing (apt-get install iproute2 nftables)`;
    }
  }
  return null;
}

const missing = missingPrivileges();
if (missing && !process.env.CI) {
  console.warn(`\n*** blackhole.test.js SKIPPED: needs root with ip and nft (${missing}) ***\n`);
}
const maybe = missing && !process.env.CI ? describe.skip : describe;

const ns = `imapbh-${process.pid}-${Date.now() % 100000}`;
const inNs = (cmd, args, opts = {}) => execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: 'pipe', ...opts });

/** The child process and what it reported, with bounded waits on it. */
class Child {
  constructor() {
    this.messages = [];
    this.waiters = new Set();
    this.exited = new Promise((resolve) => {
      this.proc = spawn('ip', ['netns', 'exec', ns, process.execPath, CHILD], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      this.proc.on('exit', resolve);
    });
    this.proc.on('message', (m) => {
      this.messages.push(m);
      for (const w of [...this.waiters]) w(m);
    });
  }

  events(name) {
    return this.messages.filter((m) => m.type === 'event' && m.name === name);
  }

  /** Resolves with the first message (past or future) matching `pred`. */
  waitFor(pred, timeoutMs, what) {
    const past = this.messages.find(pred);
    if (past) return Promise.resolve(past);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const check = (m) => {
        if (m.type === 'fatal') {
          clearTimeout(timer);
          this.waiters.delete(check);
          reject(new Error(`child failed: ${m.message}`));
        } else if (pred(m)) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve(m);
        }
      };
      this.waiters.add(check);
    });
  }

  async append(subject) {
    const before = this.messages.length;
    this.proc.send({ cmd: 'append', subject });
    const m = await this.waitFor((x) => x.type === 'appended' && this.messages.indexOf(x) >= before, 5000, 'the append');
    return m.uid;
  }

  async stop() {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    if (this.proc.connected) this.proc.send({ cmd: 'close' });
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
    await this.exited;
    clearTimeout(timer);
  }
}

maybe('blackhole (network namespace + nftables)', () => {
  let child;

  beforeAll(() => {
    if (missing) throw new Error(`blackhole.test.js cannot run in CI: ${missing}`);
    execFileSync('ip', ['netns', 'add', ns]);
    inNs('ip', ['link', 'set', 'lo', 'up']);
  });

  afterAll(async () => {
    try {
      if (child) await child.stop();
    } finally {
      try {
        execFileSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
      } catch { /* never created */ }
    }
  });

  const blackhole = (port) => inNs('nft', ['-f', '-'], {
    input: `table inet imapbh {
      chain in { type filter hook input priority 0; policy accept; tcp dport ${port} drop; tcp sport ${port} drop; }
      chain out { type filter hook output priority 0; policy accept; tcp dport ${port} drop; tcp sport ${port} drop; }
    }\n`,
  });
  const restore = () => inNs('nft', ['delete', 'table', 'inet', 'imapbh']);

  test('default options notice the blackhole within 60 s, reconnect when it lifts, and report the mail once', async () => {
    child = new Child();
    const { port } = await child.waitFor((m) => m.type === 'ready', 15000, 'the child');
    const isIdle = (m) => m.type === 'event' && m.name === 'connectionStatus' && m.payload.state === 'idle';
    await child.waitFor(isIdle, 15000, 'the folder to idle');
    const before = await child.append('before the blackhole');
    await child.waitFor((m) => m.name === 'newMessage' && m.payload.uid === before, 10000, 'the first message');

    blackhole(port);
    const cutAt = Date.now();
    const during = await child.append('during the blackhole');
    const seenBefore = child.messages.length;
    const down = await child.waitFor(
      (m) => m.name === 'connectionStatus' && m.payload.previous === 'idle' && m.payload.error,
      DETECTION_BOUND_MS + 5000, 'the engine to notice the blackhole');
    const detectedMs = down.at - cutAt;
    console.log(`blackhole noticed after ${detectedMs} ms: ${down.payload.error.code} ${down.payload.error.message}`);
    expect(detectedMs).toBeLessThanOrEqual(DETECTION_BOUND_MS);
    // TCP keepalive found the silent peer: the kernel failed the socket.
    expect(down.payload).toMatchObject({ state: 'disconnected', error: { code: 'CONNECTION_LOST' } });
    expect(down.payload.error.message).toMatch(/timed out/i);
    expect(JSON.stringify(child.messages)).not.toContain('blackhole-secret');

    restore();
    await child.waitFor((m) => isIdle(m) && child.messages.indexOf(m) >= seenBefore, 90000, 'the reconnect');
    await child.waitFor((m) => m.name === 'newMessage' && m.payload.uid === during, 15000, 'the mail from meanwhile');
    // A duplicate would come from the sync a reconnect schedules (sync.debounceMs, 1 s): give it time.
    await new Promise((r) => setTimeout(r, 3000));
    const tail = await child.append('after the reconnect');
    await child.waitFor((m) => m.name === 'newMessage' && m.payload.uid === tail, 15000, 'the mail after');
    const uids = child.events('newMessage').map((m) => m.payload.uid);
    expect(uids).toEqual([before, during, tail]);
  }, 240000);
});
