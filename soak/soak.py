#!/usr/bin/env python3
"""soak.py - hours of traffic under scheduled faults, with every datagram
accounted for (issue 14). Run by `make soak` (SOAK_SECONDS, default 600) and
`make soak-ci` (60 s); never part of `make test`.

Setup, inside private mount and network namespaces (unshare -m -n, as root):
a loopback of its own, so the kernel's UDP counters (/proc/net/snmp) count
this soak's datagrams and nobody else's, and a private /etc/hosts for the
named target (as tests/integration/ops_dns.py does). Fixed ports are safe in
there.

  udp-loadgen --rate SOAK_RATE (realistic DogStatsD mix, 1% large up to 8 KiB,
      every datagram numbered and checksummed)
        -> udp-proxy --config soak.conf --metrics-listen 127.0.0.1:9102
             -> udp     127.0.0.1:8126                   soak-sink "udp"
             -> unix:   DIR/dsd.sock                      soak-sink "unix"
             -> named   up-target.soak:8127 (hosts file)  soak-sink "named"
                        at 127.0.0.1:8127 and at 127.0.0.2:8127 (DNS moves)
             -> otel    127.0.0.1:8129,dialect=otel,max-datagram=8192
                        (only when --check-config accepts it)
             -> added   127.0.0.1:8128 (between a SIGHUP that adds it and
                        one that removes it)

Faults, one every 15-30 s (seeded, fixed order; a short soak spreads one of
each evenly): a target killed and restarted, a target stopped 5 s, the Unix
target's socket removed then recreated, a reload adding a target then one
removing it, a reload of a broken file, a DNS move, a 2 s burst at 3x. The
sampler scrapes /metrics every second throughout.

Checks (each a line in REPORT.md; the exit status is 1 if any fails):
  books     sent + dropped_* == received for every target, once traffic stops
  sinks     what each sink got + its kernel drops == the proxy's sent
            (the UDP target that was killed also loses what reached no socket:
            the namespace's Udp NoPorts)
  windows   every datagram a target lost was sent inside a fault window that
            touched that target (sequence numbers -> send times)
  integrity no duplicate, no corrupt datagram at any sink
  memory    RSS after the first minute grows <= 2 MiB; open fds constant
  log       log lines per minute under a budget
  process   one pid all along, exit status 0, no sanitizer report

Environment: SOAK_SECONDS, SOAK_RATE, SOAK_SEED, SOAK_BUILD (build folder,
e.g. build-asan), SOAK_PROXY (another udp-proxy binary, with this build's
udp-loadgen and soak-sink), SOAK_OUT (where REPORT.md, soak.png and the log
go; default soak/), SOAK_LOG_BUDGET (lines per minute, default 60).
"""
import bisect
import fcntl
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
RATE = int(os.environ.get("SOAK_RATE", "30000"))
SEED = int(os.environ.get("SOAK_SEED", "14"))
BUILD = os.path.join(ROOT, os.environ.get("SOAK_BUILD", "build"))
OUT = os.path.abspath(os.environ.get("SOAK_OUT", HERE))
LOG_BUDGET = int(os.environ.get("SOAK_LOG_BUDGET", "60"))
RSS_GROWTH_MAX = 2 << 20
BIN, LOADGEN, SINK = (os.path.join(BUILD, n) for n in ("udp-proxy", "udp-loadgen", "soak-sink"))
BIN = os.path.abspath(os.environ.get("SOAK_PROXY") or BIN)  # soak another udp-proxy with this build's tools
NAME = "up-target.soak"
SRC, METRICS, P_UDP, P_NAMED, P_ADDED, P_OTEL = 8125, 9102, 8126, 8127, 8128, 8129
BURST_SEQ0 = 1 << 30  # bursts are numbered from here, 1<<24 per burst
SLACK_BEFORE, SLACK_AFTER = 0.5, 3.0  # a fault window's margins, seconds


def say(msg):
    print("soak: %s" % msg, flush=True)


# ---- namespaces ------------------------------------------------------------

