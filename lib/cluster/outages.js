'use strict';

// ioredis reports each failed reconnect attempt as an 'error', and prints "[ioredis] Unhandled error event" for
// each when nothing listens. An outage is said once instead, as a REDIS_UNAVAILABLE 'warning' on `emitter`
// (never an 'error' event: an app without a listener must not crash because Redis restarted).
function reportOutages(client, emitter) {
  let down = false;
  client.on('error', (err) => {
    if (down) return;
    down = true;
    emitter.emit('warning', Object.assign(new Error(`redis unavailable: ${err.code || err.message}`), { code: 'REDIS_UNAVAILABLE' }));
  });
  client.on('ready', () => { down = false; });
  return client;
}

module.exports = { reportOutages };
