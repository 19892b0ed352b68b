'use strict';

// A Cluster.consume() consumer in a process of its own (test/cluster-consume.test.js), so a test can SIGKILL it
// mid-handler. Options come as JSON in argv[2] ({ redis, prefix, secret, topic, group, consumer, claimMs });
// its handler tells the parent what it got and never finishes.

const { Cluster } = require('imap-push/cluster');

const { redis, prefix, secret, topic, ...options } = JSON.parse(process.argv[2]);
const cluster = new Cluster({ redis, prefix, secret });
cluster.consume(topic, { blockMs: 100, ...options }, (payload, entryId) => {
  process.send({ type: 'got', payload, entryId });
  return new Promise(() => {}); // mid-handler, for ever
});
process.send({ type: 'started' });
