'use strict';

// An engine with its notification layer (the Notifier it wires itself).

const { MailEngine } = require('../..');

function engineWithNotifier(engineOptions = {}, notifications = {}) {
  const engine = new MailEngine({ ...engineOptions, notifications: { healthIntervalMs: 0, ...notifications } });
  return { engine, notifier: engine._notifier };
}

module.exports = { engineWithNotifier };
