'use strict';

// The router's mailbox-action routes (issue 16): each works for the tenant
// that owns the account and is a 404 for any other, bodies are validated,
// errors mapped, and a downloaded part is never served as a page.

const express = require('express');
const { MailEngine } = require('..');
const { createRouter } = require('../lib/express');
const { MockImapServer } = require('imap-push/testing');
const { listen, client, authorize, as } = require('./support/http');
const { waitUntil } = require('./support/wait');

// Loopback is what this test's mock server is on; tenants elsewhere get no such allowance.
const ROUTER_OPTIONS = { allowHosts: ['127.0.0.1'] };

describe('mailbox-action routes', () => {
  let imap;
  let engine;
  let web;
  let api;
  let router;

  beforeEach(async () => {
    imap = new MockImapServer({ users: { alice: 'alice-pw' } });
    imap.createMailbox('Archive');
    for (let i = 1; i <= 5; i++) imap.appendMessage('INBOX', { subject: `booking ${i}`, from: 'guest@example.com' });
    await imap.listen();
    engine = new MailEngine({ reconnect: { initialDelayMs: 50 } });
    const app = express();
    router = createRouter(engine, { authorize, ...ROUTER_OPTIONS });
    app.use('/imap', router);
    web = await listen(app);
    api = client(`${web.base}/imap`).request;
    const r = await api('POST', '/idle/start', { headers: as('A'), body: { id: 'main', host: '127.0.0.1', port: imap.port, tls: 'none', allowInsecureAuth: true, user: 'alice', pass: 'alice-pw' } });
    expect(r.status).toBe(201);
  });
  afterEach(async () => {
    await web.close();
    await engine.close();
    await imap.close();
  });

  test('the owner flags, searches, pages, moves, appends, downloads and manages folders', async () => {
    const A = as('A');
    expect((await api('POST', '/accounts/main/flags', { headers: A, body: { folder: 'INBOX', uids: [1, 2], add: ['\\Seen'] } })).json).toEqual({ uids: '1:2', modseq: expect.any(Number) });
    expect((await api('POST', '/accounts/main/search', { headers: A, body: { folder: 'INBOX', criteria: { seen: false } } })).json).toEqual({ uids: [3, 4, 5] });
    const page = await api('GET', '/accounts/main/messages?folder=INBOX&start=2&end=3', { headers: A });
    expect(page.status).toBe(200);
    expect(page.json.messages.map((m) => m.envelope.subject)).toEqual(['booking 2', 'booking 3']);
    expect((await api('POST', '/accounts/main/move', { headers: A, body: { folder: 'INBOX', uids: 5, destination: 'Archive' } })).json).toEqual({ destination: 'Archive', uidMap: { 5: 1 } });
    expect((await api('POST', '/accounts/main/copy', { headers: A, body: { folder: 'INBOX', uids: 4, destination: 'Archive' } })).json.uidMap).toEqual({ 4: 2 });
    expect((await api('POST', '/accounts/main/delete', { headers: A, body: { folder: 'INBOX', uids: 4 } })).json).toEqual({ uids: '4' });
    const appended = await api('POST', '/accounts/main/append', { headers: A, body: { folder: 'Archive', rawBase64: Buffer.from('Subject: draft\r\n\r\nhi\r\n').toString('base64'), flags: ['\\Draft'] } });
    expect(appended.json).toEqual({ uid: 3, uidValidity: imap.mailbox('Archive').uidValidity });
    const part = await api('GET', '/accounts/main/messages/1/parts/1?folder=INBOX', { headers: A });
    expect(part.status).toBe(200);
    expect(part.headers.get('content-type')).toBe('application/octet-stream');
    expect(part.headers.get('x-content-type-options')).toBe('nosniff');
    expect(part.headers.get('content-disposition')).toBe('attachment');
    expect(part.text.length).toBeGreaterThan(0);
    expect((await api('POST', '/accounts/main/folders', { headers: A, body: { path: 'Projects' } })).json).toEqual({ path: 'Projects' });
    expect((await api('PATCH', '/accounts/main/folders', { headers: A, body: { from: 'Projects', to: 'Done' } })).json).toEqual({ path: 'Done', from: 'Projects' });
    expect((await api('DELETE', '/accounts/main/folders?path=Done', { headers: A })).json).toEqual({ path: 'Done' });
    expect(imap.mailboxNames().sort()).toEqual(['Archive', 'INBOX']);
  });

  const NO_MAIN = { error: { code: 'NOT_FOUND', what: 'account', message: "no account 'main'" } };
  const calls = [
    ['POST', '/accounts/main/flags', { folder: 'INBOX', uids: 1, add: ['\\Seen'] }],
    ['POST', '/accounts/main/search', { folder: 'INBOX', criteria: {} }],
    ['GET', '/accounts/main/messages?folder=INBOX'],
    ['POST', '/accounts/main/move', { folder: 'INBOX', uids: 1, destination: 'Archive' }],
    ['POST', '/accounts/main/copy', { folder: 'INBOX', uids: 1, destination: 'Archive' }],
    ['POST', '/accounts/main/delete', { folder: 'INBOX', uids: 1 }],
    ['POST', '/accounts/main/append', { folder: 'INBOX', raw: 'Subject: x\r\n\r\n' }],
    ['GET', '/accounts/main/messages/1/parts/1'],
    ['POST', '/accounts/main/folders', { path: 'X' }],
    ['PATCH', '/accounts/main/folders', { from: 'Archive', to: 'Y' }],
    ['DELETE', '/accounts/main/folders?path=Archive'],
  ];

  test('another tenant gets 404 for every route, the very answer for an id nobody has, and nothing changes', async () => {
    for (const [method, path, body] of calls) {
      const theirs = await api(method, path, { headers: as('B'), body });
      const nobodys = await api(method, path.replace('/main/', '/nope/'), { headers: as('A'), body });
      expect([path, theirs.status, theirs.json]).toEqual([path, 404, NO_MAIN]);
      expect([path, nobodys.status, nobodys.json]).toEqual([path, 404, { error: { ...NO_MAIN.error, message: "no account 'nope'" } }]);
    }
    expect(imap.mailbox('INBOX').messages).toHaveLength(5);
    expect(imap.mailbox('INBOX').messages.every((m) => m.flags.length === 0)).toBe(true);
    expect(imap.mailboxNames().sort()).toEqual(['Archive', 'INBOX']);
  });

  test('an account removed from the engine meanwhile is the same 404 as one the tenant cannot see', async () => {
    // Removed between the router's check and the engine's answer: the engine's NOT_FOUND names its own key.
    const raced = await engine.search('engine-key', 'INBOX', {}).catch((err) => err);
    expect(raced).toMatchObject({ code: 'NOT_FOUND', what: 'account' });
    engine.search = () => Promise.reject(raced);
    const r = await api('POST', '/accounts/main/search', { headers: as('A'), body: { folder: 'INBOX', criteria: {} } });
    expect([r.status, r.json]).toEqual([404, NO_MAIN]);
    delete engine.search;
    await engine.removeAccount(router.accountKey('A', 'main'));
    for (const [method, path, body] of calls) {
      const r = await api(method, path, { headers: as('A'), body });
      expect([path, r.status, r.json]).toEqual([path, 404, NO_MAIN]);
    }
  });

  test('bad bodies are 400 INVALID_OPTION; server refusals keep their codes', async () => {
    const A = as('A');
    const bad = [
      ['/accounts/main/flags', { folder: 'INBOX', uids: 1 }],
      ['/accounts/main/flags', { folder: 'INBOX', uids: 'x', add: ['\\Seen'] }],
      ['/accounts/main/search', { folder: 'INBOX', criteria: { colour: 'red' } }],
      ['/accounts/main/append', { folder: 'INBOX' }],
      ['/accounts/main/move', { folder: 'INBOX', uids: 1 }],
    ];
    for (const [path, body] of bad) {
      const r = await api('POST', path, { headers: A, body });
      expect([path, r.status, r.json.error.code]).toEqual([path, 400, 'INVALID_OPTION']);
    }
    expect((await api('GET', '/accounts/main/messages?end=1000', { headers: A })).status).toBe(400);
    const missing = await api('POST', '/accounts/main/move', { headers: A, body: { folder: 'INBOX', uids: 1, destination: 'Nowhere' } });
    expect([missing.status, missing.json.error.code]).toEqual([409, 'TRYCREATE']);
    const gone = await api('GET', '/accounts/main/messages/99/parts/1', { headers: A });
    expect([gone.status, gone.json]).toEqual([404, { error: { code: 'NOT_FOUND', what: 'message', message: 'no such message' } }]);
    const noFolder = await api('POST', '/accounts/main/move', { headers: A, body: { folder: 'Nowhere', uids: 1, destination: 'Archive' } });
    expect([noFolder.status, noFolder.json]).toEqual([404, { error: { code: 'NOT_FOUND', what: 'folder', message: 'no such folder' } }]);
    // COMMAND_FAILED: the engine's error carries the server's text; the router answers a fixed one, never the server's.
    const exists = await api('POST', '/accounts/main/folders', { headers: A, body: { path: 'Archive' } });
    expect([exists.status, exists.json]).toEqual([502, { error: { code: 'COMMAND_FAILED', message: 'the server refused a command' } }]);
    await expect(engine.createFolder(router.accountKey('A', 'main'), 'Archive')).rejects.toMatchObject({
      code: 'COMMAND_FAILED', message: expect.stringContaining('[ALREADYEXISTS] Mailbox already exists'),
    });
    await waitUntil(() => imap.mailbox('INBOX').messages.length === 5, 1000, 'nothing changed');
  });
});
