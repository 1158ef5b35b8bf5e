#!/usr/bin/env python3
"""Connection churn against a pushwire server, sampling its memory.

Every kind of connection pushwire serves opens and closes continuously, for
--duration seconds, from one single-threaded client (stdlib only, loopback):

- SSE subscribers of one topic (a fifth resume with Last-Event-ID a few
  events back, so replays are fed from history) and of two topics at once;
- WebSocket subscribers; half leave with a masked Close frame, half just
  close the socket;
- long-polls (/poll, timeout 1 s) on a connection each;
- plain requests on a connection each (/plaintext, /stats, a static file,
  a 404), some pipelined three deep;
- publishes (POST /topics/tN, 16-256 byte bodies) on one keep-alive
  connection, at --publish-rate.

Streams live an exponentially distributed time (mean --lifetime s), so the
number open wanders around --streams. Every --sample-every seconds one line of
JSON goes to --out: the server's VmRSS, RssAnon and VmHWM from
/proc/PID/status, and its /stats counts (connections, subscriptions, topics).
The run stops by itself; it exits non-zero if the server went away.

    taskset -c 1 scripts/churn.py --server-pid PID --duration 900 --out churn.jsonl
"""

import argparse
import base64
import errno
import heapq
import json
import os
import random
import selectors
import socket
import sys
import time

TOPICS_DEFAULT = 32


