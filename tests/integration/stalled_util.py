"""stalled_util.py - shared by test_stalled_target.py and test_stalled_large.py: a sender spread over
several source ports (so SO_REUSEPORT spreads it over the readers) and the checks of a run with one
healthy UDP target and one stalled `unix:` target."""
import socket
import time

from harness import RATE_SCALE, accounted, check, same_multiset


def send_spread(data, port, rate, nsock):
    """Send data to 127.0.0.1:port at about `rate`/s (scaled by UP_TEST_RATE_SCALE), round-robin over
    nsock source ports. Bounded by len(data)."""
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


def check_stalled_run(label, proxy, rc, sink, got, data, stalled):
    """After proxy.stop() (exit status rc): the healthy target `sink` got all of `data` (got = its count)
    byte for byte, no_buffer is 0, the stalled target really stalled and only it dropped, and every
    target's sent + drops == received. Returns the stalled target's counters."""
    n = len(data)
    g, t = proxy.final_totals()
    seen = "globals %r, targets %r" % (g, t)
    check(rc == 0, "%s: exit status %d" % (label, rc))
    check(set(t) == {sink.addr, stalled}, "%s: both targets in the final totals: %s" % (label, sorted(t)))
    check(g["no_buffer"] == 0, "%s: no_buffer == 0 (%s)" % (label, seen))
    check(g["received"] + g["kernel_drops"] == n, "%s: received + kernel_drops == %d (%s)" % (label, n, seen))
    check(g["received"] == n, "%s: the proxy received all %d (%s)" % (label, n, seen))
    h, s = t[sink.addr], t[stalled]
    check(got == n and h["sent"] == n, "%s: healthy target got %d of %d, sent=%d (%s)" % (label, got, n, h["sent"], seen))
    check(same_multiset(sink.got, data), "%s: healthy target byte for byte" % label)
    check(accounted(h) == h["sent"], "%s: healthy target dropped nothing: %r" % (label, h))
    check(s["dropped_queue_full"] + s["dropped_shutdown"] > 0, "%s: the target really stalled: %r" % (label, s))
    check(s["dropped_send_error"] == 0, "%s: stalled target: no send errors: %r" % (label, s))
    for name, c in t.items():
        check(accounted(c) == g["received"], "%s: %s: sent + drops == received: %r" % (label, name, c))
    return s
