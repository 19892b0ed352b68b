'use strict';

// Shutdown and environments: close() leaves nothing running, the process
// exits by itself, and a worker_thread can load and unload the addon.

const { Worker } = require('worker_threads');
const { MailEngine } = require('..');
const { MockImapServer } = require('imap-push/testing');
const { waitUntil } = require('./support/wait');
const { runChild, ROOT } = require('./support/child');

const CHILD_PRELUDE = `
  const { MailEngine } = require('./lib');
  const { MockImapServer } = require('imap-push/testing');
  async function watched() {
    const server = new MockImapServer({ users: { u: 'p' } });
    await server.listen();
    const engine = new MailEngine();
    await engine.addAccount({ id: 'a', host: '127.0.0.1', port: server.port, tls: 'none', allowInsecureAuth: true, user: 'u', pass: 'p' });
    return { server, engine };
  }
`;

describe('lifecycle', () => {
  let server;
  beforeEach(async () => {
    server = new MockImapServer({ users: { u: 'p' } });
    await server.listen();
  });
  afterEach(async () => {
    await server.close();
  });
  const account = (id = 'a') => ({ id, host: '127.0.0.1', port: server.port, tls: 'none', allowInsecureAuth: true, user: 'u', pass: 'p' });

  test('close() logs out, closes every connection and resolves', async () => {
    const engine = new MailEngine();
    await engine.addAccount(account());
    expect(server.connections).toBeGreaterThanOrEqual(1);
    await engine.close();
    expect(server.commandLog.map((c) => c.command)).toContain('LOGOUT');
    await waitUntil(() => server.connections === 0, 5000, 'the server to see the connection close');
    expect(engine.status()).toEqual([]);
    await expect(engine.addAccount(account('b'))).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(engine.close()).resolves.toBeUndefined();
  });

  test('removeAccount() during addAccount(): the connection closes before it watches, addAccount() rejects, the id is free again', async () => {
    const engine = new MailEngine();
    server.delay(1500); // the greeting comes late: the account is still being added
    const adding = engine.addAccount(account());
    await waitUntil(() => server.connections === 1, 5000, 'the connection');
    server.delay(0);
    await engine.removeAccount('a');
    await expect(adding).rejects.toMatchObject({ code: 'UNKNOWN_ACCOUNT', accountId: 'a' });
    await waitUntil(() => server.connections === 0, 5000, 'the server to see the connection close');
    expect(server.commandLog.map((c) => c.command)).not.toContain('IDLE');
    expect(engine.status()).toEqual([]);
    await engine.addAccount(account()); // the id is free again
    await engine.close();
  });

  test('the process exits by itself after close()', async () => {
    const r = await runChild(`${CHILD_PRELUDE}
      watched().then(async ({ server, engine }) => {
        await engine.close();
        await server.close();
        console.log('closed');
      });`);
    expect(r.out).toContain('closed');
    expect(r.code).toBe(0);
  });

  test('an engine without accounts does not keep the process alive', async () => {
    const r = await runChild(`
      const { MailEngine } = require('./lib');
      new MailEngine();
      console.log('created');`);
    expect(r.out).toContain('created');
    expect(r.code).toBe(0);
  });

  test('an engine that is watching keeps the process alive', async () => {
    // The server lives in this process, so only the engine can hold the child open.
    const r = runChild(`
      const { MailEngine } = require('./lib');
      new MailEngine().addAccount(${JSON.stringify(account())}).then(() => console.log('watching'));`, 2000);
    await expect(r).rejects.toThrow(/still running[\s\S]*watching/);
  });

  test('process.exit() without close() tears the engine down without a crash', async () => {
    const r = await runChild(`${CHILD_PRELUDE}
      watched().then(() => { console.log('exiting'); process.exit(7); });`);
    expect(r.out).toContain('exiting');
    expect(r.signal).toBeNull();
    expect(r.code).toBe(7);
  });

  test('a worker_thread can load the addon, watch, and be terminated', async () => {
    const worker = new Worker(`
      const { parentPort, workerData } = require('worker_threads');
      const { MailEngine } = require(workerData.lib);
      const engine = new MailEngine();
      engine.on('newMessage', (m) => parentPort.postMessage({ type: 'newMessage', subject: m.envelope.subject }));
      engine.addAccount(workerData.account).then(() => parentPort.postMessage({ type: 'ready' }),
        (err) => parentPort.postMessage({ type: 'failed', code: err.code }));
    `, { eval: true, workerData: { lib: ROOT, account: account() } });
    const messages = [];
    worker.on('message', (m) => messages.push(m));
    await waitUntil(() => messages.some((m) => m.type === 'ready' || m.type === 'failed'), 10000, 'the worker engine');
    expect(messages).toContainEqual({ type: 'ready' });
    server.appendMessage('INBOX', { subject: 'to the worker' });
    await waitUntil(() => messages.some((m) => m.type === 'newMessage'), 10000, 'the worker to see mail');
    expect(messages).toContainEqual({ type: 'newMessage', subject: 'to the worker' });

    // No close(): the environment cleanup hook must stop the engine thread.
    await worker.terminate();
    await waitUntil(() => server.connections === 0, 5000, 'the worker engine connections to close');
  });

  test('a worker_thread that closes its engine exits on its own, twice in a row', async () => {
    for (let i = 0; i < 2; i++) {
      const worker = new Worker(`
        const { workerData } = require('worker_threads');
        const { MailEngine } = require(workerData.lib);
        const engine = new MailEngine();
        engine.addAccount(workerData.account).then(() => engine.close());
      `, { eval: true, workerData: { lib: ROOT, account: account(`w${i}`) } });
      const code = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('worker did not exit')), 10000);
        worker.on('exit', (c) => { clearTimeout(timer); resolve(c); });
        worker.on('error', reject);
      });
      expect(code).toBe(0);
    }
    await waitUntil(() => server.connections === 0, 5000, 'connections to close');
  });
});
