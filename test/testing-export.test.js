'use strict';

// imap-push/testing as a user gets it: the packed package works with no
// dependencies installed, the constructor refuses options it would misread,
// and appendMessage takes the fields the README documents.

const { execFileSync } = require('child_process');
const { builtinModules } = require('module');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { MockImapServer } = require('imap-push/testing');
const { RawClient } = require('./support/raw-client');

const ROOT = path.join(__dirname, '..');

test('every require() under lib/testing is a Node builtin or a file inside lib/testing', () => {
  const files = ['lib/testing.js', ...fs.readdirSync(path.join(ROOT, 'lib', 'testing')).map((f) => `lib/testing/${f}`)];
  const outside = [];
  for (const file of files) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    for (const [, spec] of text.matchAll(/require\(\s*'([^']+)'\s*\)/g)) {
      const local = spec.startsWith('.') && path.resolve(ROOT, path.dirname(file), spec).startsWith(path.join(ROOT, 'lib', 'testing'));
      if (!local && !builtinModules.includes(spec.replace(/^node:/, ''))) outside.push(`${file}: ${spec}`);
    }
  }
  expect(files.length).toBeGreaterThan(5);
  expect(outside).toEqual([]);
});

describe('the packed package', () => {
  let dir;
  let app;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-pack-'));
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const out = execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
      cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
    });
    app = path.join(dir, 'app');
    const pkgDir = path.join(app, 'node_modules', 'imap-push');
    fs.mkdirSync(pkgDir, { recursive: true });
    execFileSync('tar', ['xzf', path.join(dir, JSON.parse(out)[0].filename), '-C', pkgDir, '--strip-components=1']);
  }, 120000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('serves imap-push/testing with no node_modules at all', () => {
    // A user's process: resolves the package by name from its own folder, listens, serves a login, closes.
    const script = `
      const net = require('net');
      const { MockImapServer } = require('imap-push/testing');
      const s = new MockImapServer({ users: { u: 'p' } });
      s.listen().then((port) => {
        const c = net.connect(port, '127.0.0.1');
        let got = '';
        c.on('data', (d) => {
          got += d;
          if (/^\\* OK/.test(got) && !got.includes('a1 ')) c.write('a1 LOGIN u p\\r\\n');
          if (/a1 OK/.test(got)) { c.end(); s.close().then(() => console.log(require.resolve('imap-push/testing'))); }
        });
      });`;
    const resolved = execFileSync(process.execPath, ['-e', script], {
      cwd: app, encoding: 'utf8', timeout: 20000, env: { ...process.env, NODE_PATH: '' },
    }).trim();
    expect(resolved).toBe(path.join(app, 'node_modules', 'imap-push', 'lib', 'testing.js'));
  });

  // 'node' (node10) is what `module: commonjs` implies and ignores `exports`:
  // typesVersions is what points it at lib/testing.d.ts.
  test.each([['commonjs', 'node'], ['node16', 'node16']])('its types resolve by package name (module %s, moduleResolution %s)', (mod, resolution) => {
    fs.rmSync(path.join(app, 'node_modules', '@types'), { force: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules', '@types'), path.join(app, 'node_modules', '@types'), 'dir');
    const file = path.join(app, 'user.ts');
    fs.writeFileSync(file, [
      "import { MockImapServer } from 'imap-push/testing';",
      "import { MailEngine } from 'imap-push';",
      "const server: MockImapServer = new MockImapServer({ users: { alice: 'pw' } });",
      "const uid: number = server.appendMessage('INBOX', { subject: 's', flags: ['\\\\Seen'] });",
      '// @ts-expect-error a typed surface, not any',
      'server.dropAl();',
      'void [uid, MailEngine];',
    ].join('\n'));
    let out = '';
    try {
      execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '--strict', '--noEmit', '--module', mod,
        '--moduleResolution', resolution, '--types', 'node', file], { cwd: app, encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      out = `${err.stdout}${err.stderr}`;
    }
    expect(out).toBe('');
  }, 120000);
});

describe('constructor options', () => {
  test.each([
    [{ userz: { a: 'b' } }, /userz is not a known option/],
    [{ tls: 'starttls' }, /tls must be 'none' or 'implicit'/],
    [{ users: { alice: 12345 } }, /users must be/],
    [{ users: ['alice'] }, /users must be/],
    [{ port: 70000 }, /port must be/],
    [{ capabilities: 'IDLE' }, /capabilities must be/],
    [{ cert: 'PEM' }, /key is required with cert/],
    [{ idleKeepaliveMs: -1 }, /idleKeepaliveMs must be/],
  ])('%j throws a TypeError naming the option', (opts, message) => {
    expect(() => new MockImapServer(opts)).toThrow(TypeError);
    expect(() => new MockImapServer(opts)).toThrow(message);
  });

  test('a refused option never echoes a credential', () => {
    let err;
    try {
      new MockImapServer({ users: { alice: 'hunter2-secret', bob: 1 } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TypeError);
    expect(`${err.message}${err.stack}`).not.toContain('hunter2');
  });

  test('undefined means the default, as with the engine options', () => {
    const s = new MockImapServer({ host: undefined, tls: undefined, users: { a: 'b' } });
    expect(s.opts).toMatchObject({ host: '127.0.0.1', tls: 'none' });
  });
});

test('appendMessage(folder, { subject, from, to, body, flags }) builds that message', async () => {
  const server = new MockImapServer({ users: { alice: 'pw' } });
  await server.listen();
  const c = await RawClient.connect({ port: server.port });
  try {
    await c.greeting();
    server.createMailbox('Work');
    const uid = server.appendMessage('Work', {
      subject: 'Quarterly report', from: 'Boss <boss@example.com>', to: 'alice@example.com', body: 'See attached.\n', flags: ['\\Flagged', 'urgent'],
    });
    expect(uid).toBe(1);
    await c.ok('LOGIN alice pw');
    await c.ok('SELECT Work');
    const r = await c.ok('UID FETCH 1 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT FROM TO)] BODY.PEEK[TEXT])');
    const text = r.untagged.join('\n');
    expect(text).toContain('FLAGS (\\Flagged urgent)');
    expect(text).toContain('Subject: Quarterly report');
    expect(text).toContain('From: Boss <boss@example.com>');
    expect(text).toContain('To: alice@example.com');
    expect(text).toContain('See attached.');
  } finally {
    await c.close();
    await server.close();
  }
  expect(server.errors).toEqual([]);
});
