'use strict';

// The setup the mailbox-action suites share: one MailEngine with one account
// 'a' on the mock server (user u) or on a real Dovecot (user alice), every
// push event recorded from before the account is added, and all of it closed
// after each test.   const fx = useEngineFixture();  await fx.mock({ caps });

const { MailEngine } = require('../..');
const { MockImapServer } = require('imap-push/testing');
const { startDovecot } = require('./dovecot');

const RECORDED = ['flagsChanged', 'messageDeleted', 'newMessage', 'folderChanged', 'connectionStatus', 'connectionLost',
  'connectionRestored', 'syncCompleted'];

function useEngineFixture() {
  const fx = { server: null, dovecot: null, engine: null, events: [] };

  function engine(options) {
    fx.engine = new MailEngine(options);
    fx.events = [];
    for (const name of RECORDED) fx.engine.on(name, (e) => fx.events.push({ name, ...e }));
    return fx.engine;
  }

  /** The mock (capabilities `caps`, `setup(server)` before it listens) and account 'a' on it. */
  fx.mock = async ({ caps, setup, engineOptions, account } = {}) => {
    fx.server = new MockImapServer({ users: { u: 'p' }, ...(caps ? { capabilities: caps } : {}) });
    if (setup) setup(fx.server);
    await fx.server.listen();
    return engine(engineOptions).addAccount({
      id: 'a', host: '127.0.0.1', port: fx.server.port, tls: 'none', allowInsecureAuth: true, user: 'u', pass: 'p', ...account,
    });
  };

  /** A Dovecot (`setup(dovecot)` before the account is added) and account 'a' as alice over TLS. */
  fx.dovecotAccount = async ({ setup, engineOptions, account, dovecot } = {}) => {
    fx.dovecot = await startDovecot(dovecot);
    if (setup) setup(fx.dovecot);
    return engine(engineOptions).addAccount({
      id: 'a', host: '127.0.0.1', port: fx.dovecot.tlsPort, tlsOptions: { ca: fx.dovecot.caPem }, user: 'alice', pass: 'secret', ...account,
    });
  };

  fx.named = (name) => fx.events.filter((e) => e.name === name);

  /** Closes this test's engine and servers, for a test that starts again with other options. */
  fx.reset = async () => {
    if (fx.engine) await fx.engine.close();
    if (fx.server) await fx.server.close();
    if (fx.dovecot) await fx.dovecot.stop();
    fx.engine = fx.server = fx.dovecot = null;
  };

  afterEach(() => fx.reset());
  return fx;
}

module.exports = { useEngineFixture };
