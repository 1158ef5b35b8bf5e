// SPEC §3.1 in a real browser: www/ssetest.html as a shopper and a payment
// system would use it. The page opens /orderpay with EventSource, the
// payment is confirmed through /payback (the page's button, or from outside
// with page.request), and the page must show the result and close its
// EventSource so the browser does not reconnect.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, collectConsoleErrors, PHONE, stats, statsBecome } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  // Browser first: the server drains open streams when it stops.
  await browser?.close();
  await server?.stop();
});

/**
 * Everything the page did wrong, except a stream of this page that was still
 * open when the test ended it (EventSource ends as net::ERR_ABORTED then).
 */
function problemsOf(problems) {
  return problems.all().filter(
    (line) => !/^request failed: GET \S+\/orderpay\?\S*: net::ERR_ABORTED$/.test(line));
}

async function openPage(payid, timeout) {
  const page = await browser.newPage();
  const problems = collectConsoleErrors(page);
  const res = await page.goto(server.url + '/ssetest.html');
  assert.equal(res.status(), 200);
  await page.fill('#payid', String(payid));
  if (timeout !== undefined) await page.fill('#timeout', String(timeout));
  return { page, problems };
}

const state = (page) => page.locator('#state').getAttribute('data-state');
const readyState = (page) => page.evaluate(() => (window.source ? window.source.readyState : null));
const logText = (page) => page.locator('#log').innerText();

async function waitState(page, want) {
  await page.waitForFunction((w) => document.getElementById('state').dataset.state === w, want);
}

test('pay, confirm with the page button: success shown, stream closed', async () => {
  const { page, problems } = await openPage(4242);
  try {
    await page.click('#pay');
    await waitState(page, 'waiting');
    assert.match(await logText(page), /message: Connection succeeded/);
    assert.equal(await readyState(page), 1, 'the EventSource is open while waiting');
    assert.equal((await stats(server)).connections.sse, 1);

    await page.click('#confirm');
    await waitState(page, 'paid');
    const log = await logText(page);
    assert.match(log, /message: User payment succeeded/);
    assert.match(log, /finish: ha-ha \(id 6666\)/);
    assert.match(log, /\/payback answered: 200 \{"payid":4242,"delivered":true\}/);
    assert.ok(log.indexOf('User payment succeeded') < log.indexOf('finish: ha-ha'), 'events in order');
    assert.match(await page.locator('#result').innerText(), /User payment succeeded/);
    assert.equal(await readyState(page), 2, 'the page closed its EventSource (CLOSED)');
    await statsBecome(server, (s) => s.connections.sse, 0, 'no stream left on the server');

    // Closed for good: no reconnect after retry: 1000.
    await page.waitForTimeout(1500);
    assert.equal((await stats(server)).connections.sse, 0, 'the browser reconnected');
    assert.equal((log.match(/Connection succeeded/g) || []).length, 1);
    assert.deepEqual(problemsOf(problems), []);
  } finally {
    await page.close();
  }
});

test('the payment system confirms from outside (page.request): the page shows success', async () => {
  const { page, problems } = await openPage(-17);
  try {
    await page.click('#pay');
    await waitState(page, 'waiting');
    const res = await page.request.get(server.url + '/payback?payid=-17');
    assert.equal(res.status(), 200);
    assert.deepEqual(await res.json(), { payid: -17, delivered: true });
    await waitState(page, 'paid');
    assert.match(await page.locator('#result').innerText(), /User payment succeeded/);
    assert.equal(await readyState(page), 2);
    // Nothing left to confirm: 404 with a JSON error.
    const again = await page.request.get(server.url + '/payback?payid=-17');
    assert.equal(again.status(), 404);
    assert.equal((await again.json()).delivered, false);
    assert.deepEqual(problemsOf(problems), []);
  } finally {
    await page.close();
  }
});

test('no payment in time: the timeout line is shown and the page stops', async () => {
  const { page, problems } = await openPage(5150, 0.5);
  try {
    await page.click('#pay');
    await waitState(page, 'timeout');
    assert.match(await logText(page), /message: timeout!!/);
    assert.match(await page.locator('#result').innerText(), /timeout!!/);
    assert.equal(await readyState(page), 2);
    await page.waitForTimeout(1500);
    assert.equal(await state(page), 'timeout', 'no reconnect');
    assert.equal((await stats(server)).connections.sse, 0);
    assert.deepEqual(problemsOf(problems), []);
  } finally {
    await page.close();
  }
});

test('a second page with the same payid replaces the first, which stops for good', async () => {
  const a = await openPage(777);
  const b = await openPage(777);
  try {
    await a.page.click('#pay');
    await waitState(a.page, 'waiting');
    await b.page.click('#pay');
    await waitState(b.page, 'waiting');
    await waitState(a.page, 'replaced');
    assert.equal(await readyState(a.page), 2);
    // The first page does not come back after retry: 1000 and steal the payid.
    await a.page.waitForTimeout(1500);
    assert.equal(await state(b.page), 'waiting');
    assert.equal((await stats(server)).connections.sse, 1);
    await b.page.click('#confirm');
    await waitState(b.page, 'paid');
    assert.equal(await state(a.page), 'replaced');
    assert.deepEqual(problemsOf(a.problems), []);
    assert.deepEqual(problemsOf(b.problems), []);
  } finally {
    await a.page.close();
    await b.page.close();
  }
});

test('a payid that is not an integer is refused on the page, without a request', async () => {
  const { page, problems } = await openPage('12ab');
  try {
    await page.click('#pay');
    assert.match(await page.locator('#error').innerText(), /integer/);
    assert.equal(await state(page), 'idle');
    assert.equal(await readyState(page), null);
    assert.deepEqual(problemsOf(problems), []);
  } finally {
    await page.close();
  }
});

test('a proper page that fits a phone', async () => {
  const page = await browser.newPage();
  const problems = collectConsoleErrors(page);
  try {
    await page.setViewportSize(PHONE);
    await page.goto(server.url + '/ssetest.html', { waitUntil: 'networkidle' });
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.ok((await page.title()).trim().length > 0);
    assert.equal(await page.locator('h1').count(), 1);
    assert.equal(await page.locator('a[href="/"]').count(), 1, 'a link back to /');
    assert.equal(await page.getAttribute('link[rel="icon"]', 'href'), 'data:,');
    const viewport = await page.evaluate(
      () => document.querySelector('meta[name="viewport"]')?.getAttribute('content') ?? '');
    assert.match(viewport, /width=device-width/);
    // The curl line names this server and the generated payid.
    assert.match(await page.locator('#curl').innerText(), new RegExp(`^curl '${server.url}/payback\\?payid=\\d+'$`));
    // Every button visible at once (the widest state of the page).
    await page.click('#pay');
    await waitState(page, 'waiting');
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(scrollWidth <= PHONE.width, `page is ${scrollWidth}px wide on a ${PHONE.width}px screen`);
    const offsite = await page.$$eval('[src], [href]', (els) =>
      els.map((e) => e.getAttribute('src') ?? e.getAttribute('href'))
        .filter((u) => /^(https?:)?\/\//.test(u)));
    assert.deepEqual(offsite, [], 'nothing loads from elsewhere');
    if (process.env.BROWSER_SCREENSHOTS) {
      await page.screenshot({ path: `${process.env.BROWSER_SCREENSHOTS}/ssetest-phone.png`, fullPage: true });
    }
    assert.deepEqual(problemsOf(problems), []);
  } finally {
    await page.close();
  }
});
