// SPEC §3.3, the SSE client registry, as a person uses www/sse-clients.html
// in Chromium: connect under a client id with a test push, watch the
// `SSE 测试数据` tokens arrive, push to all, close from the server side, see
// the closed state and no more tokens; on a phone-sized screen, without
// console errors.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, launchBrowser, collectConsoleErrors, PHONE, stats } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  // Browser first: the server drains open connections when it stops.
  await browser?.close();
  await server?.stop();
});

/** The page's message lines (not the server's answers). */
async function tokenLines(page) {
  return page.locator('#log li:not(.server)').allInnerTexts();
}

test('connect, test push, push to all, close: tokens arrive, then stop', async () => {
  const page = await browser.newPage();
  const problems = collectConsoleErrors(page);
  try {
    await page.setViewportSize(PHONE);
    // Don't wait for 'networkidle': the page will hold a stream open.
    const res = await page.goto(server.url + '/sse-clients.html', { waitUntil: 'domcontentloaded' });
    assert.equal(res.status(), 200);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.ok((await page.title()).trim().length > 0);
    assert.equal(await page.locator('h1').count(), 1);
    assert.equal(await page.locator('a[href="/"]').count(), 1, 'a link back home');
    assert.equal(await page.locator('#state').getAttribute('data-state'), 'idle');
    assert.ok(await page.locator('#closeConn').isDisabled(), 'nothing to close before connecting');

    await page.fill('#clientId', 'browser-客户');
    await page.click('#testSse');
    await page.locator('#state[data-state="open"]').waitFor();
    assert.match(await page.locator('#state').innerText(), /open \(browser-客户\)/);

    // The first token at once, the next about a second later.
    await page.waitForFunction(() => document.getElementById('tokens').textContent === '2', null, { timeout: 4_000 });
    const lines = await tokenLines(page);
    assert.equal(lines.length, 2);
    for (const line of lines) assert.match(line, / message: SSE 测试数据$/);

    // The registry knows this client: push to all counts it.
    await page.click('#sendMsgToAll');
    await page.locator('#log li.server', { hasText: '{"count":1}' }).waitFor();
    assert.equal((await stats(server)).connections.sse, 1);

    // Close from the server side: 连接已关闭, the closed state, no more tokens.
    await page.click('#closeConn');
    await page.locator('#log li.server', { hasText: '200 /sse/closeConn/' }).waitFor();
    assert.match(await page.locator('#log li.server').last().innerText(), /→ 连接已关闭$/);
    await page.locator('#state[data-state="closed"]').waitFor();
    assert.ok(await page.locator('#closeConn').isDisabled());
    const count = await page.locator('#tokens').innerText();
    await sleep(1_500);
    assert.equal(await page.locator('#tokens').innerText(), count, 'tokens kept coming after the close');
    assert.equal((await stats(server)).connections.sse, 0, 'the server still holds the stream');
    const r = await fetch(server.url + '/sse/sendMsg?clientId=' + encodeURIComponent('browser-客户'));
    assert.equal(r.status, 404, 'the client is still registered');

    // Connect again (no push): the stream opens quietly.
    await page.click('#connect');
    await page.locator('#state[data-state="open"]').waitFor();
    assert.equal((await stats(server)).connections.sse, 1);

    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(scrollWidth <= PHONE.width, `page is ${scrollWidth}px wide on a ${PHONE.width}px screen`);
    if (process.env.BROWSER_SCREENSHOTS) {
      await page.screenshot({ path: `${process.env.BROWSER_SCREENSHOTS}/sse-clients-phone.png`, fullPage: true });
    }
    await page.goto('about:blank');
    // A stream open when the page goes ends as an aborted request: that,
    // and only that, is expected.
    const aborted = /^request failed: GET http:\/\/[^/]+\/sse\/(sseConection|testSse)\?clientId=[^ ]+: net::ERR_ABORTED$/;
    assert.deepEqual(problems.all().filter((p) => !aborted.test(p)), []);
  } finally {
    await page.close();
  }
});
