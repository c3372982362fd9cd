"""metricslib.py - compatibility wrapper over tests/lib/updtest.py (the one
test library) for the metrics tests. New tests use updtest directly.
127.0.0.1 only; every loop bounded in count and time."""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import updtest as up  # noqa: E402
from updtest import (LOOPBACK, SO_RCVBUFFORCE, drained, get, http, parse_prometheus, parse_response,  # noqa: E402,F401
                     read_to_end, scrape, value, wait_drained, wait_until)

payload = up.seq_payload


def free_port(kind=socket.SOCK_STREAM):
    """A port that was free a moment ago (TCP by default)."""
    return up.free_port(kind)


class Sink(up.Sink):
    """updtest.Sink on 127.0.0.1; result() summarises what arrived."""

    def __init__(self, keep_raw=False):
        super().__init__(LOOPBACK)
        self.keep_raw = keep_raw

    def result(self, quiet=0.5, timeout=30):
        """Wait until nothing new for `quiet` seconds, stop, and return
        {count, bytes, seqs, raw}."""
        self.settle(quiet, timeout)
        got = self.data()
        self.close()
        return {"count": len(got), "bytes": sum(len(d) for d in got),
                "seqs": [] if self.keep_raw else [int(d[3:13]) for d in got if d.startswith(b"seq")],
                "raw": got if self.keep_raw else []}

    def kill(self):
        self.close()


def start_sender(port, count, rate=20000, burst=50, first=0):
    """Send `count` numbered datagrams to 127.0.0.1:port at about `rate` per
    second (scaled) from a process of its own; returns it (join(timeout))."""
    return up.Sender((LOOPBACK, port), [payload(first + i) for i in range(count)], rate, burst=burst, process=True)


class Proxy(up.Proxy):
    """updtest.Proxy started as (binary, args); stop() returns the exit status."""

    def __init__(self, binary, args, ready_timeout=20):
        super().__init__(args, binary_path=binary, ready_timeout=ready_timeout)

    def stop(self, timeout=20):
        return super().stop(timeout=timeout, totals=False).rc


def parse_stats_line(text):
    return up.parse_stats(text)
