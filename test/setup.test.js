'use strict';

// scripts/setup.js, the README's "both commands set up what they need": run
// twice, the second run is silent and installs nothing, and with everything
// present it is silent from the start. It runs in a child process against a
// fake dpkg-query and apt-get first on PATH (a package list in a file), so
// nothing is ever installed and the machine's own packages do not matter.
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { BUILD, TEST } = require('../scripts/setup');

const script = path.join(__dirname, '..', 'scripts', 'setup.js');
const debian = process.platform === 'linux' && fs.existsSync('/etc/debian_version') && fs.existsSync('/usr/bin/dpkg-query');
const root = typeof process.getuid === 'function' && process.getuid() === 0;

let dir;
let installed;
let aptLog;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-setup-'));
  installed = path.join(dir, 'installed');
  aptLog = path.join(dir, 'apt.log');
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  // dpkg-query -W -f='${Package} ${db:Status-Status}\n' PKG...: a line for each installed one.
  fs.writeFileSync(path.join(bin, 'dpkg-query'), `#!/bin/sh
shift 2
for p in "$@"; do grep -qx "$p" "${installed}" && echo "$p installed"; done
exit 0
`, { mode: 0o755 });
  // apt-get update|install ...: logged; install adds the packages to the list.
  fs.writeFileSync(path.join(bin, 'apt-get'), `#!/bin/sh
echo "$*" >> "${aptLog}"
if [ "$1" = install ]; then for p in "$@"; do case "$p" in -*|install) ;; *) echo "$p" >> "${installed}";; esac; done; fi
exit 0
`, { mode: 0o755 });
  fs.writeFileSync(installed, '');
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function setup(...args) {
  const r = spawnSync(process.execPath, [script, ...args], {
    encoding: 'utf8', env: { ...process.env, PATH: `${path.join(dir, 'bin')}:${process.env.PATH}` }, timeout: 30000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}
const aptCalls = () => (fs.existsSync(aptLog) ? fs.readFileSync(aptLog, 'utf8').trim().split('\n') : []);
const have = (packages) => fs.writeFileSync(installed, packages.map((p) => `${p}\n`).join(''));

test.each([[[]], [['--test']], [['--check']], [['--test', '--check']]])('everything present: %p is silent and succeeds, twice', (args) => {
  have(TEST);
  for (let run = 0; run < 2; run++) expect(setup(...args)).toEqual({ code: 0, out: '' });
  expect(aptCalls()).toEqual([]);
});

(debian ? test : test.skip)('--check names what is missing, installs nothing, and fails', () => {
  have(BUILD.filter((p) => p !== 'cmake' && p !== 'libmimetic-dev'));
  for (let run = 0; run < 2; run++) {
    const r = setup('--check');
    expect(r.code).toBe(1);
    expect(r.out).toBe('setup: missing system packages: cmake libmimetic-dev. '
      + 'Install them with: apt-get install -y --no-install-recommends cmake libmimetic-dev\n');
  }
  expect(aptCalls()).toEqual([]);
});

(debian ? test : test.skip)('a first run installs what is missing (as root), and a second is silent and installs nothing', () => {
  have(BUILD.filter((p) => p !== 'cmake' && p !== 'libmimetic-dev'));
  const first = setup();
  if (root) {
    expect(first).toEqual({ code: 0, out: 'setup: installing cmake libmimetic-dev (apt-get)\n' });
    expect(aptCalls()).toEqual(['update -qq', 'install -y -qq --no-install-recommends cmake libmimetic-dev']);
    expect(setup()).toEqual({ code: 0, out: '' });
    expect(aptCalls()).toHaveLength(2);
  } else {
    // Not root: the command to run, each time, and nothing installed.
    expect(first.code).toBe(1);
    expect(first.out).toContain('Run: sudo apt-get install -y --no-install-recommends cmake libmimetic-dev');
    expect(setup()).toEqual(first);
    expect(aptCalls()).toEqual([]);
  }
});

test('an unknown argument is a usage error', () => {
  expect(setup('--dry-run')).toEqual({ code: 2, out: 'setup: unknown argument --dry-run; usage: node scripts/setup.js [--test] [--check]\n' });
});
