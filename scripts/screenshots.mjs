#!/usr/bin/env node
// Screenshots of every page in a www/ tree, and a pixel-by-pixel comparison
// of two sets of them: the check that a change to the pages' CSS changes
// nothing anyone can see.
//
// Usage (after scripts/browser-deps.sh and a `cargo build --release`):
//   node scripts/screenshots.mjs shoot WWW_DIR OUT_DIR [--live] [--port N]
//   node scripts/screenshots.mjs compare BEFORE_DIR AFTER_DIR [DIFF_DIR]
//
// A typical before/after run, `main` against the working tree:
//   git archive main www | tar -x -C /tmp/before
//   node scripts/screenshots.mjs shoot /tmp/before/www /tmp/shots-before
//   node scripts/screenshots.mjs shoot www /tmp/shots-after
//   node scripts/screenshots.mjs compare /tmp/shots-before /tmp/shots-after /tmp/shots-diff
//
// shoot: starts the server (PUSHWIRE_BIN, default target/release/pushwire)
// on that tree at 127.0.0.1:N (default 47613; a fixed port, because pages
// print their own address in their curl examples), opens every *.html in it,
// subfolders too, in headless Chromium (tests/browser/harness.mjs), and
// writes one full-page PNG per page, viewport (desktop 1280x800, phone
// 375x667) and colour scheme (light, dark):
// OUT_DIR/<page>--<viewport>-<scheme>.png.
//
// What would make two runs differ other than the CSS is held still:
// - Date is fixed (2026-01-01T00:00:00Z) and Math.random is a seeded PRNG,
//   so ids, nicknames and times the pages make up are the same every run;
// - by default EventSource and WebSocket are replaced by stand-ins that stay
//   CONNECTING for ever, so each page is shot in its first state, before any
//   server data arrives; the pages' fetch() calls run (a fresh server each
//   run answers them the same way);
// - animations and transitions are disabled, the caret hidden.
// --live keeps the real EventSource and WebSocket and shoots 2 s after load:
//   the connected state, with live data (prices, session ids, counters) that
//   differs run to run; the comparison's bounding box says where.
//
// compare: for each PNG in both folders, the number of pixels that differ
// (any channel) and their bounding box; with DIFF_DIR, an image per page that
// differs (differing pixels red over a faded copy). Exit 1 if any differ or a
// page is missing from either side. The PNGs are decoded by Chromium (a
// canvas), so no image library is needed.
//
// Known noise: Chromium's software rasteriser now and then antialiases the
// rounded corner of a scrolling box (a <pre>, a scrolling log) one shade
// apart between two runs of the same page: a few dozen pixels at a card's
// left edge. Two shoots of the same tree show it too; shoot again to tell.

import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { launchBrowser, startServer, REPO } from '../tests/browser/harness.mjs';

const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 375, height: 667 } };
const SCHEMES = ['light', 'dark'];
const FIXED_TIME = new Date('2026-01-01T00:00:00Z');
const LIVE_SETTLE_MS = 2000;

