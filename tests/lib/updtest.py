"""updtest.py - the one library of the udp-proxy integration tests.

Start the real binary (`Proxy`), receive what it forwards (`Sink`), feed it
(`Sender`), read its counters (`parse_stats`, strict) and check that every
datagram offered is accounted for (`check_totals`). A failing test prints the
values it saw and the tail of every proxy log it started.

Rules kept here so every test gets them for free:
- loopback only (127.0.0.1, ::1) and Unix sockets in private temp dirs;
- every loop is bounded in count and time;
- offered rates are multiplied by UP_TEST_RATE_SCALE (sanitizer builds set it);
- HTTP to loopback never goes through an http_proxy from the environment;
- `check` prints "ok: MSG" or "FAIL: MSG": put the values you saw into MSG.

A test, in short:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
    import updtest as up

    sink = up.Sink()                      # or up.Sink("::1"), up.Sink("unix:/abs/path"), up.Sink(read=False)
    src = up.free_port()
    px = up.Proxy(["--source", "127.0.0.1:%d" % src, "--target", sink.target])   # waits for "listening on"
    data = up.payloads(1000)
    up.Sender(("127.0.0.1", src), data, 2000).join()   # paced, scaled by UP_TEST_RATE_SCALE
    up.check_eq(sink.wait_for(len(data)), len(data), "sink count")
    rc, g, t = px.stop()                  # SIGTERM; the parsed final totals (strict)
    up.check_eq(rc, 0, "exit status")
    up.check_totals(g, t, len(data), [sink.target], healthy=[sink.target])
    up.check_received(sink, data, ordered=True)
A real skip: up.skip("reason") (exit 77). The binary: $UP_BINARY, $UP_BIN or
argv[1]. tests/lib/test_updtest.py (CTest lib_updtest) tests this library.
"""
import atexit
import multiprocessing as mp
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, namedtuple

LOOPBACK = "127.0.0.1"
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
# Sanitizer builds run several times slower: their runs scale offered rates down
# (and idle limits up) while keeping the exact counts.
RATE_SCALE = float(os.environ.get("UP_TEST_RATE_SCALE", "1") or "1")
SKIP = 77  # CTest SKIP_RETURN_CODE
LOG_TAIL = 80  # lines of each proxy log printed on a failure

_ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


# ---------------------------------------------------------------- outcomes

class _Proxies:
    """Every Proxy started in this process, so a failure can show their logs."""
    all = []
    shown = False

    @classmethod
    def dump(cls):
        if cls.shown:
            return
        cls.shown = True
        for px in cls.all:
            px.print_tail()


def fail(msg):
    """Print FAIL with msg, the tail of every proxy log, and exit 1."""
    print("FAIL: " + (msg if isinstance(msg, str) else repr(msg)), flush=True)
    _Proxies.dump()
    sys.stdout.flush()
    sys.exit(1)


def skip(reason):
    """A real skip: say why and exit 77 (CTest shows it as skipped)."""
    print("SKIP: " + reason, flush=True)
    sys.exit(SKIP)


_MISSING = object()


def check(cond, msg, got=_MISSING):
    """Assert cond. msg should carry the actual values; `got` is appended when
    given. Prints "ok: ..." on success (so a passing run shows what it checked)
    and fails the test otherwise."""
    if got is not _MISSING:
        msg = "%s (got %r)" % (msg, got)
    if not isinstance(msg, str):
        msg = repr(msg)
    if not cond:
        fail(msg)
    print("ok: " + msg, flush=True)
    return cond


def require(cond, msg):
    """Like check, but silent on success: for checks inside loops over many
    items. msg should carry the values."""
    if not cond:
        fail(msg)
    return cond


_OPS = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "in": lambda a, b: a in b,
        "not in": lambda a, b: a not in b}


def require_cmp(left, op, right, what):
    """require(left OP right) with both values in the failure message."""
    if not _OPS[op](left, right):
        fail("%s: %r %s %r is false" % (what, left, op, right))
    return True


def check_eq(actual, expected, what):
    """check(actual == expected) with both values in the message."""
    return check(actual == expected, "%s: got %r, want %r" % (what, actual, expected))


def _excepthook(etype, value, tb):
    sys.__excepthook__(etype, value, tb)
    _Proxies.dump()
    sys.stdout.flush()


sys.excepthook = _excepthook


@atexit.register
def _kill_leftovers():
    """A test that fails (or forgets) never leaves a proxy running."""
    for px in _Proxies.all:
        if px.proc.poll() is None:
            try:  # a wrapper's children (strace -f) first: killing strace only detaches them
                with open("/proc/%d/task/%d/children" % (px.pid, px.pid)) as f:
                    for child in f.read().split():
                        os.kill(int(child), signal.SIGKILL)
            except (OSError, ValueError):
                pass
            px.proc.kill()
            try:
                px.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass


