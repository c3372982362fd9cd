"""SIGTERM and SIGINT: stop receiving, drain the queues, log final totals, exit 0."""
from harness import *

for sig in (signal.SIGTERM, signal.SIGINT):
    N = 50000
    a, b = Sink(), Sink()
    src = free_port()
    # A long drain timeout: a real timeout cannot excuse a dropped_shutdown.
    p = Proxy(["--source", "127.0.0.1:%d" % src, "--target", a.addr, "--target", b.addr, "--channel-size", "65536",
               "--drain-timeout", "30s"])
    try:
        payloads = dogstatsd_payloads(N, seed=4, special=False)
        send_paced(payloads, ("127.0.0.1", src), 200000)  # as fast as python goes
        rc = p.stop(sig)
        check(rc == 0, "signal %d: exit status 0" % sig)
        g, t = p.final_totals()
        # Every datagram offered is in a counter (audit P0-5).
        check(g["received"] + g["kernel_drops"] == N, "signal %d: offered %d, received %d + kernel_drops %d (%r)"
              % (sig, N, g["received"], g["kernel_drops"], g))
        check(set(t) == {a.addr, b.addr}, "signal %d: targets in the final totals: %s" % (sig, sorted(t)))
        for name, c in t.items():
            total = accounted(c)
            check(total == g["received"], "signal %d: %s sent + dropped = received (%d): %r" % (sig, name, total, c))
            # Both targets are healthy and the drain had 30 s: nothing cut.
            check(c["sent"] == g["received"] and c["dropped_shutdown"] == 0, "signal %d: %s: %r, received %d"
                  % (sig, name, c, g["received"]))
        for sink, name in ((a, "target 1"), (b, "target 2")):
            n = sink.wait_for(t[sink.addr]["sent"], timeout=5)
            check(n == t[sink.addr]["sent"], "signal %d: %s got %d, counted sent=%d" % (sig, name, n,
                                                                                       t[sink.addr]["sent"]))
        check("stopping: draining" in p.text(), "drain logged")
    finally:
        p.kill()
        a.close()
        b.close()
print("PASS")
