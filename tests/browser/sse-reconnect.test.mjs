// SPEC §3.4, reconnection without loss, with clients we did not write:
//
// 1. The npm `eventsource` package, which implements the browser's
//    reconnection algorithm (WHATWG HTML §9.2.3) including Last-Event-ID:
//    broadcasts are sent before, during and across several server-side
//    timeouts, and the client must see every seq exactly once, in order.
// 2. Chromium running www/sse-reconnect.html: messages arrive, the page
//    reconnects by itself, counts nothing lost or doubled, sends its unload
//    beacon, fits a phone, and logs no errors.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventSource } from 'eventsource';
import { startServer, launchBrowser, collectConsoleErrors, PHONE, stats } from './harness.mjs';

/** SPEC §3.4's text, with the key and the yyyy-MM-dd HH:mm:ss time. */
const TEXT_RE = /^来自客户端【([1-9]\d*)】的信息:测试SSE(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

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

/** Polls `check` until it is truthy; fails with `what` (a text, or a
 * function giving one) after `ms`. */
async function until(check, what, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await sleep(25);
  }
}

/** One broadcast; resolves once the server answered. */
async function send() {
  const res = await fetch(server.url + '/foo/sseSend');
  assert.equal(res.status, 200);
  assert.equal(await res.text(), '发送成功!');
}

async function sseStreams() {
  return (await stats(server)).connections.sse;
}

test('eventsource client: every broadcast exactly once, in order, across server timeouts', async () => {
  const got = [];
  const keysByConnection = [];
  let opens = 0;
  let errors = 0;
  const es = new EventSource(server.url + '/foo/sse?timeout=1');
  es.onopen = () => { opens += 1; keysByConnection.push(new Set()); };
  es.onerror = () => { errors += 1; };
  es.onmessage = (e) => {
    const m = TEXT_RE.exec(e.data);
    assert.ok(m, `not the SPEC text: ${JSON.stringify(e.data)}`);
    keysByConnection[opens - 1].add(m[1]);
    got.push(Number(e.lastEventId));
  };
  let sent = 0;
  const sendN = async (n) => { for (let i = 0; i < n; i += 1) { await send(); sent += 1; } };
  try {
    await until(() => opens === 1, 'the first connection');
    // Before any timeout: live delivery.
    await sendN(3);
    await until(() => got.length === sent, 'the first three, live');

    for (let cycle = 0; cycle < 3; cycle += 1) {
      const opensBefore = opens;
      // Silence for the 1 s idle timeout: the server ends the stream and the
      // client starts its reconnection delay (3 s by default).
      const errorsBefore = errors;
      await until(() => errors > errorsBefore, `the server-side timeout #${cycle + 1}`, 5_000);
      assert.equal(es.readyState, EventSource.CONNECTING, 'the client reconnects by itself');
      // While it is away: these can only arrive by replay.
      await sendN(2 + cycle);
      await until(() => opens > opensBefore, `reconnection #${cycle + 1}`, 8_000);
      // Right after the reconnect: live again, behind the replay.
      await sendN(1);
      await until(() => got.length >= sent, () => `everything up to ${sent}; got ${got}`);
    }
    // Nothing late, nothing doubled.
    await sleep(300);
    const want = Array.from({ length: sent }, (_, i) => i + 1);
    assert.deepEqual(got, want, 'every seq exactly once, in order');
    assert.ok(opens >= 4, `only ${opens} connections: the stream did not time out and reconnect`);
    // Each connection is a new stream with its own key, the same on every
    // message it carries (replayed ones included).
    for (const keys of keysByConnection) assert.ok(keys.size <= 1, `one key per stream: ${[...keys]}`);
    const all = keysByConnection.flatMap((k) => [...k]);
    assert.equal(new Set(all).size, all.length, 'each reconnect got a new key');
  } finally {
    es.close();
  }
  await until(async () => (await sseStreams()) === 0, 'the server to forget the stream', 3_000);
});

test('sse-reconnect.html shows every message once across reconnects, without errors', async () => {
  const page = await browser.newPage();
  const problems = collectConsoleErrors(page);
  try {
    await page.setViewportSize(PHONE);
    // Don't wait for 'networkidle': the page holds a stream open.
    const res = await page.goto(server.url + '/sse-reconnect.html?timeout=1', { waitUntil: 'domcontentloaded' });
    assert.equal(res.status(), 200);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.ok((await page.title()).trim().length > 0);
    assert.equal(await page.locator('h1').count(), 1);
    assert.equal(await page.locator('a[href="/"]').count(), 1, 'a link back home');

    await page.locator('#state[data-state="open"]').waitFor();
    const seen = () => page.evaluate(() => ({ ...window.seen, ids: [...window.seen.ids] }));

    await page.click('#send');
    await page.click('#send');
    await until(async () => (await seen()).ids.length === 2, 'two messages in the page');
    const rows = await page.locator('#log li:not(.note)').allInnerTexts();
    assert.equal(rows.length, 2);
    for (const text of rows) assert.match(text, /^#\d+ 来自客户端【\d+】的信息:测试SSE\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(conn 1\)$/);

    // The server closes the idle stream after 1 s; the browser reconnects.
    await page.locator('#state[data-state="reconnecting"]').waitFor({ timeout: 5_000 });
    await send();
    await send();
    await until(async () => (await seen()).connections >= 2, 'the page to reconnect', 10_000);
    await page.click('#send');
    await until(async () => (await seen()).ids.length === 5, 'five messages in the page');

    const s = await seen();
    const base = s.ids[0];
    assert.deepEqual(s.ids, [base, base + 1, base + 2, base + 3, base + 4], 'every id once, in order');
    assert.equal(s.gaps, 0);
    assert.equal(s.dups, 0);
    assert.match(await page.locator('#verdict').innerText(), /^✓ 5 messages over \d+ connection/);
    assert.equal(await page.locator('#reconnects').innerText(), String(s.connections - 1));
    assert.ok(s.connections >= 2);

    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(scrollWidth <= PHONE.width, `page is ${scrollWidth}px wide on a ${PHONE.width}px screen`);
    if (process.env.BROWSER_SCREENSHOTS) {
      await page.screenshot({ path: `${process.env.BROWSER_SCREENSHOTS}/sse-reconnect-phone.png`, fullPage: true });
    }

    // Leaving the page sends the closeWindow beacon, which the server logs.
    await page.goto('about:blank');
    await until(() => /closed its window \("key=\d+&lastId=\d+"\)/.test(server.output()), 'the closeWindow beacon in the log', 5_000);

    // The open stream ends as an aborted request when the page goes: that,
    // and only that, is expected.
    const aborted = /^request failed: GET http:\/\/[^/]+\/foo\/sse\?timeout=1: net::ERR_ABORTED$/;
    assert.deepEqual(problems.all().filter((p) => !aborted.test(p)), []);
  } finally {
    await page.close();
  }
});
