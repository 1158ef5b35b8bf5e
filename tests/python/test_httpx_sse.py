"""httpx-sse 0.4.3 against pushwire (SPEC §4): a client that dispatches an
event at every blank line once an `id:` has been seen (as the MCP Python SDK
does on top of it) must see exactly the events the server sent: no empty
event for a heartbeat, none for a `retry:`."""

import signal
import unittest

import httpx
from httpx_sse import connect_sse

from harness import Server, later


def events(server, path, until, timeout=10.0, headers=None):
    """Every event dispatched on `path` until `until(events)` says stop."""
    got = []
    with httpx.Client(timeout=httpx.Timeout(timeout)) as client:
        with connect_sse(client, "GET", server.url + path, headers=headers or {}) as source:
            assert source.response.status_code == 200, source.response.status_code
            for sse in source.iter_sse():
                got.append((sse.event, sse.id, sse.data, sse.retry))
                if until(got):
                    break
    return got


class Heartbeats(unittest.TestCase):
    def test_one_event_and_heartbeats_dispatch_one_event(self):
        with Server("--heartbeat", "200ms") as server:
            # The first publish once the stream is open; the second, the end
            # marker, after at least two heartbeats have gone by.
            later(0.3, server.publish, "t", b"one")
            later(1.0, server.publish, "t", b"end")
            got = events(server, "/topics/t", lambda got: got[-1][2] == "end")
            self.assertEqual(got, [("message", "1", "one", None), ("message", "2", "end", None)])

    def test_a_heartbeat_before_any_event_is_not_an_event(self):
        with Server("--heartbeat", "100ms") as server:
            later(0.5, server.publish, "t", b"first")
            got = events(server, "/topics/t", lambda got: True)
            self.assertEqual(got, [("message", "1", "first", None)])


class Retry(unittest.TestCase):
    def test_orderpay_opens_with_one_event_carrying_the_retry(self):
        # SPEC §3.1: "Sends at once `retry: 1000` and `data: Connection
        # succeeded`": one event, its reconnection time with it.
        with Server() as server:
            got = events(server, "/orderpay?payid=7", lambda got: True)
            self.assertEqual(got, [("message", "", "Connection succeeded", 1000)])

    def test_payback_after_the_opening(self):
        with Server("--heartbeat", "100ms") as server:
            later(0.5, httpx.get, server.url + "/payback?payid=8")
            got = events(server, "/orderpay?payid=8", lambda got: got[-1][0] == "finish")
            self.assertEqual(
                got,
                [
                    ("message", "", "Connection succeeded", 1000),
                    ("message", "", "User payment succeeded", None),
                    ("finish", "6666", "ha-ha", None),
                ],
            )

    def test_drain_retry_is_no_event(self):
        # SPEC §1: on SIGTERM every SSE client gets `retry:` and is closed.
        with Server("--drain-secs", "300ms", "--heartbeat", "100ms") as server:
            server.publish("t", b"kept")
            later(0.5, server.signal, signal.SIGTERM)
            got = events(server, "/topics/t", lambda got: False, headers={"Last-Event-ID": "0"})
            self.assertEqual(got, [("message", "1", "kept", None)])
            self.assertEqual(server.proc.wait(10), 0)


if __name__ == "__main__":
    unittest.main()
