'use strict';

// One ClusterWorker in a process of its own (test/cluster.test.js), so a test
// can SIGKILL or SIGSTOP it. Options come as JSON in argv[2]; events and its
// account list go to the parent over IPC; 'stop' stops it gracefully.

const { ClusterWorker } = require('imap-push/cluster');

const worker = new ClusterWorker(JSON.parse(process.argv[2]));
const send = (m) => process.send && process.send(m);
for (const name of ['accountWatched', 'leaseLost']) worker.on(name, (id) => send({ type: name, id, accounts: worker.accounts() }));
worker.on('warning', (err) => send({ type: 'warning', message: err.message }));
worker.start().then(() => send({ type: 'started', id: worker.id }), (err) => {
  send({ type: 'failed', message: err.message });
  process.exit(1);
});
process.on('message', (m) => {
  if (m === 'stop') worker.stop().then(() => process.exit(0), () => process.exit(1));
});
