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
from stalled_util import check_stalled_run, send_spread

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
        s = check_stalled_run(label, p, rc, a, got, data, "unix:" + path)
        if channel and channel * readers < N:
            check(s["dropped_queue_full"] > 0, "%s: the stalled target's queue filled: %r" % (label, s))
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
