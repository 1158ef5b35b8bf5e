// SPEC §3.8 in a real browser: www/sell/list.html as a seller keeps it open.
// Orders are created from outside (page.request, as a shop backend would)
// and from the page's own form; the page must list each one, show the alert
// banner, pop up window.alert (accepted here through the 'dialog' event),
// and beep with Web Audio once sound is enabled, all without a console error.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, collectConsoleErrors, PHONE, statsBecome } from './harness.mjs';

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

async function wsBecomes(want) {
  await statsBecome(server, (s) => s.connections.ws, want, 'open WebSockets on the server');
}

/** A seller page, live; its dialogs are accepted and recorded. */
async function openSeller() {
  const page = await browser.newPage();
  const problems = collectConsoleErrors(page);
  const dialogs = [];
  page.on('dialog', async (dialog) => {
    dialogs.push({ type: dialog.type(), message: dialog.message() });
    await dialog.accept();
  });
  const res = await page.goto(server.url + '/sell/list.html');
  assert.equal(res.status(), 200);
  await page.waitForFunction(() => document.getElementById('state').dataset.state === 'live');
  return { page, problems, dialogs };
}

/** Creates an order from outside the page, as the shop's backend would. */
async function createOrder(page, order) {
  const res = await page.request.post(server.url + '/sell/orders', { data: order });
  assert.equal(res.status(), 201);
  const body = await res.json();
  assert.equal(body.buyerName, order.buyerName);
  assert.equal(body.amount, order.amount);
  assert.match(body.orderId, /^\d+-\d+$/);
  return body;
}

const listed = (page) => page.locator('#orders li').evaluateAll((items) => items.map((li) => ({
  id: li.dataset.orderId,
  buyer: li.querySelector('.buyer').textContent,
  amount: li.querySelector('.amount').textContent,
})));

async function waitListed(page, n) {
  await page.waitForFunction((want) => document.querySelectorAll('#orders li').length === want, n);
}

/** Waits until `n` dialogs were accepted (alert() is shown after the banner). */
async function waitDialogs(page, dialogs, n) {
  const until = Date.now() + 3000;
  while (dialogs.length < n && Date.now() < until) await page.waitForTimeout(20);
  assert.equal(dialogs.length, n, 'window.alert pop-ups');
}

const beeps = (page) => page.evaluate(() => Number(document.body.dataset.beeps));

test('a posted order is listed, alerted and beeped at once', async () => {
  const { page, problems, dialogs } = await openSeller();
  try {
    // Sound needs a gesture: the button makes the AudioContext and beeps once.
    await page.click('#sound');
    await page.waitForFunction(() => document.getElementById('sound').dataset.sound === 'on');
    assert.equal(await beeps(page), 1);
    assert.ok(await page.locator('#alert').isHidden(), 'no alert before an order');

    const order = await createOrder(page, { buyerName: 'Alice', amount: 12.5 });
    await waitListed(page, 1);
    assert.deepEqual(await listed(page), [{ id: order.orderId, buyer: 'Alice', amount: '12.50' }]);
    await page.locator('#alert').waitFor({ state: 'visible' });
    assert.match(await page.locator('#alert').innerText(), /New order from Alice: 12\.50/);
    assert.ok((await page.locator('#alert').innerText()).includes(order.orderId));
    await page.waitForFunction(() => document.body.dataset.beeps === '2');
    await waitDialogs(page, dialogs, 1);
    assert.deepEqual(dialogs, [{ type: 'alert', message: `New order from Alice: 12.50 (order #${order.orderId})` }]);

    // A second one goes on top, with its own alert.
    const second = await createOrder(page, { buyerName: 'Bo "B" <i>x</i>', amount: 30 });
    await waitListed(page, 2);
    assert.deepEqual((await listed(page)).map((o) => o.id), [second.orderId, order.orderId]);
    assert.equal((await listed(page))[0].buyer, 'Bo "B" <i>x</i>', 'text, not markup');
    await page.waitForFunction(() => document.body.dataset.beeps === '3');
    await waitDialogs(page, dialogs, 2);
    assert.equal(await page.locator('#count').innerText(), '(2)');

    await page.click('#alert-close');
    assert.ok(await page.locator('#alert').isHidden());
    assert.deepEqual(problems.all(), []);
  } finally {
    await page.close();
  }
});

