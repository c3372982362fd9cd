#!/usr/bin/env python3
"""test_soak_tools.py - the soak's own parts, quickly (CTest soak_tools_*):

  sink_ranges      udp-loadgen --first-seq/--progress into soak-sink: every number
                   seen once, the seen file holds exactly the range sent, a
                   foreign datagram counts as corrupt, progress lines are in order
  sink_unix        soak-sink on a unix: path: counts, removes its socket file on stop
  sink_raw         soak-sink --raw (the otel target): datagrams and non-empty lines
  ranges           soak.py's range arithmetic (intersect, subtract)

Usage: test_soak_tools.py CASE BUILD_DIR. Loopback only, bounded in time.
"""
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def kv(line):
    return dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_sink(build, listen, seen, raw=False):
    p = subprocess.Popen([os.path.join(build, "soak-sink"), "--listen", listen, "--seen", seen, "--progress", "0.1"] +
                         (["--raw"] if raw else []), stdout=subprocess.PIPE, text=True)
    first = p.stdout.readline()
    check(first.startswith("ready "), "no ready line: %r" % first)
    return p


def stop_sink(p):
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=20)
    check(p.returncode == 0, "sink exit status %d" % p.returncode)
    finals = [ln for ln in out.splitlines() if ln.startswith("final ")]
    progress = [ln for ln in out.splitlines() if ln.startswith("progress ")]
    check(len(finals) == 1, "one final line expected: %r" % out[-500:])
    return kv(finals[0]), progress


def sink_ranges(build, d):
    port = free_port()
    seen = os.path.join(d, "seen")
    sink = start_sink(build, "127.0.0.1:%d" % port, seen)
    try:
        r = subprocess.run([os.path.join(build, "udp-loadgen"), "--target", "127.0.0.1:%d" % port, "--count", "3000",
                            "--rate", "20000", "--first-seq", "100", "--progress", "0.02", "--max-seconds", "20"],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0 and "sent=3000 " in r.stdout, "loadgen: %s %s" % (r.stdout, r.stderr))
        prog = [kv(ln) for ln in r.stderr.splitlines() if ln.startswith("progress ")]
        check(len(prog) >= 2, "progress lines: %r" % r.stderr)
        check(int(prog[0]["seq"]) == 100, "first progress line: %s" % prog[0])
        seqs = [int(p["seq"]) for p in prog]
        times = [float(p["t"]) for p in prog]
        check(seqs == sorted(seqs) and times == sorted(times) and seqs[-1] <= 3100, "progress out of order: %s" % prog)
        check(abs(times[0] - time.time()) < 60, "progress t is not the wall clock: %s" % times[0])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"not.ours:1|c|#up_seq:5,up_sum:00000000", ("127.0.0.1", port))
        end = time.time() + 10
        while time.time() < end:  # wait for the sink to have read everything
            ln = sink.stdout.readline()
            if ln.startswith("progress ") and int(kv(ln)["datagrams"]) >= 3001:
                break
    finally:
        final, _ = stop_sink(sink)
    check(final["datagrams"] == "3001" and final["unique"] == "3000" and final["corrupt"] == "1" and
          final["duplicates"] == "0", "sink counts: %s" % final)
    with open(seen) as f:
        check(f.read() == "100 3099\n", "seen file: %r" % open(seen).read())


def sink_unix(build, d):
    path = os.path.join(d, "u.sock")
    seen = os.path.join(d, "seen")
    sink = start_sink(build, "unix:" + path, seen)
    try:
        check(os.path.exists(path), "no socket file at %s" % path)
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            for _ in range(10):
                s.sendto(b"x:1|c", path)
    finally:
        time.sleep(0.3)
        final, _ = stop_sink(sink)
    check(final["datagrams"] == "10" and final["corrupt"] == "10", "unix sink counts: %s" % final)
    check(not os.path.exists(path), "the socket file is still there after the sink stopped")


def sink_raw(build, d):
    port = free_port()
    sink = start_sink(build, "127.0.0.1:%d" % port, os.path.join(d, "seen"), raw=True)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for payload in (b"a:1|c\nb:2|g\n\nc:3|ms", b"one:1|c", b"trailing:1|c\n"):
                s.sendto(payload, ("127.0.0.1", port))
    finally:
        time.sleep(0.3)
        final, _ = stop_sink(sink)
    check(final["datagrams"] == "3" and final["lines"] == "5" and final["corrupt"] == "0",
          "raw sink counts (3 datagrams, 5 non-empty lines): %s" % final)


def ranges(build, d):
    spec = importlib.util.spec_from_file_location("soak", os.path.join(HERE, "soak.py"))
    soak = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(soak)
    check(soak.intersect([(0, 10), (20, 30)], [(5, 25)]) == [(5, 10), (20, 25)], "intersect")
    check(soak.intersect([(0, 10)], []) == [], "intersect with nothing")
    check(soak.subtract([(0, 10), (20, 30)], [(5, 25)]) == [(0, 4), (26, 30)], "subtract")
    check(soak.subtract([(0, 10)], [(0, 10)]) == [], "subtract all")
    check(soak.subtract([(0, 10)], []) == [(0, 10)], "subtract nothing")


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("sink_ranges", "sink_unix", "sink_raw", "ranges"):
        print("usage: test_soak_tools.py sink_ranges|sink_unix|sink_raw|ranges BUILD_DIR")
        sys.exit(2)
    d = tempfile.mkdtemp(prefix="up-soaktools-")
    try:
        globals()[sys.argv[1]](sys.argv[2], d)
    finally:
        for n in os.listdir(d):
            os.unlink(os.path.join(d, n))
        os.rmdir(d)
    print("ok: %s" % sys.argv[1])


if __name__ == "__main__":
    main()
