// SPEC §3.5 in Chromium: www/wstest.html as a person uses it. The page opens
// a WebSocket to /ws/asset, shows the greeting 连接成功, echoes what is typed
// with the session id, broadcasts from its form (POST /ws/asset/broadcast)
// to every open tab, each with its own sid; it fits a phone and logs no
// console errors.

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
  // Browser first: the server drains open sockets when it stops.
  await browser?.close();
  await server?.stop();
});

/** Opens the page; it connects by itself. Resolves once the greeting is shown. */
async function openPage(viewport) {
  const page = await browser.newPage();
  const problems = collectConsoleErrors(page);
  if (viewport) await page.setViewportSize(viewport);
  const res = await page.goto(server.url + '/wstest.html');
  assert.equal(res.status(), 200);
  await page.locator('#state[data-state="open"]').waitFor();
  await page.locator('#log li.received', { hasText: '连接成功' }).waitFor();
  return { page, problems };
}

const received = (page) => page.locator('#log li.received').allInnerTexts();

/** Types a message as a user would and waits for its echo; the sid shown. */
async function sendAndSeeEcho(page, text) {
  await page.fill('#message', text);
  await page.press('#message', 'Enter');
  const echo = `Echo Message content:${text} (From Server,Session ID=`;
  await page.locator('#log li.received', { hasText: echo }).waitFor();
  const sid = await page.locator('#sid').innerText();
  assert.match(sid, /^\d+$/);
  const lines = await received(page);
  assert.ok(lines.some((l) => l.endsWith(`${echo}${sid})`)), lines.join('\n'));
  return sid;
}

test('connect, greeting, type a message and see the echo with the session id', async () => {
  const { page, problems } = await openPage();
  try {
    const lines = await received(page);
    assert.equal(lines.length, 1);
    assert.match(lines[0], / received: 连接成功$/, 'the bare greeting');
    assert.equal(await page.locator('#sid').innerText(), '–', 'no sid before the first echo');
    assert.equal((await stats(server)).connections.ws, 1);

    const sid = await sendAndSeeEcho(page, 'hello 你好');
    // Typed again with the button: the same session, the same sid.
    await page.fill('#message', 'second <b>one</b>');
    await page.click('#sendButton');
    await page.locator('#log li.received', {
      hasText: `Echo Message content:second <b>one</b> (From Server,Session ID=${sid})`,
    }).waitFor();
    assert.equal(await page.locator('#log b').count(), 0, 'text is shown as text, not HTML');
    assert.equal(await page.inputValue('#message'), '', 'the field is cleared after sending');

    // Disconnect: the state says so, sending is off, the server forgets it.
    await page.click('#disconnect');
    await page.locator('#state[data-state="closed"]').waitFor();
    assert.ok(await page.locator('#sendButton').isDisabled());
    await statsBecome(server, (s) => s.connections.ws, 0, 'the server still holds the socket');
    // Connect again: a new session, a new sid.
    await page.click('#connect');
    await page.locator('#state[data-state="open"]').waitFor();
    const again = await sendAndSeeEcho(page, 'back');
    assert.notEqual(again, sid);
    assert.deepEqual(problems.all(), []);
  } finally {
    await page.close();
  }
});

test('the broadcast form reaches every open tab, each with its own sid', async () => {
  const a = await openPage();
  const b = await openPage();
  try {
    const sidA = await sendAndSeeEcho(a.page, 'I am A');
    const sidB = await sendAndSeeEcho(b.page, 'I am B');
    assert.notEqual(sidA, sidB);

    await a.page.fill('#broadcastText', '系统通知: 维护');
    await a.page.click('#broadcastButton');
    await a.page.locator('#broadcastResult', { hasText: '200 {"sent":2}' }).waitFor();
    for (const [page, sid] of [[a.page, sidA], [b.page, sidB]]) {
      await page.locator('#log li.received', {
        hasText: `系统通知: 维护 (From Server,Session ID=${sid})`,
      }).waitFor();
      const lines = await received(page);
      const got = lines.filter((l) => l.includes('系统通知: 维护'));
      assert.equal(got.length, 1, 'exactly once');
      assert.ok(got[0].endsWith(` received: 系统通知: 维护 (From Server,Session ID=${sid})`), got[0]);
    }
    assert.equal(await a.page.inputValue('#broadcastText'), '', 'the field is cleared');

    // B leaves: the next broadcast counts one.
    await b.page.close();
    await statsBecome(server, (s) => s.connections.ws, 1, 'the closed tab is forgotten');
    await a.page.fill('#broadcastText', 'only A');
    await a.page.press('#broadcastText', 'Enter');
    await a.page.locator('#broadcastResult', { hasText: '200 {"sent":1}' }).waitFor();
    await a.page.locator('#log li.received', { hasText: `only A (From Server,Session ID=${sidA})` }).waitFor();
    assert.deepEqual(a.problems.all(), []);
    assert.deepEqual(b.problems.all(), []);
  } finally {
    await a.page.close();
    if (!b.page.isClosed()) await b.page.close();
  }
  await statsBecome(server, (s) => s.connections.ws, 0, 'every socket is gone');
});

test('a proper page that fits a phone', async () => {
  const { page, problems } = await openPage(PHONE);
  try {
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.ok((await page.title()).trim().length > 0);
    assert.equal(await page.locator('h1').count(), 1);
    assert.equal(await page.locator('a[href="/"]').count(), 1, 'a link back to /');
    assert.equal(await page.getAttribute('link[rel="icon"]', 'href'), 'data:,');
    const viewport = await page.evaluate(
      () => document.querySelector('meta[name="viewport"]')?.getAttribute('content') ?? '');
    assert.match(viewport, /width=device-width/);
    // A long word in the log must wrap, not widen the page.
    await sendAndSeeEcho(page, 'x'.repeat(300));
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(scrollWidth <= PHONE.width, `page is ${scrollWidth}px wide on a ${PHONE.width}px screen`);
    const offsite = await page.$$eval('[src], [href]', (els) =>
      els.map((e) => e.getAttribute('src') ?? e.getAttribute('href'))
        .filter((u) => /^(https?:)?\/\//.test(u)));
    assert.deepEqual(offsite, [], 'nothing loads from elsewhere');
    assert.match(await page.locator('#curl').innerText(), new RegExp(`${server.url}/ws/asset/broadcast$`));
    if (process.env.BROWSER_SCREENSHOTS) {
      await page.screenshot({ path: `${process.env.BROWSER_SCREENSHOTS}/wstest-phone.png`, fullPage: true });
    }
    assert.deepEqual(problems.all(), []);
  } finally {
    await page.close();
  }
});
