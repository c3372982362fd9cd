"""Helpers for the metrics integration tests: start the real udp-proxy on
ephemeral loopback ports, UDP sinks in their own processes, a paced sender,
raw HTTP requests, and a parser of the Prometheus text format.

Everything here talks to 127.0.0.1 only, and every loop is bounded in count
and time.
"""
import multiprocessing as mp
import os
import re
import signal
import socket
import subprocess
import threading
import time

from harness import join_stats

LOOPBACK = "127.0.0.1"
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)


def free_port(kind=socket.SOCK_STREAM):
    """A port that was free a moment ago (the kernel picks it)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def wait_until(fn, timeout, step=0.05, what="condition"):
    """Call fn until it returns a true value or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except OSError as e:
            last = e
        time.sleep(step)
    raise AssertionError("timed out after %ss waiting for %s (last: %r)" % (timeout, what, last))


def _big_rcvbuf(sock, size=64 << 20):
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, size)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)


def _sink_main(sock, conn, stop, keep_raw):
    sock.settimeout(0.1)
    count = 0
    nbytes = 0
    seqs = []
    raw = []
    while True:
        try:
            data = sock.recv(70000)
        except socket.timeout:
            if stop.is_set():
                break
            continue
        count += 1
        nbytes += len(data)
        if keep_raw:
            raw.append(data)
        elif data.startswith(b"seq"):
            seqs.append(int(data[3:13]))
    conn.send({"count": count, "bytes": nbytes, "seqs": seqs, "raw": raw})
    conn.close()


class Sink:
    """A UDP receiver on 127.0.0.1 in a process of its own (so it keeps up
    while the test's threads run), with a large receive buffer."""

    def __init__(self, keep_raw=False):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        _big_rcvbuf(self.sock)
        self.sock.bind((LOOPBACK, 0))
        self.port = self.sock.getsockname()[1]
        self.addr = "%s:%d" % (LOOPBACK, self.port)
        ctx = mp.get_context("fork")
        self._stop = ctx.Event()
        self._parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_sink_main, args=(self.sock, child, self._stop, keep_raw), daemon=True)
        self._proc.start()
        child.close()

    def result(self, quiet=0.5, timeout=30):
        """Stop after `quiet` more seconds and return what was received."""
        time.sleep(quiet)
        self._stop.set()
        if not self._parent.poll(timeout):
            self._proc.kill()
            raise AssertionError("sink did not report")
        r = self._parent.recv()
        self._proc.join(5)
        self.sock.close()
        return r

    def kill(self):
        if self._proc.is_alive():
            self._proc.kill()
        self.sock.close()


def payload(seq):
    """A DogStatsD-sized datagram carrying its sequence number."""
    return b"seq%010d.page.views:1|c|#env:test,service:udp-proxy,host:web-%03d" % (seq, seq % 1000)


def _send_main(port, first, count, rate, burst):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    start = time.monotonic()
    sent = 0
    while sent < count:
        n = min(burst, count - sent)
        for i in range(n):
            s.sendto(payload(first + sent + i), (LOOPBACK, port))
        sent += n
        ahead = start + sent / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    s.close()


def start_sender(port, count, rate=20000, burst=50, first=0):
    """Send `count` numbered datagrams to 127.0.0.1:port at about `rate`
    per second from a process of its own. Returns the process."""
    p = mp.get_context("fork").Process(target=_send_main, args=(port, first, count, rate, burst), daemon=True)
    p.start()
    return p


