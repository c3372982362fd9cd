#!/usr/bin/env python3
"""Black-box tests of udp-loadgen and udp-sink on loopback (one CTest entry per case).

Usage: test_tools.py --loadgen PATH --sink PATH CASE
Every process started here is bounded in time (--max-seconds, timeouts) and killed on exit.
"""
import argparse
import os
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
import updtest as up  # noqa: E402
from udptools import last_kv, wait_bound  # noqa: E402
from updtest import free_port  # noqa: E402

FNV_OFFSET, FNV_PRIME = 2166136261, 16777619


def fnv(data):
    h = FNV_OFFSET
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & 0xFFFFFFFF
    return h


def make_datagram(body, seq):
    """A datagram in udp-loadgen's format, built independently of the C code."""
    head = body + b"up_seq:%d" % seq
    return head + b",up_sum:%08x" % fnv(head)


def check_datagram(d):
    """(ok, seq) following the format documented in tools/payload.h."""
    if len(d) < 24 or d[-16:-8] != b",up_sum:":
        return False, None
    if int(d[-8:], 16) != fnv(d[:-16]):
        return False, None
    i = d.rfind(b"up_seq:", 0, len(d) - 16)
    if i < 1 or d[i - 1:i] not in (b"#", b","):
        return False, None
    return True, int(d[i + 7:-16])


