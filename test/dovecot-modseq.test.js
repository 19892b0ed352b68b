'use strict';

// No sync storm on CONDSTORE servers (issue 14 item 6). Dovecot follows each
// delivery's EXISTS with a raised HIGHESTMODSEQ; the engine used to schedule a
// folder sync for it, which found nothing (one SELECT and a pooled connection
// per message). The MODSEQs of the messages just fetched account for it now.

const { execFileSync } = require('child_process');
const path = require('path');
const { MailEngine } = require('..');
const { startDovecot, dovecotAvailable } = require('./support/dovecot');
const { waitForEvent, waitUntil, sleep } = require('./support/wait');

const describeDovecot = dovecotAvailable() ? describe : describe.skip;

describeDovecot('HIGHESTMODSEQ raised by new mail (Dovecot)', () => {
  let dovecot;
  let engine;
  const users = { alice: 'secret', bob: 'builder' };
  const doveadm = (...args) => execFileSync('doveadm', ['-c', path.join(dovecot.dir, 'dovecot.conf'), ...args], { encoding: 'utf8' });
  const serverModseq = (user) => Number(/highestmodseq=(\d+)/.exec(doveadm('mailbox', 'status', '-u', user, 'highestmodseq', 'INBOX'))[1]);
  const message = (n) => `From: a@example.com\nSubject: m${n}\nMessage-ID: <m${n}-${Date.now()}@test>\n\nbody ${n}\n`;

  beforeAll(async () => {
    dovecot = await startDovecot({ users });
  });
  afterAll(async () => {
    if (dovecot) await dovecot.stop();
  });
  afterEach(async () => {
    await engine.close();
  });

  function watch(user) {
    const seen = { syncs: [], newMessages: [], flags: [] };
    engine = new MailEngine({ reconnect: { initialDelayMs: 200, maxDelayMs: 1000 }, sync: { debounceMs: 200 } });
    engine.on('syncCompleted', (r) => seen.syncs.push(r));
    engine.on('newMessage', (m) => seen.newMessages.push(m.uid));
    engine.on('flagsChanged', (f) => seen.flags.push(f));
    const ready = engine.addAccount({ id: user, host: '127.0.0.1', port: dovecot.tlsPort, tlsOptions: { ca: dovecot.caPem }, user, pass: users[user] });
    return { seen, ready };
  }

  test('20 deliveries: 20 pushes, no sync, and the engine\'s HIGHESTMODSEQ keeps up with the server\'s', async () => {
    dovecot.deliver('alice', message(0)); // an existing message, so the folder has a modseq to start from
    const { seen, ready } = watch('alice');
    await ready;
    const before = engine.status('alice').folders[0].highestModseq;
    expect(before).toBeGreaterThan(0);
    for (let n = 1; n <= 20; n += 1) {
      dovecot.deliver('alice', message(n));
      await sleep(n % 5 === 0 ? 700 : 30); // some alone, some several to one IDLE wakeup
    }
    await waitUntil(() => seen.newMessages.length === 20, 20000, '20 newMessage events');
    await sleep(1500); // well past sync.debounceMs: a scheduled sync would have run
    // Before the fix: one sync per IDLE wakeup, each finding nothing.
    expect(seen.syncs).toEqual([]);
    expect(new Set(seen.newMessages).size).toBe(20);
    // The modseqs were accounted for, not skipped: the engine is where the server is.
    expect(engine.status('alice').folders[0].highestModseq).toBe(serverModseq('alice'));
  });

  test('a flag change among the deliveries still gets its sync, and nothing is lost', async () => {
    dovecot.deliver('bob', message(0));
    const { seen, ready } = watch('bob');
    await ready;
    const synced = waitForEvent(engine, 'syncCompleted', () => true, 15000);
    doveadm('flags', 'add', '-u', 'bob', '\\Flagged', 'mailbox', 'INBOX', 'uid', '1');
    dovecot.deliver('bob', message(1));
    await waitUntil(() => seen.newMessages.length === 1, 15000, 'the new message');
    const sync = await synced; // the modseq of the flag change is no new message's: a sync must look
    await waitUntil(() => seen.flags.some((f) => f.uid === 1 && f.flags.includes('\\Flagged')), 15000, 'the flag change');
    expect(sync.folders[0].highestModseq).toBe(serverModseq('bob'));
    expect(seen.newMessages).toEqual([2]);
  });
});
