#!/usr/bin/env node
'use strict';

// imap-push behind Express, against the built-in demo IMAP server:
//   node examples/express-server        (PORT=3000, INTERVAL_MS=3000 by default)
// Opens the dashboard URL it prints; a demo message arrives every few seconds.

const crypto = require('crypto');
const express = require('express');
const { MailEngine } = require('../../lib');
const { Notifier } = require('../../lib/notify');
const { createRouter } = require('../../lib/express');
const { MockImapServer } = require('imap-push/testing');

const PORT = Number(process.env.PORT ?? 3000);
const INTERVAL_MS = Number(process.env.INTERVAL_MS ?? 3000);

// One random token per run. It travels as ?token= because EventSource cannot
// send headers; a real app would use a session cookie instead.
const TOKEN = crypto.randomBytes(16).toString('hex');
const digest = (s) => crypto.createHash('sha256').update(String(s)).digest();

function authorize(req) {
  const given = req.query.token || (req.get('authorization') || '').replace(/^Bearer\s+/i, '');
  if (!crypto.timingSafeEqual(digest(given), digest(TOKEN))) throw new Error('bad token');
  return { tenant: 'demo', admin: true };
}

async function main() {
  // The mock makes its own self-signed localhost certificate; caPem is what a client must trust.
  const imap = new MockImapServer({ tls: 'implicit', users: { demo: 'demo-password' } });
  await imap.listen();

  const engine = new MailEngine();
  // Engines that predate MailEngine#subscribe/events/health get a notifier of their own.
  const notifier = typeof engine.subscribe === 'function' ? undefined : new Notifier(engine);
  // Accounts tenants start through the router may reach public IMAP servers only (ports 143, 993), within
  // the default limits; allowHosts and limits change that (README, "On the public internet").
  const router = createRouter(engine, { authorize, notifier });

  const app = express();
  app.use('/imap', router);
  const web = app.listen(PORT, '127.0.0.1');
  await new Promise((resolve, reject) => web.once('listening', resolve).once('error', reject));

  router.assign('demo', 'demo'); // added by the app itself, not via POST /idle/start: say whose it is
  await engine.addAccount({
    id: 'demo', host: '127.0.0.1', port: imap.port, tls: 'implicit', tlsOptions: { ca: imap.caPem }, user: 'demo', pass: 'demo-password',
  });

  let n = 0;
  const timer = setInterval(() => {
    n += 1;
    imap.appendMessage('INBOX', { subject: `Demo message #${n}`, from: 'Demo Sender <sender@example.com>', to: 'demo@example.com' });
  }, INTERVAL_MS);

  const { port } = web.address();
  console.log(`imap-push example: demo IMAP server on 127.0.0.1:${imap.port}, a message every ${INTERVAL_MS} ms`);
  console.log(`dashboard: http://127.0.0.1:${port}/imap/dashboard?token=${TOKEN}`);

  let stopping = false;
  const stop = async () => {
    if (stopping) process.exit(130);
    stopping = true;
    clearInterval(timer);
    router.close();
    web.closeAllConnections();
    web.close();
    if (notifier) notifier.stop();
    await engine.close();
    await imap.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  console.error(`express-server example: ${err.code ? `${err.code}: ` : ''}${err.message}`);
  process.exit(1);
});
