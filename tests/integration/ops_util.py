"""ops_util.py - compatibility wrapper over tests/lib/updtest.py (the one test
library) for the operations tests (config, reload, DNS, Unix sockets,
--allow). New tests use updtest directly. Loopback and private temp dirs
only; every wait bounded; every process started is stopped."""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import updtest as up  # noqa: E402
from updtest import big_rcvbuf, fail, parse_stats, payloads, tempdir, write  # noqa: E402,F401

BIN = up.binary()


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    return up.free_port(socket.SOCK_DGRAM, host)


def check(cond, msg):
    """Silent when cond holds: these messages often carry the whole proxy log,
    meant for failures only."""
    if not cond:
        fail(msg)


class Sink(up.Sink):
    """updtest.Sink on a (host, port) or, with family=AF_UNIX, a path. `addr`
    stays what was given (the ops tests format it themselves)."""

    def __init__(self, addr, family=socket.AF_INET):
        super().__init__("unix:" + addr if family == socket.AF_UNIX else addr)
        self.addr = addr
        self.t = self.thread


class Proxy(up.Proxy):
    """updtest.Proxy; stop() returns the exit status only."""

    def __init__(self, args, wait_ready=True, env=None, prefix=None):
        super().__init__(args, binary_path=BIN, ready=r"listening on" if wait_ready else None, env=env,
                         prefix=prefix)

    def hup(self, expect=r"reload: done|reload failed", timeout=15.0):
        before = self.count_log(expect)
        self.send_signal(up.signal.SIGHUP)
        check(self.wait_log(expect, timeout, before), "no reload result in the log:\n" + self.log())

    def stop(self, timeout=10.0):
        return super().stop(timeout=timeout, totals=False).rc


def run(args, timeout=20):
    return up.run(args, timeout, binary_path=BIN)


class Sender(up.Sender):
    """updtest.Sender (rate scaled by UP_TEST_RATE_SCALE)."""

    def __init__(self, addr, data, rate=2000, family=socket.AF_INET, bind=None):
        super().__init__(addr, data, rate, family=family, bind=bind)

    def join(self, timeout=120):
        return super().join(timeout)
