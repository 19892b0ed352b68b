'use strict';

// The CLI: demo mode end to end, and watch mode from a JSON config.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { MockImapServer } = require('imap-push/testing');
const { waitUntil } = require('./support/wait');

const { startCli } = require('./support/cli');

describe('CLI', () => {
  test('demo prints each push with its latency and exits after --count', async () => {
    const cli = startCli(['demo', '--interval', '100', '--count', '3']);
    expect(await cli.exited).toBe(0);
    const pushes = cli.lines.filter((l) => l.event === 'newMessage');
    expect(pushes).toHaveLength(3);
    for (const p of pushes) {
      expect(p.latencyMs).toEqual(expect.any(Number));
      expect(p.latencyMs).toBeGreaterThanOrEqual(0);
      expect(p.envelope.subject).toMatch(/^Demo message #\d+$/);
    }
    expect(cli.lines.some((l) => l.event === 'connectionStatus' && l.state === 'idle')).toBe(true);
  });

  test('watch --config prints events as JSON lines and stops on SIGTERM', async () => {
    const server = new MockImapServer({ users: { bob: 's3cret-pass' } });
    await server.listen();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-cli-'));
    const config = path.join(dir, 'accounts.json');
    fs.writeFileSync(config, JSON.stringify({
      engine: { reconnect: { initialDelayMs: 100 } },
      accounts: [{ id: 'bob', host: '127.0.0.1', port: server.port, tls: 'none', allowInsecureAuth: true, user: 'bob', pass: 's3cret-pass' }],
    }));
    try {
      const cli = startCli(['watch', '--config', config]);
      await waitUntil(() => cli.lines.some((l) => l.event === 'watching'), 10000, 'the CLI to watch');
      server.appendMessage('INBOX', { subject: 'via cli' });
      await waitUntil(() => cli.lines.some((l) => l.event === 'newMessage'), 10000, 'the CLI to print the message');
      server.dropAll();
      await waitUntil(() => cli.lines.some((l) => l.event === 'connectionStatus' && l.error), 10000, 'the drop');
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
      const drop = cli.lines.find((l) => l.event === 'connectionStatus' && l.error);
      expect(drop.error).toEqual({ code: 'CONNECTION_LOST', message: expect.any(String) });
      expect(cli.lines.find((l) => l.event === 'newMessage').envelope.subject).toBe('via cli');
      expect(JSON.stringify(cli.lines) + cli.stderr()).not.toContain('s3cret-pass');
    } finally {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('watch refuses credentials on the command line and explains why', async () => {
    const cli = startCli(['watch', '--host', '127.0.0.1', '--user', 'bob']);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toMatch(/--pass-env/);
  });

  test('watch --pass-env reads the password from the environment', async () => {
    const server = new MockImapServer({ users: { bob: 'env-pass' } });
    await server.listen();
    try {
      const cli = startCli(['watch', '--host', '127.0.0.1', '--port', String(server.port), '--tls', 'none',
        '--allow-insecure-auth', '--user', 'bob', '--pass-env', 'BOB_PASS'], { BOB_PASS: 'env-pass' });
      await waitUntil(() => cli.lines.some((l) => l.event === 'watching'), 10000, 'the CLI to watch');
      cli.child.kill('SIGINT');
      expect(await cli.exited).toBe(0);
    } finally {
      await server.close();
    }
  });

  describe('a malformed config gets one line saying what is expected, never its content', () => {
    const SECRET = 'S3cr3t-Wr0ng-Quote';
    const good = { id: 'bob', host: '127.0.0.1', user: 'bob', pass: SECRET };
    let dir;
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-cli-bad-'));
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    test.each([
      ['a single-quoted password', `{"accounts": [{"id": "bob", "host": "h", "user": "bob", "pass": '${SECRET}'}]}`, /, line 1, column 65: not valid JSON: expected a JSON value/],
      ['a trailing comma, three lines down', `{\n  "accounts": [\n    {"id": "bob", "pass": "${SECRET}", }\n  ]\n}\n`, /, line 3, column 49: not valid JSON: .*no trailing comma/],
      ['a file cut off inside the password', `{"accounts": [{"id": "bob", "pass": "${SECRET}`, /, line 1, column \d+: not valid JSON: expected the closing double quote/],
      ['a raw line break in the password', `{"accounts": [{"id": "bob", "pass": "${SECRET}\n"}]}`, /, line 1, column \d+: not valid JSON: expected no raw control characters/],
      ['an empty file', '', /, line 1, column 1: not valid JSON: expected a JSON value, not the end of the file/],
      ['[]', '[]', /: expected an object like \{"engine".*got an array$/],
      ['{}', '{}', /: 'accounts' is missing: expected \{"engine"/],
      ['accounts as an object', JSON.stringify({ accounts: { bob: good } }), /, 'accounts': expected an array of account objects, got an object$/],
      ['no accounts', JSON.stringify({ accounts: [] }), /, 'accounts': is empty: expected at least one account object$/],
      ['an account that is a string', JSON.stringify({ accounts: [good, SECRET] }), /, accounts\[1\]: expected an account object, got a string$/],
      ['an account with a bad port', JSON.stringify({ accounts: [{ ...good, port: SECRET }] }), /, accounts\[0\]: Invalid option 'port': must be an integer/],
      ['two accounts with one id', JSON.stringify({ accounts: [good, good] }), /, accounts\[1\]: has the same id as accounts\[0\]/],
      ['engine as an array', JSON.stringify({ engine: [SECRET], accounts: [good] }), /, 'engine': expected an object of engine options, got an array$/],
      ['a bad engine option', JSON.stringify({ engine: { reconnect: { initialDelayMs: 0 } }, accounts: [good] }), /, 'engine': Invalid option 'reconnect.initialDelayMs'/],
      ['an unknown top-level key', JSON.stringify({ acounts: [good] }), /: expected only the keys 'engine' and 'accounts' at the top level$/],
    ])('%s', async (what, content, expected) => {
      const file = path.join(dir, `${what.replace(/\W+/g, '-')}.json`);
      fs.writeFileSync(file, content);
      const cli = startCli(['watch', '--config', file]);
      expect(await cli.exited).toBe(1);
      const err = cli.stderr();
      expect(err.endsWith('\n')).toBe(true);
      expect(err.trimEnd().split('\n')).toHaveLength(1);
      expect(err.startsWith(`imap-push: config file '${file}'`)).toBe(true);
      expect(err.trimEnd()).toMatch(expected);
      expect(cli.lines).toEqual([]);
      expect(err).not.toContain(SECRET);
      expect(err).not.toContain('S3cr');
    });

    test('a missing file and a directory say so', async () => {
      for (const [file, expected] of [[path.join(dir, 'nope.json'), /: does not exist$/], [dir, /: is a directory, not a file$/]]) {
        const cli = startCli(['watch', '--config', file]);
        expect(await cli.exited).toBe(1);
        expect(cli.stderr()).toMatch(new RegExp(`^imap-push: config file '${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'`));
        expect(cli.stderr().trimEnd()).toMatch(expected);
        expect(cli.stderr()).not.toMatch(/ENOENT: ENOENT|EISDIR:/);
      }
    });
  });

  test('an unknown mode prints usage and exits 2', async () => {
    const cli = startCli(['frobnicate']);
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toMatch(/usage/);
  });
});
