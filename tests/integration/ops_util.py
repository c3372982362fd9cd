"""ops_util.py - helpers for the operations integration tests (config file,
reload, DNS, Unix sockets, --allow): start the real build/udp-proxy, sinks
that record every datagram, a paced sender, log and counter parsing.

Loopback only (127.0.0.0/8, ::1) and Unix sockets in a temporary directory.
Every wait is bounded; every process started here is stopped here.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from harness import big_rcvbuf, fail, free_port, join_stats  # noqa: F401 (re-exported for the ops tests)

BIN = os.environ.get("UP_BIN") or (sys.argv[1] if len(sys.argv) > 1 else "build/udp-proxy")


def check(cond, msg):
    """Like harness.check, but silent when cond holds: the ops tests' messages
    carry diagnostics (often the proxy's whole log) meant for failures only."""
    if not cond:
        fail(msg)


class Sink:
    """Receives on a UDP (host, port) or a Unix datagram path; keeps every
    payload in order."""

    def __init__(self, addr, family=socket.AF_INET):
        self.family = family
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        # A big buffer: this thread shares the GIL with the sender and may
        # not run for a while under load.
        big_rcvbuf(self.sock, 64 << 20)
        if family == socket.AF_UNIX and os.path.exists(addr):
            os.unlink(addr)
        self.sock.bind(addr)
        self.sock.settimeout(0.1)
        self.addr = addr
        self.got = []
        self.lock = threading.Lock()
        self.stopping = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stopping:
            try:
                d = self.sock.recv(70000)
            except socket.timeout:
                continue
            except OSError:
                break
            with self.lock:
                self.got.append(d)

    def count(self):
        with self.lock:
            return len(self.got)

    def data(self):
        with self.lock:
            return list(self.got)

    def wait_count(self, n, timeout=10.0):
        end = time.time() + timeout
        while time.time() < end and self.count() < n:
            time.sleep(0.02)
        return self.count()

    def settle(self, quiet=0.5, timeout=10.0):
        """Wait until nothing arrived for `quiet` seconds (bounded)."""
        end = time.time() + timeout
        last = -1
        while time.time() < end:
            c = self.count()
            if c == last:
                return c
            last = c
            time.sleep(quiet)
        return self.count()

    def close(self):
        self.stopping = True
        self.t.join(2)
        self.sock.close()
        if self.family == socket.AF_UNIX and os.path.exists(self.addr):
            os.unlink(self.addr)


class Proxy:
    """The real daemon; its stderr is collected line by line."""

    def __init__(self, args, wait_ready=True, env=None, prefix=None):
        cmd = (prefix or []) + [BIN] + list(args)
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines = []
        self.reported = False
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()
        if wait_ready and not self.wait_log(r"listening on", 10):
            self.stop()
            fail("proxy did not start: %s" % self.log())

    def _read(self):
        for line in self.p.stdout:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    def log(self):
        with self.lock:
            return "\n".join(self.lines)

    def count_log(self, pattern):
        with self.lock:
            return sum(1 for l in self.lines if re.search(pattern, l))

    def wait_log(self, pattern, timeout=10.0, after=0):
        """Wait until more than `after` lines match pattern."""
        end = time.time() + timeout
        while time.time() < end:
            if self.count_log(pattern) > after:
                return True
            if self.p.poll() is not None:
                self.t.join(1)
                return self.count_log(pattern) > after
            time.sleep(0.02)
        return False

    def hup(self, expect=r"reload: done|reload failed", timeout=15.0):
        before = self.count_log(expect)
        self.p.send_signal(signal.SIGHUP)
        check(self.wait_log(expect, timeout, before), "no reload result in the log:\n" + self.log())

    def stop(self, timeout=10.0):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        self.t.join(2)
        if rc != 0 and not self.reported:
            self.reported = True  # a sanitizer report or a crash: show it once
            print("proxy exited with %d; its log:\n%s" % (rc, "\n".join(self.log().splitlines()[-80:])))
        return rc

    def final_totals(self):
        """Counters from the 'final totals:' line: (globals, {target: {...}})."""
        text = join_stats(self.log(), "final totals:")
        check(text is not None, "no final totals line:\n" + self.log())
        return parse_stats(text)


def parse_stats(line):
    glob, targets, cur = {}, {}, None
    for key, val in re.findall(r"(\w+)=(\S+)", line):
        if key == "target":
            cur = targets.setdefault(val, {})
        elif cur is None:
            glob[key] = int(val)
        elif re.fullmatch(r"\d+", val):
            cur[key] = int(val)
    return glob, targets


def run(args, timeout=20):
    """Run the binary to completion: (exit status, output)."""
    p = subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def payloads(n, tag=b"m"):
    return [b"%s.%d:1|c|#seq:%d" % (tag, i, i) for i in range(n)]


class Sender:
    """Sends payloads to addr at about `rate` per second, in a thread."""

    def __init__(self, addr, data, rate=2000, family=socket.AF_INET, bind=None):
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        if bind:
            self.sock.bind(bind)
        self.addr, self.data, self.rate = addr, data, rate
        self.sent = 0
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        t0 = time.time()
        for i, d in enumerate(self.data):
            due = t0 + i / self.rate
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            self.sock.sendto(d, self.addr)
            self.sent = i + 1

    def join(self, timeout=120):
        self.t.join(timeout)
        self.sock.close()


def tempdir():
    return tempfile.mkdtemp(prefix="up-ops-")


def write(path, text):
    """Write in place (same inode: bind mounts and watchers see it)."""
    with open(path, "w") as f:
        f.write(text)
