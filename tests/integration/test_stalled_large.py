"""A stalled target never costs another target a datagram, at any datagram size (review M1).

Two targets: a UDP sink that reads everything, and a `unix:` target whose receiver never reads (on
loopback only a Unix target pushes back: its writer gets EAGAIN and its queue fills). 3,000 datagrams of
100, 4,000, 8,000 and 65,507 bytes at ~20k/s (65,507-byte ones at ~2k/s: 130 MB/s), with --readers 1 and 4, at the default --buffer and at a
small one. Every run: the healthy target gets all of them byte for byte, no_buffer stays 0, the stalled
target's losses are its own (dropped_queue_full while running, dropped_shutdown at the drain), and
sent + drops == received for both targets.

Before the fix, large datagrams (> 2 KiB) came from a shared per-reader pool of 264 buffers: the stalled
target's queue held all of them and the healthy target got ~250 of 3,000 (no_buffer=2,750).
"""
import tempfile

from harness import *

N = 3000
# (datagram size, --readers, --buffer, --channel-size)
CASES = [
    (100, 1, None, 512),
    (4000, 1, None, 512),
    (8000, 1, None, 512),
    (65507, 1, None, 512),
    (100, 4, None, 256),
    (4000, 4, None, 256),
    (8000, 4, None, 256),
    (65507, 4, None, 256),
    # A small --buffer, the default --channel-size (the old large pool had 2,413 buffers there).
    (4000, 1, 9000, None),
    (8000, 1, 9000, None),
]


PATTERN = bytes(range(251)) * 263  # 66,013 bytes: any window of 65,507 fits


def payloads(size, seed):
    """N distinct datagrams of exactly `size` bytes (a sequence number first, then a shifted pattern)."""
    out = []
    for i in range(N):
        head = b"s%d.%d:1|c|#seq:%d|" % (seed, i, i)
        out.append((head + PATTERN[i % 251:i % 251 + size])[:size])
    return out


def rate_for(size):
    """~20k/s, but at most ~130 MB/s: the 2-core test machine must not overflow the proxy's own source
    socket with 64 KiB datagrams (that would be kernel_drops, not the isolation under test)."""
    return min(20000, 130_000_000 // size)


def send_spread(data, port, rate, nsock):
    """Send data to 127.0.0.1:port at about `rate`/s, round-robin over nsock source ports, so that
    SO_REUSEPORT spreads them over the readers. Bounded by len(data)."""
    rate = max(100, int(rate * RATE_SCALE))
    socks = []
    for _ in range(nsock):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        socks.append(s)
    start = time.time()
    burst = max(1, rate // 1000)
    for i, p in enumerate(data):
        s = socks[i % nsock]
        while True:
            try:
                s.sendto(p, ("127.0.0.1", port))
                break
            except BlockingIOError:
                time.sleep(0.001)
        if i % burst == burst - 1:
            ahead = (i + 1) / rate - (time.time() - start)
            if ahead > 0:
                time.sleep(ahead)
    for s in socks:
        s.close()


def run_case(size, readers, buffer, channel):
    label = "size=%d readers=%d buffer=%s channel-size=%s" % (size, readers, buffer or "default", channel or "default")
    d = tempfile.mkdtemp(prefix="up-stalled-")
    path = os.path.join(d, "stuck.sock")
    stuck = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    stuck.bind(path)  # never read: the proxy's sends get EAGAIN after a few datagrams
    a = Sink()
    src = free_port()
    args = ["--source", "127.0.0.1:%d" % src, "--target", a.addr, "--target", "unix:" + path,
            "--readers", str(readers), "--drain-timeout", "1s", "--stats-interval", "0"]
    if buffer:
        args += ["--buffer", str(buffer)]
    if channel:
        args += ["--channel-size", str(channel)]
    p = Proxy(args)
    try:
        data = payloads(size, size + readers)
        send_spread(data, src, rate_for(size), 16 if readers > 1 else 1)
        got = a.wait_for(N, timeout=30)
        rc = p.stop()
        g, t = p.final_totals()
        counters = "globals %r, targets %r" % (g, t)
        check(rc == 0, "%s: exit status %d" % (label, rc))
        check(set(t) == {a.addr, "unix:" + path}, "%s: both targets in the final totals: %s" % (label, sorted(t)))
        check(g["no_buffer"] == 0, "%s: no_buffer == 0 (%s)" % (label, counters))
        check(g["received"] + g["kernel_drops"] == N, "%s: received + kernel_drops == %d (%s)" % (label, N, counters))
        check(g["received"] == N, "%s: the proxy received all %d (%s)" % (label, N, counters))
        h, s = t[a.addr], t["unix:" + path]
        check(got == N and h["sent"] == N, "%s: healthy target got %d of %d, sent=%d (%s)"
              % (label, got, N, h["sent"], counters))
        check(same_multiset(a.got, data), "%s: healthy target byte for byte" % label)
        check(accounted(h) == h["sent"], "%s: healthy target dropped nothing: %r" % (label, h))
        check(s["dropped_queue_full"] + s["dropped_shutdown"] > 0, "%s: the target really stalled: %r" % (label, s))
        check(s["dropped_send_error"] == 0, "%s: stalled target: no send errors: %r" % (label, s))
        if channel and channel * readers < N:
            check(s["dropped_queue_full"] > 0, "%s: the stalled target's queue filled: %r" % (label, s))
        for name, c in t.items():
            check(accounted(c) == g["received"], "%s: %s: sent + drops == received: %r" % (label, name, c))
    except SystemExit:
        print(p.text()[-4000:])
        raise
    finally:
        p.kill()
        a.close()
        stuck.close()
        os.unlink(path)
        os.rmdir(d)


for case in CASES:
    run_case(*case)
print("PASS")