def enter_namespaces():
    if os.environ.get("SOAK_NS") == "1":
        return
    if os.geteuid() != 0 or not shutil.which("unshare"):
        print("soak: skip: needs root and unshare(1) for private mount and network namespaces")
        sys.exit(77)
    probe = subprocess.run(["unshare", "-m", "-n", "--propagation", "private", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        print("soak: skip: cannot make private namespaces here (unshare -m -n: %s)" % probe.stderr.strip())
        sys.exit(77)
    env = dict(os.environ, SOAK_NS="1")
    r = subprocess.run(["unshare", "-m", "-n", "--propagation", "private", sys.executable] + sys.argv, env=env)
    sys.exit(r.returncode)


def write(path, text):
    """In place (same inode: the bind mount sees it)."""
    with open(path, "w") as f:
        f.write(text)


def snmp_udp():
    """The namespace's Udp counters from /proc/net/snmp."""
    with open("/proc/net/snmp") as f:
        lines = [ln.split() for ln in f if ln.startswith("Udp:")]
    return {k: int(v) for k, v in zip(lines[0][1:], lines[1][1:])}


# ---- processes -------------------------------------------------------------

class Sink:
    """One soak-sink process (an incarnation); several make a target's sink."""

    def __init__(self, label, listen, d, n, raw=False):
        self.label, self.listen, self.raw = label, listen, raw
        self.seen = os.path.join(d, "%s.%d.seen" % (label.replace(":", "_"), n))
        cmd = [SINK, "--listen", listen, "--seen", self.seen, "--progress", "0.5"] + (["--raw"] if raw else [])
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        self.last, self.final, self.series = None, None, []
        self.ready = threading.Event()
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()
        if not self.ready.wait(10):
            raise RuntimeError("sink %s did not start" % listen)

    def _read(self):
        for line in self.p.stdout:
            f = line.split()
            if not f:
                continue
            kv = {k: float(v) if k == "t" else int(v) for k, v in (x.split("=", 1) for x in f[1:])}
            self.last = kv
            self.series.append(kv)
            if f[0] == "ready":
                self.ready.set()
            elif f[0] == "final":
                self.final = kv

    def signal(self, sig):
        if self.p.poll() is None:
            self.p.send_signal(sig)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGCONT)
            self.p.send_signal(signal.SIGTERM)
        self.p.wait(30)
        self.t.join(5)
        if self.final is None:
            raise RuntimeError("sink %s gave no final line (exit %s)" % (self.listen, self.p.returncode))
        return self.final

    def ranges(self):
        with open(self.seen) as f:
            return [tuple(int(x) for x in ln.split()) for ln in f if ln.strip()]


class Target:
    """A proxy target and the sink incarnations behind it."""

    def __init__(self, key, metric_name, kind, spec=None):
        self.key, self.name, self.kind = key, metric_name, kind
        self.spec = spec or metric_name  # as written in the config file
        self.sinks = []  # every incarnation, live or stopped
        self.live = {}  # listen address -> live Sink

    def counted(self, field):
        """Sum of `field` over every incarnation (final if stopped, else latest)."""
        tot = 0
        for s in self.sinks:
            v = s.final or s.last or {}
            tot += v.get(field, 0)
        return tot


class Proxy:
    def __init__(self, args, logpath):
        self.cmd = [BIN] + args
        self.logf = open(logpath, "w")
        self.p = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []  # (time, line)
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stdout:
            now = time.time()
            self.logf.write("%.3f %s" % (now, line))
            self.logf.flush()
            with self.lock:
                self.lines.append((now, line.rstrip("\n")))

    def count(self, pattern):
        with self.lock:
            return sum(1 for _, ln in self.lines if re.search(pattern, ln))

    def wait_log(self, pattern, timeout, after=0):
        end = time.time() + timeout
        while time.time() < end:
            if self.count(pattern) > after:
                return True
            if self.p.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def text(self):
        with self.lock:
            return "\n".join(ln for _, ln in self.lines)


# ---- /metrics ----------------------------------------------------------------

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def scrape():
    """{(name, (("label", "value"), ...)): value} from /metrics."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % METRICS, timeout=5) as r:
        body = r.read().decode()
    out = {}
    for ln in body.splitlines():
        if not ln or ln[0] == "#":
            continue
        m = LINE.match(ln)
        if m:
            labels = tuple(sorted(LABEL.findall(m.group(2) or "")))
            out[(m.group(1), labels)] = float(m.group(3))
    return out


def tval(snap, name, target, **extra):
    labels = dict(extra, target=target)
    return snap.get((name, tuple(sorted(labels.items()))), 0.0)


def reasons(snap, target):
    return {dict(lb).get("reason"): v for (n, lb), v in snap.items()
            if n == "udp_proxy_dropped_datagrams_total" and dict(lb).get("target") == target}


def proc_stats(pid):
    """(RSS, open descriptors) of pid."""
    rss = 0
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                rss = int(ln.split()[1]) * 1024
    return rss, len(os.listdir("/proc/%d/fd" % pid))


def pool_rss(pid):
    """Resident and mapped bytes of udp-proxy's buffer pools. Each pool is a
    reservation of address space (PROT_NONE) committed read-write in runs of
    packets as datagrams first need them (src/pool.c, src/posix/vmem.c), so in
    /proc/PID/smaps a pool is a run of adjacent anonymous mappings, part
    read-write and part inaccessible. Every such run whose inaccessible part
    is larger than a guard page (64 KiB; thread stacks have 4 KiB guards)
    counts here; glibc's per-thread malloc arenas have the same shape and are
    counted with it, so the check outside the pool covers the main heap and
    every other mapping."""
    vmas = []  # [start, end, perms, name, rss_kib]
    with open("/proc/%d/smaps" % pid) as f:
        for ln in f:
            fields = ln.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+$", fields[0]):
                a, b = (int(x, 16) for x in fields[0].split("-"))
                vmas.append([a, b, fields[1], fields[5] if len(fields) > 5 else "", 0])
            elif fields[0] == "Rss:" and vmas:
                vmas[-1][4] = int(fields[1])
    rss = size = 0
    i = 0
    while i < len(vmas):
        j = i
        while j + 1 < len(vmas) and vmas[j + 1][0] == vmas[j][1] and vmas[j + 1][3] == "" and vmas[i][3] == "":
            j += 1
        group = vmas[i:j + 1]
        none = sum(v[1] - v[0] for v in group if v[2].startswith("---"))
        if group[0][3] == "" and none > 64 * 1024:
            rss += sum(v[4] for v in group) * 1024
            size += sum(v[1] - v[0] for v in group)
        i = j + 1
    return rss, size


# ---- sequence-number ranges (sorted, inclusive, disjoint) ----------------------

def intersect(xs, ys):
    out, i, j = [], 0, 0
    while i < len(xs) and j < len(ys):
        a, b = max(xs[i][0], ys[j][0]), min(xs[i][1], ys[j][1])
        if a <= b:
            out.append((a, b))
        if xs[i][1] < ys[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(xs, ys):
    out = []
    for a, b in xs:
        cur = a
        for c, d in ys:
            if d < cur or c > b:
                continue
            if c > cur:
                out.append((cur, c - 1))
            cur = max(cur, d + 1)
        if cur <= b:
            out.append((cur, b))
    return out


# ---- the soak ----------------------------------------------------------------

class Soak:
    def __init__(self):
        self.d = tempfile.mkdtemp(prefix="up-soak-")
        self.rng = random.Random(SEED)
        self.faults = []  # dicts: kind, targets, t0, t1, note
        self.samples = []
        self.failures = []
        self.results = []  # (check, ok, detail)
        self.gens = []  # (label, Popen, [(t, seq)], first_seq)
        self.stop_sampler = threading.Event()
        self.hosts = os.path.join(self.d, "hosts")
        self.conf = os.path.join(self.d, "soak.conf")
        self.unix_path = os.path.join(self.d, "dsd.sock")
        self.named_at = "127.0.0.1"
        self.incarnation = 0
        self.burst_n = 0
        self.stop_turn = 0

    # -- setup
    def namespace(self):
        # ip link set lo up, without needing iproute2: SIOCGIFFLAGS/SIOCSIFFLAGS.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            req = struct.pack("16sH14x", b"lo", 0)
            flags = struct.unpack("16sH14x", fcntl.ioctl(s, 0x8913, req))[1]
            fcntl.ioctl(s, 0x8914, struct.pack("16sH14x", b"lo", flags | 1))
        # The tuning the README recommends for unix: targets (Kernel tuning): a Unix datagram socket's queue holds
        # net.unix.max_dgram_qlen datagrams (10 by default), so a receiver that is not scheduled for a moment
        # otherwise leaves only the proxy's queue as slack. Per network namespace: the host's value is untouched.
        try:
            write("/proc/sys/net/unix/max_dgram_qlen", "512\n")
        except OSError as e:
            print("soak: note: cannot set net.unix.max_dgram_qlen in the soak's namespace: %s" % e)
        resolv = os.path.join(self.d, "resolv.conf")
        write(self.hosts, "127.0.0.1 localhost\n127.0.0.1 %s\n" % NAME)
        write(resolv, "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        for src, dst in ((self.hosts, "/etc/hosts"), (resolv, "/etc/resolv.conf")):
            subprocess.run(["mount", "--bind", src, dst], check=True)

    def otel_available(self):
        r = subprocess.run([BIN, "--check-config", "--source", "127.0.0.1:%d" % (SRC + 100), "--target",
                            "127.0.0.1:%d,dialect=otel,max-datagram=8192" % P_OTEL],
                           capture_output=True, text=True, timeout=20)
        return r.returncode == 0

    def config(self, extra_target=False, broken=False):
        lines = ["# written by soak/soak.py", "source = 127.0.0.1:%d" % SRC,
                 "metrics-listen = 127.0.0.1:%d" % METRICS, "rcvbuf = 32M", "resolve-interval = 1",
                 "stats-interval = 10"]
        lines += ["target = %s" % t.spec for t in self.static_targets]
        if extra_target:
            lines.append("target = 127.0.0.1:%d" % P_ADDED)
        if broken:
            lines.append("target = 127.0.0.1:notaport")
            lines.append("this is not a setting")
        write(self.conf, "\n".join(lines) + "\n")

    def new_sink(self, target, listen, raw=False):
        self.incarnation += 1
        s = Sink(target.key, listen, self.d, self.incarnation, raw)
        target.sinks.append(s)
        target.live[listen] = s
        return s

    def setup(self):
        self.namespace()
        self.udp = Target("udp", "127.0.0.1:%d" % P_UDP, "udp")
        self.unix = Target("unix", "unix:%s" % self.unix_path, "unix")
        self.named = Target("named", "%s:%d" % (NAME, P_NAMED), "udp")
        self.static_targets = [self.udp, self.unix, self.named]
        self.otel = None
        if self.otel_available():
            # The target label is the address (the options are not part of it).
            self.otel = Target("otel", "127.0.0.1:%d" % P_OTEL, "udp",
                               "127.0.0.1:%d,dialect=otel,max-datagram=8192" % P_OTEL)
            self.static_targets.append(self.otel)
            say("otel target: enabled (--check-config accepts dialect=otel,max-datagram=8192)")
        else:
            say("otel target: not available in this build (--check-config refuses dialect=otel); left out")
        self.added = Target("added", "127.0.0.1:%d" % P_ADDED, "udp")
        self.new_sink(self.udp, "127.0.0.1:%d" % P_UDP)
        self.new_sink(self.unix, "unix:%s" % self.unix_path)
        self.new_sink(self.named, "127.0.0.1:%d" % P_NAMED)
        self.new_sink(self.named, "127.0.0.2:%d" % P_NAMED)
        if self.otel:
            self.new_sink(self.otel, "127.0.0.1:%d" % P_OTEL, raw=True)
        self.config()
        self.snmp0 = snmp_udp()
        self.proxy = Proxy(["--config", self.conf], os.path.join(self.d, "proxy.log"))
        if not self.proxy.wait_log(r"metrics: serving", 15) or not self.proxy.wait_log(r"listening on", 5):
            raise RuntimeError("udp-proxy did not start:\n" + self.proxy.text())
        self.pid = self.proxy.p.pid
        self.t_start = time.time()

    # -- traffic
    def loadgen(self, label, rate, count, first, seconds):
        cmd = [LOADGEN, "--target", "127.0.0.1:%d" % SRC, "--rate", str(rate), "--count", str(count),
               "--first-seq", str(first), "--seed", str(SEED), "--large-share", "1",
               "--max-seconds", str(seconds), "--progress", "0.25"]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        prog = []
        g = {"label": label, "p": p, "progress": prog, "first": first, "count": count, "summary": None}

        def read_err():
            for ln in p.stderr:
                m = re.match(r"progress t=(\S+) seq=(\d+)", ln)
                if m:
                    prog.append((float(m.group(1)), int(m.group(2))))

        def read_out():
            g["summary"] = p.stdout.read()
        for fn in (read_err, read_out):
            threading.Thread(target=fn, daemon=True).start()
        self.gens.append(g)
        return g

    # -- the sampler: once a second
    def sampler(self):
        while not self.stop_sampler.is_set():
            t = time.time()
            row = {"t": t}
            try:
                # Descriptors: the lowest of three readings 50 ms apart, so a
                # file open for an instant (the resolver reading /etc/hosts
                # every --resolve-interval, a reload reading the config) is
                # not taken for a leak; a leaked one stays.
                readings = []
                for i in range(3):
                    if i:
                        time.sleep(0.05)
                    readings.append(proc_stats(self.pid))
                row["rss"], row["fds"] = readings[-1][0], min(r[1] for r in readings)
                row["fds_max"] = max(r[1] for r in readings)
                row["pool"], row["pool_size"] = pool_rss(self.pid)
            except OSError:
                row["rss"], row["fds"] = None, None
            try:
                row["m"] = scrape()
            except Exception as e:  # noqa: BLE001 - a failed scrape is recorded, and fails the soak
                row["m"] = None
                row["err"] = str(e)
            row["sinks"] = {tg.key: tg.counted("datagrams") for tg in self.all_targets()}
            row["offered"] = sum(self.sent_by(g, t) for g in self.gens)
            if self.proxy.p.poll() is not None:
                row["dead"] = self.proxy.p.returncode
            self.samples.append(row)
            self.stop_sampler.wait(max(0.0, 1.0 - (time.time() - t)))

    def all_targets(self):
        return self.static_targets + [self.added]

    @staticmethod
    def sent_by(g, t):
        """Datagrams generator g had sent by time t (from its progress lines)."""
        n = 0
        for pt, seq in g["progress"]:
            if pt > t:
                break
            n = seq - g["first"]
        return n

    # -- faults
    def fault(self, kind, targets, note=""):
        f = {"kind": kind, "targets": targets, "t0": time.time(), "t1": None, "note": note}
        self.faults.append(f)
        say("%6.1f s  fault %s %s" % (f["t0"] - self.t_start, kind, note))
        return f

    def f_kill(self):
        f = self.fault("kill", ["udp"], "udp target's receiver killed, restarted 2 s later")
        s = self.udp.live.pop("127.0.0.1:%d" % P_UDP)
        s.stop()
        time.sleep(2)
        self.new_sink(self.udp, "127.0.0.1:%d" % P_UDP)
        f["t1"] = time.time()

    def f_stop(self):
        tg = [self.unix, self.udp][self.stop_turn % 2]
        self.stop_turn += 1
        f = self.fault("sigstop", [tg.key], "%s target's receiver stopped 5 s" % tg.key)
        s = list(tg.live.values())[0]
        s.signal(signal.SIGSTOP)
        time.sleep(5)
        s.signal(signal.SIGCONT)
        f["t1"] = time.time()

    def f_unix(self):
        f = self.fault("unix-socket", ["unix"], "socket file removed; receiver gone 1 s later; new socket at 2 s")
        os.unlink(self.unix_path)
        time.sleep(1)
        self.unix.live.pop("unix:%s" % self.unix_path).stop()
        time.sleep(1)
        self.new_sink(self.unix, "unix:%s" % self.unix_path)
        f["t1"] = time.time()

    def hup(self, expect):
        before = self.proxy.count(expect)
        self.proxy.p.send_signal(signal.SIGHUP)
        if not self.proxy.wait_log(expect, 20, before):
            self.fail("reload: no '%s' in the log after SIGHUP" % expect)

    def f_hup_add(self):
        f = self.fault("reload-add", [], "SIGHUP adds 127.0.0.1:%d" % P_ADDED)
        self.new_sink(self.added, "127.0.0.1:%d" % P_ADDED)
        self.config(extra_target=True)
        self.hup(r"reload: done: .* 1 added")
        f["t1"] = time.time()

    def f_hup_remove(self):
        f = self.fault("reload-remove", ["added"], "SIGHUP removes 127.0.0.1:%d" % P_ADDED)
        self.config(extra_target=False)
        self.hup(r"reload: done: .* 1 removed")
        time.sleep(1)
        for s in list(self.added.live.values()):
            s.stop()
        self.added.live.clear()
        f["t1"] = time.time()

    def f_broken(self):
        f = self.fault("reload-broken", [], "SIGHUP with a broken file; running config stays")
        self.config(broken=True)
        self.hup(r"reload failed")
        self.config(extra_target=bool(self.added.live))
        f["t1"] = time.time()

    def f_dns(self):
        to = "127.0.0.2" if self.named_at == "127.0.0.1" else "127.0.0.1"
        f = self.fault("dns-move", [], "%s: %s -> %s" % (NAME, self.named_at, to))
        moved = r"address changed: %s:%d -> %s:%d" % (re.escape(self.named_at), P_NAMED, re.escape(to), P_NAMED)
        before = self.proxy.count(moved)  # the same move may have happened in an earlier round
        write(self.hosts, "127.0.0.1 localhost\n%s %s\n" % (to, NAME))
        if not self.proxy.wait_log(moved, 15, before):
            self.fail("DNS move %s -> %s not seen in the log" % (self.named_at, to))
        self.named_at = to
        f["t1"] = time.time()

    def f_burst(self):
        f = self.fault("burst", ["udp", "unix", "named", "otel", "added"], "2 s at 3x (a second sender at 2x)")
        first = BURST_SEQ0 + self.burst_n * (1 << 24)
        self.burst_n += 1
        g = self.loadgen("burst%d" % self.burst_n, 2 * RATE, 4 * RATE, first, 10)
        g["p"].wait(30)
        f["t1"] = time.time()

    def schedule(self):
        kinds = ["kill", "stop", "unix", "hup", "broken", "dns", "burst"]
        order = []
        warm, tail = (5.0, 10.0) if SECONDS < 300 else (20.0, 20.0)
        span = SECONDS - warm - tail
        compressed = span < 8 * 22.5
        t, events = warm, []
        while True:
            if not order:
                order = kinds[:]
                self.rng.shuffle(order)
            k = order.pop(0)
            seq = ["hup_add", "hup_remove"] if k == "hup" else [k]
            for e in seq:
                events.append((t, e))
                t += span / 8 if compressed else self.rng.uniform(15, 30)
            if t > warm + span or (compressed and len(events) >= 8):
                break
        return [(t, e) for t, e in events if t <= warm + span]

    def fail(self, msg):
        say("FAIL: " + msg)
        self.failures.append(msg)

    # -- the run
    def run(self):
        self.setup()
        events = self.schedule()
        say("schedule (seed %d): %s" % (SEED, ", ".join("%.0fs %s" % e for e in events)))
        smp = threading.Thread(target=self.sampler, daemon=True)
        smp.start()
        self.main = self.loadgen("main", RATE, RATE * SECONDS, 0, SECONDS + 60)
        handlers = {"kill": self.f_kill, "stop": self.f_stop, "unix": self.f_unix, "hup_add": self.f_hup_add,
                    "hup_remove": self.f_hup_remove, "broken": self.f_broken, "dns": self.f_dns,
                    "burst": self.f_burst}
        for at, e in events:
            delay = self.t_start + at - time.time()
            if delay > 0:
                time.sleep(delay)
            if self.proxy.p.poll() is not None:
                self.fail("udp-proxy exited during the soak (status %s)" % self.proxy.p.returncode)
                break
            handlers[e]()
        self.main["p"].wait(SECONDS + 120)
        end = time.time() + 5
        while any(g["summary"] is None for g in self.gens) and time.time() < end:
            time.sleep(0.05)
        self.t_traffic_end = time.time()
        say("traffic stopped: %s" % (self.main["summary"] or "").strip())
        self.drain()
        self.stop_sampler.set()
        smp.join(5)
        self.finish()

    def drain(self):
        """Wait until every queue is empty and the books balance, and the sinks are quiet."""
        end = time.time() + 60
        while time.time() < end:
            m = scrape()
            recv = m.get(("udp_proxy_received_datagrams_total", ()), 0)
            ok = True
            for tg in self.static_targets:
                acc = tval(m, "udp_proxy_sent_datagrams_total", tg.name) + sum(reasons(m, tg.name).values())
                if acc != recv or tval(m, "udp_proxy_queue_depth", tg.name) != 0:
                    ok = False
            if ok:
                break
            time.sleep(0.5)
        last = None
        while time.time() < end:
            now = [tg.counted("datagrams") for tg in self.static_targets]
            if now == last:
                break
            last = now
            time.sleep(1.5)
        self.final_metrics = scrape()
        # Descriptors once the server has closed the scrape's connection:
        # the lowest of a few readings.
        readings = []
        for _ in range(5):
            time.sleep(0.2)
            readings.append(proc_stats(self.pid))
        self.final_proc = (readings[-1][0], min(r[1] for r in readings))

    def finish(self):
        for tg in self.all_targets():
            for s in list(tg.live.values()):
                s.stop()
            tg.live.clear()
        self.snmp1 = snmp_udp()
        self.proxy.p.send_signal(signal.SIGTERM)
        try:
            self.rc = self.proxy.p.wait(60)
        except subprocess.TimeoutExpired:
            self.proxy.p.kill()
            self.rc = self.proxy.p.wait()
        self.proxy.t.join(5)
        self.check()
        self.report()

    # -- checks
    def result(self, check, ok, detail):
        self.results.append((check, ok, detail))
        if not ok:
            self.fail("%s: %s" % (check, detail))

    def seq_time(self, seq):
        """When a sequence number was sent (interpolated from its sender's progress lines)."""
        for g in self.gens:
            if g["first"] <= seq < g["first"] + g["count"]:
                prog = g["progress"]
                if not prog:
                    return None
                if "seqs" not in g:
                    g["seqs"] = [x[1] for x in prog]
                i = bisect.bisect_right(g["seqs"], seq)
                if i == 0:
                    return prog[0][0]
                if i == len(prog):
                    return prog[-1][0]
                (t0, s0), (t1, s1) = prog[i - 1], prog[i]
                return t0 + (t1 - t0) * (seq - s0) / max(1, s1 - s0)
        return None

    def missing(self, tg):
        """Sequence numbers sent but never seen at any of tg's sinks, as ranges."""
        seen = sorted(r for s in tg.sinks for r in s.ranges())
        gaps = []
        for g in self.gens:
            lo, hi = g["first"], g["first"] + self.sent_total(g) - 1
            cur = lo
            for a, b in seen:
                if b < cur or a > hi:
                    continue
                if a > cur:
                    gaps.append((cur, a - 1))
                cur = max(cur, b + 1)
            if cur <= hi:
                gaps.append((cur, hi))
        return gaps

    @staticmethod
    def sent_total(g):
        m = re.search(r"sent=(\d+)", g["summary"] or "")
        return int(m.group(1)) if m else 0

    def window_of(self, key, t):
        for f in self.faults:
            if key in f["targets"] and f["t0"] - SLACK_BEFORE <= t <= (f["t1"] or f["t0"]) + SLACK_AFTER:
                return f
        return None

    def check(self):
        m = self.final_metrics
        recv = m.get(("udp_proxy_received_datagrams_total", ()), 0)
        offered = sum(self.sent_total(g) for g in self.gens)
        kdrops = sum(v for (n, _), v in m.items() if n == "udp_proxy_kernel_receive_drops_total")
        self.figures = {"offered": offered, "received": int(recv), "proxy_kernel_drops": int(kdrops),
                        "oversize": int(m.get(("udp_proxy_oversize_datagrams_total", ()), 0)),
                        "no_buffer": int(m.get(("udp_proxy_no_buffer_datagrams_total", ()), 0))}
        self.result("source", recv + kdrops == offered,
                    "offered %d = received %d + kernel drops at the source %d" % (offered, recv, kdrops))
        # books and sinks per static target
        noports = self.snmp1.get("NoPorts", 0) - self.snmp0.get("NoPorts", 0)
        self.figures["noports"] = noports
        self.per_target = {}
        for tg in self.static_targets:
            sent = tval(m, "udp_proxy_sent_datagrams_total", tg.name)
            rs = reasons(m, tg.name)
            self.result("books %s" % tg.key, sent + sum(rs.values()) == recv,
                        "sent %d + dropped %s = %d, received %d" % (sent, json.dumps({k: int(v) for k, v in rs.items()}),
                                                                   sent + sum(rs.values()), recv))
            got, kd = tg.counted("datagrams"), tg.counted("kernel_drops")
            wire = sent
            packets = tval(m, "udp_proxy_sent_packets_total", tg.name)
            if tg is self.otel and packets:
                wire = packets
            lost_noport = noports if tg is self.udp else 0
            self.result("sink %s" % tg.key, got + kd + lost_noport == wire,
                        "sink got %d + its kernel drops %d%s = %d; proxy sent %d" %
                        (got, kd, (" + NoPorts while dead %d" % noports) if tg is self.udp else "",
                         got + kd + lost_noport, wire))
            if tg is self.otel:
                out = tval(m, "udp_proxy_lines_total", tg.name, direction="out")
                got_lines = tg.counted("lines")
                self.result("lines otel", got_lines == out,
                            "lines the otel sink got %d; lines_total{direction=\"out\"} %d (lines in %d, dropped %s)" % (
                                got_lines, out, tval(m, "udp_proxy_lines_total", tg.name, direction="in"),
                                json.dumps({dict(lb).get("reason"): int(v) for (n, lb), v in m.items()
                                            if n == "udp_proxy_lines_dropped_total" and
                                            dict(lb).get("target") == tg.name})))
            self.per_target[tg.key] = {"sent": int(sent), "dropped": {k: int(v) for k, v in rs.items()},
                                       "sink": got, "sink_kernel_drops": kd, "incarnations": len(tg.sinks)}
        # the added target: its own books from the log line of its removal
        if self.added.sinks:
            got, kd = self.added.counted("datagrams"), self.added.counted("kernel_drops")
            lines = [ln for ln in self.proxy.text().splitlines() if "removed (drained)" in ln and
                     "127.0.0.1:%d" % P_ADDED in ln]
            sent = sum(int(x) for ln in lines for x in re.findall(r"\bsent=(\d+)", ln))
            self.result("sink added", lines and got + kd == sent,
                        "%d add/remove cycle(s): sinks got %d + kernel drops %d; proxy sent %d (its removal lines)"
                        % (len(self.added.sinks), got, kd, sent))
            self.per_target["added"] = {"sent": sent, "sink": got, "sink_kernel_drops": kd,
                                        "incarnations": len(self.added.sinks)}
        # integrity
        bad = {tg.key: (tg.counted("duplicates"), tg.counted("corrupt"), tg.counted("beyond"))
               for tg in self.all_targets() if tg is not self.otel}
        self.result("integrity", all(v == (0, 0, 0) for v in bad.values()),
                    "duplicates/corrupt/unnumbered per target: %s" % bad)
        # windows. A number missing at every static target never got past the
        # source (the kernel dropped it before udp-proxy read it, or it was
        # oversize): that is the source's loss, checked above, not a target's.
        self.window_losses = {}
        outside = {}
        checked = [self.udp, self.unix, self.named]
        miss = {tg.key: self.missing(tg) for tg in checked}
        at_source = miss["udp"]
        for tg in checked[1:]:
            at_source = intersect(at_source, miss[tg.key])
        n_source = sum(b - a + 1 for a, b in at_source)
        self.figures["lost_before_fanout"] = n_source
        self.result("source losses", n_source == kdrops + self.figures["oversize"] + self.figures["no_buffer"],
                    "numbers missing at every target %d = kernel drops at the source + oversize + no buffer %d" % (
                        n_source, kdrops + self.figures["oversize"] + self.figures["no_buffer"]))
        for tg in checked:
            out_n, examples = 0, []
            for a, b in subtract(miss[tg.key], at_source):
                for seq in range(a, b + 1):
                    t = self.seq_time(seq)
                    f = self.window_of(tg.key, t) if t is not None else None
                    if f is None:
                        out_n += 1
                        if len(examples) < 5:
                            examples.append("seq %d at %+.1f s" % (seq, (t or 0) - self.t_start))
                    else:
                        key = (tg.key, self.faults.index(f))
                        self.window_losses[key] = self.window_losses.get(key, 0) + 1
            outside[tg.key] = (out_n, examples)
        self.result("windows", all(v[0] == 0 for v in outside.values()),
                    "datagrams lost outside a fault window that touched the target: %s" %
                    {k: v[0] for k, v in outside.items()} +
                    "".join(" %s e.g. %s;" % (k, ", ".join(v[1])) for k, v in outside.items() if v[0]))
        if self.added.sinks:
            gaps = []
            for s in self.added.sinks:
                rs = s.ranges()
                main_rs = [r for r in rs if r[0] < BURST_SEQ0]
                gaps += [(x[1] + 1, y[0] - 1) for x, y in zip(main_rs, main_rs[1:])]
            self.result("windows added", not gaps,
                        "the added target lost nothing between its add and its removal: gaps %s" % gaps[:5])
        # memory and fds. udp-proxy maps its buffer pool at start and a
        # slot's pages become resident only when a datagram first lands in it
        # (src/pool.c): the pool's RSS rises the first time that many datagrams
        # are in flight at once, up to its mapped size, and that is not growth.
        # The check is on the RSS outside the pool; both are reported.
        warm = min(60.0, SECONDS / 3.0)
        rows = [r for r in self.samples if r.get("rss") and r.get("pool") is not None and
                r["t"] - self.t_start >= warm]
        asan = "asan" in os.path.basename(BUILD) or "tsan" in os.path.basename(BUILD)
        if rows:
            rss0, rss_end = rows[0]["rss"], self.final_proc[0]
            rss_max = max(r["rss"] for r in rows)
            other0 = rows[0]["rss"] - rows[0]["pool"]
            other_max = max(r["rss"] - r["pool"] for r in rows)
            other_end = rows[-1]["rss"] - rows[-1]["pool"]
            pool0, pool_end, pool_size = rows[0]["pool"], rows[-1]["pool"], rows[-1]["pool_size"]
            self.figures.update(rss_start=rss0, rss_max=rss_max, rss_end=rss_end, rss_warm=warm,
                                rss_first=self.samples[0]["rss"], other_start=other0, other_max=other_max,
                                other_end=other_end, pool_start=pool0, pool_end=pool_end, pool_size=pool_size)
            growth = other_max - other0
            detail = ("after %.0f s: RSS %.1f MiB, at the end %.1f MiB; outside the buffer pool %.2f MiB, highest "
                      "after %.2f MiB, at the end %.2f MiB: growth %+.2f MiB (limit 2); the pool's resident part "
                      "%.1f -> %.1f MiB of %.1f MiB mapped" % (
                          warm, rss0 / 2**20, rss_end / 2**20, other0 / 2**20, other_max / 2**20, other_end / 2**20,
                          growth / 2**20, pool0 / 2**20, pool_end / 2**20, pool_size / 2**20))
            if asan:
                self.results.append(("rss", True, detail + " (sanitizer build: reported, not checked)"))
            else:
                self.result("rss", growth <= RSS_GROWTH_MAX, detail)
            # fds outside the windows with the added target
            quiet = [r["fds"] for r in rows if not self.added_at(r["t"])]
            fd_set = sorted(set(quiet))
            self.figures.update(fds=self.final_proc[1], fd_values=fd_set)
            blips = sum(1 for r in rows if r.get("fds_max", 0) > r["fds"])
            self.result("fds", len(fd_set) == 1 and self.final_proc[1] == fd_set[0],
                        "open fds after %.0f s (added target aside; lowest of 3 readings a second): %s, at the end %d "
                        "(%d seconds saw a descriptor open for an instant)" % (
                            warm, fd_set, self.final_proc[1], blips))
        else:
            self.result("rss", False, "no samples after %.0f s" % warm)
        # log budget
        per_min = {}
        for t, _ in self.proxy.lines:
            k = int((t - self.t_start) // 60)
            per_min[k] = per_min.get(k, 0) + 1
        worst = max(per_min.values()) if per_min else 0
        self.figures["log_lines"] = len(self.proxy.lines)
        self.figures["log_worst_minute"] = worst
        self.result("log", worst <= LOG_BUDGET, "%d lines in all, at most %d in a minute (budget %d)" % (
            len(self.proxy.lines), worst, LOG_BUDGET))
        # the process
        dead = [r for r in self.samples if "dead" in r]
        errs = [r for r in self.samples if r.get("m") is None]
        san = re.findall(r"(ERROR: AddressSanitizer.*|runtime error:.*|WARNING: ThreadSanitizer.*|"
                         r"ERROR: LeakSanitizer.*)", self.proxy.text())
        self.result("process", not dead and self.rc == 0 and not san and self.proxy.p.pid == self.pid,
                    "pid %d all along, exit status %d, %d failed scrapes of %d, sanitizer reports: %s" % (
                        self.pid, self.rc, len(errs), len(self.samples), san[:3] or "none"))
        self.result("scrapes", not errs, "%d of %d once-a-second scrapes failed%s" % (
            len(errs), len(self.samples), (": " + errs[0].get("err", "")) if errs else ""))

    def added_at(self, t):
        """True while the added target may exist (from its add to its removal, plus margins)."""
        adds = [f for f in self.faults if f["kind"] == "reload-add"]
        rems = [f for f in self.faults if f["kind"] == "reload-remove"]
        for i, a in enumerate(adds):
            end = rems[i]["t1"] + 2 if i < len(rems) and rems[i]["t1"] else float("inf")
            if a["t0"] - 1 <= t <= end:
                return True
        return False

    # -- report and plot
    def window_drops(self, f):
        """Drops by target and reason from the scrape before the window to the one after it."""
        t0, t1 = f["t0"], (f["t1"] or f["t0"]) + SLACK_AFTER
        before = [r for r in self.samples if r.get("m") and r["t"] <= t0]
        after = [r for r in self.samples if r.get("m") and r["t"] >= t1]
        if not before or not after:
            return {}
        a, b = before[-1]["m"], after[0]["m"]
        out = {}
        for (n, lb), v in b.items():
            if n == "udp_proxy_dropped_datagrams_total":
                dv = v - a.get((n, lb), 0)
                if dv:
                    d = dict(lb)
                    out["%s %s" % (self.short(d["target"]), d["reason"])] = int(dv)
        return out

    def short(self, name):
        for tg in self.all_targets():
            if tg.name == name:
                return tg.key
        return name

    def report(self):
        os.makedirs(OUT, exist_ok=True)
        t0 = self.t_start
        # raw series for the plot
        series = os.path.join(self.d, "series.dat")
        keys = [tg for tg in self.all_targets()]
        prev = None
        with open(series, "w") as f:
            for r in self.samples:
                if not r.get("m"):
                    continue
                if prev is not None:
                    dt = r["t"] - prev["t"]
                    row = [r["t"] - t0, (r["offered"] - prev["offered"]) / dt]
                    row += [(r["sinks"][tg.key] - prev["sinks"][tg.key]) / dt for tg in keys]
                    for reason in ("queue_full", "send_error", "shutdown"):
                        tot = lambda s: sum(v for (n, lb), v in s["m"].items()  # noqa: E731
                                            if n == "udp_proxy_dropped_datagrams_total" and
                                            dict(lb).get("reason") == reason)
                        row.append(max(0.0, (tot(r) - tot(prev)) / dt))
                    row.append((r["rss"] or 0) / 2**20)
                    row += [tval(r["m"], "udp_proxy_queue_depth", tg.name) for tg in keys]
                    row += [r.get("fds") or 0, r.get("fds_max") or 0, (r.get("pool") or 0) / 2**20]
                    f.write(" ".join("%.3f" % x for x in row) + "\n")
                prev = r
        self.plot(series, keys)
        with open(os.path.join(OUT, "series.txt"), "w") as f:
            f.write("# seconds offered/s %s queue_full/s send_error/s shutdown/s rss_MiB %s fds fds_max pool_rss_MiB\n" % (
                " ".join("delivered_%s/s" % tg.key for tg in keys), " ".join("queue_%s" % tg.key for tg in keys)))
            with open(series) as src:
                f.write(src.read())
        shutil.copy(os.path.join(self.d, "proxy.log"), os.path.join(OUT, "proxy.log"))  # times: unix seconds
        fig = self.figures
        ok = not self.failures
        L = []
        L.append("# Soak report (generated by soak/soak.py)\n")
        L.append("**%s**: %d s at %d datagrams/s (seed %d), build `%s`, %s.\n" % (
            "PASS" if ok else "FAIL", SECONDS, RATE, SEED, os.path.relpath(BUILD, ROOT),
            time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t0))))
        L.append("Targets: %s.\n" % ", ".join("`%s` (%s)" % (tg.spec, tg.key) for tg in self.static_targets) +
                 " Added and removed by reloads: `%s`.\n" % self.added.name)
        L.append("![soak](soak.png)\n")
        L.append("## Figures\n")
        L.append("| figure | value |\n| --- | --- |")
        L.append("| datagrams sent (offered) | %d |" % fig["offered"])
        L.append("| received by udp-proxy | %d |" % fig["received"])
        L.append("| kernel drops at the source / oversize / no buffer | %d / %d / %d |" % (
            fig["proxy_kernel_drops"], fig["oversize"], fig["no_buffer"]))
        if "rss_start" in fig:
            L.append("| RSS: first sample; after %.0f s; highest after; at the end | %.1f; %.1f; %.1f; %.1f MiB |" % (
                fig["rss_warm"], fig["rss_first"] / 2**20, fig["rss_start"] / 2**20, fig["rss_max"] / 2**20,
                fig["rss_end"] / 2**20))
            L.append("| RSS outside the buffer pool: after %.0f s; highest after; at the end | %.2f; %.2f; %.2f MiB |" % (
                fig["rss_warm"], fig["other_start"] / 2**20, fig["other_max"] / 2**20, fig["other_end"] / 2**20))
            L.append("| the buffer pool: resident after %.0f s; at the end; mapped | %.1f; %.1f; %.1f MiB |" % (
                fig["rss_warm"], fig["pool_start"] / 2**20, fig["pool_end"] / 2**20, fig["pool_size"] / 2**20))
            L.append("| open descriptors (after warm-up; at the end) | %s; %d |" % (fig["fd_values"], fig["fds"]))
        L.append("| log lines (in all; worst minute) | %d; %d |" % (fig["log_lines"], fig["log_worst_minute"]))
        L.append("| Udp NoPorts in the namespace (sent to the killed target while nothing listened) | %d |" %
                 fig["noports"])
        L.append("\n## Per target\n")
        L.append("| target | sent | dropped (by reason) | sink received | sink kernel drops | receivers | "
                 "lost outside fault windows | delivered outside fault windows |")
        L.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for k, v in self.per_target.items():
            outside = next((d for c, _, d in self.results if c == "windows"), "")
            n_out = re.search(r"'%s': (\d+)" % k, outside)
            L.append("| %s | %d | %s | %d | %d | %d | %s | %s |" % (
                k, v["sent"], json.dumps(v.get("dropped", {})), v["sink"], v["sink_kernel_drops"],
                v["incarnations"], n_out.group(1) if n_out else "n/a",
                "100%" if n_out and n_out.group(1) == "0" else ("n/a" if not n_out else "<100%")))
        L.append("\n## Faults\n")
        L.append("| # | at (s) | lasted (s) | fault | detail | drops in the window, by target and reason | "
                 "datagrams its targets lost (sinks) |")
        L.append("| --- | --- | --- | --- | --- | --- | --- |")
        for i, f in enumerate(self.faults):
            lost = {k: n for (k, j), n in self.window_losses.items() if j == i}
            L.append("| %d | %.1f | %.1f | %s | %s | %s | %s |" % (
                i + 1, f["t0"] - t0, (f["t1"] or f["t0"]) - f["t0"], f["kind"], f["note"],
                json.dumps(self.window_drops(f)) or "{}", json.dumps(lost) or "{}"))
        L.append("\n## Checks\n")
        for c, good, d in self.results:
            L.append("- %s **%s**: %s" % ("PASS" if good else "FAIL", c, d))
        L.append("\nA fault window runs from %.1f s before the fault to %.1f s after it ends; a loss is charged to a "
                 "window only for the targets that fault touches (a burst touches all of them; a reload, a broken "
                 "reload and a DNS move none: those must lose nothing)." % (SLACK_BEFORE, SLACK_AFTER))
        L.append("The receivers are soak/soak-sink.c. A killed receiver is stopped with SIGTERM: it first stops "
                 "taking datagrams (a Unix socket is shut for reading, a UDP socket connected away) and reads what "
                 "was queued, so every datagram is counted exactly once, by a sink, by a sink's kernel drops, or "
                 "by the namespace's Udp NoPorts.\n")
        write(os.path.join(OUT, "REPORT.md"), "\n".join(L) + "\n")
        say("report: %s" % os.path.join(OUT, "REPORT.md"))

    def plot(self, series, keys):
        if not shutil.which("gnuplot"):
            self.fail("gnuplot not found: no plot (install gnuplot-nox)")
            return
        nk = len(keys)
        rects = []
        colors = {"kill": "#ff9999", "sigstop": "#ffcc66", "unix-socket": "#cc99ff", "reload-add": "#99ccff",
                  "reload-remove": "#99ccff", "reload-broken": "#cccccc", "dns-move": "#99ff99", "burst": "#ff66cc"}
        for i, f in enumerate(self.faults):
            a, b = f["t0"] - self.t_start, max((f["t1"] or f["t0"]) - self.t_start, f["t0"] - self.t_start + 0.6)
            rects.append("set object %d rect from %.2f, graph 0 to %.2f, graph 1 behind fc rgb '%s' "
                         "fs solid 0.5 noborder" % (i + 1, a, b, colors.get(f["kind"], "#dddddd")))
        labels = ["set label %d '%s' at %.2f, graph 1.02 rotate by 60 font ',7'" % (
            i + 1, f["kind"], f["t0"] - self.t_start) for i, f in enumerate(self.faults)]
        g = ["set terminal pngcairo size 1400,1500 font ',9'", "set output '%s'" % os.path.join(OUT, "soak.png"),
             "set multiplot layout 5,1 title 'udp-proxy soak: %d s at %d/s (seed %d); shaded: fault windows'" % (
                 SECONDS, RATE, SEED),
             "set grid", "set key outside right", "set xrange [0:*]", "set tmargin 3"]
        g += rects
        g += labels
        g.append("set ylabel 'datagrams/s'; set title 'offered rate'")
        g.append("plot '%s' using 1:2 with lines lw 1.5 title 'offered'" % series)
        g.append("unset label")
        g.append("set title 'delivered rate per target (sinks)'")
        g.append("plot " + ", ".join("'%s' using 1:%d with lines title '%s'" % (series, 3 + i, k.key)
                                     for i, k in enumerate(keys)))
        c = 3 + nk
        g.append("set title 'drops by reason (all targets)'")
        g.append("plot " + ", ".join("'%s' using 1:%d with lines title '%s'" % (series, c + i, r)
                                     for i, r in enumerate(("queue_full", "send_error", "shutdown"))))
        g.append("set title 'RSS'; set ylabel 'MiB'")
        pool = c + 6 + nk
        g.append("plot '%s' using 1:%d with lines title 'RSS', '' using 1:%d with lines title 'buffer pool (resident)', "
                 "'' using 1:($%d-$%d) with lines title 'RSS outside the pool'" % (series, c + 3, pool, c + 3, pool))
        g.append("set title 'queue depth per target'; set ylabel 'datagrams'; set xlabel 'seconds'")
        g.append("plot " + ", ".join("'%s' using 1:%d with lines title '%s'" % (series, c + 4 + i, k.key)
                                     for i, k in enumerate(keys)))
        g.append("unset multiplot")
        r = subprocess.run(["gnuplot"], input="\n".join(g) + "\n", capture_output=True, text=True)
        if r.returncode != 0:
            self.fail("gnuplot failed: %s" % r.stderr[-500:])


def main():
    enter_namespaces()
    for b in (BIN, LOADGEN, SINK):
        if not os.access(b, os.X_OK):
            print("soak: %s is missing: build it first (make, or make asan for SOAK_BUILD=build-asan)" % b)
            sys.exit(2)
    s = Soak()
    try:
        s.run()
    finally:
        for g in s.gens:
            if g["p"].poll() is None:
                g["p"].kill()
        for tg in (s.all_targets() if hasattr(s, "added") else []):
            for sk in tg.sinks:
                if sk.p.poll() is None:
                    sk.p.kill()
        if hasattr(s, "proxy") and s.proxy.p.poll() is None:
            s.proxy.p.kill()
        if os.environ.get("SOAK_KEEP") != "1":
            shutil.rmtree(s.d, ignore_errors=True)
    for c, ok, d in s.results:
        print("%s %s: %s" % ("PASS" if ok else "FAIL", c, d))
    if s.failures:
        print("soak: FAILED (%d): see %s" % (len(s.failures), os.path.join(OUT, "REPORT.md")))
        sys.exit(1)
    print("soak: passed every check")


if __name__ == "__main__":
    main()
