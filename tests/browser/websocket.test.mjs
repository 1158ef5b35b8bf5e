// SPEC §3.7 in a real browser: www/websocket.html as two people would use it,
// each in a browser of their own (two launches: two isolated profiles). The
// lines on the page are the server's, byte for byte: the page shows what the
// socket received and nothing of its own.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, collectConsoleErrors, PHONE, stats, statsBecome } from './harness.mjs';

let server;
let browserA;
let browserB;

before(async () => {
  server = await startServer();
  [browserA, browserB] = await Promise.all([launchBrowser(), launchBrowser()]);
});

after(async () => {
  // Browsers first: the server drains open sockets when it stops.
  await browserA?.close();
  await browserB?.close();
  await server?.stop();
});

/** Polls /stats until the open WebSocket count is `want` (a close is noticed asynchronously). */
async function wsBecomes(want) {
  await statsBecome(server, (s) => s.connections.ws, want, 'open WebSockets on the server');
}

async function openChat(browser) {
  const page = await browser.newPage();
  const problems = collectConsoleErrors(page);
  const res = await page.goto(server.url + '/websocket.html');
  assert.equal(res.status(), 200);
  return { page, problems };
}

const lines = (page) => page.locator('#log li').evaluateAll(
  (items) => items.map((li) => li.lastChild.textContent));

/** Waits until the page's room shows exactly `want`, in order. */
async function linesBecome(page, want) {
  try {
    await page.waitForFunction(
      (w) => JSON.stringify([...document.querySelectorAll('#log li')].map((li) => li.lastChild.textContent)) === w,
      JSON.stringify(want), { timeout: 5000 });
  } catch {
    assert.deepEqual(await lines(page), want);
  }
}

async function join(page, nickname) {
  await page.fill('#nickname', nickname);
  await page.click('#join');
  await page.waitForFunction(() => document.getElementById('state').dataset.state === 'joined');
}

async function say(page, text) {
  await page.fill('#message', text);
  await page.press('#message', 'Enter');
}

test('two people in two browsers see each other join, talk and leave', async () => {
  const ann = await openChat(browserA);
  const bob = await openChat(browserB);
  try {
    await join(ann.page, 'Ann');
    await linesBecome(ann.page, ['Ann joined (online: 1)']);
    assert.equal(await ann.page.locator('#online').innerText(), '1');

    await join(bob.page, '小明');
    await linesBecome(bob.page, ['小明 joined (online: 2)']);
    await linesBecome(ann.page, ['Ann joined (online: 1)', '小明 joined (online: 2)']);
    assert.equal(await ann.page.locator('#online').innerText(), '2');
    assert.equal(await bob.page.locator('#online').innerText(), '2');
    await wsBecomes(2);

    await say(ann.page, 'hi 小明');
    await say(bob.page, 'hello <b>Ann</b> & co');
    const talk = ['Ann: hi 小明', '小明: hello <b>Ann</b> & co'];
    await linesBecome(ann.page, ['Ann joined (online: 1)', '小明 joined (online: 2)', ...talk]);
    await linesBecome(bob.page, ['小明 joined (online: 2)', ...talk]);
    assert.equal(await ann.page.locator('#log b').count(), 0, 'a message is text, never markup');
    assert.equal(await ann.page.locator('#message').inputValue(), '', 'the input is cleared after sending');
    // Own lines are marked as such (they came back from the server).
    assert.deepEqual(
      await ann.page.locator('#log li.mine').evaluateAll((l) => l.map((li) => li.lastChild.textContent)),
      ['Ann: hi 小明']);

    await bob.page.click('#leave');
    assert.equal(await bob.page.locator('#state').getAttribute('data-state'), 'left');
    await linesBecome(ann.page, [
      'Ann joined (online: 1)', '小明 joined (online: 2)', ...talk, '小明 left (online: 1)']);
    assert.equal(await ann.page.locator('#online').innerText(), '1');
    assert.ok(await bob.page.locator('#message').isDisabled(), 'no sending after leaving');
    await wsBecomes(1);

    await ann.page.click('#leave');
    await wsBecomes(0);
    assert.deepEqual(ann.problems.all(), []);
    assert.deepEqual(bob.problems.all(), []);
  } finally {
    await ann.page.close();
    await bob.page.close();
  }
});

test('closing a tab counts as leaving', async () => {
  const ann = await openChat(browserA);
  const bob = await openChat(browserB);
  try {
    await join(ann.page, 'Ann');
    await join(bob.page, 'Bob');
    await linesBecome(ann.page, ['Ann joined (online: 1)', 'Bob joined (online: 2)']);
    await bob.page.close();
    await linesBecome(ann.page, ['Ann joined (online: 1)', 'Bob joined (online: 2)', 'Bob left (online: 1)']);
    await wsBecomes(1);
    assert.deepEqual(ann.problems.all(), []);
    assert.deepEqual(bob.problems.all(), []);
  } finally {
    await ann.page.close();
    await wsBecomes(0);
  }
});

test('a blank nickname is refused on the page without connecting', async () => {
  const { page, problems } = await openChat(browserA);
  try {
    await page.fill('#nickname', '   ');
    await page.click('#join');
    assert.match(await page.locator('#error').innerText(), /昵称不能为空/);
    assert.equal(await page.locator('#state').getAttribute('data-state'), 'idle');
    assert.equal(await page.evaluate(() => window.ws), null);
    assert.ok(await page.locator('#send').isDisabled());
    assert.equal((await stats(server)).connections.ws, 0);
    // The server says the same to a client that does not check.
    const res = await page.request.get(server.url + '/websocket?nickname=%20');
    assert.equal(res.status(), 400);
    assert.match(await res.text(), /昵称不能为空/);
    assert.deepEqual(problems.all(), []);
  } finally {
    await page.close();
  }
});

test('a proper page that fits a phone, long lines included', async () => {
  const page = await browserA.newPage();
  const problems = collectConsoleErrors(page);
  try {
    await page.setViewportSize(PHONE);
    await page.goto(server.url + '/websocket.html', { waitUntil: 'networkidle' });
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.ok((await page.title()).trim().length > 0);
    assert.equal(await page.locator('h1').count(), 1);
    assert.equal(await page.locator('a[href="/"]').count(), 1, 'a link back to /');
    assert.equal(await page.getAttribute('link[rel="icon"]', 'href'), 'data:,');
    const viewport = await page.evaluate(
      () => document.querySelector('meta[name="viewport"]')?.getAttribute('content') ?? '');
    assert.match(viewport, /width=device-width/);

    await join(page, 'a-rather-long-nickname-without-spaces');
    await say(page, 'x'.repeat(300));
    await page.waitForFunction(() => document.querySelectorAll('#log li').length === 2);
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(scrollWidth <= PHONE.width, `page is ${scrollWidth}px wide on a ${PHONE.width}px screen`);
    const offsite = await page.$$eval('[src], [href]', (els) =>
      els.map((e) => e.getAttribute('src') ?? e.getAttribute('href'))
        .filter((u) => /^(https?:)?\/\//.test(u)));
    assert.deepEqual(offsite, [], 'nothing loads from elsewhere');
    if (process.env.BROWSER_SCREENSHOTS) {
      await page.screenshot({ path: `${process.env.BROWSER_SCREENSHOTS}/websocket-phone.png`, fullPage: true });
    }
    await page.click('#leave');
    await wsBecomes(0);
    assert.deepEqual(problems.all(), []);
  } finally {
    await page.close();
  }
});
