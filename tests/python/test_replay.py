"""A replay through httpx-sse that reads slowly (SPEC §5: "a replay
(Last-Event-ID) larger than `--max-queue` → streamed as the client reads,
never more than `--max-queue` queued at once: every event still in history
arrives, in order, none twice")."""

import time
import unittest

import httpx
from httpx_sse import connect_sse

from harness import Server

KIB = 1024


class SlowReplay(unittest.TestCase):
    def test_a_thousand_events_of_64_kib_reach_a_slow_reader(self):
        # No heartbeats: a stream that stalls then fails the read timeout
        # instead of being kept alive.
        with Server("--heartbeat", "3600s") as server:
            with httpx.Client(timeout=10) as publisher:
                for i in range(1, 1001):
                    body = (b"%04d" % i) * (16 * KIB)
                    r = publisher.post(f"{server.url}/topics/replay", content=body)
                    self.assertEqual(r.status_code, 202, r.text)
            got = []
            with httpx.Client(timeout=httpx.Timeout(10)) as client:
                headers = {"Last-Event-ID": "0"}
                with connect_sse(client, "GET", server.url + "/topics/replay", headers=headers) as source:
                    for sse in source.iter_sse():
                        got.append((sse.event, sse.id, len(sse.data), sse.data[:4]))
                        # Slow: the replay (64 MiB) outruns the reader by far.
                        if len(got) % 50 == 0:
                            time.sleep(0.05)
                        if len(got) == 1000:
                            break
            want = [("message", str(i), 64 * KIB, "%04d" % i) for i in range(1, 1001)]
            self.assertEqual(got, want)
            stats = httpx.get(server.url + "/stats").json()
            self.assertEqual(stats["drops"], 0)


if __name__ == "__main__":
    unittest.main()
