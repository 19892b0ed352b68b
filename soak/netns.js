'use strict';
// The app's own network, so the soak can blackhole it: the app process runs in a network namespace
// joined to the root one by a veth pair (10.213.x.y/30 pairs), the fault proxy listens on the root
// side of the pair, and a blackhole is an nftables table inside the app's namespace that drops the
// packets of one connection, or of every connection to the proxy, both ways. Nothing answers: no
// FIN, no RST, no ICMP, no ACK, so what the app writes sits in its send queue and only the engine's
// own checks (IDLE liveness, command timeouts, TCP keepalive and user timeout) can notice. Dovecot
// stays on 127.0.0.1 behind the proxy. Needs root with `ip` and `nft`.
const { execFileSync, execFile } = require('child_process');

const PREFIX = 'imapsoak-';

function missingPrivileges() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not running as root';
  for (const [tool, version] of [['ip', '-V'], ['nft', '--version'], ['ss', '-V']]) {
    try {
      execFileSync(tool, [version], { stdio: 'ignore' });
    } catch (_) {
      return `'${tool}' is missing (apt-get install iproute2 nftables)`;
    }
  }
  return null;
}

const run = (cmd, args, input) => execFileSync(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], input, encoding: 'utf8' });
const quiet = (cmd, args) => {
  try {
    run(cmd, args);
  } catch (_) { /* already gone */ }
};
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
};

// A soak killed with SIGKILL cannot tear down: its namespace (and the veth with it) goes on the
// next run. Only namespaces whose soak process is gone, so parallel soaks are left alone.
function sweepStale() {
  let names = [];
  try {
    names = run('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0]);
  } catch (_) {
    return;
  }
  for (const name of names) {
    const m = new RegExp(`^${PREFIX}(\\d+)$`).exec(name);
    if (m && !alive(Number(m[1]))) {
      quiet('ip', ['netns', 'delete', name]);
      quiet('ip', ['link', 'delete', `isk${m[1]}h`]);
    }
  }
}

// A /30 in 10.213.0.0/16 that no interface holds yet, starting from one the pid picks.
function freeSubnet(pid) {
  const used = run('ip', ['-o', '-4', 'addr', 'show']);
  for (let i = 0; i < 16384; i++) {
    const n = ((pid + i) % 16384) * 4;
    const [c, d] = [n >> 8, n & 255];
    const host = `10.213.${c}.${d + 1}`;
    if (!used.includes(` ${host}/`)) return { host, app: `10.213.${c}.${d + 2}` };
  }
  throw new Error('no free 10.213.0.0/16 subnet for the soak');
}

class AppNetwork {
  constructor(pid = process.pid) {
    this.ns = `${PREFIX}${pid}`;
    this.hostIf = `isk${pid}h`; // interface names are at most 15 characters
    this.appIf = `isk${pid}a`;
    this.pid = pid;
    this.tables = 0;
    this.up = false;
  }

  setup() {
    sweepStale();
    const { host, app } = freeSubnet(this.pid);
    this.hostAddr = host;
    this.appAddr = app;
    this.up = true; // from here teardown has something to undo
    run('ip', ['netns', 'add', this.ns]);
    run('ip', ['link', 'add', this.hostIf, 'type', 'veth', 'peer', 'name', this.appIf]);
    run('ip', ['link', 'set', this.appIf, 'netns', this.ns]);
    run('ip', ['addr', 'add', `${host}/30`, 'dev', this.hostIf]);
    run('ip', ['link', 'set', this.hostIf, 'up']);
    this.exec('ip', ['addr', 'add', `${app}/30`, 'dev', this.appIf]);
    this.exec('ip', ['link', 'set', this.appIf, 'up']);
    this.exec('ip', ['link', 'set', 'lo', 'up']);
  }

  exec(cmd, args, input) {
    return run('ip', ['netns', 'exec', this.ns, cmd, ...args], input);
  }

  // The command line that runs cmd inside the namespace (ip exec()s it: same pid, same fds, IPC too).
  wrap(cmd, args) {
    return ['ip', ['netns', 'exec', this.ns, cmd, ...args]];
  }

  // Drops every packet between the app and the proxy that matches, in both directions; `appPort`
  // narrows it to one connection (the app's side of it), else every connection to the proxy,
  // new ones included. Returns the table's name for lift().
  blackhole(proxyPort, appPort) {
    const table = `bh${++this.tables}`;
    const out = appPort ? `tcp sport ${appPort}` : `tcp dport ${proxyPort}`;
    const inn = appPort ? `tcp dport ${appPort}` : `tcp sport ${proxyPort}`;
    this.exec('nft', ['-f', '-'], `table ip ${table} {
      chain out { type filter hook output priority 0; policy accept; ip daddr ${this.hostAddr} ${out} drop; }
      chain in { type filter hook input priority 0; policy accept; ip saddr ${this.hostAddr} ${inn} drop; }
    }\n`);
    return table;
  }

  lift(table) {
    if (this.up) this.exec('nft', ['delete', 'table', 'ip', table]);
  }

  // The app's local ports of its ESTABLISHED connections to the proxy, as the app's kernel sees them:
  // a connection the engine gave up on is closing (FIN_WAIT) or gone.
  established(proxyPort) {
    return new Promise((resolve, reject) => {
      execFile('ip', ['netns', 'exec', this.ns, 'ss', '-tnH', 'state', 'established', 'dst', `${this.hostAddr}:${proxyPort}`],
        { timeout: 10000, encoding: 'utf8' }, (err, out) => {
          if (err) {
            reject(err);
            return;
          }
          const ports = new Set();
          for (const line of out.split('\n')) {
            const m = new RegExp(`${this.appAddr.replace(/\./g, '\\.')}:(\\d+)\\s`).exec(line);
            if (m) ports.add(Number(m[1]));
          }
          resolve(ports);
        });
    });
  }

  // Synchronous, idempotent: it runs from 'exit' and signal handlers too. Deleting the namespace
  // takes its nft tables and its end of the veth, and with it the root end.
  teardown() {
    if (!this.up) return;
    this.up = false;
    quiet('ip', ['netns', 'delete', this.ns]);
    quiet('ip', ['link', 'delete', this.hostIf]);
  }
}

module.exports = { AppNetwork, missingPrivileges, PREFIX };