test('orders made before the page opened are loaded; every seller page is alerted', async () => {
  const first = await openSeller();
  const before = (await listed(first.page)).length;
  const made = await createOrder(first.page, { buyerName: 'Early', amount: 0.1 });
  await waitListed(first.page, before + 1);

  const second = await openSeller();
  try {
    await waitListed(second.page, before + 1);
    assert.deepEqual((await listed(second.page))[0], { id: made.orderId, buyer: 'Early', amount: '0.10' });
    // The list equals GET /sell/orders, newest first.
    const all = await (await second.page.request.get(server.url + '/sell/orders')).json();
    assert.deepEqual((await listed(second.page)).map((o) => o.id), all.map((o) => o.orderId).reverse());

    const both = await createOrder(first.page, { buyerName: 'Both', amount: 7 });
    for (const s of [first, second]) {
      await waitListed(s.page, before + 2);
      await s.page.locator('#alert').waitFor({ state: 'visible' });
      assert.match(await s.page.locator('#alert').innerText(), /New order from Both: 7\.00/);
      assert.equal((await listed(s.page))[0].id, both.orderId);
    }
    // Sound was never enabled on these pages: no beep, a hint, no error.
    assert.equal(await beeps(second.page), 0);
    assert.match(await second.page.locator('#alert').innerText(), /Enable sound/);
    assert.deepEqual(first.problems.all(), []);
    assert.deepEqual(second.problems.all(), []);
  } finally {
    await first.page.close();
    await second.page.close();
    await wsBecomes(0);
  }
});

test('the page form creates a test order, and refuses a bad one without a request', async () => {
  const { page, problems, dialogs } = await openSeller();
  try {
    const before = (await listed(page)).length;
    await page.fill('#buyer', '');
    await page.click('#submit');
    assert.match(await page.locator('#created').innerText(), /buyer name must not be blank/);
    await page.fill('#buyer', 'Form buyer');
    await page.fill('#amount', '-3');
    await page.click('#submit');
    assert.match(await page.locator('#created').innerText(), /amount must be a number of 0 or more/);

    await page.fill('#amount', '99.99');
    await page.click('#submit');
    await page.waitForFunction(() => /^201 Created: order #\d+-\d+$/.test(document.getElementById('created').textContent));
    await waitListed(page, before + 1);
    const [top] = await listed(page);
    assert.deepEqual({ buyer: top.buyer, amount: top.amount }, { buyer: 'Form buyer', amount: '99.99' });
    assert.ok((await page.locator('#created').innerText()).endsWith(top.id));
    await page.locator('#alert').waitFor({ state: 'visible' });
    // The click on the form was a gesture: sound got unlocked, so it beeped.
    await page.waitForFunction(() => document.body.dataset.beeps === '1');
    await waitDialogs(page, dialogs, 1);
    assert.deepEqual(problems.all(), []);
  } finally {
    await page.close();
  }
});

test('with the pop-up unticked only the banner shows', async () => {
  const { page, problems, dialogs } = await openSeller();
  try {
    await page.uncheck('#popup');
    const order = await createOrder(page, { buyerName: 'Quiet', amount: 1 });
    await page.waitForFunction((id) => document.getElementById('alert').innerText.includes(id), order.orderId);
    await page.waitForTimeout(300);
    assert.deepEqual(dialogs, []);
    assert.deepEqual(problems.all(), []);
  } finally {
    await page.close();
  }
});

test('a proper page that fits a phone', async () => {
  const { page, problems } = await openSeller();
  try {
    await page.setViewportSize(PHONE);
    await createOrder(page, { buyerName: 'A-very-long-buyer-name-without-any-spaces-at-all-' + 'x'.repeat(60), amount: 123456.78 });
    await page.locator('#alert').waitFor({ state: 'visible' });
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.ok((await page.title()).trim().length > 0);
    assert.equal(await page.locator('h1').count(), 1);
    assert.equal(await page.locator('a[href="/"]').count(), 1, 'a link back to /');
    assert.equal(await page.getAttribute('link[rel="icon"]', 'href'), 'data:,');
    const viewport = await page.evaluate(
      () => document.querySelector('meta[name="viewport"]')?.getAttribute('content') ?? '');
    assert.match(viewport, /width=device-width/);
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(scrollWidth <= PHONE.width, `page is ${scrollWidth}px wide on a ${PHONE.width}px screen`);
    const offsite = await page.$$eval('[src], [href]', (els) =>
      els.map((e) => e.getAttribute('src') ?? e.getAttribute('href'))
        .filter((u) => /^(https?:)?\/\//.test(u)));
    assert.deepEqual(offsite, [], 'nothing loads from elsewhere');
    if (process.env.BROWSER_SCREENSHOTS) {
      await page.screenshot({ path: `${process.env.BROWSER_SCREENSHOTS}/sell-phone.png`, fullPage: true });
    }
    assert.deepEqual(problems.all(), []);
  } finally {
    await page.close();
  }
});
