"""harness.py - compatibility wrapper over tests/lib/updtest.py (the one test
library). Keeps the names the older integration tests import; new tests use
updtest directly. Loopback only; every loop bounded."""
import os
import random  # noqa: F401  (the older tests use `from harness import *` for these)
import re  # noqa: F401
import signal
import socket
import subprocess  # noqa: F401
import sys
import tempfile  # noqa: F401
import threading  # noqa: F401
import time  # noqa: F401
from collections import Counter  # noqa: F401

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import updtest as up  # noqa: E402
from updtest import (RATE_SCALE, SO_RCVBUFFORCE, accounted, check, dogstatsd_payloads, fail,  # noqa: E402,F401
                     same_multiset, send_paced)

BINARY = up.binary()


def big_rcvbuf(s, size=32 << 20):
    return up.big_rcvbuf(s, size)


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    """A UDP port with nothing listening (bound, then closed)."""
    return up.free_port(socket.SOCK_DGRAM, host)


class Sink(up.Sink):
    """updtest.Sink with harness's defaults: a host, 256 MiB buffer."""

    def __init__(self, host="127.0.0.1", rcvbuf=256 << 20, read=True):
        super().__init__(host, rcvbuf=rcvbuf, read=read)


class Proxy(up.Proxy):
    """updtest.Proxy; stop() returns the exit status only."""

    def __init__(self, args, expect_ready=True):
        super().__init__(args, binary_path=BINARY, ready=r"listening on" if expect_ready else None)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        return super().stop(sig, timeout, totals=False).rc


def join_stats(log, head):
    """The last stats text logged under `head` ("final totals:" or "stats"),
    with its continuation lines ("HEAD+ target=...": one line carries at
    most 1,024 bytes, so many targets take several) joined; None if none."""
    more = head[:-1] + "+:" if head.endswith(":") else head + "+"
    text = None
    for line in log.splitlines():
        for mark, cont in ((" " + head + " ", False), (" " + more + " ", True)):
            i = line.find(mark)
            if i >= 0:
                rest = line[i + len(mark):]
                if not cont:
                    text = rest
                elif text is not None:
                    text += " " + rest
                break
    return text


def parse_stats(line):
    return up.parse_stats(line)
