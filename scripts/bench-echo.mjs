#!/usr/bin/env node
// WebSocket echo load client (INTERIM). The project's own load generator,
// pushwire-load, comes later and replaces this; until then this client uses the
// npm `ws` package (a WebSocket client we did not write), installed from
// scripts/bench-echo/package.json (`cd scripts/bench-echo && npm ci`).
//
// What it does:
//   - opens N connections to ws://HOST:PORT/ws/echo (all open before traffic starts);
//   - each connection keeps K text messages of SIZE bytes in flight: a new message
//     is sent as soon as an echo comes back;
//   - every echo is checked byte for byte against the message sent (per connection,
//     in order: the echo must equal the oldest message still in flight, and be text);
//   - runs WARMUP seconds, then measures DURATION seconds, then stops sending and
//     waits (at most DRAIN seconds) for the echoes still in flight, which are
//     verified too (a missing one is an error);
//   - round-trip latency of every echo received in the measured window goes into a
//     typed array, sorted at the end for p50/p99/p99.9/max (exact, no histogram);
//   - client CPU (process.cpuUsage, all threads) over the measured window, in % of
//     one core; at >= 95 % the client is the bottleneck and the output says so;
//   - optionally (--server-pids) the servers' utime+stime from /proc/PID/stat over
//     the same window, and so server CPU ns per echo, and the rest of the machine's
//     CPU use ("others", from /proc/stat) during the window.
//
// Output: one JSON object on stdout. Progress and warnings on stderr.
// Exit status: 0 if no errors, 1 if any error (mismatch, lost echo, failed
// connection, unexpected close), 2 on bad arguments.
//
// Usage:
//   node scripts/bench-echo.mjs [--host 127.0.0.1] [--port 8080] [--path /ws/echo]
//        [--connections 100] [--inflight 1] [--size 64] [--duration 10] [--warmup 2]
//        [--drain 5] [--server-pids PID,PID,...] [--clk-tck 100] [--label NAME]
//   (or --url ws://HOST:PORT/PATH). Durations in seconds (fractions allowed).

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const require = createRequire(new URL('./bench-echo/package.json', import.meta.url));
let WebSocket;
try {
  WebSocket = require('ws');
} catch (e) {
  console.error('bench-echo.mjs: npm package ws missing; run: cd scripts/bench-echo && npm ci');
  process.exit(2);
}
const WS_VERSION = require('ws/package.json').version;

// --- arguments ---------------------------------------------------------------
const opts = {
  host: '127.0.0.1', port: 8080, path: '/ws/echo', url: '',
  connections: 100, inflight: 1, size: 64, duration: 10, warmup: 2, drain: 5,
  'server-pids': '', 'clk-tck': 100, label: '',
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  let a = argv[i];
  if (a === '-h' || a === '--help') {
    console.error(readFileSync(new URL(import.meta.url), 'utf8').split('\n')
      .filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n'));
    process.exit(0);
  }
  if (!a.startsWith('--')) usage(`unexpected argument ${a}`);
  a = a.slice(2);
  let v;
  const eq = a.indexOf('=');
  if (eq >= 0) { v = a.slice(eq + 1); a = a.slice(0, eq); } else { v = argv[++i]; }
  if (!(a in opts)) usage(`unknown flag --${a}`);
  if (v === undefined) usage(`--${a} needs a value`);
  opts[a] = typeof opts[a] === 'number' ? Number(v) : v;
  if (typeof opts[a] === 'number' && !(Number.isFinite(opts[a]) && opts[a] >= 0)) usage(`--${a}: bad number ${v}`);
}
function usage(msg) {
  console.error(`bench-echo.mjs: ${msg} (--help for usage)`);
  process.exit(2);
}
const N = Math.floor(opts.connections);
const K = Math.floor(opts.inflight);
const SIZE = Math.floor(opts.size);
if (N < 1 || K < 1) usage('--connections and --inflight must be >= 1');
if (SIZE < 24) usage('--size must be >= 24 (the message carries a connection and sequence number)');
if (opts.duration <= 0) usage('--duration must be > 0');
const URL_ = opts.url || `ws://${opts.host}:${opts.port}${opts.path}`;
const SERVER_PIDS = opts['server-pids'] ? String(opts['server-pids']).split(',').filter(Boolean).map(Number) : [];
const CLK_TCK = opts['clk-tck'];

// --- messages ------------------------------------------------------------------
// Message (conn c, sequence s): "c<c> s<s> " then filler bytes that depend on
// c, s and the position, all printable ASCII (valid UTF-8 text). A byte dropped,
// duplicated, swapped or taken from another message shows up as a mismatch.
const ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_');
function makeMessage(c, s) {
  const buf = Buffer.allocUnsafe(SIZE);
  const head = `c${c} s${s} `;
  const n = buf.write(head, 0, 'latin1');
  let x = (Math.imul(c + 1, 0x9e3779b1) ^ Math.imul(s + 1, 0x85ebca6b)) >>> 0;
  for (let i = n; i < SIZE; i++) {
    x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + i) >>> 0;
    buf[i] = ALPHABET[x & 63];
  }
  return buf;
}