def read_status(pid):
    """VmRSS, RssAnon, VmHWM of PID in KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def get_stats(host, port):
    """GET /stats on a connection of its own; the JSON body."""
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(b"GET /stats HTTP/1.1\r\nHost: churn\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    _, _, body = data.partition(b"\r\n\r\n")
    return json.loads(body)


class Conn:
    """One client connection: what it sends first, when it ends."""

    __slots__ = ("sock", "kind", "out", "until", "closing", "got")

    def __init__(self, sock, kind, out, until):
        self.sock = sock
        self.kind = kind
        self.out = out
        self.until = until
        self.closing = False
        self.got = 0


class Churn:
    def __init__(self, args):
        self.args = args
        self.host, port = args.target.rsplit(":", 1)
        self.port = int(port)
        self.sel = selectors.DefaultSelector()
        self.conns = {}
        self.timers = []  # (deadline, seq, fd)
        self.seq = 0
        self.rng = random.Random(args.seed)
        self.topics = [f"churn{i}" for i in range(args.topics)]
        self.last_id = {t: 0 for t in self.topics}
        self.streams = 0
        self.polls = 0
        self.counts = {}
        self.errors = 0
        self.error_kinds = {}
        self.published = 0
        self.publisher = None

    # -- connections -----------------------------------------------------

    def open(self, kind, request, lifetime):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect((self.host, self.port))
        except BlockingIOError:
            pass
        except OSError:
            self.errors += 1
            s.close()
            return None
        c = Conn(s, kind, request, time.monotonic() + lifetime)
        self.conns[s.fileno()] = c
        self.sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
        self.seq += 1
        heapq.heappush(self.timers, (c.until, self.seq, s.fileno(), c))
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind in ("sse", "multi", "ws"):
            self.streams += 1
        elif kind == "poll":
            self.polls += 1
        return c

    def close(self, c, abrupt=False):
        fd = c.sock.fileno()
        if fd < 0 or self.conns.get(fd) is not c:
            return
        del self.conns[fd]
        self.sel.unregister(c.sock)
        if abrupt:
            # SO_LINGER 0: the server sees a reset, as from a killed tab.
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        c.sock.close()
        if c.kind in ("sse", "multi", "ws"):
            self.streams -= 1
        elif c.kind == "poll":
            self.polls -= 1
        if c is self.publisher:
            self.publisher = None

    def on_event(self, c, mask):
        if mask & selectors.EVENT_WRITE and c.out:
            try:
                n = c.sock.send(c.out)
                c.out = c.out[n:]
            except BlockingIOError:
                pass
            except OSError:
                self.errors += 1
                self.close(c)
                return
            if not c.out:
                self.sel.modify(c.sock, selectors.EVENT_READ, c)
        if mask & selectors.EVENT_READ:
            try:
                data = c.sock.recv(65536)
            except BlockingIOError:
                return
            except OSError as e:
                if e.errno != errno.ECONNRESET or c.kind not in ("plain", "poll"):
                    self.errors += 1
                self.close(c)
                return
            if not data:
                # The server ended it: a request answered with close, a
                # long-poll's answer, a replaced stream. Expected for the
                # one-shot kinds; streams are closed by us.
                if c.kind in ("sse", "multi", "ws", "pub") and not c.closing:
                    self.errors += 1
                    self.error_kinds[c.kind] = self.error_kinds.get(c.kind, 0) + 1
                self.close(c)
                return
            c.got += len(data)

    def expire(self, now):
        while self.timers and self.timers[0][0] <= now:
            _, _, fd, c = heapq.heappop(self.timers)
            if self.conns.get(fd) is not c:
                continue
            if c.kind == "ws" and not c.closing and self.rng.random() < 0.5:
                # RFC 6455 §5.5.1, masked as a client must: code 1000.
                mask = os.urandom(4)
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(b"\x03\xe8"))
                try:
                    c.sock.send(b"\x88\x82" + mask + payload)
                except OSError:
                    pass
                c.closing = True
                self.seq += 1
                heapq.heappush(self.timers, (now + 0.2, self.seq, fd, c))
                continue
            self.close(c, abrupt=self.rng.random() < 0.25)

    # -- the mix ---------------------------------------------------------

    def topic(self):
        return self.rng.choice(self.topics)

    def lifetime(self):
        return self.rng.expovariate(1.0 / self.args.lifetime)

    def open_stream(self):
        r = self.rng.random()
        t = self.topic()
        if r < 0.35:
            extra = ""
            if self.rng.random() < 0.2 and self.last_id[t] > 0:
                extra = f"Last-Event-ID: {max(0, self.last_id[t] - self.rng.randint(1, 200))}\r\n"
            req = f"GET /topics/{t} HTTP/1.1\r\nHost: churn\r\nAccept: text/event-stream\r\n{extra}\r\n"
            self.open("sse", req.encode(), self.lifetime())
        elif r < 0.45:
            u = self.topic()
            req = f"GET /topics/{t},{u} HTTP/1.1\r\nHost: churn\r\nAccept: text/event-stream\r\n\r\n"
            self.open("multi", req.encode(), self.lifetime())
        else:
            key = base64.b64encode(os.urandom(16)).decode()
            req = (
                f"GET /topics/{t} HTTP/1.1\r\nHost: churn\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            self.open("ws", req.encode(), self.lifetime())

    def open_poll(self):
        t = self.topic()
        req = f"GET /poll/{t}?since={self.last_id[t]}&timeout=1 HTTP/1.1\r\nHost: churn\r\nConnection: close\r\n\r\n"
        self.open("poll", req.encode(), 5.0)

    def open_plain(self):
        paths = ["/plaintext", "/stats", "/", "/nope"]
        if self.rng.random() < 0.2:
            reqs = "".join(f"GET {self.rng.choice(paths)} HTTP/1.1\r\nHost: churn\r\n\r\n" for _ in range(2))
            reqs += "GET /plaintext HTTP/1.1\r\nHost: churn\r\nConnection: close\r\n\r\n"
        else:
            reqs = f"GET {self.rng.choice(paths)} HTTP/1.1\r\nHost: churn\r\nConnection: close\r\n\r\n"
        self.open("plain", reqs.encode(), 5.0)

    def publish(self):
        if self.publisher is None:
            self.publisher = self.open("pub", b"", 1e9)
            if self.publisher is None:
                return
        t = self.topic()
        body = b"x" * self.rng.randint(16, 256)
        req = f"POST /topics/{t} HTTP/1.1\r\nHost: churn\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
        c = self.publisher
        if not c.out:
            self.sel.modify(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
        c.out += req
        self.last_id[t] += 1
        self.published += 1

    # -- the run ---------------------------------------------------------

    def sample(self, start):
        line = {"t": round(time.monotonic() - start, 1)}
        if self.args.server_pid:
            line.update(read_status(self.args.server_pid))
        try:
            st = get_stats(self.host, self.port)
            line["conns"] = st["connections"]["total"]
            line["subscriptions"] = st["subscriptions"]
            line["topics"] = st["topics"]
            line["accepted"] = st["accepted"]
        except (OSError, ValueError) as e:
            line["stats_error"] = str(e)
        line["client_streams"] = self.streams
        line["published"] = self.published
        line["errors"] = self.errors
        return line

    def run(self):
        a = self.args
        out = open(a.out, "w") if a.out else None
        start = time.monotonic()
        next_sample = start
        debt = {"plain": 0.0, "pub": 0.0}
        last = start
        while True:
            now = time.monotonic()
            if now >= next_sample:
                line = self.sample(start)
                if out:
                    out.write(json.dumps(line) + "\n")
                    out.flush()
                if not a.quiet:
                    print(json.dumps(line), file=sys.stderr)
                if a.server_pid and not os.path.exists(f"/proc/{a.server_pid}"):
                    print("server gone", file=sys.stderr)
                    return 1
                next_sample += a.sample_every
            if now - start >= a.duration:
                break
            dt, last = now - last, now
            debt["plain"] += dt * a.plain_rate
            debt["pub"] += dt * a.publish_rate
            opened = 0
            while self.streams < a.streams and opened < 200:
                self.open_stream()
                opened += 1
            while self.polls < a.polls and opened < 300:
                self.open_poll()
                opened += 1
            while debt["plain"] >= 1:
                debt["plain"] -= 1
                self.open_plain()
            while debt["pub"] >= 1:
                debt["pub"] -= 1
                self.publish()
            for key, mask in self.sel.select(timeout=0.01):
                self.on_event(key.data, mask)
            self.expire(time.monotonic())
        for c in list(self.conns.values()):
            self.close(c)
        # Let the server see the closes, then the figures with nothing open.
        time.sleep(2)
        line = self.sample(start)
        line["final"] = True
        line["opened"] = self.counts
        line["error_kinds"] = self.error_kinds
        if out:
            out.write(json.dumps(line) + "\n")
            out.close()
        print(json.dumps(line), file=sys.stderr)
        return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--target", default="127.0.0.1:8080")
    p.add_argument("--server-pid", type=int, default=0)
    p.add_argument("--duration", type=float, default=600)
    p.add_argument("--streams", type=int, default=1000, help="SSE and WebSocket subscribers open at once")
    p.add_argument("--lifetime", type=float, default=3.0, help="mean life of a stream, s")
    p.add_argument("--polls", type=int, default=100, help="long-polls open at once")
    p.add_argument("--plain-rate", type=float, default=200, help="plain request connections per second")
    p.add_argument("--publish-rate", type=float, default=200, help="publishes per second")
    p.add_argument("--topics", type=int, default=TOPICS_DEFAULT)
    p.add_argument("--sample-every", type=float, default=5)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", help="JSON lines, one per sample")
    p.add_argument("-q", "--quiet", action="store_true")
    sys.exit(Churn(p.parse_args()).run())


if __name__ == "__main__":
    main()
