// SPEC §3.6 in Chromium: www/socket.html as a person uses it. Choose an id,
// connect, see -连接已建立-, type and see the echo (text and binary), send to
// an id and broadcast from the page's forms, see a second tab with the same
// id take over (the first closed with 1000), a 404 for an id nobody holds;
// it fits a phone and logs no console errors.

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

async function openPage(viewport) {
  const page = await browser.newPage();
  const problems = collectConsoleErrors(page);
  if (viewport) await page.setViewportSize(viewport);
  const res = await page.goto(server.url + '/socket.html');
  assert.equal(res.status(), 200);
  assert.equal(await page.locator('#state').getAttribute('data-state'), 'idle');
  return { page, problems };
}

/** Chooses an id and connects as a user would; resolves once the greeting is shown. */
async function connect(page, id) {
  await page.fill('#id', String(id));
  await page.click('#connect');
  await page.locator('#state[data-state="open"]').waitFor();
  await page.locator('#log li.received', { hasText: '-连接已建立-' }).waitFor();
}

const received = (page) => page.locator('#log li.received').allInnerTexts();

/** Waits for a received line ending with `text` (a line starts with the time). */
async function seeReceived(page, text) {
  await page.waitForFunction(
    (t) => [...document.querySelectorAll('#log li.received')].some((li) => li.textContent.endsWith(t)),
    text);
}

test('choose an id, connect, greeting, echo of text and binary', async () => {
  const { page, problems } = await openPage();
  try {
    await connect(page, 41);
    assert.match(await page.locator('#state').innerText(), /open \(id 41\)/);
    assert.deepEqual((await received(page)).map((l) => l.replace(/^.* received: /, '')), ['-连接已建立-']);
    assert.equal((await stats(server)).connections.ws, 1);

    await page.fill('#message', 'hello 你好');
    await page.press('#message', 'Enter');
    await seeReceived(page, ' received: hello 你好');
    await page.fill('#message', 'bytes');
    await page.check('#binary');
    await page.click('#sendButton');
    await seeReceived(page, ' received binary: 5 bytes [62 79 74 65 73] “bytes”');
    assert.equal(await page.inputValue('#message'), '');

    await page.click('#disconnect');
    await page.locator('#state[data-state="closed"]').waitFor();
    assert.ok(await page.locator('#sendButton').isDisabled());
    await statsBecome(server, (s) => s.connections.ws, 0, 'the server still holds the socket');
    assert.deepEqual(problems.all(), []);
  } finally {
    await page.close();
  }
});

test('send to an id and broadcast from the forms; 404 for an id nobody holds', async () => {
  const a = await openPage();
  const b = await openPage();
  try {
    await connect(a.page, 1);
    await connect(b.page, 2);
    // From page A, to session 2 only.
    await a.page.fill('#toId', '2');
    await a.page.fill('#toText', '只给 2 号');
    await a.page.click('#sendToButton');
    await a.page.locator('#pushResult', { hasText: 'POST /socket/2/send → 200 {"id":2,"sent":true}' }).waitFor();
    await seeReceived(b.page, ' received: 只给 2 号');
    assert.equal((await received(a.page)).filter((l) => l.includes('只给')).length, 0, 'A got nothing');

    // Broadcast from page B: both get the text exactly as typed.
    await b.page.fill('#broadcastText', '大家好');
    await b.page.press('#broadcastText', 'Enter');
    await b.page.locator('#pushResult', { hasText: 'POST /socket/broadcast → 200 {"sent":2}' }).waitFor();
    for (const page of [a.page, b.page]) {
      await seeReceived(page, ' received: 大家好');
      assert.equal((await received(page)).filter((l) => l.endsWith(' received: 大家好')).length, 1);
    }

    // An id nobody holds: 404, shown as such.
    await a.page.fill('#toId', '999999');
    await a.page.fill('#toText', 'anyone?');
    await a.page.click('#sendToButton');
    await a.page.locator('#pushResult', { hasText: 'POST /socket/999999/send → 404' }).waitFor();
    assert.match(await a.page.locator('#pushError').innerText(), /No session is open with this id/);
    // That 404 is the expected answer (Chromium logs it as a failed resource
    // load); nothing else went wrong on either page.
    const expected = (line) =>
      /^HTTP 404: POST \S+\/socket\/999999\/send$/.test(line) ||
      /^console\.error: Failed to load resource: the server responded with a status of 404/.test(line);
    assert.deepEqual(a.problems.all().filter((l) => !expected(l)), []);
    assert.ok(a.problems.all().some((l) => l.startsWith('HTTP 404')), 'the 404 was a real answer');
    assert.deepEqual(b.problems.all(), []);
  } finally {
    await a.page.close();
    await b.page.close();
  }
  await statsBecome(server, (s) => s.connections.ws, 0, 'every socket is gone');
});

test('a second tab with the same id replaces the first, closed with 1000', async () => {
  const a = await openPage();
  const b = await openPage();
  try {
    await connect(a.page, 7);
    await connect(b.page, 7);
    await a.page.locator('#state[data-state="replaced"]').waitFor();
    assert.match(await a.page.locator('#state').innerText(), /another session took this id.*\(code 1000\)/);
    assert.ok(await a.page.locator('#sendButton').isDisabled());
    await statsBecome(server, (s) => s.connections.ws, 1, 'the old socket is gone');
    // The new one keeps working: echo, and a send to id 7 reaches it.
    await b.page.fill('#message', 'still here');
    await b.page.press('#message', 'Enter');
    await seeReceived(b.page, ' received: still here');
    await b.page.fill('#toId', '7');
    await b.page.fill('#toText', 'for seven');
    await b.page.click('#sendToButton');
    await seeReceived(b.page, ' received: for seven');
    assert.equal((await received(a.page)).filter((l) => l.includes('for seven')).length, 0);
    assert.deepEqual(a.problems.all(), []);
    assert.deepEqual(b.problems.all(), []);
  } finally {
    await a.page.close();
    await b.page.close();
  }
});

test('an id that is not a positive integer is refused on the page', async () => {
  const { page, problems } = await openPage();
  try {
    for (const bad of ['0', 'abc', '-3', '1.5']) {
      await page.fill('#id', bad);
      await page.click('#connect');
      assert.match(await page.locator('#idError').innerText(), /positive integer/);
      assert.equal(await page.locator('#state').getAttribute('data-state'), 'idle');
    }
    assert.equal((await stats(server)).connections.ws, 0);
    assert.deepEqual(problems.all(), []);
  } finally {
    await page.close();
  }
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
    await connect(page, 123456789);
    await page.fill('#message', 'y'.repeat(300));
    await page.press('#message', 'Enter');
    await seeReceived(page, 'y'.repeat(300));
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(scrollWidth <= PHONE.width, `page is ${scrollWidth}px wide on a ${PHONE.width}px screen`);
    const offsite = await page.$$eval('[src], [href]', (els) =>
      els.map((e) => e.getAttribute('src') ?? e.getAttribute('href'))
        .filter((u) => /^(https?:)?\/\//.test(u)));
    assert.deepEqual(offsite, [], 'nothing loads from elsewhere');
    assert.match(await page.locator('#curl').innerText(), new RegExp(`${server.url}/socket/123456789/send$`));
    if (process.env.BROWSER_SCREENSHOTS) {
      await page.screenshot({ path: `${process.env.BROWSER_SCREENSHOTS}/socket-phone.png`, fullPage: true });
    }
    assert.deepEqual(problems.all(), []);
  } finally {
    await page.close();
  }
});
