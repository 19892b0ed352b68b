#!/usr/bin/env node
'use strict';
// Chaos soak: a real Dovecot behind a fault proxy, N accounts x F folders watched by one MailEngine
// with a stateFile in a child process, a writer changing mail at a steady rate, and random faults
// (connection cuts, half-closes, stalls, slow links, refused connects, Dovecot SIGKILL, app SIGKILL
// and graceful restart, removeAccount/addAccount churn, syncAll storms, token-provider rejections,
// hangs and expired tokens for the OAuth accounts, and, as root, blackholes: packets of one connection
// or of all dropped in the app's network namespace, soak/netns.js). At the end every fault
// stops, everything is synced, and what the app reported is checked against the writer and the
// server (soak/check.js). Exits 1 on any violation.
//
//   node soak/run.js [--duration 120s] [--seed N] [--accounts 20] [--folders 3] [--rate 4] [--oauth-share 0.5] [--json FILE]
// --oauth-share: the share of accounts that log in with getAccessToken (tokens minted in the app from
// the driver's key, checked by Dovecot), the ones token faults hit.
// The seed drives two independent generators, one for faults and one for writes, so one seed gives
// the same schedule of fault kinds, times and sizes and of write kinds and times; which connection
// or message a step picks depends on what exists at that moment.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startDovecot } = require('../test/support/dovecot');
const { FaultProxy } = require('./proxy');
const { Writer } = require('./writer');
const { AppProcess } = require('./app-process');
const { check } = require('./check');
const { Faults } = require('./faults');
const { AppNetwork, missingPrivileges } = require('./netns');

function parseArgs(argv) {
  const o = { duration: 120000, seed: null, accounts: 20, folders: 3, rate: 4, json: null, oauthShare: 0.5 };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (v === undefined) throw new Error(`${k} needs a value`);
    if (k === '--duration') {
      const m = /^(\d+)(ms|s|m)?$/.exec(v);
      if (!m) throw new Error(`bad --duration ${v}`);
      o.duration = Number(m[1]) * ({ ms: 1, s: 1000, m: 60000 }[m[2] || 's']);
    } else if (k === '--seed') o.seed = Number(v) >>> 0;
    else if (k === '--accounts') o.accounts = Number(v);
    else if (k === '--folders') o.folders = Number(v);
    else if (k === '--rate') o.rate = Number(v);
    else if (k === '--json') o.json = v;
    else if (k === '--oauth-share') {
      o.oauthShare = Number(v);
      if (!(o.oauthShare >= 0 && o.oauthShare <= 1)) throw new Error(`bad --oauth-share ${v} (0..1)`);
    }
    else throw new Error(`unknown option ${k}`);
  }
  if (o.seed === null) o.seed = Math.floor(Math.random() * 2 ** 32) >>> 0;
  return o;
}

// mulberry32: small, fast, and the same everywhere.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Short timeouts so that a stalled or half-closed connection is given up on within the soak.
const ENGINE_OPTIONS = {
  reconnect: { initialDelayMs: 200, maxDelayMs: 2000, authFailureDelayMs: 1000 },
  timeouts: { connectMs: 5000, commandMs: 8000, logoutMs: 1000 },
  idle: { livenessMs: 15000, doneTimeoutMs: 4000 },
  pool: { idleTimeoutMs: 3000 },
  sync: { debounceMs: 200 },
  // Low, so a hanging token provider is given up on within a token fault.
  auth: { tokenTimeoutMs: 3000 },
};
const REQUEST_MS = 30000;
const SETTLE_MS = 90000;

class Soak {
  constructor(opts) {
    this.opts = opts;
    this.violations = [];
    this.events = [];
    this.known = new Map(); // key -> { a, f, uid, user } reported and not reported deleted
    this.usage = { rss: [Infinity, 0], fds: [Infinity, 0], handles: [Infinity, 0] };
    this.run = 0;
    this.inc = new Map(); // accountId -> addAccount count in this run
    this.app = null;
    this.appDown = false;
    this.dovecotDown = false;
    this.net = null;
    this.netOff = null; // why there are no blackholes
    this.blind = []; // { from, to } of every blackhole
  }

  // Blackholes need root; a developer's run goes on without them, CI's must not (the rule of
  // test/blackhole.test.js).
  setupNetwork() {
    const missing = missingPrivileges();
    if (missing && process.env.CI) throw new Error(`blackholes need root with ip, nft and ss (${missing}); under CI they must run`);
    if (missing) {
      this.netOff = missing;
      process.stdout.write(`\n*** soak: blackholes OFF (${missing}); every other fault runs ***\n\n`);
      return;
    }
    this.net = new AppNetwork();
    this.net.setup();
    process.stdout.write(`soak: blackholes on: app in netns ${this.net.ns} (${this.net.appAddr}), proxy on ${this.net.hostAddr}\n`);
  }

