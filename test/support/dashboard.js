'use strict';

// The dashboard tests' fixture: Debian's headless Chromium through
// playwright-core, a mock IMAP server, an engine and the router on loopback,
// and screenshots written under DASHBOARD_ARTIFACTS (default: a directory in
// the system temp dir), each path printed so a run's output names them.

const fs = require('fs');
const os = require('os');
const path = require('path');
const express = require('express');
const { createRouter } = require('../../lib/express');
const { MockImapServer } = require('imap-push/testing');
const { engineWithNotifier } = require('./notifier');
const { listen } = require('./http');
const { waitForEvent } = require('./wait');

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = fs.existsSync(CHROMIUM);
const TOKENS = { 'dash-token-123': { tenant: 'ops' }, 'blue-token-456': { tenant: 'blue' }, 'root-token-789': { tenant: 'root', admin: true } };
const ARTIFACTS = process.env.DASHBOARD_ARTIFACTS || path.join(os.tmpdir(), 'imap-push-dashboard-artifacts');

// The page cannot send headers with EventSource, so this authorize reads a query token.
const authorize = (req) => {
  if (req.query.token === 'banned') throw Object.assign(new Error('banned'), { status: 403 });
  const caller = TOKENS[req.query.token];
  if (!caller) throw new Error('no credentials');
  return caller;
};

async function launchBrowser() {
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
    timeout: 30000,
  });
}

/** Everything one test needs; close() tears it down. */
async function startDashboard(browser, { viewport, router: routerOptions } = {}) {
  const imap = new MockImapServer({ users: { alice: 'dash-pw', bob: 'blue-pw' } });
  imap.createMailbox('Archive');
  await imap.listen();
  const { engine, notifier } = engineWithNotifier({ reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
  const router = createRouter(engine, { authorize, notifier, heartbeatMs: 1000, ...routerOptions });
  const app = express();
  app.use('/imap', router);
  const web = await listen(app);
  router.assign('acc', 'ops');
  // The first sync (the mock server has no QRESYNC) could otherwise find a test's first message before IDLE does.
  const synced = waitForEvent(engine, 'syncCompleted', (e) => e.accountId === 'acc');
  await engine.addAccount({
    id: 'acc', host: '127.0.0.1', port: imap.port, tls: 'none', allowInsecureAuth: true, user: 'alice', pass: 'dash-pw', folders: ['INBOX', 'Archive'],
  });
  await synced;
  const context = await browser.newContext(viewport ? { viewport } : {});
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  const requests = [];
  page.on('request', (r) => requests.push(new URL(r.url()).pathname));

  const fx = {
    imap, engine, notifier, router, web, page, pageErrors, requests,
    open: (suffix) => page.goto(`${web.base}/imap/${suffix}`),
    cellText: (selector) => page.locator(selector).first().textContent(),
    waitForText: (selector, text) => page.waitForFunction(
      ([sel, t]) => [...document.querySelectorAll(sel)].some((el) => el.textContent.includes(t)), [selector, text],
    ),
    row: (folder, account = 'acc') => `#connections tr[data-account="${account}"][data-folder="${folder}"]`,
    async screenshot(name) {
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      const file = path.join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      console.log(`dashboard screenshot: ${file}`);
      return file;
    },
    async close() {
      await context.close();
      router.close();
      await web.close();
      notifier.stop();
      await engine.close();
      await imap.close();
    },
  };
  return fx;
}

/**
 * Inside a describe: one browser for its tests, and each test's dashboard closed after it.
 * start(options) starts one (see startDashboard) and returns it.
 */
function useDashboard() {
  let browser;
  const ctx = {
    fx: null,
    async start(options) {
      ctx.fx = await startDashboard(browser, options);
      return ctx.fx;
    },
  };
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    if (browser) await browser.close();
  });
  afterEach(async () => {
    if (ctx.fx) await ctx.fx.close();
    ctx.fx = null;
  });
  return ctx;
}

module.exports = { hasChromium, CHROMIUM, launchBrowser, startDashboard, useDashboard, ARTIFACTS };