class Tools:
    def __init__(self, loadgen, sink):
        self.loadgen, self.sink = loadgen, sink

    def start_sink(self, port, *extra):
        p = subprocess.Popen([self.sink, "--listen", "127.0.0.1:%d" % port, "--max-seconds", "30", *extra],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_bound(port, proc=p)
        return p

    def finish_sink(self, p):
        out, err = p.communicate(timeout=40)
        up.require(p.returncode == 0, "sink exit %d: %s" % (p.returncode, err))
        return last_kv(out)

    def run_loadgen(self, *args):
        r = subprocess.run([self.loadgen, "--max-seconds", "20", *args], capture_output=True, text=True, timeout=30)
        up.require(r.returncode == 0, "loadgen exit %d: %s" % (r.returncode, r.stderr))
        return last_kv(r.stdout)


def case_loopback_all_delivered(t):
    # 20,000/s into udp-sink's 32 MiB buffer: exact counts need root (forced) or rmem_max >= 32 MiB.
    up.require_big_buffers(32 << 20)
    n = 20000
    port = free_port()
    sink = t.start_sink(port, "--expect", str(n), "--idle-timeout", "5")
    try:
        lg = t.run_loadgen("--target", "127.0.0.1:%d" % port, "--count", str(n), "--rate", "20000",
                           "--large-share", "5", "--seed", "42")
        s = t.finish_sink(sink)
    finally:
        sink.kill()
    print("loadgen:", lg, "\nsink:", s)
    up.require(int(lg["sent"]) == n and int(lg["send_errors"]) == 0, lg)
    up.require(int(s["duplicates"]) == 0 and int(s["corrupt"]) == 0 and int(s["beyond"]) == 0, s)
    # Everything arrived: the sink has its 32 MiB buffer (checked above), so its socket drops nothing.
    drops = int(s["kernel_drops"])
    up.check(drops == 0, "the sink's 32 MiB buffer did not overflow: kernel_drops=%d" % drops)
    up.require(int(s["unique"]) == n - drops and int(s["missing"]) == drops, s)
    up.require(int(s["datagrams"]) == n - drops, s)
    if drops == 0:
        up.require(int(s["bytes"]) == int(lg["bytes"]), (s, lg))


def case_sink_counts_corrupt_and_duplicate(t):
    port = free_port()
    sink = t.start_sink(port, "--idle-timeout", "1.5")
    try:
        t.run_loadgen("--target", "127.0.0.1:%d" % port, "--count", "3", "--rate", "1000")  # seq 0, 1, 2
        t.run_loadgen("--target", "127.0.0.1:%d" % port, "--count", "2", "--rate", "1000")  # 0, 1 again
        good = make_datagram(b"test.metric:1|c|#env:dev,", 7)
        up.require_cmp(check_datagram(good), '==', (True, 7), 'check_datagram(good) == (True, 7)')
        flipped = good.replace(b"test.metric:1", b"test.metric:2")  # body altered, sum unchanged
        cut = good[:-1]
        s_out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for d in (good, flipped, b"hello", cut, good):
            s_out.sendto(d, ("127.0.0.1", port))
        s_out.close()
        s = t.finish_sink(sink)
    finally:
        sink.kill()
    print("sink:", s)
    up.require(int(s["datagrams"]) == 10, s)
    up.require(int(s["unique"]) == 4, s)  # 0, 1, 2, 7
    up.require(int(s["duplicates"]) == 3, s)  # 0, 1 and the second 7
    up.require(int(s["corrupt"]) == 3, s)  # flipped, hello, cut


RX_BUF = int(os.environ.get("UP_TEST_RX_BUF", 8 << 20))  # a smaller value reproduces a stock-rmem_max machine


def case_sink_splits_packed(t):
    """A packing proxy (max-datagram) joins generated datagrams with '\\n': each one counts."""
    port = free_port()
    sink = t.start_sink(port, "--idle-timeout", "1.5")
    try:
        a = make_datagram(b"a.metric:1|c\nb.metric:2|g|#env:dev,", 10)  # itself two lines
        b = make_datagram(b"c.metric:3|ms|#env:dev,", 11)
        c = make_datagram(b"d.metric:4|h|#env:dev,", 12)
        bad = make_datagram(b"e.metric:5|c|#env:dev,", 13).replace(b"e.metric:5", b"e.metric:6")
        s_out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for d in (a + b"\n" + b + b"\n" + c, b + b"\n" + bad, c):
            s_out.sendto(d, ("127.0.0.1", port))
        s_out.close()
        s = t.finish_sink(sink)
    finally:
        sink.kill()
    print("sink:", s)
    assert int(s["datagrams"]) == 3, s
    assert int(s["unique"]) == 3, s  # 10, 11, 12
    assert int(s["duplicates"]) == 2, s  # 11 and 12 again
    assert int(s["corrupt"]) == 1, s  # the altered one, alone


def case_loadgen_payload_mix_deterministic(t):
    def capture(seed, n=400):
        # Received in a thread while udp-loadgen runs, into a forced buffer where root: 400 datagrams of
        # ~1.1 kB do not fit Debian's stock rmem_max (212992) if nobody reads until the end.
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        granted = up.big_rcvbuf(rx, RX_BUF)
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(10)
        got, errors = [], []

        def receive():
            try:
                for _ in range(n):
                    got.append(rx.recv(65536))
            except OSError as e:
                errors.append(e)

        th = threading.Thread(target=receive, daemon=True)
        th.start()
        lg = t.run_loadgen("--target", "127.0.0.1:%d" % rx.getsockname()[1], "--count", str(n), "--rate", "4000",
                           "--seed", str(seed), "--large-share", "20")
        th.join(15)
        rx.close()
        up.check(int(lg.get("sent", -1)) == n, "seed %d: udp-loadgen sent %s of %d" % (seed, lg.get("sent"), n))
        up.check(len(got) == n, "seed %d: received %d of %d (receive buffer %d bytes, %s)"
                 % (seed, len(got), n, granted, errors or "no error"))
        return got

    a, b, c = capture(5), capture(5), capture(6)
    up.require(a == b, "the same seed must send the same bytes")
    up.require(a != c, "another seed must send other bytes")
    seqs = []
    for d in a:
        ok, seq = check_datagram(d)
        up.require(ok, d[:200])
        seqs.append(seq)
        for line in d.split(b"\n"):
            up.require(line.startswith((b"_e{", b"_sc|")) or b":" in line.split(b"|")[0], line)
    up.require(seqs == list(range(len(a))), "sequence numbers 0..N-1 in order")
    sizes = [len(d) for d in a]
    lines = [d.split(b"\n") for d in a]
    kinds = {k: sum(1 for d in a if k in d) for k in (b"|c", b"|g", b"|ms", b"|h", b"|d", b"|s", b"_e{", b"_sc|",
                                                      b"|@", b"|#")}
    print("sizes min %d max %d mean %.0f; multi-line %d/%d; kinds %s" %
          (min(sizes), max(sizes), sum(sizes) / len(sizes), sum(len(x) > 1 for x in lines), len(a), kinds))
    up.require(25 <= min(sizes) <= 80 and max(sizes) <= 8192, sizes)
    up.require(sum(s > 1432 for s in sizes) >= len(a) // 10, "about 20% large datagrams")
    up.require(sum(len(x) > 1 for x in lines) >= len(a) // 5, "packets of several lines")
    up.require(all(v > 0 for v in kinds.values()), kinds)


def expect_usage_error(cmd, flag):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    lines = r.stderr.strip().splitlines()
    up.require(r.returncode == 2, "%s: exit %d, want 2 (%s)" % (cmd, r.returncode, r.stderr))
    up.require(len(lines) == 2 and flag in lines[0] and "--help" in lines[1], "%s: %r" % (cmd, r.stderr))
    print("ok:", " ".join(cmd[1:]), "->", lines[0])


def help_lists(cmd, flags):
    r = subprocess.run([cmd, "--help"], capture_output=True, text=True, timeout=10)
    up.require(r.returncode == 0, r)
    for f in flags:
        up.require("--" + f in r.stdout, "--help does not document --%s" % f)


def case_loadgen_bad_args(t):
    lg = t.loadgen
    cases = [
        ([], "--target"),
        (["--target", "nonsense"], "'nonsense'"),
        (["--target", "127.0.0.1:0"], "--target"),
        (["--target", "127.0.0.1:70000"], "--target"),
        (["--target", "no-such-host.invalid:9"], "--target"),
        (["--target", "127.0.0.1:9", "--count", "0"], "--count"),
        (["--target", "127.0.0.1:9", "--count", "12x"], "--count"),
        (["--target", "127.0.0.1:9", "--rate", "fast"], "--rate"),
        (["--target", "127.0.0.1:9", "--rate", "-5"], "--rate"),
        (["--target", "127.0.0.1:9", "--large-share", "101"], "--large-share"),
        (["--target", "127.0.0.1:9", "--batch", "5000"], "--batch"),
        (["--target", "127.0.0.1:9", "--max-seconds", "soon"], "--max-seconds"),
        (["--target", "127.0.0.1:9", "--seed"], "--seed"),
        (["--target", "127.0.0.1:9", "--bogus", "1"], "--bogus"),
        (["--target", "127.0.0.1:9", "--target", "127.0.0.1:10"], "--target"),
    ]
    for args, flag in cases:
        expect_usage_error([lg, *args], flag)
    help_lists(lg, ["target", "count", "rate", "seed", "large-share", "max-seconds", "batch", "help"])


def case_sink_bad_args(t):
    sk = t.sink
    cases = [
        ([], "--listen"),
        (["--listen", "127.0.0.1"], "--listen"),
        (["--listen", "[::1:9"], "--listen"),
        (["--listen", "127.0.0.1:99999"], "--listen"),
        (["--listen", "127.0.0.1:9", "--rcvbuf", "1"], "--rcvbuf"),
        (["--listen", "127.0.0.1:9", "--rcvbuf", "12Q"], "--rcvbuf"),
        (["--listen", "127.0.0.1:9", "--idle-timeout", "abc"], "--idle-timeout"),
        (["--listen", "127.0.0.1:9", "--max-seconds", "0"], "--max-seconds"),
        (["--listen", "127.0.0.1:9", "--expect", "0"], "--expect"),
        (["--listen", "127.0.0.1:9", "--expect=-1"], "--expect"),
        (["--listen", "127.0.0.1:9", "extra"], "'extra'"),
    ]
    for args, flag in cases:
        expect_usage_error([sk, *args], flag)
    help_lists(sk, ["listen", "rcvbuf", "idle-timeout", "max-seconds", "expect", "help"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loadgen", required=True)
    ap.add_argument("--sink", required=True)
    ap.add_argument("case")
    a = ap.parse_args()
    globals()["case_" + a.case](Tools(a.loadgen, a.sink))
    print("PASS", a.case)


if __name__ == "__main__":
    sys.exit(main())