  fail(what, detail) {
    this.violations.push({ what, detail });
    process.stdout.write(`VIOLATION ${what}: ${detail}\n`);
  }

  async setup() {
    const { accounts, folders } = this.opts;
    const users = {};
    for (let i = 0; i < accounts; i++) users[`u${i}`] = `p${i}`;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-soak-'));
    this.setupNetwork();
    this.dovecot = await startDovecot({ users, oauth2: true });
    this.folders = ['INBOX', 'Work', 'Lists', 'Archive', 'Later'].slice(0, folders);
    this.writer = new Writer(this.dovecot, prng(this.opts.seed ^ 0x5eed0003));
    for (const u of Object.keys(users)) {
      for (const f of this.folders.slice(1)) await this.writer.doveadm(['mailbox', 'create', '-u', u, f]);
    }
    this.proxy = new FaultProxy();
    const host = this.net ? this.net.hostAddr : '127.0.0.1';
    this.proxyPort = await this.proxy.listen(host);
    this.proxy.upstreamPort = this.dovecot.tlsPort;
    const oauthCount = Math.round(accounts * this.opts.oauthShare);
    this.accounts = Object.keys(users).map((u, i) => ({
      // Dovecot's certificate names localhost and 127.0.0.1, not the veth address.
      id: `acc${i}`, host, port: this.proxyPort, tlsOptions: { ca: this.dovecot.caPem, ...(this.net && { servername: 'localhost' }) },
      user: u, folders: this.folders, ...(i < oauthCount ? { oauth: true } : { pass: users[u] }),
    }));
    this.stateFile = path.join(this.dir, 'state.sqlite');
  }

  async startApp() {
    this.run++;
    this.inc = new Map();
    const app = new AppProcess({ run: this.run, dir: this.dir, stateFile: this.stateFile, options: ENGINE_OPTIONS,
      env: { SOAK_OAUTH_KEY: this.dovecot.oauthKey }, net: this.net });
    this.app = app;
    app.exited.then(({ code, signal }) => {
      if (!app.expectedExit) this.fail('app crashed', `run ${app.run}: exit ${code} ${signal || ''}\n${app.stderr}`);
    });
    await app.ready;
    this.appDown = false;
    await Promise.all(this.accounts.map((acc) => this.addAccount(acc)));
  }

  // Under faults a first connection can fail, and then the account is dropped: try again.
  async addAccount(acc) {
    for (let attempt = 0; attempt < 60; attempt++) {
      if (this.app.expectedExit) return false;
      try {
        await this.app.request('add', acc, REQUEST_MS);
        return true;
      } catch (err) {
        if (/ACCOUNT_EXISTS/.test(err.message)) return true; // a concurrent add (churn and restart) won
        if (err.hung) this.fail('addAccount hung', `${acc.id}: ${err.message}`);
        if (err.hung || /exited|not running/.test(err.message)) return false;
        await sleep(500);
      }
    }
    this.fail('addAccount never succeeded', acc.id);
    return false;
  }

  pollEvents() {
    if (!this.app) return;
    for (const e of this.app.readEvents()) {
      if (e.kind === 'violation') {
        this.fail(e.what, e.detail);
        continue;
      }
      if (e.kind === 'adding') {
        this.inc.set(e.a, (this.inc.get(e.a) || 0) + 1);
        continue;
      }
      const ev = { ...e, run: this.app.run, inc: this.inc.get(e.a) || 0 };
      if (ev.flags) ev.flags = ev.flags.filter((x) => x !== '\\Recent').sort();
      this.events.push(ev);
      const key = `${e.a}|${e.f}|${e.uid}`;
      if (e.kind === 'new') {
        const acc = this.accounts.find((x) => x.id === e.a);
        if (!this.writer.gone.has(key)) this.known.set(key, { a: e.a, f: e.f, uid: e.uid, user: acc.user });
      } else if (e.kind === 'deleted') this.known.delete(key);
    }
  }

  async sampleUsage() {
    if (this.appDown || !this.app) return null;
    try {
      const u = await this.app.request('usage', null, REQUEST_MS);
      this.usage.rss = [Math.min(this.usage.rss[0], u.rss), Math.max(this.usage.rss[1], u.rss)];
      this.usage.fds = [Math.min(this.usage.fds[0], u.fds), Math.max(this.usage.fds[1], u.fds)];
      this.usage.handles = [Math.min(this.usage.handles[0], u.handles), Math.max(this.usage.handles[1], u.handles)];
      return u;
    } catch (_) {
      return null;
    }
  }

