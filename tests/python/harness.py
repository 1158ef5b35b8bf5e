"""Start the real pushwire binary on a free loopback port; stop it by its PID."""

import os
import re
import signal
import subprocess
import threading
import time

import httpx

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Server:
    def __init__(self, *args):
        binary = os.environ.get("PUSHWIRE_BIN", os.path.join(ROOT, "target", "debug", "pushwire"))
        self.proc = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--www", os.path.join(ROOT, "www"), *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={k: v for k, v in os.environ.items() if k != "RUST_LOG"},
        )
        self.log = []
        found = threading.Event()

        def drain():
            for line in self.proc.stderr:
                self.log.append(line)
                m = re.search(r"listening on http://([^/\s]+)", line)
                if m and not found.is_set():
                    self.addr = m.group(1)
                    found.set()

        threading.Thread(target=drain, daemon=True).start()
        if not found.wait(10):
            self.stop()
            raise RuntimeError("pushwire did not start:\n" + "".join(self.log))
        self.url = "http://" + self.addr

    def publish(self, topic, body, **params):
        r = httpx.post(f"{self.url}/topics/{topic}", content=body, params=params, timeout=10)
        assert r.status_code == 202, (r.status_code, r.text)
        return r.json()["id"]

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.proc.stderr.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def later(seconds, fn, *args):
    """Runs fn(*args) on a thread after `seconds`."""
    t = threading.Timer(seconds, fn, args)
    t.daemon = True
    t.start()
    return t


def wait_for(predicate, within=5.0):
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
