"""harness.py - start the real udp-proxy binary on loopback, feed it, watch its targets.

Used by every integration test in this folder. Everything stays on 127.0.0.1 / ::1,
every loop is bounded in count and time.
"""
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter

BINARY = os.environ.get("UP_BINARY", os.path.join(os.path.dirname(__file__), "..", "..", "build", "udp-proxy"))
SO_RCVBUFFORCE = 33
# Sanitizer builds run several times slower: their test runs scale the offered rates down.
RATE_SCALE = float(os.environ.get("UP_TEST_RATE_SCALE", "1"))


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print("ok: " + msg, flush=True)


def big_rcvbuf(s, size=32 << 20):
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, size)  # root: past rmem_max
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    """A port with nothing listening (bound, then closed)."""
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Sink:
    """A UDP target that records every datagram it receives (in a thread)."""

    # 256 MiB (root: SO_RCVBUFFORCE) so that a sink thread held back by the GIL
    # or a loaded machine never loses what the proxy delivered.
    def __init__(self, host="127.0.0.1", rcvbuf=256 << 20, read=True):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        if rcvbuf:
            big_rcvbuf(self.sock, rcvbuf)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.addr = ("[%s]:%d" if fam == socket.AF_INET6 else "%s:%d") % (host, self.port)
        self.got = []
        self.stop_flag = False
        self.thread = None
        if read:
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()

    def _run(self):
        self.sock.settimeout(0.2)
        while not self.stop_flag:
            try:
                self.got.append(self.sock.recv(70000))
            except socket.timeout:
                continue
            except OSError:
                return

    def wait_for(self, n, timeout=20.0):
        """Wait until n datagrams arrived or nothing new came for a while."""
        end = time.time() + timeout
        last, last_change = -1, time.time()
        while time.time() < end and len(self.got) < n:
            if len(self.got) != last:
                last, last_change = len(self.got), time.time()
            elif time.time() - last_change > 3.0:
                break
            time.sleep(0.05)
        return len(self.got)

    def kernel_drops(self):
        """The kernel's drop count for this sink's socket (/proc/net/udp[6])."""
        for f in ("/proc/net/udp", "/proc/net/udp6"):
            try:
                for line in open(f).read().splitlines()[1:]:
                    cols = line.split()
                    if int(cols[1].split(":")[1], 16) == self.port:
                        return int(cols[-1])
            except OSError:
                pass
        return -1

    def close(self):
        self.stop_flag = True
        if self.thread:
            self.thread.join(2)
        self.sock.close()


class Proxy:
    """The real binary, its log captured to a file."""

    def __init__(self, args, expect_ready=True):
        self.log = tempfile.NamedTemporaryFile(prefix="udp-proxy-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([BINARY] + list(args), stdout=self.log, stderr=subprocess.STDOUT)
        if expect_ready:
            end = time.time() + 10
            while time.time() < end:
                if "listening on" in self.text():
                    return
                if self.proc.poll() is not None:
                    fail("proxy exited early (%s): %s" % (self.proc.returncode, self.text()))
                time.sleep(0.02)
            fail("proxy did not start: " + self.text())

    def text(self):
        with open(self.log.name, "r", errors="replace") as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=15):
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("proxy did not exit within %ds of signal %d" % (timeout, sig))
        return rc

    def final_totals(self):
        """Parse the 'final totals:' line into (globals, {target: counters})."""
        text = join_stats(self.text(), "final totals:")
        if text is None:
            fail("no final totals line in log:\n" + self.text())
        return parse_stats(text)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.unlink(self.log.name)


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
    glob, targets, cur = {}, {}, None
    for tok in line.split():
        k, _, v = tok.partition("=")
        if k == "target":
            cur = targets.setdefault(v, {})
        elif k == "queue":
            continue
        elif cur is not None:
            cur[k] = int(v)
        else:
            glob[k] = int(v)
    return glob, targets


def accounted(c):
    """A target's counters: what was sent plus every drop reason."""
    return c["sent"] + c["dropped_send_error"] + c["dropped_queue_full"] + c["dropped_shutdown"]


def dogstatsd_payloads(n, seed=1, special=True):
    """n deterministic datagrams: mostly DogStatsD-sized, some of 0, 1 and 65,507 bytes."""
    rnd = random.Random(seed)
    kinds = ["c", "g", "ms", "h", "d", "s"]
    out = []
    for i in range(n):
        if special and i % 1000 == 7:
            out.append(b"")
        elif special and i % 1000 == 11:
            out.append(bytes([i % 256]))
        elif special and i % 5000 == 13:
            out.append(bytes((i + j) % 251 for j in range(65507)))
        else:
            tags = ",".join("tag%d:v%d" % (j, rnd.randrange(1000)) for j in range(rnd.randrange(0, 8)))
            line = "svc.metric.%d:%d|%s|@0.5|#%s,seq:%d" % (rnd.randrange(500), rnd.randrange(10**6),
                                                            kinds[rnd.randrange(len(kinds))], tags, i)
            lines = [line] * rnd.choice([1, 1, 1, 2, 5])
            out.append("\n".join(lines).encode())
    return out


def send_paced(payloads, addr, rate, family=socket.AF_INET):
    """Send payloads to addr at about `rate` datagrams per second (bounded by len(payloads))."""
    rate = max(100, int(rate * RATE_SCALE))
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    start = time.time()
    burst = max(1, rate // 1000)
    for i, p in enumerate(payloads):
        while True:
            try:
                s.sendto(p, addr)
                break
            except BlockingIOError:
                time.sleep(0.001)
        if i % burst == burst - 1:
            ahead = (i + 1) / rate - (time.time() - start)
            if ahead > 0:
                time.sleep(ahead)
    s.close()
    return time.time() - start


def same_multiset(got, sent):
    return Counter(got) == Counter(sent)
