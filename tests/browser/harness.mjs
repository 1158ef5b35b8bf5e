// Browser test harness: start a pushwire server, drive Debian's Chromium
// with playwright-core, and collect everything a page does wrong.
//
// - startServer(args)     the binary on 127.0.0.1:0, ready once it prints its address
// - launchBrowser()       headless /usr/bin/chromium with a fresh, removed-on-close profile
// - collectConsoleErrors  console errors, page errors, failed requests, 4xx/5xx responses
//
// Environment:
//   PUSHWIRE_BIN   the server binary (default <repo>/target/debug/pushwire)
//   CHROMIUM_BIN   the browser (default /usr/bin/chromium; never a downloaded one)
//   BROWSER_SCREENSHOTS  a folder: tests that take screenshots write them there

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '..', '..');
export const WWW = path.join(REPO, 'www');

/** The line the server prints once it accepts connections; group 1 is the origin. */
export const LISTENING_RE = /listening on (http:\/\/[^\s\/]+)\//;

const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;

// ANSI colour codes, in case the logger colours its output anyway.
const ANSI_RE = /\x1b\[[0-9;]*[A-Za-z]/g;

// Children started here and not yet reaped: killed if the test process exits
// without stopping them (a failed hook), so no server outlives its test run.
const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

/**
 * Start the pushwire binary on an ephemeral port, serving <repo>/www.
 * Resolves once stdout or stderr carries a line matching LISTENING_RE.
 * @param {string[]} args extra command-line flags
 * @returns {Promise<{url: string, proc: import('node:child_process').ChildProcess,
 *                    output: () => string, stop: (opts?: {graceMs?: number}) => Promise<{code: number|null, signal: string|null}>}>}
 */
export async function startServer(args = []) {
  const bin = process.env.PUSHWIRE_BIN || path.join(REPO, 'target', 'debug', 'pushwire');
  const argv = ['--listen', '127.0.0.1:0', '--www', WWW, ...args];
  const proc = spawn(bin, argv, {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    // NO_COLOR: keep the log plain so the ready line matches as printed.
    env: { ...process.env, NO_COLOR: '1' },
  });
  live.add(proc);

  let seen = '';
  const exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => {
      live.delete(proc);
      resolve({ code, signal });
    });
  });

  const url = await new Promise((resolve, reject) => {
    let done = false;
    // Lines may arrive split across chunks: match on whole lines only.
    const partial = { stdout: '', stderr: '' };
    const finish = (err, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        proc.kill('SIGKILL');
        reject(err);
      } else {
        resolve(value);
      }
    };
    const onData = (name) => (chunk) => {
      const text = chunk.toString('utf8');
      seen += text;
      if (done) return;
      const lines = (partial[name] + text).split(/\r?\n/);
      partial[name] = lines.pop();
      for (const line of lines) {
        const m = LISTENING_RE.exec(line.replace(ANSI_RE, ''));
        if (m) return finish(null, m[1]);
      }
    };
    proc.stdout.on('data', onData('stdout'));
    proc.stderr.on('data', onData('stderr'));
    proc.once('error', (err) => {
      live.delete(proc);
      const hint = err.code === 'ENOENT' ? ' (build it with `cargo build`, or set PUSHWIRE_BIN)' : '';
      finish(new Error(`cannot start ${bin}: ${err.message}${hint}`));
    });
    // 'close', not 'exit': by then both pipes are drained, so the message
    // carries the child's last words.
    proc.once('close', (code, signal) => {
      finish(new Error(
        `${bin} exited (code ${code}, signal ${signal}) before printing its address.\n` +
        `--- output so far ---\n${seen}`));
    });
    const timer = setTimeout(() => {
      finish(new Error(
        `${bin} printed no line matching ${LISTENING_RE} within ${READY_TIMEOUT_MS / 1000} s.\n` +
        `--- output so far ---\n${seen}`));
    }, READY_TIMEOUT_MS);
  });

  return {
    url,
    proc,
    output: () => seen,
    /**
     * SIGTERM this child only, wait for it to exit; SIGKILL after graceMs.
     * Close browsers first: the server drains open streams on SIGTERM, and
     * spreads the closes over --drain-secs (default 5).
     */
    async stop({ graceMs = STOP_GRACE_MS } = {}) {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * Launch headless Chromium with a fresh, empty profile in a temporary folder.
 *
 * Why launchPersistentContext: playwright's `chromium.launch()` refuses a
 * `--user-data-dir` argument ("Pass userDataDir parameter to
 * launchPersistentContext instead"); the persistent-context API is the one
 * that takes a profile folder of ours, which we make with mkdtemp and remove
 * on close, so every run starts empty and leaves nothing behind. The price is
 * a single browser context per launch; call launchBrowser() again for a
 * second, isolated one.
 *
 * The flags are the ones this machine needs: as root Chromium needs
 * --no-sandbox; the network is closed, so everything that phones home
 * (background networking, component updates, sync, QUIC) is turned off,
 * otherwise Chromium's own connections fail, over and over.
 *
 * @returns {Promise<{context: import('playwright-core').BrowserContext,
 *                    newPage: () => Promise<import('playwright-core').Page>,
 *                    userDataDir: string, close: () => Promise<void>}>}
 */
export async function launchBrowser() {
  const userDataDir = await mkdtemp(path.join(tmpdir(), 'pushwire-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 800 },
    });
    // Everything is on localhost: 10 s is ample, and a test that waits for
    // something that never comes fails sooner than playwright's 30 s.
    context.setDefaultTimeout(10_000);
  } catch (err) {
    await rm(userDataDir, { recursive: true, force: true });
    throw err;
  }
  let closed = false;
  return {
    context,
    userDataDir,
    newPage: () => context.newPage(),
    async close() {
      if (closed) return;
      closed = true;
      try {
        await context.close();
      } finally {
        await rm(userDataDir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Record what a page does wrong from now on: console messages of type
 * error, uncaught exceptions (pageerror), requests that failed, and
 * responses with a status of 400 or more.
 *
 * Note: a stream (EventSource, fetch) still open when the page navigates or
 * closes ends as a failed request with net::ERR_ABORTED; tests of streaming
 * pages may filter those out of `failedRequests`.
 *
 * @param {import('playwright-core').Page} page
 */
export function collectConsoleErrors(page) {
  const consoleErrors = [];
  const pageErrors = [];
  const failedRequests = [];
  const badResponses = [];

  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const { url, lineNumber } = msg.location();
    consoleErrors.push(`console.error: ${msg.text()}${url ? ` (${url}:${lineNumber})` : ''}`);
  });
  page.on('pageerror', (err) => {
    pageErrors.push(`pageerror: ${err && err.stack ? err.stack : String(err)}`);
  });
  page.on('requestfailed', (req) => {
    const why = req.failure() ? req.failure().errorText : 'unknown';
    failedRequests.push(`request failed: ${req.method()} ${req.url()}: ${why}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) {
      badResponses.push(`HTTP ${res.status()}: ${res.request().method()} ${res.url()}`);
    }
  });

  return {
    consoleErrors,
    pageErrors,
    failedRequests,
    badResponses,
    /** Everything recorded so far, one line each. */
    all: () => [...consoleErrors, ...pageErrors, ...failedRequests, ...badResponses],
  };
}

/** A phone's viewport, for the "fits a phone" checks. */
export const PHONE = { width: 375, height: 667 };

/** The server's /stats, parsed. */
export async function stats(server) {
  return (await fetch(server.url + '/stats')).json();
}

/**
 * Polls /stats until `pick(stats)` equals `want` (a close is noticed
 * asynchronously), for up to 3 s; then asserts it, naming `what`.
 */
export async function statsBecome(server, pick, want, what) {
  const until = Date.now() + 3000;
  let got;
  while (Date.now() < until) {
    got = pick(await stats(server));
    if (got === want) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(got, want, what);
}