// --- latency samples (µs, exact: typed array, sorted at the end) ---------------
let samples = new Float64Array(1 << 20);
let nSamples = 0;
function addSample(us) {
  if (nSamples === samples.length) {
    const bigger = new Float64Array(samples.length * 2);
    bigger.set(samples);
    samples = bigger;
  }
  samples[nSamples++] = us;
}
function percentile(sorted, n, p) {
  if (n === 0) return null;
  const idx = Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1));
  return sorted[idx];
}

// --- /proc helpers ------------------------------------------------------------
function procTicks(pid) { // utime + stime of one process (all its threads)
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}
function serverTicks() {
  let sum = 0;
  for (const pid of SERVER_PIDS) sum += procTicks(pid);
  return sum;
}
function machineBusyTicks() { // user nice system irq softirq steal, all cores
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  return f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
}

// --- state ----------------------------------------------------------------------
const PHASE_CONNECT = 0, PHASE_WARMUP = 1, PHASE_MEASURE = 2, PHASE_DRAIN = 3, PHASE_DONE = 4;
let phase = PHASE_CONNECT;
const errors = { connect: 0, mismatch: 0, not_text: 0, unexpected: 0, closed: 0, lost: 0, socket: 0 };
const errorSamples = [];
function error(kind, detail) {
  errors[kind]++;
  if (errorSamples.length < 10) errorSamples.push(`${kind}: ${detail}`);
}
let measured = 0;        // echoes received in the measured window
let totalEchoes = 0;     // echoes received and verified, all phases
let verifiedBytes = 0;
let outstanding = 0;     // messages sent whose echo has not come back

class Conn {
  constructor(id) {
    this.id = id;
    this.seq = 0;
    this.sent = new Array(K);      // ring of messages in flight (oldest at head)
    this.sentAt = new Float64Array(K);
    this.head = 0;
    this.count = 0;
    this.ws = null;
    this.open = false;
    this.failed = false;
  }
  send() {
    const msg = makeMessage(this.id, this.seq++);
    const slot = (this.head + this.count) % K;
    this.sent[slot] = msg;
    this.sentAt[slot] = performance.now();
    this.count++;
    outstanding++;
    this.ws.send(msg, { binary: false });
  }
  onMessage(data, isBinary) {
    const now = performance.now();
    if (this.failed) return; // out of step already: the rest is not counted
    if (this.count === 0) {
      error('unexpected', `conn ${this.id}: echo with nothing in flight (${data.length} bytes)`);
      return;
    }
    const expect = this.sent[this.head];
    const t0 = this.sentAt[this.head];
    this.sent[this.head] = undefined;
    this.head = (this.head + 1) % K;
    this.count--;
    outstanding--;
    if (isBinary) error('not_text', `conn ${this.id}: binary echo of a text message`);
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (!buf.equals(expect)) {
      error('mismatch', `conn ${this.id}: expected ${JSON.stringify(expect.toString('latin1'))}, got ${JSON.stringify(buf.toString('latin1').slice(0, 200))}`);
      // The stream is out of step: stop using this connection.
      this.failed = true;
      this.ws.terminate();
      return;
    }
    totalEchoes++;
    verifiedBytes += buf.length;
    if (phase === PHASE_MEASURE) {
      measured++;
      addSample((now - t0) * 1000);
    }
    if (phase === PHASE_WARMUP || phase === PHASE_MEASURE) this.send();
    else if (phase === PHASE_DRAIN && outstanding === 0) drained();
  }
}

