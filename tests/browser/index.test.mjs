// The landing page (www/index.html) as a person sees it: it loads cleanly,
// every link on it works, it needs no network but this server, and it fits
// a phone's screen.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, collectConsoleErrors, PHONE } from './harness.mjs';

/** A common phone viewport (iPhone SE / 8). */

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

test('GET / answers 200 and renders without errors', async () => {
  const page = await browser.newPage();
  const problems = collectConsoleErrors(page);
  try {
    const res = await page.goto(server.url + '/', { waitUntil: 'networkidle' });
    assert.ok(res, 'navigation produced no response');
    assert.equal(res.status(), 200);
    assert.match(res.headers()['content-type'] ?? '', /^text\/html/);

    const title = (await page.title()).trim();
    assert.ok(title.length > 0, 'the page has no <title>');
    assert.equal(await page.locator('h1').count(), 1, 'the page should have exactly one <h1>');
    assert.ok((await page.locator('h1').innerText()).trim().length > 0, 'the <h1> is empty');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');

    assert.deepEqual(problems.all(), [], 'console errors, page errors, failed requests or 4xx/5xx responses');
  } finally {
    await page.close();
  }
});

test('every link resolves and none leaves this server', async () => {
  const page = await browser.newPage();
  try {
    await page.goto(server.url + '/');
    const origin = new URL(server.url).origin;
    // a.href is the resolved absolute URL, whatever the attribute says.
    const hrefs = await page.$$eval('a[href]', (as) => as.map((a) => a.href));
    assert.ok(hrefs.length > 0, 'the page has no links at all');

    const external = hrefs.filter((h) => new URL(h).origin !== origin);
    assert.deepEqual(external, [], 'links to other origins (the page must work offline)');

    // Fragments name places in a page already fetched: check each page once.
    const targets = [...new Set(hrefs.map((h) => h.split('#')[0]))];
    for (const target of targets) {
      const status = await linkStatus(target);
      assert.ok(status < 400, `link ${target} answered ${status}`);
    }
  } finally {
    await page.close();
  }
});

test('fits a phone screen without horizontal scrolling', async () => {
  const page = await browser.newPage();
  const problems = collectConsoleErrors(page);
  try {
    await page.setViewportSize(PHONE);
    await page.goto(server.url + '/', { waitUntil: 'networkidle' });
    // evaluate, not getAttribute: a missing tag should fail now, not after a wait.
    const viewport = await page.evaluate(
      () => document.querySelector('meta[name="viewport"]')?.getAttribute('content') ?? null);
    assert.match(viewport ?? '', /width=device-width/, 'no responsive viewport meta');
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(scrollWidth <= PHONE.width, `page is ${scrollWidth}px wide on a ${PHONE.width}px screen`);
    if (process.env.BROWSER_SCREENSHOTS) {
      await page.screenshot({ path: `${process.env.BROWSER_SCREENSHOTS}/index-phone.png`, fullPage: true });
    }
    assert.deepEqual(problems.all(), []);
  } finally {
    await page.close();
  }
});

/**
 * The status a link answers, as a click would see it (redirects followed).
 * Only the response head is awaited and the body is dropped, so a link to a
 * stream (an SSE endpoint never ends its body) is checked as fast as a file.
 */
async function linkStatus(url) {
  const res = await fetch(url, {
    headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' },
    signal: AbortSignal.timeout(5_000),
  });
  await res.body?.cancel();
  return res.status;
}
