'use strict';
// The fault schedule. Every tick (100 ms) draws from the fault generator whether a fault starts and
// which, with what size, so the same seed gives the same sequence. Faults that take a process down
// (Dovecot, the app) run one after the other, in the order drawn.

const KINDS = [
  // kind, weight, process-level
  ['cut', 5, false],
  ['cutAll', 1, false],
  ['halfClose', 3, false],
  ['stall', 3, false],
  ['slow', 3, false],
  ['refuse', 1, false],
  ['churn', 2, false],
  ['syncStorm', 1.5, false],
  ['dovecotKill', 0.6, true],
  ['appKill', 1, true],
  ['appRestart', 0.4, true],
  ['tokenReject', 1.5, false],
  ['tokenHang', 1, false],
  ['tokenExpired', 1.5, false],
  ['blackhole', 2, false],
  ['blackholeAll', 0.5, false],
];
const TOTAL = KINDS.reduce((s, k) => s + k[1], 0);
const MEAN_TICKS = 25; // one fault every 2.5 s on average
const REQUEST_MS = 30000;
// 2-40 s: IDLE liveness (15 s + a 4 s DONE timeout in the soak's options) and the TCP user timeout
// (keepalive defaults: 30 s) give up on the long ones; the short ones end first and TCP delivers
// what was held back.
const blackholeMs = (size) => 2000 + Math.floor(size * 38000);
const HOLE_POLL_MS = 1000;

