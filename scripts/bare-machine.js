#!/usr/bin/env node
'use strict';

// The install paths on a bare machine, for real (issue 12, "Done when"). As
// root, it builds a minimal Debian 12 root with debootstrap, copies in only
// Node and npm, and chroots into it twice:
//   packed   the `npm pack` tarball (with its prebuild) installs into an empty
//            app with no compiler and no -dev package; the app requires
//            imap-push, watches a Dovecot running outside the chroot on
//            127.0.0.1 and gets a push, and parseMessage works. Asking that
//            install for a source build names the packages it lacks.
//   readme   a clone of this repository runs the README's first command, which
//            sets itself up (scripts/setup.js installs the build packages) and
//            runs the demo; it passes when pushes print.
//   node scripts/bare-machine.js [--only packed|readme] [--keep]
// Needs: root, debootstrap, git, a prebuild (npm run prebuild) for `packed`.
// Every wait is bounded; the root is unmounted and removed on every exit.

const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const repo = path.join(__dirname, '..');
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;
const keep = process.argv.includes('--keep');
const log = (msg) => process.stdout.write(`bare-machine: ${msg}\n`);

function mirror() {
  const dir = '/etc/apt/sources.list.d';
  const texts = [...(fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => path.join(dir, f)) : []), '/etc/apt/sources.list']
    .filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f, 'utf8'));
  for (const t of texts) {
    // deb822 stanzas (URIs: + Suites: bookworm) and one-line entries.
    for (const stanza of t.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(stanza);
      if (uri && /^Suites:.*\bbookworm\b/m.test(stanza) && !/security/.test(uri[1])) return uri[1];
    }
    const line = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(t);
    if (line) return line[1];
  }
  return 'http://deb.debian.org/debian';
}

let root = null;
const mounted = [];

function teardown() {
  for (const m of mounted.splice(0).reverse()) {
    try {
      execFileSync('umount', [m], { stdio: 'ignore' });
    } catch {
      try { execFileSync('umount', ['-l', m], { stdio: 'ignore' }); } catch { /* reported below */ }
    }
  }
  if (!root || keep) return;
  const still = fs.readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.split(' ')[1]?.startsWith(root));
  if (still.length) {
    process.stderr.write(`bare-machine: not removing ${root}, still mounted: ${still.join('; ')}\n`);
    return;
  }
  execFileSync('rm', ['-rf', '--one-file-system', root]);
  root = null;
}
process.on('exit', teardown);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

function copyIn(src, { dereference = false } = {}) {
  const dest = path.join(root, src);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  execFileSync('cp', [dereference ? '-rL' : '-a', src, dest]);
}

function makeRoot() {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-bare-'));
  const url = mirror();
  log(`debootstrap --variant=minbase bookworm ${root} ${url}`);
  execFileSync('debootstrap', ['--variant=minbase', 'bookworm', root, url], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 600000 });
  // Node and npm as installed here, and nothing else: the binary, npm, and
  // the headers (uv.h) a source build compiles against.
  const prefix = path.resolve(process.execPath, '..', '..');
  for (const p of ['bin/node', 'bin/npm', 'bin/npx', 'lib/node_modules/npm', 'include/node']) {
    if (fs.existsSync(path.join(prefix, p)) || fs.lstatSync(path.join(prefix, p), { throwIfNoEntry: false })) copyIn(path.join(prefix, p));
  }
  // Name resolution, and the CA files the registries here are reached through.
  copyIn('/etc/resolv.conf', { dereference: true });
  for (const v of ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'NIX_SSL_CERT_FILE']) {
    if (process.env[v] && fs.existsSync(process.env[v])) copyIn(process.env[v], { dereference: true });
  }
  const npmrc = path.join(os.homedir(), '.npmrc');
  if (fs.existsSync(npmrc)) fs.copyFileSync(npmrc, path.join(root, 'root', '.npmrc'));
  // Packages must not start services inside the chroot.
  fs.writeFileSync(path.join(root, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  for (const [what, args] of [['proc', ['-t', 'proc', 'proc']], ['dev', ['--bind', '/dev']], ['sys', ['--bind', '/sys']]]) {
    execFileSync('mount', [...args, path.join(root, what)]);
    mounted.push(path.join(root, what));
  }
}

function chrootEnv(extra = {}) {
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8', ...extra };
  for (const v of ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'NIX_SSL_CERT_FILE', 'CI']) {
    if (process.env[v]) env[v] = process.env[v];
  }
  return env;
}

