'use strict';
const fs = require('fs');
const { startDovecot, dovecotAvailable, instancePids, DOVECOT_BIN } = require('./support/dovecot');
const { RawClient } = require('./support/raw-client');

const available = dovecotAvailable();
if (!available) {
  // Loud on purpose: CI installs dovecot-imapd, so a skip there is a setup bug.
  console.warn(`\n*** SKIPPING Dovecot integration tests: ${DOVECOT_BIN} not found (apt-get install dovecot-imapd) ***\n`);
}
const describeDovecot = available ? describe : describe.skip;

jest.setTimeout(30000);

const message = (subject) => [
  'From: Sender <sender@example.com>',
  'To: alice@example.com',
  `Subject: ${subject}`,
  'Date: Mon, 01 Jan 2024 10:00:00 +0000',
  `Message-ID: <${Date.now()}.${Math.random()}@example.com>`,
  '',
  'Hello from the harness test.',
  '',
].join('\r\n');

describeDovecot('Dovecot harness', () => {
  let d;
  const clients = [];

  beforeAll(async () => {
    d = await startDovecot({ users: { alice: 'secret', bob: 'hunter2' } });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    if (d) await d.stop();
  });

  async function connect(opts) {
    const c = await RawClient.connect({ timeout: 10000, ...opts });
    clients.push(c);
    await c.greeting();
    return c;
  }

  test('LOGIN over STARTTLS, then a delivered message shows up in SELECT', async () => {
    const c = await connect({ port: d.port });
    const caps = await c.ok('CAPABILITY');
    expect(caps.untagged[0]).toMatch(/STARTTLS/);
    await c.startTls({ ca: d.caPem });
    expect(c.encrypted).toBe(true);
    await c.ok('LOGIN alice secret');
    const before = await c.ok('SELECT INBOX');
    const count = (r) => Number(r.untagged.map((l) => /^\* (\d+) EXISTS/.exec(l)).find(Boolean)[1]);
    const n = count(before);
    d.deliver('alice', message('first'));
    await c.ok('CLOSE');
    const after = await c.ok('SELECT INBOX');
    expect(count(after)).toBe(n + 1);
    const f = await c.ok('UID FETCH 1:* (ENVELOPE)');
    expect(f.untagged.join('\n')).toMatch(/"first"/);
  });

  test('implicit TLS port accepts LOGIN; wrong password fails fast', async () => {
    const c = await connect({ port: d.tlsPort, tls: true, ca: d.caPem });
    const t0 = Date.now();
    expect((await c.command('LOGIN bob wrong')).line).toMatch(/NO \[AUTHENTICATIONFAILED\]/);
    expect(Date.now() - t0).toBeLessThan(1500);
    await c.ok('LOGIN bob hunter2');
  });

  test('IDLE receives EXISTS for a delivered message (Dovecot batches ~0.5 s)', async () => {
    const c = await connect({ port: d.port });
    await c.ok('LOGIN bob hunter2');
    await c.ok('SELECT INBOX');
    const tag = c.nextTag();
    c.send(`${tag} IDLE`);
    await c.waitForLine(/^\+ /);
    d.deliver('bob', message('pushed'));
    await c.waitForLine(/^\* \d+ EXISTS$/, 5000);
    c.send('DONE');
    await c.waitForLine((l) => l.startsWith(`${tag} OK`), 5000);
  });

  test('deliver into another folder; maildir() points at the user Maildir', async () => {
    const file = d.deliver('alice', message('archived'), 'Archive');
    expect(file.startsWith(`${d.maildir('alice')}/.Archive/new/`)).toBe(true);
    const c = await connect({ port: d.port });
    await c.ok('LOGIN alice secret');
    const st = await c.ok('STATUS Archive (MESSAGES)');
    expect(st.untagged).toEqual(['* STATUS Archive (MESSAGES 1)']);
  });

  test('stop() kills every process of the instance and removes its directory', async () => {
    const d2 = await startDovecot({ users: { carol: 'pw' } });
    const c = await connect({ port: d2.port });
    await c.ok('LOGIN carol pw');
    expect(instancePids(d2.instance).length).toBeGreaterThan(0);
    await d2.stop();
    expect(await c.waitClosed(5000)).toBe(true);
    expect(() => process.kill(d2.pid, 0)).toThrow();
    expect(instancePids(d2.instance)).toEqual([]);
    expect(fs.existsSync(d2.dir)).toBe(false);
  });
});