# ---------------------------------------------------------------- environment

def binary(argv_index=1):
    """The udp-proxy under test: $UP_BINARY, $UP_BIN, argv[argv_index] when it
    is an executable file, else build/udp-proxy of this checkout."""
    for env in ("UP_BINARY", "UP_BIN"):
        if os.environ.get(env):
            return os.environ[env]
    if len(sys.argv) > argv_index and os.path.isfile(sys.argv[argv_index]) and os.access(sys.argv[argv_index],
                                                                                          os.X_OK):
        return sys.argv[argv_index]
    return os.path.join(_ROOT, "build", "udp-proxy")


def is_root():
    return os.geteuid() == 0


def rmem_max():
    try:
        with open("/proc/sys/net/core/rmem_max") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 0


def require_big_buffers(need=32 << 20):
    """Skip (exit 77) unless sockets can get `need` bytes of receive buffer:
    root (SO_RCVBUFFORCE) or net.core.rmem_max >= need. Tests whose exact
    counts rely on big buffers call this first."""
    if not is_root() and rmem_max() < need:
        skip("needs root or net.core.rmem_max >= %d (it is %d): the sinks' buffers would drop datagrams"
             % (need, rmem_max()))


def scaled(rate):
    """An offered rate multiplied by UP_TEST_RATE_SCALE (at least 50/s)."""
    return max(50, int(rate * RATE_SCALE))


def idle_limit(seconds=3.0):
    """A 'nothing new for a while' limit, longer on slow (sanitizer) builds."""
    return seconds / min(1.0, RATE_SCALE)


def big_rcvbuf(sock, size=64 << 20):
    """Ask for `size` bytes of receive buffer: forced past rmem_max as root,
    capped by rmem_max otherwise. Returns what the kernel granted (bytes)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, size)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) // 2


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_RNG = random.Random(os.getpid() ^ int(time.time() * 1000))


def _is_free(port, host):
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(family_of(host), kind) as s:
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True


def free_port(kind=socket.SOCK_DGRAM, host=LOOPBACK):
    """A port free for both UDP and TCP a moment ago, for the proxy to bind.

    Picked at random below the kernel's ephemeral range: a port from bind(0)
    comes back to that range when closed, where any client socket (a sender,
    a sink, another test under ctest -j) may be given it before the proxy
    binds it; below the range only another explicit bind can take it."""
    low = _ephemeral_low()
    if low > 12000:
        for _ in range(200):
            port = _RNG.randrange(10000, low)
            if _is_free(port, host):
                return port
    with socket.socket(family_of(host), kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def hostport(host, port):
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)


def tempdir(prefix="up-test-"):
    return tempfile.mkdtemp(prefix=prefix)


def write(path, text):
    """Write in place (same inode: bind mounts and watchers see it)."""
    with open(path, "w") as f:
        f.write(text)



def private_resolver(resolv_text, why="a private /etc/hosts and /etc/resolv.conf"):
    """Give the calling test its own /etc/hosts and /etc/resolv.conf: the
    script re-runs itself inside a private mount namespace (unshare -m, as
    root; skip otherwise) and bind-mounts two files of a temporary folder over
    them there, so no lookup leaves the host and the real files stay as they
    are. Returns (folder, hosts path, resolv.conf path): edit them in place
    with write(). /etc/hosts starts with localhost only."""
    if os.environ.get("UP_DNS_NS") != "1":
        if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("mount"):
            skip("needs root and unshare(1) for %s" % why)
        env = dict(os.environ, UP_DNS_NS="1")
        r = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable] + sys.argv, env=env)
        sys.exit(r.returncode)
    d = tempdir()
    hosts, resolv = os.path.join(d, "hosts"), os.path.join(d, "resolv.conf")
    write(hosts, "127.0.0.1 localhost\n")
    write(resolv, resolv_text)
    for src, dst in ((hosts, "/etc/hosts"), (resolv, "/etc/resolv.conf")):
        if subprocess.run(["mount", "--bind", src, dst]).returncode != 0:
            skip("cannot bind-mount over %s" % dst)
    return d, hosts, resolv

# ---------------------------------------------------------------- waiting

def wait_until(fn, timeout, step=0.05, what="condition"):
    """Call fn until it returns a true value (returned) or timeout seconds pass
    (a FAIL naming `what` and the last value seen). OSError counts as 'not yet'."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = fn()
            if last:
                return last
        except OSError as e:
            last = e
        if time.monotonic() >= deadline:
            fail("timed out after %ss waiting for %s (last: %r)" % (timeout, what, last))
        time.sleep(step)