/** Runs `script` (bash) in the chroot; resolves with its output, rejects on a bad exit or timeout. */
function inRoot(script, { timeoutMs = 300000, env = {}, onLine = null, allowFail = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn('chroot', [root, '/bin/bash', '-c', script], { env: chrootEnv(env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let pending = '';
    const timer = setTimeout(() => {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
      reject(new Error(`timed out after ${timeoutMs} ms: ${script}\n${out.slice(-2000)}\n${err.slice(-2000)}`));
    }, timeoutMs);
    child.stdout.on('data', (d) => {
      out += d;
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop();
      if (onLine) for (const l of lines) onLine(l, child);
    });
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 || allowFail) resolve({ code, signal, out, err });
      else reject(new Error(`exit ${code ?? signal}: ${script}\n--- stdout\n${out.slice(-3000)}\n--- stderr\n${err.slice(-3000)}`));
    });
  });
}

function expect(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  log(`ok: ${what}`);
}

// The app a user would write, run inside the chroot against the Dovecot outside it.
const APP = `
const fs = require('fs');
const { MailEngine, parseMessage } = require('imap-push');
parseMessage(Buffer.from('Subject: =?UTF-8?Q?Caf=C3=A9?=\\r\\nFrom: A <a@example.com>\\r\\n\\r\\nhello\\r\\n'))
  .then((p) => console.log(JSON.stringify({ parsed: { subject: p.subject, text: p.text.trim() } })));
const engine = new MailEngine();
engine.on('newMessage', (m) => console.log(JSON.stringify({ newMessage: { uid: m.uid, subject: m.envelope.subject } })));
engine.on('connectionStatus', (s) => { if (s.state === 'idle') console.log(JSON.stringify({ idle: s.folder })); });
engine.addAccount({ id: 'bare', host: '127.0.0.1', port: Number(process.env.DOVECOT_PORT), user: 'bare',
  pass: process.env.DOVECOT_PASS, tlsOptions: { ca: fs.readFileSync('ca.pem', 'utf8') } }).catch((e) => { console.error(e); process.exit(2); });
process.on('SIGTERM', () => engine.close().then(() => process.exit(0)));
`;

