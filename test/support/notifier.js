'use strict';

// An engine with its notification layer. Once MailEngine wires a Notifier in
// its constructor (engine._notifier), that one is used, so tests never run two
// notifiers (two would emit every batch twice); until then one is attached.

const { MailEngine } = require('../..');
const { Notifier } = require('../../lib/notify');

const wired = typeof MailEngine.prototype.subscribe === 'function';

function engineWithNotifier(engineOptions = {}, notifications = {}) {
  const options = { healthIntervalMs: 0, ...notifications };
  if (wired) {
    const engine = new MailEngine({ ...engineOptions, notifications: options });
    return { engine, notifier: engine._notifier };
  }
  const engine = new MailEngine(engineOptions);
  return { engine, notifier: new Notifier(engine, options) };
}

module.exports = { engineWithNotifier, wired };