  async writeStep(wrand) {
    const r = wrand();
    const acc = this.accounts[Math.floor(wrand() * this.accounts.length)];
    const folder = this.folders[Math.floor(wrand() * this.folders.length)];
    const perTick = this.opts.rate / 10;
    if (r < perTick) this.writer.append(acc, folder);
    else if (r < perTick * 1.3 && !this.dovecotDown) await this.writer.mutate(this.known, false);
    else if (r < perTick * 1.4 && !this.dovecotDown) await this.writer.mutate(this.known, true);
  }

  // Quiet state: same accounts, no faults, pooled connections timed out.
  async quietUsage() {
    await sleep(ENGINE_OPTIONS.pool.idleTimeoutMs + 2000);
    return this.sampleUsage();
  }

  async settle() {
    const deadline = Date.now() + SETTLE_MS;
    const allIdle = async () => {
      try {
        const st = await this.app.request('status', null, REQUEST_MS);
        return st.length === this.accounts.length && st.every((a) => a.states.every((s) => s === 'idle'));
      } catch (_) {
        return false;
      }
    };
    while (Date.now() < deadline && !(await allIdle())) await sleep(500);
    if (!(await allIdle())) this.fail('not every folder back to idle after the faults stopped', `${SETTLE_MS} ms`);
    // Dovecot announces changes to an IDLE connection up to ~1 s late; a sync catches what IDLE missed.
    await sleep(3000);
    const failed = await this.app.request('syncAll', null, REQUEST_MS).catch((e) => {
      this.fail('syncAll at the end failed', e.message);
      return 0;
    });
    if (failed) this.fail('syncAll at the end', `${failed} accounts not ok`);
    let quietFor = 0;
    let count = this.events.length;
    while (Date.now() < deadline && quietFor < 5000) {
      await sleep(500);
      this.pollEvents();
      quietFor = this.events.length === count ? quietFor + 500 : 0;
      count = this.events.length;
    }
  }

  async main() {
    const { opts } = this;
    process.stdout.write(`soak: seed ${opts.seed}, ${opts.duration / 1000} s, ${opts.accounts} accounts x ${opts.folders} folders, ${opts.rate} appends/s\n`);
    await this.setup();
    await this.startApp();
    this.baseline = await this.quietUsage();
    const faults = new Faults(this, prng(opts.seed ^ 0x5eed0001), prng(opts.seed ^ 0x5eed0004));
    const wrand = prng(opts.seed ^ 0x5eed0002);
    const start = Date.now();
    // Counted in ticks, not wall time, so a slow machine replays the same steps (a little later).
    for (let tick = 1; tick <= opts.duration / 100; tick++) {
      await sleep(Math.max(0, start + tick * 100 - Date.now()));
      this.pollEvents();
      faults.step(tick);
      await this.writeStep(wrand);
      if (tick % 20 === 0) await this.sampleUsage();
    }
    await faults.stop();
    this.proxy.heal();
    await this.settle();

    // The churn the leak check is about: every account removed and added back.
    for (const acc of this.accounts) await this.app.request('remove', acc.id, REQUEST_MS).catch((e) => this.fail('removeAccount', e.message));
    await Promise.all(this.accounts.map((acc) => this.addAccount(acc)));
    await this.settle();
    const final = await this.quietUsage();
    const server = await this.writer.serverState(this.accounts, this.folders);
    const result = check({ events: this.events, writer: this.writer, server, blind: this.blind });
    for (const v of result.violations) this.fail(v.what, v.detail);
    this.checkUsage(final);
    await this.closeApp();
    return this.report(result.stats, faults, final, Date.now() - start);
  }

  checkUsage(final) {
    const base = this.baseline;
    if (!base || !final) {
      this.fail('usage', 'could not sample the app at the start or the end');
      return;
    }
    // Same accounts, same quiet state: one fd of slack for a connection mid-reconnect.
    if (final.fds > base.fds + 1) this.fail('fds not back to baseline', `${base.fds} at the start, ${final.fds} at the end`);
    // Same quiet state, same handles: a TCP handle and its timers of slack for one connection mid-reconnect.
    if (final.handles > base.handles + 3) this.fail('uv handles not back to baseline', `${base.handles} at the start, ${final.handles} at the end`);
    const rssLimit = Math.max(base.rss * 1.5, base.rss + 48 * 2 ** 20);
    if (this.run === 1 && final.rss > rssLimit) this.fail('RSS not back near baseline', `${base.rss} -> ${final.rss}`);
  }