const conns = [];
for (let i = 0; i < N; i++) conns.push(new Conn(i));

// --- connect ------------------------------------------------------------------
function connect(c) {
  return new Promise((resolve) => {
    const ws = new WebSocket(URL_, { perMessageDeflate: false, handshakeTimeout: 10000 });
    c.ws = ws;
    let settled = false;
    ws.on('open', () => { c.open = true; settled = true; resolve(true); });
    ws.on('message', (data, isBinary) => c.onMessage(data, isBinary));
    ws.on('error', (e) => {
      if (!settled) { settled = true; error('connect', `conn ${c.id}: ${e.message}`); c.failed = true; resolve(false); return; }
      if (!c.failed) error('socket', `conn ${c.id}: ${e.message}`);
    });
    ws.on('close', (code, reason) => {
      const wasOpen = c.open;
      c.open = false;
      if (!settled) { settled = true; error('connect', `conn ${c.id}: closed before open (${code})`); c.failed = true; resolve(false); return; }
      if (wasOpen && phase < PHASE_DONE && !c.failed) {
        error('closed', `conn ${c.id}: closed by server during the run (${code} ${reason})`);
        c.failed = true;
      }
      // Echoes it still owed are lost.
      if (c.count > 0 && phase < PHASE_DONE) {
        errors.lost += c.count;
        outstanding -= c.count;
        c.count = 0;
        if (phase === PHASE_DRAIN && outstanding === 0) drained();
      }
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let drainedResolve = null;
function drained() { if (drainedResolve) { const r = drainedResolve; drainedResolve = null; r(); } }

async function main() {
  const tConnect = performance.now();
  // Open in batches so a listen backlog of 128 is not a problem.
  const BATCH = 64;
  for (let i = 0; i < N; i += BATCH) {
    await Promise.all(conns.slice(i, i + BATCH).map(connect));
  }
  const connectMs = performance.now() - tConnect;
  const openConns = conns.filter((c) => c.open);
  if (openConns.length === 0) {
    console.error(`bench-echo.mjs: no connection to ${URL_} opened: ${errorSamples.join('; ')}`);
    return report({ connectMs, windowS: 0, cpuUs: 0, srvTicks: null, busyTicks: null, openConns: 0 });
  }

  phase = PHASE_WARMUP;
  for (const c of openConns) for (let k = 0; k < K; k++) c.send();
  await sleep(opts.warmup * 1000);

  // Measured window.
  const srv0 = SERVER_PIDS.length ? serverTicks() : null;
  const busy0 = machineBusyTicks();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  phase = PHASE_MEASURE;
  await sleep(opts.duration * 1000);
  phase = PHASE_DRAIN;
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const busy1 = machineBusyTicks();
  const srv1 = SERVER_PIDS.length ? serverTicks() : null;

  // Drain: every message sent must come back.
  if (outstanding > 0) {
    await Promise.race([new Promise((r) => { drainedResolve = r; }), sleep(opts.drain * 1000)]);
  }
  if (outstanding > 0) {
    error('lost', `${outstanding} echoes still missing ${opts.drain}s after the last send`);
    errors.lost += outstanding - 1; // error() counted one
  }
  phase = PHASE_DONE;
  await Promise.all(conns.filter((c) => c.open).map((c) => new Promise((resolve) => {
    c.ws.once('close', resolve);
    c.ws.close(1000);
    setTimeout(() => { c.ws.terminate(); resolve(); }, 2000).unref();
  })));

  return report({
    connectMs, windowS: (t1 - t0) / 1000, cpuUs: cpu.user + cpu.system,
    srvTicks: srv0 === null ? null : srv1 - srv0, busyTicks: busy1 - busy0,
    openConns: openConns.length,
  });
}

function round(x, d = 0) { return x === null || x === undefined ? null : Number(x.toFixed(d)); }

function report({ connectMs, windowS, cpuUs, srvTicks, busyTicks, openConns }) {
  const sorted = samples.subarray(0, nSamples).sort();
  const nErrors = Object.values(errors).reduce((a, b) => a + b, 0);
  const clientPct = windowS > 0 ? (100 * cpuUs) / 1e6 / windowS : null;
  const saturated = clientPct !== null && clientPct >= 95;
  let serverCpuS = null, serverPct = null, nsPerEcho = null, othersPct = null;
  if (srvTicks !== null && windowS > 0) {
    serverCpuS = srvTicks / CLK_TCK;
    serverPct = (100 * serverCpuS) / windowS;
    nsPerEcho = measured > 0 ? (serverCpuS * 1e9) / measured : null;
  }
  if (busyTicks !== null && windowS > 0) {
    const other = busyTicks / CLK_TCK - (serverCpuS ?? 0) - cpuUs / 1e6;
    othersPct = (100 * Math.max(0, other)) / windowS;
  }
  let sum = 0;
  for (let i = 0; i < nSamples; i++) sum += sorted[i];
  const out = {
    label: opts.label || undefined,
    url: URL_,
    client: `node ${process.version}, ws ${WS_VERSION}`,
    connections: N,
    connections_open: openConns,
    inflight_per_connection: K,
    message_bytes: SIZE,
    warmup_s: opts.warmup,
    window_s: round(windowS, 3),
    connect_ms: round(connectMs, 1),
    messages: measured,
    messages_per_sec: windowS > 0 ? round(measured / windowS) : 0,
    latency_us: {
      p50: round(percentile(sorted, nSamples, 50), 1),
      p99: round(percentile(sorted, nSamples, 99), 1),
      p999: round(percentile(sorted, nSamples, 99.9), 1),
      max: round(nSamples ? sorted[nSamples - 1] : null, 1),
      mean: round(nSamples ? sum / nSamples : null, 1),
      samples: nSamples,
    },
    echoes_verified: totalEchoes,
    bytes_verified: verifiedBytes,
    errors: nErrors,
    error_kinds: errors,
    error_samples: errorSamples.length ? errorSamples : undefined,
    client_cpu_pct: round(clientPct, 1),
    client_saturated: saturated,
    note: saturated
      ? `CLIENT SATURATED: the load client used ${round(clientPct, 1)}% of its core; messages/s and latency measure the client as much as the server (server CPU ns per echo still holds)`
      : undefined,
    server_pids: SERVER_PIDS.length ? SERVER_PIDS : undefined,
    server_cpu_s: round(serverCpuS, 2),
    server_cpu_pct: round(serverPct, 1),
    server_cpu_ns_per_echo: round(nsPerEcho),
    others_cpu_pct: round(othersPct, 1),
  };
  process.stdout.write(JSON.stringify(out) + '\n');
  if (saturated) console.error(`bench-echo.mjs: ${out.note}`);
  if (nErrors) console.error(`bench-echo.mjs: ${nErrors} errors: ${errorSamples.join('; ')}`);
  process.exitCode = nErrors ? 1 : 0;
}

main().catch((e) => {
  console.error(`bench-echo.mjs: ${e.stack || e}`);
  process.exit(1);
});
