'use strict';

// A hung real server: Dovecot's imap processes are SIGSTOPped, so the
// kernel keeps ACKing (TCP keepalive sees a healthy peer) while nothing
// answers and `* OK Still here` stops. Only the liveness check can notice.

const fs = require('fs');
const { MailEngine } = require('..');
const { startDovecot, dovecotAvailable, instancePids } = require('./support/dovecot');
const { waitForEvent, recordEvents } = require('./support/wait');

if (!dovecotAvailable()) {
  console.warn('\n*** dovecot-hung.test.js SKIPPED: dovecot-imapd is not installed ***\n');
}
const describeDovecot = dovecotAvailable() ? describe : describe.skip;

// The instance's `imap` service processes (not imap-login, auth, ...).
function imapPids(instance) {
  const title = new RegExp(`^dovecot-${instance}/imap(\\0| |$)`);
  return instancePids(instance).filter((pid) => {
    try {
      return title.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1'));
    } catch (_) {
      return false;
    }
  });
}

describeDovecot('hung Dovecot', () => {
  let dovecot;
  let engine;
  let stopped = [];

  const resume = () => {
    for (const pid of stopped.splice(0)) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch (_) { /* exited */ }
    }
  };

  beforeAll(async () => {
    dovecot = await startDovecot({ users: { alice: 'secret' } });
  });
  afterAll(async () => {
    resume();
    if (engine) await engine.close();
    if (dovecot) await dovecot.stop();
  });

  test('stopped imap processes are noticed within livenessMs + doneTimeoutMs; the engine recovers after SIGCONT', async () => {
    // The hang may catch a re-issued IDLE before its '+', which the command
    // timeout bounds rather than doneTimeoutMs: both are short here.
    engine = new MailEngine({
      reconnect: { initialDelayMs: 200, maxDelayMs: 1000 },
      idle: { livenessMs: 1500, doneTimeoutMs: 1000 },
      timeouts: { commandMs: 2000 },
    });
    const events = recordEvents(engine);
    await engine.addAccount({
      id: 'hung', host: '127.0.0.1', port: dovecot.tlsPort, tlsOptions: { ca: dovecot.caPem }, user: 'alice', pass: 'secret',
    });
    // The liveness check runs against a healthy Dovecot without errors first.
    await waitForEvent(engine, 'idleRefreshed', () => true, 10000);
    expect(events.of('connectionStatus').filter((e) => e.error)).toEqual([]);

    stopped = imapPids(dovecot.instance);
    expect(stopped.length).toBeGreaterThan(0);
    const hungAt = Date.now();
    for (const pid of stopped) process.kill(pid, 'SIGSTOP');
    const down = await waitForEvent(engine, 'connectionStatus', (e) => e.previous === 'idle' && e.error, 15000);
    expect(down.error.code).toBe('TIMEOUT');
    expect(Date.now() - hungAt).toBeLessThan(1500 + 2000 + 5000);

    resume();
    await waitForEvent(engine, 'connectionStatus', (e) => e.state === 'idle', 20000);
  });
});
