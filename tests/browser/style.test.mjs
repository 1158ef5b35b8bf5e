// The shared stylesheet (www/style.css) is linked from every page and really
// applied: a page whose <link> is missing, misspelt or answered 404 would
// still render, in the browser's default look, and no other test would
// notice.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { startServer, launchBrowser, WWW } from './harness.mjs';

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

/** Every *.html under www/, as paths relative to it ('sell/list.html'). */
async function pages(dir = '') {
  const out = [];
  for (const entry of await readdir(path.join(WWW, dir), { withFileTypes: true })) {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...await pages(rel));
    else if (entry.name.endsWith('.html')) out.push(rel);
  }
  return out.sort();
}

test('GET /style.css is served as text/css', async () => {
  const res = await fetch(server.url + '/style.css');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/css; charset=utf-8');
  assert.equal(await res.text(), await readFile(path.join(WWW, 'style.css'), 'utf8'));
});

test('every page links /style.css and its rules apply', async () => {
  const all = await pages();
  assert.ok(all.length >= 10, `only ${all.length} pages found in ${WWW}`);
  for (const rel of all) {
    const html = await readFile(path.join(WWW, rel), 'utf8');
    // What the browser checks below must come from style.css alone: a page
    // that set these itself would pass with a broken link.
    const inline = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]).join('\n');
    assert.doesNotMatch(inline, /--ok\s*:|box-sizing/, `${rel} sets --ok or box-sizing itself`);

    const page = await browser.newPage();
    try {
      const css = [];
      page.on('response', (res) => {
        if (new URL(res.url()).pathname === '/style.css') css.push(res.status());
      });
      // The palette differs in dark mode; the values below are the light ones.
      await page.emulateMedia({ colorScheme: 'light' });
      await page.goto(`${server.url}/${rel}`, { waitUntil: 'load' });
      assert.deepEqual(css, [200], `${rel}: GET /style.css`);
      const got = await page.evaluate(() => ({
        // Same origin: the pages work offline.
        sheet: [...document.styleSheets].some((s) => s.href === `${location.origin}/style.css`
          && s.cssRules.length > 0),
        ok: getComputedStyle(document.documentElement).getPropertyValue('--ok').trim(),
        boxSizing: getComputedStyle(document.body).boxSizing,
        bodyMargin: getComputedStyle(document.body).margin,
      }));
      assert.deepEqual(got, { sheet: true, ok: '#1d7a3a', boxSizing: 'border-box', bodyMargin: '0px' }, rel);
    } finally {
      await page.close();
    }
  }
});