// One tick's draw: a fault and its sizes, or null. Four numbers every tick, fault or not, so the
// schedule depends on the seed alone.
function draw(rand) {
  const r = rand();
  const pick = rand() * TOTAL;
  const size = rand();
  const size2 = rand();
  if (r >= 1 / MEAN_TICKS) return null;
  let acc = 0;
  const [kind, , big] = KINDS.find(([, w]) => (acc += w) > pick) || KINDS[KINDS.length - 1];
  return { kind, big, size, size2 };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class Faults {
  // rand draws the schedule; pickRand which connection a fault hits, which depends on what is open.
  constructor(soak, rand, pickRand) {
    this.soak = soak;
    this.rand = rand;
    this.pickRand = pickRand;
    this.counts = Object.fromEntries(KINDS.map(([k]) => [k, 0]));
    this.inFlight = new Set();
    this.chain = Promise.resolve();
    this.churning = new Set();
    // Connections held in a blackhole: noticed (the app's kernel no longer has them ESTABLISHED: the
    // engine gave up on them or closed them) or outlasted (still up when it lifted); ones lost to an
    // app kill or restart count as neither.
    this.holes = { conns: 0, noticed: 0, outlasted: 0, maxNoticeMs: 0 };
  }

  step() {
    const d = draw(this.rand);
    if (!d) return;
    const { kind, big, size, size2 } = d;
    this.counts[kind]++;
    const run = () => this[kind](size, size2);
    const started = big ? this.chain.then(run) : run();
    if (big) this.chain = started.catch(() => {});
    const p = started
      .catch((err) => this.soak.fail(`fault ${kind} failed`, err.stack))
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  async cut() {
    const c = this.soak.proxy.pick(this.pickRand);
    if (c) this.soak.proxy.cut(c);
  }

  async cutAll() {
    for (const c of [...this.soak.proxy.conns]) this.soak.proxy.cut(c);
  }

  async halfClose() {
    const c = this.soak.proxy.pick(this.pickRand);
    if (c) this.soak.proxy.halfClose(c);
  }

  async stall(size) {
    const c = this.soak.proxy.pick(this.pickRand);
    if (c) this.soak.proxy.stall(c, 1000 + Math.floor(size * 14000));
  }

  async slow(size, size2) {
    const c = this.soak.proxy.pick(this.pickRand);
    if (c) this.soak.proxy.slow(c, 20 + Math.floor(size * 300), 3000 + Math.floor(size2 * 12000));
  }

  async refuse(size) {
    this.soak.proxy.refuse(1000 + Math.floor(size * 5000));
  }

  async churn(size, size2) {
    const { soak } = this;
    const app = soak.app;
    const acc = soak.accounts[Math.floor(size2 * soak.accounts.length)];
    if (this.churning.has(acc.id) || soak.appDown) return;
    this.churning.add(acc.id);
    try {
      await app.request('remove', acc.id, REQUEST_MS).catch((e) => {
        if (e.hung) soak.fail('removeAccount hung', `${acc.id}: ${e.message}`);
      });
      await sleep(1000 + Math.floor(size * 4000));
      // A restarted app added every account itself.
      if (soak.app === app && !soak.appDown) await soak.addAccount(acc);
    } finally {
      this.churning.delete(acc.id);
    }
  }

  async syncStorm() {
    const { app } = this.soak;
    if (this.soak.appDown) return;
    await Promise.all([0, 1, 2].map(() => app.request('syncAll', null, REQUEST_MS).catch((e) => {
      if (e.hung) this.soak.fail('syncAll hung', e.message);
    })));
  }

  // Token faults hit the OAuth accounts' provider in the app; with no OAuth account they are no-ops
  // (and drawn all the same, so the schedule of the other kinds stays what the seed gave).
  async token(mode, ms) {
    const { soak } = this;
    if (soak.appDown || !soak.accounts.some((a) => a.oauth)) return;
    await soak.app.request('tokenFault', { mode, ms }, REQUEST_MS).catch(() => {});
  }

  tokenReject(size) { return this.token('reject', 1000 + Math.floor(size * 7000)); }

  // Longer than the soak's auth.tokenTimeoutMs, so at least one call is given up on.
  tokenHang(size) { return this.token('hang', 3500 + Math.floor(size * 5000)); }

  tokenExpired(size) { return this.token('expired', 1000 + Math.floor(size * 5000)); }

  // Blackholes need the app's network namespace (soak/netns.js); without it they are drawn all the
  // same and do nothing, so the schedule of the other kinds stays what the seed gave.
  async blackhole(size) {
    const { net, proxy } = this.soak;
    if (!net) return;
    const c = proxy.pick(this.pickRand);
    const port = c && c.client.remotePort;
    if (port) await this.hole(port, blackholeMs(size));
  }

  async blackholeAll(size) {
    if (this.soak.net) await this.hole(null, blackholeMs(size));
  }

  async hole(appPort, ms) {
    const { soak } = this;
    const { net, proxyPort } = soak;
    const table = net.blackhole(proxyPort, appPort);
    const t0 = Date.now();
    const run = soak.app.run;
    let hid = !appPort; // a blackhole of all stops new connects too, even with none to hold
    try {
      // Installed first: a connection ESTABLISHED now stays so until one end gives up on it.
      const held = await net.established(proxyPort);
      if (appPort) for (const p of held) if (p !== appPort) held.delete(p);
      this.holes.conns += held.size;
      hid = hid || held.size > 0;
      while (held.size > 0 && Date.now() - t0 < ms) {
        await sleep(Math.min(HOLE_POLL_MS, t0 + ms - Date.now()));
        const now = await net.established(proxyPort);
        const sameApp = soak.app.run === run && !soak.appDown;
        for (const p of held) {
          if (now.has(p)) continue;
          held.delete(p);
          if (!sameApp) continue;
          this.holes.noticed++;
          this.holes.maxNoticeMs = Math.max(this.holes.maxNoticeMs, Date.now() - t0);
        }
      }
      if (soak.app.run === run) this.holes.outlasted += held.size;
      await sleep(t0 + ms - Date.now());
    } finally {
      net.lift(table);
      // For soak/check.js: what happened meanwhile might not be seen.
      if (hid) soak.blind.push({ from: t0, to: Date.now() });
    }
  }

  async dovecotKill(size) {
    const { soak } = this;
    soak.dovecotDown = true;
    await soak.dovecot.kill();
    await sleep(500 + Math.floor(size * 4500));
    await soak.dovecot.restart();
    soak.proxy.upstreamPort = soak.dovecot.tlsPort;
    soak.dovecotDown = false;
  }

  async appKill(size) {
    const { soak } = this;
    soak.appDown = true;
    await soak.app.kill();
    soak.pollEvents();
    await sleep(200 + Math.floor(size * 2800));
    await soak.startApp();
  }

  async appRestart() {
    const { soak } = this;
    soak.appDown = true;
    const t0 = Date.now();
    await soak.app.request('close', null, REQUEST_MS).catch((e) => soak.fail(e.hung ? 'close() hung' : 'close() failed', e.message));
    this.maxCloseMs = Math.max(this.maxCloseMs || 0, Date.now() - t0);
    const r = await soak.app.disconnect(10000);
    if (r.hung) soak.fail('app did not exit after close()', `run ${soak.app.run}`);
    soak.pollEvents();
    await soak.startApp();
  }

  // No new faults; the ones in progress end (bounded by their own timeouts), Dovecot and the app run.
  async stop() {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}

module.exports = { Faults, draw, KINDS };