// Runs in every page before its own scripts.
function freeze({ live }) {
  // mulberry32, seeded: the same "random" sequence on every load.
  let seed = 0x5eed;
  Math.random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  if (live) return;
  // A connection that never opens, never fails and never delivers.
  class Never extends EventTarget {
    constructor(url) {
      super();
      this.url = String(url);
      this.readyState = 0;
      this.onopen = this.onmessage = this.onerror = this.onclose = null;
    }
    close() { /* stays as it is: nothing ever happened */ }
    send() {}
  }
  class NeverEventSource extends Never {}
  Object.assign(NeverEventSource, { CONNECTING: 0, OPEN: 1, CLOSED: 2 });
  class NeverWebSocket extends Never {}
  Object.assign(NeverWebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  window.EventSource = NeverEventSource;
  window.WebSocket = NeverWebSocket;
}

const STILL_CSS = `*, *::before, *::after {
  animation: none !important; transition: none !important; caret-color: transparent !important; }`;

async function htmlFiles(root, dir = '') {
  const out = [];
  for (const entry of await readdir(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...await htmlFiles(root, rel));
    else if (entry.name.endsWith('.html')) out.push(rel);
  }
  return out.sort();
}

async function shoot(www, out, { live, port }) {
  www = path.resolve(www);
  await mkdir(out, { recursive: true });
  process.env.PUSHWIRE_BIN ||= path.join(REPO, 'target', 'release', 'pushwire');
  const pages = await htmlFiles(www);
  const server = await startServer(['--www', www, '--listen', `127.0.0.1:${port}`]);
  const browser = await launchBrowser();
  try {
    await browser.context.addInitScript(freeze, { live });
    for (const rel of pages) {
      for (const [vpName, viewport] of Object.entries(VIEWPORTS)) {
        for (const scheme of SCHEMES) {
          const page = await browser.newPage();
          try {
            await page.clock.setFixedTime(FIXED_TIME);
            await page.setViewportSize(viewport);
            await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
            await page.goto(`${server.url}/${rel}`, { waitUntil: 'load' });
            await page.addStyleTag({ content: STILL_CSS });
            await page.evaluate(() => document.fonts.ready);
            await page.waitForTimeout(live ? LIVE_SETTLE_MS : 300);
            const file = path.join(out, `${rel.replaceAll('/', '_').replace(/\.html$/, '')}--${vpName}-${scheme}.png`);
            await page.screenshot({ path: file, fullPage: true });
          } finally {
            await page.close();
          }
        }
      }
      console.log(`shot ${rel}`);
    }
  } finally {
    await browser.close();
    await server.stop();
  }
}

// Runs in the page (so self-contained): decode two PNGs, count differing pixels, draw the diff.
async function diffInPage([a, b]) {
  const load = async (b64) => {
    const img = await createImageBitmap(await (await fetch(`data:image/png;base64,${b64}`)).blob());
    const c = new OffscreenCanvas(img.width, img.height);
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    return { w: img.width, h: img.height, px: g.getImageData(0, 0, img.width, img.height).data };
  };
  const [x, y] = await Promise.all([load(a), load(b)]);
  if (x.w !== y.w || x.h !== y.h) return { size: `${x.w}x${x.h} vs ${y.w}x${y.h}` };
  const diff = new OffscreenCanvas(x.w, x.h);
  const g = diff.getContext('2d');
  const out = g.createImageData(x.w, x.h);
  let count = 0, x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
  for (let i = 0; i < x.px.length; i += 4) {
    const same = x.px[i] === y.px[i] && x.px[i + 1] === y.px[i + 1]
      && x.px[i + 2] === y.px[i + 2] && x.px[i + 3] === y.px[i + 3];
    if (same) {
      const grey = 255 - ((255 - x.px[i + 1]) >> 2);
      out.data.set([grey, grey, grey, 255], i);
    } else {
      count++;
      const p = i / 4, px = p % x.w, py = (p - px) / x.w;
      x0 = Math.min(x0, px); y0 = Math.min(y0, py); x1 = Math.max(x1, px); y1 = Math.max(y1, py);
      out.data.set([255, 0, 0, 255], i);
    }
  }
  let png = null;
  if (count > 0) {
    g.putImageData(out, 0, 0);
    const blob = await diff.convertToBlob({ type: 'image/png' });
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    png = btoa(s);
  }
  return { size: `${x.w}x${x.h}`, count, total: x.w * x.h, box: count ? [x0, y0, x1, y1] : null, png };
}

async function compare(before, after, diffDir) {
  const list = async (d) => (await readdir(d)).filter((f) => f.endsWith('.png'));
  const [a, b] = [new Set(await list(before)), new Set(await list(after))];
  const names = [...new Set([...a, ...b])].sort();
  if (diffDir) await mkdir(diffDir, { recursive: true });
  const browser = await launchBrowser();
  let bad = 0;
  try {
    const page = await browser.newPage();
    for (const name of names) {
      if (!a.has(name) || !b.has(name)) {
        bad++;
        console.log(`${name}: only in ${a.has(name) ? before : after}`);
        continue;
      }
      const [x, y] = await Promise.all([readFile(path.join(before, name)), readFile(path.join(after, name))]);
      if (x.equals(y)) {
        console.log(`${name}: identical (same bytes)`);
        continue;
      }
      const r = await page.evaluate(diffInPage, [x.toString('base64'), y.toString('base64')]);
      if (r.count === undefined) {
        bad++;
        console.log(`${name}: different sizes, ${r.size}`);
      } else if (r.count === 0) {
        console.log(`${name}: identical pixels (${r.size})`);
      } else {
        bad++;
        const pct = ((100 * r.count) / r.total).toFixed(3);
        console.log(`${name}: ${r.count} of ${r.total} pixels differ (${pct} %), in x ${r.box[0]}-${r.box[2]}, y ${r.box[1]}-${r.box[3]}`);
        if (diffDir) await writeFile(path.join(diffDir, name), Buffer.from(r.png, 'base64'));
      }
    }
  } finally {
    await browser.close();
  }
  console.log(bad === 0 ? `all ${names.length} identical` : `${bad} of ${names.length} differ`);
  return bad === 0;
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'shoot' && args.length >= 2) {
  const at = args.indexOf('--port');
  await shoot(args[0], args[1], { live: args.includes('--live'), port: at < 0 ? 47613 : Number(args[at + 1]) });
} else if (cmd === 'compare' && args.length >= 2) {
  process.exitCode = (await compare(args[0], args[1], args[2])) ? 0 : 1;
} else {
  console.error('usage: node scripts/screenshots.mjs shoot WWW_DIR OUT_DIR [--live] [--port N]\n' +
    '       node scripts/screenshots.mjs compare BEFORE_DIR AFTER_DIR [DIFF_DIR]');
  process.exitCode = 2;
}