  async closeApp() {
    const t0 = Date.now();
    await this.app.request('close', null, REQUEST_MS).catch((e) => this.fail(e.hung ? 'close() hung' : 'close() failed', e.message));
    this.closeMs = Date.now() - t0;
    this.pollEvents();
    const r = await this.app.disconnect(10000);
    if (r.hung) this.fail('app did not exit after close()', 'a handle keeps it alive');
    else if (r.code !== 0) this.fail('app exit after close()', `${r.code} ${r.signal}`);
  }

  report(stats, faults, final, elapsed) {
    const mb = (n) => (n / 2 ** 20).toFixed(1);
    const h = faults.holes;
    const rows = [
      ...Object.entries(faults.counts).map(([k, v]) => [`fault: ${k}`, v]),
      ['blackholed conns: noticed / outlasted', this.net ? `${h.conns}: ${h.noticed} / ${h.outlasted}` : `off (${this.netOff})`],
      ['app runs (process starts)', this.run],
      ['messages appended', this.writer.appends.size],
      ['messages reported', stats.reported],
      ['flag changes / expunges (doveadm)', `${this.writer.ops.filter((o) => o.kind === 'flag' && o.ok).length} / ${this.writer.ops.filter((o) => o.kind === 'expunge' && o.ok).length}`],
      ['writer ops failed (Dovecot busy or dying)', this.writer.failures],
      ['events received', this.events.length],
      ['duplicate newMessage across restarts', stats.duplicatesAcrossRestarts],
      ['flag states undone unseen: within 15 s / in blackholes', `${stats.undoneUnseen.quick} / ${stats.undoneUnseen.blackholed}`],
      // The last: from a blackhole's start to the engine giving up on a connection it held.
      ['max detection ms: new / flag / expunge / blackhole', `${stats.maxDetectMs.new} / ${stats.maxDetectMs.flag} / ${stats.maxDetectMs.expunge} / ${this.net ? h.maxNoticeMs : '-'}`],
      ['RSS MB min-max (baseline -> end)', `${mb(this.usage.rss[0])}-${mb(this.usage.rss[1])} (${mb(this.baseline.rss)} -> ${final ? mb(final.rss) : '?'})`],
      ['open fds min-max (baseline -> end)', `${this.usage.fds[0]}-${this.usage.fds[1]} (${this.baseline.fds} -> ${final ? final.fds : '?'})`],
      ['uv handles min-max (baseline -> end)', `${this.usage.handles[0]}-${this.usage.handles[1]} (${this.baseline.handles} -> ${final ? final.handles : '?'})`],
      ['final close() ms', this.closeMs],
      ['violations', this.violations.length],
    ];
    const width = Math.max(...rows.map((r) => r[0].length));
    const table = ['| what | value |', '|---|---|', ...rows.map(([k, v]) => `| ${k.padEnd(width)} | ${v} |`)].join('\n');
    process.stdout.write(`\nsoak: seed ${this.opts.seed}, ${(elapsed / 1000).toFixed(0)} s\n${table}\n`);
    if (this.opts.json) fs.writeFileSync(this.opts.json, JSON.stringify({ seed: this.opts.seed, rows, violations: this.violations }, null, 2));
    return this.violations.length === 0;
  }

  async cleanup() {
    if (this.app && this.app.child.exitCode === null && this.app.child.signalCode === null) await this.app.kill();
    if (this.proxy) await this.proxy.close();
    if (this.dovecot) await this.dovecot.stop();
    if (this.net) this.net.teardown();
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// The soaks in progress, for the exit and signal handlers.
const running = new Set();

async function runSoak(opts) {
  const soak = new Soak(opts);
  running.add(soak);
  try {
    return await soak.main();
  } finally {
    await soak.cleanup();
    running.delete(soak);
  }
}

if (require.main === module) {
  // The namespace, its veth and its nft tables go on every way out: runSoak's finally, an exit
  // that skips it, or SIGINT/SIGTERM (which stop Dovecot and the app too).
  process.on('exit', () => { for (const soak of running) if (soak.net) soak.net.teardown(); });
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      process.stdout.write(`soak: ${sig}, cleaning up\n`);
      setTimeout(() => process.exit(130), 15000).unref();
      Promise.all([...running].map((s) => s.cleanup().catch(() => {}))).finally(() => process.exit(130));
    });
  }
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`soak: ${err.message}\n`);
    process.exit(2);
  }
  runSoak(opts).then((ok) => {
    process.stdout.write(ok ? 'soak: PASS\n' : `soak: FAIL (seed ${opts.seed})\n`);
    process.exit(ok ? 0 : 1);
  }, (err) => {
    process.stderr.write(`soak: ${err.stack}\nseed ${opts.seed}\n`);
    process.exit(1);
  });
}

module.exports = { runSoak, parseArgs, prng, ENGINE_OPTIONS };