class Proxy:
    """The real daemon, started with the given flags; log lines collected."""

    def __init__(self, binary, args, ready_timeout=20):
        self.cmd = [binary] + args
        self.lines = []
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        wait_until(lambda: self.find("listening on") or self.proc.poll() is not None, ready_timeout,
                   what="udp-proxy to start")
        if self.proc.poll() is not None:
            raise AssertionError("udp-proxy exited %s:\n%s" % (self.proc.returncode, self.log()))

    def _read(self):
        for line in self.proc.stdout:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def find(self, text):
        with self._lock:
            return [l for l in self.lines if text in l]

    def log(self):
        with self._lock:
            return "\n".join(self.lines)

    def stop(self, timeout=20):
        """SIGTERM, wait; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError("udp-proxy did not stop within %ss" % timeout)
        self._reader.join(5)
        return self.proc.returncode

    def final_totals(self):
        """The key=value pairs of the 'final totals:' line: a dict for the
        process-wide keys and one per target (by name)."""
        text = join_stats(self.log(), "final totals:")
        assert text is not None, "no final totals line:\n" + self.log()
        return parse_stats_line(text)


def parse_stats_line(text):
    glob, targets, cur = {}, {}, None
    for kv in text.split():
        k, v = kv.split("=", 1)
        if k == "target":
            cur = targets.setdefault(v, {})
        elif cur is not None:
            cur[k] = v
        else:
            glob[k] = int(v)
    return glob, targets


def http(port, request, timeout=10, host=LOOPBACK, family=socket.AF_INET):
    """Send raw request bytes, read the answer to the end. Returns
    (status, headers dict with lower-case names, body bytes)."""
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect((host, port))
        s.sendall(request)
        return parse_response(read_to_end(s))


def read_to_end(sock):
    """Everything the peer sends until it closes."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def parse_response(data):
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise AssertionError("no complete HTTP answer: %r" % data[:200])
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.1 (\d{3}) [^\r\n]*$", lines[0])
    assert m, "bad status line %r" % lines[0]
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers[k.strip().lower()] = v.strip()
    assert int(headers["content-length"]) == len(body) or body == b"", (headers, len(body))
    return int(m.group(1)), headers, body


def get(port, path, method="GET", timeout=10):
    req = "%s %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: udp-proxy-test\r\n\r\n" % (method, path, LOOPBACK, port)
    return http(port, req.encode(), timeout)


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse_prometheus(text):
    """{(name, ((label, value), ...)): float} from the text format."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        assert m, "bad sample line %r" % line
        labels = []
        if m.group(3):
            pos = 0
            while pos < len(m.group(3)):
                lm = _LABEL.match(m.group(3), pos)
                assert lm, "bad labels in %r" % line
                labels.append((lm.group(1), lm.group(2)))
                pos = lm.end()
        out[(m.group(1), tuple(sorted(labels)))] = float(m.group(4))
    return out


def scrape(port):
    status, headers, body = get(port, "/metrics")
    assert status == 200, (status, body)
    assert headers["content-type"].startswith("text/plain; version=0.0.4"), headers
    return parse_prometheus(body.decode())


def value(samples, name, **labels):
    return samples[(name, tuple(sorted(labels.items())))]


def wait_drained(port, n, targets, timeout):
    """Wait until drained(); on timeout the error shows the last counters."""
    drained.last = None
    try:
        return wait_until(lambda: drained(port, n, targets), timeout, step=0.2, what="%d datagrams accounted" % n)
    except AssertionError as e:
        raise AssertionError("%s; last non-zero counters: %s" % (e, drained.last))


def drained(port, n, targets):
    """The samples once /metrics accounts for all n datagrams sent to the
    source (received, or dropped by the kernel before udp-proxy could read
    them) and every target has settled (sent + dropped == received); False
    before (or when a scrape was cut: tests that hammer the
    server expect some)."""
    try:
        s = scrape(port)
    except (OSError, AssertionError):
        return False
    drained.last = {k[0] + str(dict(k[1]) if k[1] else ""): v for k, v in s.items()
                    if k[0].endswith("_total") and v}
    received = value(s, "udp_proxy_received_datagrams_total")
    kernel = sum(v for k, v in s.items() if k[0] == "udp_proxy_kernel_receive_drops_total")
    if received + kernel != n:
        return False
    for t in targets:
        done = value(s, "udp_proxy_sent_datagrams_total", target=t)
        for reason in ("queue_full", "send_error", "shutdown"):
            done += value(s, "udp_proxy_dropped_datagrams_total", target=t, reason=reason)
        if done != received:
            return False
    return s
