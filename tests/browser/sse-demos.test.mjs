// SPEC §3.2 in a real browser: www/sse-demo1.html shows the one message of
// /server/info, www/sse-demo2.html a price from /server/data that changes
// every second. Both are proper pages that fit a phone and load nothing from
// elsewhere; when a page goes away its stream (and its timer) goes too.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, collectConsoleErrors, PHONE, stats, statsBecome } from './harness.mjs';

/** SPEC §3.2's price text, as the page receives it. */
const PRICE_RE = /^白菜价格行情:(10\.00|\d\.\d{2})元$/;

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Everything the page did wrong, except its own stream cut off when the test closes it. */
function problemsOf(problems) {
  return problems.all().filter(
    (line) => !/^request failed: GET \S+\/server\/(info|data): net::ERR_ABORTED$/.test(line));
}

/** Checks shared by both pages, on a phone-sized screen. */
async function checkPage(page) {
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.ok((await page.title()).trim().length > 0, 'a title');
  assert.equal(await page.locator('h1').count(), 1);
  assert.equal(await page.locator('a[href="/"]').count(), 1, 'a link back to /');
  assert.equal(await page.getAttribute('link[rel="icon"]', 'href'), 'data:,');
  const viewport = await page.evaluate(
    () => document.querySelector('meta[name="viewport"]')?.getAttribute('content') ?? '');
  assert.match(viewport, /width=device-width/);
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(scrollWidth <= PHONE.width, `page is ${scrollWidth}px wide on a ${PHONE.width}px screen`);
  const offsite = await page.$$eval('[src], [href]', (els) =>
    els.map((e) => e.getAttribute('src') ?? e.getAttribute('href')).filter((u) => /^(https?:)?\/\//.test(u)));
  assert.deepEqual(offsite, [], 'nothing loads from elsewhere');
}

test('sse-demo1 shows [aaa, bbb, ccc] and keeps the stream open', async () => {
  const page = await browser.newPage();
  const problems = collectConsoleErrors(page);
  try {
    await page.setViewportSize(PHONE);
    // 'load', not 'networkidle': the stream never goes idle.
    const res = await page.goto(server.url + '/sse-demo1.html', { waitUntil: 'load' });
    assert.equal(res.status(), 200);
    await page.waitForFunction(() => document.getElementById('message').textContent === '[aaa, bbb, ccc]');
    assert.equal(await page.locator('#state').getAttribute('data-state'), 'open');
    assert.equal(await page.locator('#log li').count(), 1);
    await checkPage(page);
    // Still open, and still the one message, a while later.
    await page.waitForTimeout(1500);
    assert.equal(await page.evaluate(() => window.source.readyState), 1);
    assert.equal(await page.locator('#log li').count(), 1);
    assert.equal((await stats(server)).connections.sse, 1);
    if (process.env.BROWSER_SCREENSHOTS) {
      await page.screenshot({ path: `${process.env.BROWSER_SCREENSHOTS}/sse-demo1-phone.png`, fullPage: true });
    }
    // The page's own Close button: the browser closes, the server forgets it.
    await page.click('#toggle');
    assert.equal(await page.locator('#state').getAttribute('data-state'), 'closed');
    await statsBecome(server, (s) => s.connections.sse, 0, 'the closed stream is gone from the server');
    assert.deepEqual(problemsOf(problems), []);
  } finally {
    await page.close();
  }
});

test('sse-demo2 shows a live price that changes every second', async () => {
  const page = await browser.newPage();
  const problems = collectConsoleErrors(page);
  try {
    await page.setViewportSize(PHONE);
    const opened = Date.now();
    const res = await page.goto(server.url + '/sse-demo2.html', { waitUntil: 'load' });
    assert.equal(res.status(), 200);
    const seen = [];
    for (let n = 1; n <= 3; n++) {
      await page.waitForFunction((k) => Number(document.getElementById('count').textContent) >= k, n,
        { timeout: 3000 });
      seen.push(await page.locator('#price').innerText());
      if (n === 1) {
        const waited = Date.now() - opened;
        assert.ok(waited >= 900, `the first price came ${waited} ms after opening, before 1 s`);
      }
    }
    for (const p of seen) assert.match(p, /^(10\.00|\d\.\d{2})$/);
    assert.ok(new Set(seen).size > 1, `the price did not change: ${seen}`);
    assert.match(await page.locator('#raw').innerText(), PRICE_RE);
    // The table keeps the latest first.
    const rows = await page.locator('#history td.num').allInnerTexts();
    assert.ok(rows.length >= 3, `${rows.length} rows`);
    assert.equal(rows[0], await page.locator('#price').innerText());
    assert.equal(await page.locator('#waiting').isVisible(), false);
    await checkPage(page);
    if (process.env.BROWSER_SCREENSHOTS) {
      await page.screenshot({ path: `${process.env.BROWSER_SCREENSHOTS}/sse-demo2-phone.png`, fullPage: true });
    }
    assert.deepEqual(problemsOf(problems), []);
  } finally {
    await page.close();
  }
  // The page is gone: so are its stream and its ticker.
  await statsBecome(server, (s) => s.connections.sse, 0, 'the stream of a closed page is gone');
  const before = (await stats(server)).messages_out;
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await stats(server)).messages_out, before, 'prices still being sent to nobody');
});

test('sse-demo2 keeps only the last ten prices', async () => {
  const page = await browser.newPage();
  try {
    await page.goto(server.url + '/sse-demo2.html', { waitUntil: 'load' });
    // Feed the page's own handler, rather than wait eleven seconds.
    await page.evaluate(() => {
      for (let i = 0; i < 12; i++) {
        window.source.onmessage({ data: `白菜价格行情:${i % 10}.0${i % 10}元` });
      }
    });
    assert.equal(await page.locator('#history tr').count(), 10);
    assert.equal(await page.locator('#price').innerText(), '1.01');
  } finally {
    await page.close();
  }
});
