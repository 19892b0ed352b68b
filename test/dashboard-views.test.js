'use strict';

// The dashboard in real headless Chromium, seen by an admin (every tenant,
// with a tenant column), at phone width, and with subjects that try to
// reorder the page with bidi controls. Fixture: test/support/dashboard.js.

const { hasChromium, useDashboard } = require('./support/dashboard');
const { waitForEvent } = require('./support/wait');

const TOKEN = 'dash-token-123';
const BLUE = 'blue-token-456';
const ADMIN = 'root-token-789';

(hasChromium ? describe : describe.skip)('dashboard views in Chromium', () => {
  const dashboard = useDashboard();
  let fx;

  // A second tenant's account, started through the router like a tenant would.
  async function addBlue() {
    const synced = waitForEvent(fx.engine, 'syncCompleted', (e) => e.accountId === fx.router.accountKey('blue', 'main'));
    const res = await fetch(`${fx.web.base}/imap/idle/start?token=${BLUE}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'main', host: '127.0.0.1', port: fx.imap.port, tls: 'none', allowInsecureAuth: true, user: 'bob', pass: 'blue-pw' }),
    });
    expect(res.status).toBe(201);
    await synced; // its first sync could otherwise find the test's message before IDLE does
  }

  test('an admin sees every tenant\'s accounts and events, with a tenant column', async () => {
    // The tenant starts its account through the router, so loopback must be allowed.
    fx = await dashboard.start({ router: { allowHosts: ['127.0.0.1'] } });
    await addBlue();
    const { page, waitForText, imap } = fx;
    await fx.open(`dashboard?token=${ADMIN}`);
    await waitForText('#stream', 'live');
    const accounts = '#accounts tr[data-account]';
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 2, accounts);
    expect(await page.locator('#accounts tr[data-tenant="ops"][data-account="acc"]').count()).toBe(1);
    expect(await page.locator('#accounts tr[data-tenant="blue"][data-account="main"]').count()).toBe(1);
    expect(await page.locator('th.tenant').first().isVisible()).toBe(true);
    await waitForText('#connections tr[data-tenant="blue"][data-account="main"] td.state', 'idle');
    expect(await fx.cellText('#connections tr[data-tenant="blue"] td.tenant')).toBe('blue');
    // The summary's figures and the rows agree: 3 folders idle, 3 rows.
    await waitForText('#summary', '3 idle');
    expect(await page.locator('#connections tr[data-folder]').count()).toBe(3);

    // Live events of both tenants arrive, tagged.
    imap.appendMessage('INBOX', { subject: 'for both' }); // the mock server has one store: alice's and bob's INBOX are the same
    await page.waitForFunction(() => document.querySelectorAll('#messages tr[data-uid]').length === 2);
    await page.waitForFunction(() => document.querySelectorAll('#latency-chart circle.sample').length === 2);
    const tenants = await page.locator('#messages tr[data-uid] td.tenant').allTextContents();
    expect(tenants.sort()).toEqual(['blue', 'ops']);
    expect(fx.pageErrors).toEqual([]);
    await fx.screenshot('admin');

    // A tenant sees only its own, and no tenant column.
    await fx.open(`dashboard?token=${BLUE}`);
    await waitForText('#stream', 'live');
    await page.waitForFunction(() => document.querySelectorAll('#accounts tr[data-account]').length === 1);
    expect(await page.locator('#accounts tr[data-account="main"]').count()).toBe(1);
    expect(await page.locator('th.tenant').first().isVisible()).toBe(false);
    expect(await page.locator('#connections tr[data-account="acc"]').count()).toBe(0);
  });

  test('fits a 375 px phone: no sideways overflow, even with long unbroken subjects', async () => {
    fx = await dashboard.start({ viewport: { width: 375, height: 800 } });
    const { page, imap, waitForText } = fx;
    await fx.open(`dashboard?token=${TOKEN}`);
    await waitForText('#stream', 'live');
    imap.appendMessage('INBOX', { subject: `long-${'x'.repeat(300)}`, from: `${'Very Long Sender Name '.repeat(5)}<someone.with.a.long.address@example.com>` });
    await waitForText('#messages td.subject', 'long-');
    await page.waitForFunction(() => document.querySelectorAll('#latency-chart circle.sample').length >= 1);
    const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
    console.log(`dashboard at 375 px: scrollWidth ${scrollWidth}, innerWidth ${innerWidth}`);
    expect(innerWidth).toBe(375);
    expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
    expect(fx.pageErrors).toEqual([]);
    await fx.screenshot('phone-375');
  });

  test('isolates bidi text: a U+202E in a subject reorders nothing around it', async () => {
    fx = await dashboard.start();
    const { page, imap, waitForText } = fx;
    await fx.open(`dashboard?token=${TOKEN}`);
    await waitForText('#stream', 'live');
    const subject = 'Invoice \u202Efdp.exe';
    imap.appendMessage('INBOX', { subject, from: 'Evil \u202EnaM <evil@example.com>' });
    await waitForText('#messages td.subject', 'Invoice');

    const layout = await page.evaluate((raw) => {
      const rect = (el) => el.getBoundingClientRect();
      // The message row: cells left to right in document order (From, Subject, Date).
      const tr = document.querySelector('#messages tr[data-uid]');
      const xs = ['td.folder', 'td.from', 'td.subject', 'td.date'].map((s) => rect(tr.querySelector(s)).left);
      // The log line "time  acc/INBOX  new: <subject> (uid 1)": the text after the subject
      // must still be drawn to its right. Measured on a Range over that text node.
      const line = [...document.querySelectorAll('#log li')].find((li) => li.textContent.includes('Invoice'));
      const subjectEl = [...line.querySelectorAll('bdi')].find((b) => b.textContent.includes('Invoice'));
      const after = subjectEl.nextSibling;
      const range = document.createRange();
      range.selectNodeContents(after);
      const measure = (li, bdiEl, tail) => {
        const r = document.createRange();
        r.selectNodeContents(tail);
        return { tailLeft: r.getBoundingClientRect().left, subjectRight: rect(bdiEl).right };
      };
      // Controls with the raw U+202E left in: isolated by <bdi> alone the tail stays put;
      // in a plain <span> the override runs on (this is what the check would catch).
      const control = (tag) => {
        const li = document.createElement('li');
        const el = document.createElement(tag);
        el.textContent = raw;
        const tail = document.createTextNode(after.textContent);
        li.append('new: ', el, tail);
        line.parentNode.appendChild(li);
        const m = measure(li, el, tail);
        li.remove();
        return m;
      };
      return {
        xs, afterText: after.textContent, isolated: measure(line, subjectEl, after), rawIsolated: control('bdi'), unisolated: control('span'),
        logSubject: subjectEl.textContent,
        cellIsolation: getComputedStyle(tr.querySelector('td.subject')).unicodeBidi,
        subjectInBdi: tr.querySelector('td.subject bdi')?.textContent,
        fromInBdi: tr.querySelector('td.from bdi')?.textContent,
      };
    }, subject);
    // The override is shown, not obeyed: the subject reads in its real order.
    expect(layout.subjectInBdi).toBe('Invoice [U+202E]fdp.exe');
    expect(layout.logSubject).toBe('Invoice [U+202E]fdp.exe');
    expect(layout.fromInBdi).toBe('Evil [U+202E]naM <evil@example.com>');
    expect(layout.cellIsolation).toBe('isolate');
    for (let i = 1; i < layout.xs.length; i++) expect(layout.xs[i]).toBeGreaterThan(layout.xs[i - 1]);
    expect(layout.afterText).toMatch(/^ \(uid \d+\)$/);
    expect(layout.isolated.tailLeft).toBeGreaterThanOrEqual(layout.isolated.subjectRight - 1);
    expect(layout.rawIsolated.tailLeft).toBeGreaterThanOrEqual(layout.rawIsolated.subjectRight - 1);
    // Without <bdi> the override runs on and the "(uid N)" is drawn before the subject's end.
    expect(layout.unisolated.tailLeft).toBeLessThan(layout.unisolated.subjectRight - 1);
    expect(fx.pageErrors).toEqual([]);
    await fx.screenshot('bidi');
  });
});