def poll_until(fn, timeout, step=0.05):
    """Like wait_until but returns the last value instead of failing."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            v = fn()
        except OSError:
            v = None
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


def tcp_ready(port, host=LOOPBACK):
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def wait_tcp(port, host=LOOPBACK, timeout=20):
    """Wait until something accepts TCP connections on host:port."""
    return wait_until(lambda: tcp_ready(port, host), timeout, what="TCP %s accepting" % hostport(host, port))


# ---------------------------------------------------------------- counters

GLOBAL_KEYS = ("received", "received_bytes", "oversize", "no_buffer", "kernel_drops")
TARGET_KEYS = ("sent", "sent_bytes", "dropped_queue_full", "dropped_send_error", "dropped_shutdown")
_KEY = re.compile(r"[a-z][a-z0-9_]*$")
_NUM = re.compile(r"[0-9]+$")
_QUEUE = re.compile(r"([0-9]+)/([0-9]+)$")
_FIRST_KV = re.compile(r"(?:^|\s)([a-z][a-z0-9_]*=)")


class StatsError(Exception):
    pass


def _parse_into(line, marker, glob, targets):
    text = line
    if marker and marker in text:
        text = text.split(marker, 1)[1]
    m = _FIRST_KV.search(text)
    if not m:
        raise StatsError("no key=value in stats line")
    text = text[m.start(1):]
    cur = None
    seen_target_here = False
    for tok in text.split():
        k, eq, v = tok.partition("=")
        if not eq or not _KEY.match(k) or v == "":
            raise StatsError("malformed or truncated token %r" % tok)
        if k == "target":
            if v in targets:
                raise StatsError("target %s listed twice" % v)
            cur = targets[v] = {}
            seen_target_here = True
            continue
        d = cur if cur is not None else glob
        if k == "queue":
            q = _QUEUE.match(v)
            if not q or cur is None:
                raise StatsError("malformed or truncated token %r" % tok)
            d["queue_depth"], d["queue_capacity"] = int(q.group(1)), int(q.group(2))
            continue
        if not _NUM.match(v):
            raise StatsError("non-numeric value in token %r" % tok)
        if k in d:
            raise StatsError("key %s twice (%s)" % (k, "target" if cur is not None else "globals"))
        d[k] = int(v)
    return seen_target_here


STATS_TARGET_KEYS = TARGET_KEYS + ("queue_depth",)


def parse_stats(lines, marker=None, require_globals=True, target_keys=STATS_TARGET_KEYS):
    """Strict parse of a stats / final-totals text into (globals, {target: counters}).

    `lines` is one line or a list of lines (e.g. 'final totals: received=...'
    followed by per-target lines '... target=NAME sent=N ...'); per-target
    tokens are merged. The text up to `marker` (when a line holds it) or up to
    the first key=value token is ignored (timestamp, level). `queue=D/C`
    becomes queue_depth and queue_capacity. Anything malformed, truncated or
    missing (a global or per-target counter absent, a target twice) is a FAIL
    that prints the raw lines."""
    if isinstance(lines, str):
        lines = [lines]
    lines = [l for l in lines if l.strip()]
    glob, targets = {}, {}
    try:
        if not lines:
            raise StatsError("no stats line at all")
        for l in lines:
            _parse_into(l, marker, glob, targets)
        if require_globals:
            missing = [k for k in GLOBAL_KEYS if k not in glob]
            if missing:
                raise StatsError("globals missing %s (truncated?)" % missing)
        for name, c in targets.items():
            missing = [k for k in target_keys if k not in c]
            if missing:
                raise StatsError("target %s missing %s (truncated?)" % (name, missing))
    except StatsError as e:
        fail("parse_stats: %s; raw line(s):\n%s" % (e, "\n".join(lines)))
    return glob, targets


_TARGET_LINE = re.compile(r"(^|\s)target=\S+ sent=")
_RECEIVED = re.compile(r"\breceived=")


def stats_groups(lines, start):
    """Group log lines into counter reports: a line matching the regex
    `start` (it holds received=, the globals) plus the per-target lines that
    follow it (target=NAME sent=..., without received=), up to the next line
    with received= (whatever report that starts). Other lines in between
    (other threads' messages) are skipped."""
    groups, cur = [], None
    for line in lines:
        if _RECEIVED.search(line):
            cur = [line] if re.search(start, line) else None
            if cur is not None:
                groups.append(cur)
        elif cur is not None and _TARGET_LINE.search(line):
            cur.append(line)
    return groups


def accounted(c):
    """A target's counters: what was sent plus every drop reason."""
    return c["sent"] + c["dropped_send_error"] + c["dropped_queue_full"] + c["dropped_shutdown"]


def check_totals(g, t, offered, targets, healthy=()):
    """The accounting every test checks when it stops the proxy (audit P0-3):
    the final totals list exactly `targets`; nothing was lost for want of a
    buffer; everything `offered` is received or in a drop counter; every
    target accounts for everything received; `healthy` targets sent it all."""
    check(g is not None and t is not None, "final totals present", got=(g, t))
    check(set(t) == set(targets), "targets in final totals: %s, want %s" % (sorted(t), sorted(targets)))
    check(g["no_buffer"] == 0 and g.get("recv_errors", 0) == 0,
          "no_buffer=%d recv_errors=%d; globals: %r" % (g["no_buffer"], g.get("recv_errors", 0), g))
    acc = g["received"] + g["kernel_drops"] + g["oversize"] + g["no_buffer"] + g.get("not_allowed", 0)
    check(acc == offered, "offered %d, accounted %d (received+kernel_drops+oversize+no_buffer+not_allowed): %r"
          % (offered, acc, g))
    for name, c in sorted(t.items()):
        check(accounted(c) == g["received"],
              "%s: sent+drops %d == received %d: %r" % (name, accounted(c), g["received"], c))
    for name in healthy:
        c = t[name]
        check(c["sent"] == g["received"] and accounted(c) == c["sent"],
              "healthy %s: sent %d == received %d, no drops: %r" % (name, c["sent"], g["received"], c))


# ---------------------------------------------------------------- the proxy

Stopped = namedtuple("Stopped", "rc g t")


class Proxy:
    """The real binary, started with `args`; its output (stdout+stderr) is
    read line by line by a thread (never blocks the proxy) and kept. On any
    failure of the test (fail(), check(), an uncaught exception) the tail of
    the log is printed.

    ready: regex that means started (None: do not wait); ready_timeout scales
    with UP_TEST_RATE_SCALE."""

    def __init__(self, args, binary_path=None, ready=r"listening on", ready_timeout=20.0, env=None, prefix=None,
                 cwd=None, name="udp-proxy"):
        self.cmd = list(prefix or []) + [binary_path or binary()] + [str(a) for a in args]
        self.name = name
        self.lines = []
        self.lock = threading.Lock()
        self.rc = None
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, errors="replace", env=env, cwd=cwd)
        self.p = self.proc  # the name the ops tests use
        _Proxies.all.append(self)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        if ready:
            if not self.wait_log(ready, idle_limit(ready_timeout)):
                rc = self.proc.poll()
                fail("%s did not log %r (%s): %s" % (self.name, ready,
                                                    "exited %s" % rc if rc is not None else "still running",
                                                    " ".join(self.cmd)))

    def _read(self):
        for line in self.proc.stdout:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    @property
    def pid(self):
        return self.proc.pid

    # ---- the log
    def log(self):
        with self.lock:
            return "\n".join(self.lines)

    text = log

    def log_lines(self):
        with self.lock:
            return list(self.lines)

    def print_tail(self, n=LOG_TAIL):
        lines = self.log_lines()
        print("---- %s log (last %d of %d lines; %s) ----" % (self.name, min(n, len(lines)), len(lines),
                                                             " ".join(self.cmd)))
        for l in lines[-n:]:
            print(l)
        print("---- end of %s log ----" % self.name, flush=True)

    def find(self, text):
        """Lines containing `text` (a plain substring)."""
        with self.lock:
            return [l for l in self.lines if text in l]

    def grep(self, regex):
        with self.lock:
            return [l for l in self.lines if re.search(regex, l)]

    def count_log(self, regex):
        return len(self.grep(regex))

    def wait_log(self, regex, timeout=10.0, after=0):
        """Wait until more than `after` lines match regex; True/False. Returns
        early (False) when the process exits without the match."""
        end = time.monotonic() + timeout
        while True:
            if self.count_log(regex) > after:
                return True
            if self.proc.poll() is not None:
                self.reader.join(2)
                return self.count_log(regex) > after
            if time.monotonic() >= end:
                return False
            time.sleep(0.02)

    def expect_log(self, regex, timeout=10.0, after=0, what=None):
        """wait_log, or FAIL."""
        ok = self.wait_log(regex, timeout, after)
        check(ok, "%s logged %r (more than %d times) within %ss" % (self.name, what or regex, after, timeout))
        return ok

    # ---- signals
    def send_signal(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def hup(self, expect=r"reload: done|reload failed", timeout=15.0):
        """SIGHUP and wait for one more `expect` line; returns that line."""
        before = self.count_log(expect)
        self.send_signal(signal.SIGHUP)
        self.expect_log(expect, timeout, before, "a reload result")
        return self.grep(expect)[before]

    def wait_exit(self, timeout):
        try:
            self.rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self.reader.join(5)
        return self.rc

    def stop(self, sig=signal.SIGTERM, timeout=20.0, totals=True):
        """Send sig (SIGTERM), wait for the exit: Stopped(rc, g, t), where
        (g, t) are the parsed final totals (None when totals=False or the
        proxy did not exit 0). Not exiting within timeout is a FAIL; a non-zero
        exit prints the log tail (a sanitizer report, a crash)."""
        self.send_signal(sig)
        rc = self.wait_exit(idle_limit(timeout))
        if rc is None:
            self.proc.kill()
            self.wait_exit(5)
            fail("%s did not exit within %ss of signal %d" % (self.name, idle_limit(timeout), sig))
        if rc != 0:
            print("%s exited with %d" % (self.name, rc))
            self.print_tail()
            return Stopped(rc, None, None)
        g = t = None
        if totals:
            g, t = self.final_totals()
        return Stopped(rc, g, t)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.wait_exit(5)

    # ---- counters
    def final_totals(self, marker="final totals:"):
        """(globals, {target: counters}) from the last 'final totals:' report:
        its line and any per-target lines after it (strict: see parse_stats)."""
        groups = stats_groups(self.log_lines(), re.escape(marker) + r".*\breceived=")
        if not groups:
            fail("%s: no %r line in the log" % (self.name, marker))
        return parse_stats(groups[-1], marker)

    def stats_lines(self, marker=" stats "):
        """Every interval stats report, parsed: [(globals, targets), ...]."""
        return [parse_stats(g, marker) for g in stats_groups(self.log_lines(), r"\sstats\s+received=")]

    def removed_totals(self, name):
        """Counters of the 'reload: target NAME removed (drained): ...' line."""
        lines = [l for l in self.log_lines() if "reload: target %s removed" % name in l]
        if not lines:
            fail("%s: no 'reload: target %s removed' line" % (self.name, name))
        _, c = lines[-1].split("): ", 1) if "): " in lines[-1] else ("", lines[-1])
        g, _ = parse_stats(c, require_globals=False, target_keys=TARGET_KEYS)
        missing = [k for k in TARGET_KEYS if k not in g]
        if missing:
            fail("removed-target line lacks %s: %s" % (missing, lines[-1]))
        return g


def run(args, timeout=20, binary_path=None, env=None):
    """Run the binary to completion: (exit status, stdout+stderr)."""
    p = subprocess.run([binary_path or binary()] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout, env=env, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout + p.stderr


# ---------------------------------------------------------------- sinks

class Sink:
    """A target that records every datagram it receives, byte for byte, in a
    thread. addr: "127.0.0.1" / "::1" (a fresh port), (host, port), or
    "unix:/path" / a path (a Unix datagram socket). `target` is the spelling
    for --target. read=False: never read (a stalled target).

    The receive buffer is big (forced as root) so a sink thread held back by
    the GIL or a loaded machine does not lose what the proxy delivered."""

    def __init__(self, addr=LOOPBACK, rcvbuf=64 << 20, read=True):
        if isinstance(addr, str) and (addr.startswith("unix:") or addr.startswith("/")):
            self.family = socket.AF_UNIX
            self.path = addr[5:] if addr.startswith("unix:") else addr
            bind = self.path
        else:
            host, port = (addr, 0) if isinstance(addr, str) else addr
            self.family = family_of(host)
            self.path = None
            bind = (host, port)
        self.sock = socket.socket(self.family, socket.SOCK_DGRAM)
        self.rcvbuf = big_rcvbuf(self.sock, rcvbuf) if rcvbuf else None
        if self.path and os.path.exists(self.path):
            os.unlink(self.path)
        self.sock.bind(bind)
        if self.path:
            self.port = None
            self.addr = self.target = "unix:" + self.path
        else:
            self.port = self.sock.getsockname()[1]
            self.addr = self.target = hostport(bind[0], self.port)
        self.got = []
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = None
        if read:
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()

    def _run(self):
        self.sock.settimeout(0.1)
        while not self.stopping:
            try:
                d = self.sock.recv(70000)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.got.append(d)

    def count(self):
        with self.lock:
            return len(self.got)

    def data(self):
        with self.lock:
            return list(self.got)

    def wait_count(self, n, timeout=10.0):
        """Wait (bounded) until at least n arrived; returns the count."""
        end = time.monotonic() + idle_limit(timeout)
        while time.monotonic() < end and self.count() < n:
            time.sleep(0.02)
        return self.count()

    def wait_for(self, n, timeout=20.0, idle=3.0):
        """Wait until n arrived, or nothing new came for `idle` seconds
        (scaled for slow builds), or timeout; returns the count."""
        end = time.monotonic() + idle_limit(timeout)
        last, last_change = -1, time.monotonic()
        while time.monotonic() < end and self.count() < n:
            c = self.count()
            if c != last:
                last, last_change = c, time.monotonic()
            elif time.monotonic() - last_change > idle_limit(idle):
                break
            time.sleep(0.05)
        return self.count()

    def settle(self, quiet=0.5, timeout=10.0):
        """Wait until nothing arrived for `quiet` seconds (bounded); the count."""
        end = time.monotonic() + idle_limit(timeout)
        last = -1
        while time.monotonic() < end:
            c = self.count()
            if c == last:
                return c
            last = c
            time.sleep(quiet)
        return self.count()

    def summary(self, quiet=0.5, timeout=30):
        """Wait until nothing new came for `quiet` seconds, close, and return
        {"count", "bytes", "data"} of what arrived."""
        self.settle(quiet, timeout)
        got = self.data()
        self.close()
        return {"count": len(got), "bytes": sum(len(d) for d in got), "data": got}

    def kernel_drops(self):
        """The kernel's drop count for this (UDP) sink's socket, or -1."""
        if self.port is None:
            return -1
        for f in ("/proc/net/udp", "/proc/net/udp6"):
            try:
                with open(f) as fh:
                    for line in fh.read().splitlines()[1:]:
                        cols = line.split()
                        if int(cols[1].split(":")[1], 16) == self.port:
                            return int(cols[-1])
            except OSError:
                pass
        return -1

    def close(self):
        self.stopping = True
        if self.thread:
            self.thread.join(2)
        self.sock.close()
        if self.path and os.path.exists(self.path):
            os.unlink(self.path)


def check_received(sink, sent, what=None, ordered=False):
    """The sink got exactly `sent`, byte for byte (as a multiset, or in order).
    The message says which: the count or the content."""
    got = sink.data()
    what = what or sink.addr
    check(len(got) == len(sent), "%s: received %d datagrams, sent %d" % (what, len(got), len(sent)))
    if ordered:
        bad = next((i for i, (a, b) in enumerate(zip(got, sent)) if a != b), None)
        check(bad is None, "%s: in order, byte for byte (first difference at #%s)" % (what, bad))
    else:
        diff = Counter(got)
        diff.subtract(Counter(sent))
        extra = sum(v for v in diff.values() if v > 0)
        check(extra == 0, "%s: byte for byte (%d datagrams differ from what was sent)" % (what, extra))


def udp_sockets_of(pid, port):
    """How many UDP sockets bound to `port` the process `pid` holds
    (/proc/net/udp[6] inodes against /proc/PID/fd)."""
    inodes = set()
    for f in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(f) as fh:
                for line in fh.read().splitlines()[1:]:
                    cols = line.split()
                    if int(cols[1].split(":")[1], 16) == port:
                        inodes.add(cols[9])
        except OSError:
            pass
    n = 0
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            link = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            n += 1
    return n


# ---------------------------------------------------------------- senders

def _pace(socks, addr, data, rate, burst, deadline, counter, stop=None):
    start = time.monotonic()
    for i, d in enumerate(data):
        sock = socks[i % len(socks)]
        while True:
            try:
                sock.sendto(d, addr)
                break
            except (BlockingIOError, InterruptedError):
                time.sleep(0.001)
            except OSError as e:
                if e.errno != 105:  # ENOBUFS: retry
                    raise
                time.sleep(0.001)
        counter(i + 1)
        if i % burst == burst - 1:
            now = time.monotonic()
            if now > deadline or (stop is not None and stop()):
                return
            ahead = start + (i + 1) / rate - now
            if ahead > 0:
                time.sleep(ahead)


def _sender_proc(addr, family, bind, data, rate, burst, max_seconds, shared, nsocks):
    socks = [socket.socket(family, socket.SOCK_DGRAM) for _ in range(nsocks)]
    if bind:
        socks[0].bind(bind)

    def counter(n):
        shared.value = n

    _pace(socks, addr, data, rate, burst, time.monotonic() + max_seconds, counter)
    for s in socks:
        s.close()


class Sender:
    """Sends `data` (a list of bytes) to addr at about `rate` datagrams per
    second (times UP_TEST_RATE_SCALE unless scale=False), in a thread (or a
    process of its own with process=True, off the GIL). Bounded in count
    (len(data)) and time (max_seconds). `sent` is how many went out so far.
    addr: (host, port), "host:port", or a Unix path ("unix:/p" or "/p").
    nsocks: send round-robin from that many sockets (source ports). stop()
    ends a threaded sender early."""

    def __init__(self, addr, data, rate=2000, family=None, bind=None, burst=None, max_seconds=120.0, scale=True,
                 process=False, start=True, nsocks=1):
        if isinstance(addr, str):
            if addr.startswith("unix:") or addr.startswith("/"):
                addr, family = (addr[5:] if addr.startswith("unix:") else addr), socket.AF_UNIX
            else:
                host, _, port = addr.rpartition(":")
                addr = (host.strip("[]"), int(port))
        if family is None:
            family = family_of(addr[0]) if isinstance(addr, tuple) else socket.AF_UNIX
        self.addr, self.family, self.bind, self.data = addr, family, bind, list(data)
        self.rate = scaled(rate) if scale else rate
        self.burst = burst or max(1, self.rate // 1000)
        self.max_seconds = max_seconds
        self.process = process
        self.nsocks = nsocks
        self._stop = False
        self._sent = 0
        self._shared = None
        self.error = None
        self.elapsed = None
        if start:
            self.start()

    def start(self):
        self.t0 = time.monotonic()
        if self.process:
            ctx = mp.get_context("fork")
            self._shared = ctx.Value("q", 0, lock=False)
            self.t = ctx.Process(target=_sender_proc, daemon=True,
                                 args=(self.addr, self.family, self.bind, self.data, self.rate, self.burst,
                                       self.max_seconds, self._shared, self.nsocks))
        else:
            self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()
        return self

    def _run(self):
        socks = [socket.socket(self.family, socket.SOCK_DGRAM) for _ in range(self.nsocks)]
        try:
            if self.bind:
                socks[0].bind(self.bind)
            for s in socks:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)

            def counter(n):
                self._sent = n

            _pace(socks, self.addr, self.data, self.rate, self.burst, self.t0 + self.max_seconds, counter,
                  lambda: self._stop)
        except OSError as e:
            self.error = e
            raise
        finally:
            for s in socks:
                s.close()

    def stop(self):
        """End a threaded sender now; returns how many were sent."""
        self._stop = True
        return self.join()

    @property
    def exitcode(self):
        """None while running, 0 when done, non-zero when the send failed."""
        if self.process:
            return self.t.exitcode
        if self.t.is_alive():
            return None
        return 1 if self.error else 0

    @property
    def sent(self):
        return self._shared.value if self._shared is not None else self._sent

    def join(self, timeout=None):
        """Wait for the end (bounded); returns how many were sent."""
        self.t.join(timeout if timeout is not None else self.max_seconds + 30)
        if self.t.is_alive():
            fail("sender still running after %ss (sent %d of %d)" % (timeout, self.sent, len(self.data)))
        if self.error is not None or (self.process and self.t.exitcode != 0):
            fail("sender to %r failed after %d of %d datagrams: %s"
                 % (self.addr, self.sent, len(self.data), self.error or "exit %s" % self.t.exitcode))
        self.elapsed = time.monotonic() - self.t0
        return self.sent


def send_paced(payloads, addr, rate, family=None):
    """Send payloads to addr at about `rate` per second (scaled), in this
    thread; returns the seconds it took."""
    s = Sender(addr, payloads, rate, family=family)
    s.join()
    return s.elapsed


# ---------------------------------------------------------------- payloads

def payloads(n, tag=b"m"):
    """n small distinct DogStatsD counters."""
    return [b"%s.%d:1|c|#seq:%d" % (tag, i, i) for i in range(n)]


def sized_payloads(n, size, tag=b"big"):
    """n distinct datagrams of exactly `size` bytes (size >= 24)."""
    return [(b"%s.%d:1|c|#seq:%d|" % (tag, i, i)).ljust(size, b"x") for i in range(n)]


def seq_payload(seq):
    """A DogStatsD-sized datagram carrying its sequence number (first 13 bytes)."""
    return b"seq%010d.page.views:1|c|#env:test,service:udp-proxy,host:web-%03d" % (seq, seq % 1000)


def seq_payloads(n, first=0):
    """seq_payload(first) .. seq_payload(first + n - 1)."""
    return [seq_payload(first + i) for i in range(n)]


def seq_numbers(datagrams):
    """The sequence numbers of the seq_payload() datagrams among `datagrams`."""
    return [int(d[3:13]) for d in datagrams if d.startswith(b"seq")]


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


def same_multiset(got, sent):
    return Counter(got) == Counter(sent)


# ---------------------------------------------------------------- HTTP (loopback, never via a proxy)

class ProtocolError(AssertionError):
    """A malformed HTTP answer or Prometheus text. An AssertionError, so a
    test hammering the server can count it; uncaught it fails the test
    (traceback, then the proxy logs)."""


class ScrapeError(ProtocolError):
    """/metrics did not answer 200 text/plain."""


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def urlopen(url, timeout=10, data=None):
    """urllib without any http_proxy from the environment (127.0.0.1 is not
    bypassed by default)."""
    return _OPENER.open(url, data=data, timeout=timeout)


def http_get(url, timeout=10):
    """(status, body bytes) of a GET; an HTTP error status is returned, not raised."""
    try:
        with urlopen(url, timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def http(port, request, timeout=10, host=LOOPBACK, family=None):
    """Send raw request bytes, read the answer to the end: (status, headers
    with lower-case names, body bytes)."""
    with socket.socket(family or family_of(host), socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect((host, port))
        s.sendall(request)
        return parse_response(read_to_end(s), head_request=request.split(b" ", 1)[0] == b"HEAD")


def read_to_end(sock):
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def parse_response(data, head_request=None):
    """(status, headers, body) of one HTTP/1.1 answer. The body must match
    Content-Length; an empty body is accepted only for a HEAD request (or
    when head_request is None, i.e. unknown)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise ProtocolError("no complete HTTP answer: %r" % data[:200])
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.1 (\d{3}) [^\r\n]*$", lines[0])
    if not m:
        raise ProtocolError("bad HTTP status line %r" % lines[0])
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "content-length" not in headers:
        raise ProtocolError("HTTP answer without Content-Length: %r" % head)
    clen = int(headers["content-length"])
    ok = clen == len(body) or (body == b"" and head_request is not False)
    if not ok:
        raise ProtocolError("HTTP body of %d bytes, Content-Length %d (%s request)" % (len(body), clen,
                                                                        "HEAD" if head_request else "GET"))
    return int(m.group(1)), headers, body


def get(port, path, method="GET", timeout=10, host=LOOPBACK):
    req = "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: udp-proxy-test\r\n\r\n" % (method, path, hostport(host, port))
    return http(port, req.encode(), timeout, host=host)


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse_prometheus(text):
    """{(name, ((label, value), ...)): float} from the text format (strict)."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise ProtocolError("bad Prometheus sample line %r" % line)
        labels = []
        if m.group(3):
            pos = 0
            while pos < len(m.group(3)):
                lm = _LABEL.match(m.group(3), pos)
                if not lm:
                    raise ProtocolError("bad labels in %r" % line)
                labels.append((lm.group(1), lm.group(2)))
                pos = lm.end()
        out[(m.group(1), tuple(sorted(labels)))] = float(m.group(4))
    return out


def try_scrape(port, host=LOOPBACK):
    """Samples of /metrics, or raise ScrapeError with the status and body."""
    status, headers, body = get(port, "/metrics", host=host)
    if status != 200:
        raise ScrapeError("/metrics answered %d: %r" % (status, body[:200]))
    if not headers.get("content-type", "").startswith("text/plain; version=0.0.4"):
        raise ScrapeError("/metrics content-type %r" % headers.get("content-type"))
    return parse_prometheus(body.decode())


def scrape(port, host=LOOPBACK):
    """Samples of /metrics; anything but a 200 text/plain answer raises
    ScrapeError (an AssertionError: uncaught, the test fails with it)."""
    return try_scrape(port, host)


def value(samples, name, **labels):
    key = (name, tuple(sorted(labels.items())))
    if key not in samples:
        fail("no sample %s%r in the scrape (%d samples)" % (name, labels, len(samples)))
    return samples[key]


def drained(port, n, targets):
    """The samples once /metrics accounts for all n datagrams offered
    (received, or dropped by the kernel) and every target has settled
    (sent + drops == received); False before. drained.last holds the last
    status/error and non-zero counters."""
    try:
        s = try_scrape(port)
    except (OSError, ProtocolError) as e:
        drained.last = "scrape failed: %s" % e
        return False
    drained.last = {k[0] + str(dict(k[1]) if k[1] else ""): v for k, v in s.items()
                    if k[0].endswith("_total") and v}
    received = s.get(("udp_proxy_received_datagrams_total", ()), 0)
    kernel = sum(v for k, v in s.items() if k[0] == "udp_proxy_kernel_receive_drops_total")
    if received + kernel != n:
        return False
    for t in targets:
        done = s.get(("udp_proxy_sent_datagrams_total", (("target", t),)), 0)
        for reason in ("queue_full", "send_error", "shutdown"):
            done += s.get(("udp_proxy_dropped_datagrams_total", (("reason", reason), ("target", t))), 0)
        if done != received:
            return False
    return s


drained.last = None


def wait_drained(port, n, targets, timeout):
    """Wait until drained(); a FAIL shows the last scrape error or counters."""
    drained.last = None
    end = time.monotonic() + idle_limit(timeout)
    while True:
        s = drained(port, n, targets)
        if s:
            return s
        if time.monotonic() >= end:
            fail("timed out after %ss waiting for %d datagrams accounted in /metrics; last: %s"
                 % (idle_limit(timeout), n, drained.last))
        time.sleep(0.2)