async function packed() {
  const prebuild = path.join(repo, require('../lib/platform').prebuildFile());
  if (!fs.existsSync(prebuild)) throw new Error(`no prebuild at ${prebuild}: run npm run prebuild first`);
  const app = path.join(root, 'root', 'app');
  fs.mkdirSync(app, { recursive: true });
  // Packed as a publish packs it: the prepack hook (scripts/prepack.js) runs, without its opt-out, and refuses
  // a missing or stale prebuild. It writes to stderr only, so stdout stays npm's JSON.
  const packEnv = { ...process.env };
  delete packEnv.IMAP_PUSH_PACK_WITHOUT_PREBUILD;
  const [{ filename }] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', app],
    { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: packEnv }));
  const tools = await inRoot("for t in cc c++ gcc g++ cmake make; do command -v $t; done; dpkg-query -W -f='${Package}\\n' | grep -- '-dev$' || true", { allowFail: true });
  expect(tools.out.trim() === '', `the bare root has no compiler, cmake, make or -dev package (${tools.out.trim() || 'none'})`);
  const install = await inRoot(`cd /root/app && npm init -y >/dev/null && npm install --no-audit --no-fund --foreground-scripts ./${filename} 2>&1`,
    { timeoutMs: 600000 });
  expect(install.out.includes('imap-push: using the prebuilt addon prebuilds/linux-x64/imap_push.glibc.node'),
    'npm install of the packed tarball uses the prebuild');
  expect(!fs.existsSync(path.join(app, 'node_modules', 'imap-push', 'build')), 'and builds nothing');
  const ldd = await inRoot('ldd /root/app/node_modules/imap-push/prebuilds/linux-x64/imap_push.glibc.node');
  expect(!/not found/.test(ldd.out), `every library the prebuild needs is on the bare root\n${ldd.out.trim()}`);

  const { startDovecot } = require('../test/support/dovecot');
  const dovecot = await startDovecot({ users: { bare: 'bare-secret' } });
  try {
    fs.writeFileSync(path.join(app, 'ca.pem'), dovecot.caPem);
    fs.writeFileSync(path.join(app, 'app.js'), APP);
    const subject = `bare push ${process.pid}`;
    let delivered = false;
    let got = null;
    let parsed = null;
    const run = inRoot('cd /root/app && exec node app.js', {
      timeoutMs: 120000,
      env: { DOVECOT_PORT: String(dovecot.tlsPort), DOVECOT_PASS: 'bare-secret' },
      onLine: (line, child) => {
        let msg;
        try { msg = JSON.parse(line); } catch { return; }
        if (msg.parsed) parsed = msg.parsed;
        if (msg.idle && !delivered) {
          delivered = true;
          dovecot.deliver('bare', `From: Bare <bare@example.com>\r\nTo: bare@example.com\r\nSubject: ${subject}\r\n\r\nbody\r\n`);
        }
        if (msg.newMessage && msg.newMessage.subject === subject) {
          got = msg.newMessage;
          process.kill(-child.pid, 'SIGTERM');
        }
      },
    });
    const r = await run;
    expect(parsed && parsed.subject === 'Café' && parsed.text === 'hello', `parseMessage works (${JSON.stringify(parsed)})`);
    expect(got && got.uid > 0, `the app in the bare root got the push from the Dovecot outside (${JSON.stringify(got)})`);
    expect(!r.out.includes('bare-secret') && !r.err.includes('bare-secret'), 'the password appears in no output');
  } finally {
    await dovecot.stop();
  }
  const fromSource = await inRoot('cd /root/app/node_modules/imap-push && IMAP_PUSH_BUILD_FROM_SOURCE=1 node scripts/install.js', { allowFail: true });
  expect(fromSource.code === 1 && fromSource.err.includes('apt-get install cmake g++ make libssl-dev libmimetic-dev libsqlite3-dev'),
    `a source build asked for on the bare root names the packages to install:\n${fromSource.err.trim()}`);
}

function readmeFirstCommand() {
  const block = /```sh\n([^\n]+)\n/.exec(fs.readFileSync(path.join(repo, 'README.md'), 'utf8'));
  if (!block) throw new Error('README.md has no ```sh block');
  return block[1].replace(/\s+#.*$/, '').trim();
}

async function readme() {
  const cmd = readmeFirstCommand();
  execFileSync('git', ['clone', '--quiet', repo, path.join(root, 'root', 'imap-push')]);
  log(`in a clone on the bare root: ${cmd}`);
  const pushes = [];
  const r = await inRoot(`cd /root/imap-push && ${cmd}`, {
    timeoutMs: 30 * 60000,
    allowFail: true,
    onLine: (line, child) => {
      let msg;
      try { msg = JSON.parse(line); } catch { return; }
      if (msg.event === 'newMessage') pushes.push(msg);
      if (pushes.length === 3) process.kill(-child.pid, 'SIGINT');
    },
  });
  expect(pushes.length >= 3, `the README's first command printed pushes (${pushes.length}; exit ${r.code ?? r.signal})` +
    (pushes.length >= 3 ? '' : `\n--- stdout\n${r.out.slice(-3000)}\n--- stderr\n${r.err.slice(-3000)}`));
  expect(pushes.every((p) => p.uid > 0 && typeof p.latencyMs === 'number'), 'each push line has a uid and its latency');
}

async function main() {
  if (process.getuid() !== 0) throw new Error('needs root (debootstrap, chroot, mount)');
  const started = Date.now();
  makeRoot();
  if (!only || only === 'packed') await packed();
  if (!only || only === 'readme') await readme();
  log(`passed in ${Math.round((Date.now() - started) / 1000)} s`);
}

main().catch((err) => {
  process.stderr.write(`bare-machine: FAILED: ${err.stack || err}\n`);
  process.exitCode = 1;
});
