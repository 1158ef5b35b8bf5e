// SPEC §2 (the hub) and §5 (slow consumers) with an SSE client we did not
// write: the npm `eventsource` package, which implements the browser's
// EventSource, including reconnection with Last-Event-ID (WHATWG HTML
// §9.2.3). No browser here; the pages have their own tests.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import net from 'node:net';
import { EventSource } from 'eventsource';
import { startServer } from './harness.mjs';

const servers = [];
after(async () => {
  for (const s of servers) await s.stop();
});

async function server(args) {
  const s = await startServer(args);
  servers.push(s);
  return s;
}

async function publish(s, topic, body, headers = {}) {
  const res = await fetch(`${s.url}/topics/${topic}`, { method: 'POST', body, headers });
  return { status: res.status, body: await res.text() };
}

async function until(check, what, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('a burst larger than the queue does not drop a reader that keeps up', async () => {
  // Three 6 KB publishes pipelined in one TCP write land in one loop pass:
  // 18 KB queued for a 16 KiB cap. The server writes what is queued before
  // judging (SPEC §5 drops clients that do not read, not bursts), so this
  // reader, which does read, keeps its stream and misses nothing. A client
  // that stops reading is dropped: tests/sse.rs and tests/ws.rs, with raw
  // sockets that can stall, which an EventSource cannot.
  const s = await server(['--max-queue', '16KiB']);
  const ids = [];
  const opens = [];
  const es = new EventSource(`${s.url}/topics/feed`);
  es.onopen = () => opens.push(Date.now());
  es.onmessage = (e) => ids.push(Number(e.lastEventId));
  try {
    await until(() => opens.length === 1, 'the first open');
    for (let i = 1; i <= 3; i++) assert.equal((await publish(s, 'feed', `small ${i}`)).status, 202);
    await until(() => ids.length === 3, 'three small messages');
    const big = 'x'.repeat(6000);
    const one = `POST /topics/feed HTTP/1.1\r\nHost: t\r\nContent-Length: ${big.length}\r\n\r\n${big}`;
    await new Promise((resolve, reject) => {
      const { hostname, port } = new URL(s.url);
      const c = net.connect(Number(port), hostname, () => c.end(one + one + one));
      c.on('error', reject);
      c.on('close', resolve);
      c.resume();
    });
    for (let i = 7; i <= 8; i++) await publish(s, 'feed', `small ${i}`);
    await until(() => ids.includes(8), 'every message');
    assert.deepEqual(ids, [1, 2, 3, 4, 5, 6, 7, 8], 'each id once, in order');
    assert.equal(opens.length, 1, 'never reconnected: the stream was kept');
    const stats = await (await fetch(`${s.url}/stats`)).json();
    assert.equal(stats.drops, 0);
  } finally {
    es.close();
  }
});

test('a gap older than history arrives as event: reset, then what is kept', async () => {
  const s = await server(['--history', '2']);
  for (let i = 1; i <= 5; i++) await publish(s, 'old', `m${i}`);
  const events = [];
  // Resume from id 1, as a page that saw only the first message would.
  const es = new EventSource(`${s.url}/topics/old?lastEventId=1`);
  es.addEventListener('reset', (e) => events.push(['reset', e.data]));
  es.onmessage = (e) => events.push([e.lastEventId, e.data]);
  try {
    await until(() => events.length === 3, 'reset and two messages');
    assert.deepEqual(events, [['reset', '4'], ['4', 'm4'], ['5', 'm5']]);
  } finally {
    es.close();
  }
});

test('named events, multi-line data and a publish token', async () => {
  const s = await server(['--publish-token', 'tok']);
  const got = [];
  const es = new EventSource(`${s.url}/topics/named`);
  es.addEventListener('price', (e) => got.push(e.data));
  try {
    await until(() => es.readyState === EventSource.OPEN, 'open');
    const refused = await publish(s, 'named', 'x');
    assert.equal(refused.status, 401);
    const ok = await publish(s, 'named?event=price', 'line 1\r\nline 2', { Authorization: 'Bearer tok' });
    assert.equal(ok.status, 202);
    assert.deepEqual(JSON.parse(ok.body), { id: 1, subscribers: 1 });
    await until(() => got.length === 1, 'the named event');
    assert.equal(got[0], 'line 1\nline 2', 'CRLF in data comes back as LF, as the spec says');
  } finally {
    es.close();
  }
});
