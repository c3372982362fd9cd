"""SIGTERM and SIGINT right after a burst: stop receiving, drain the queues, log final totals, exit 0.

With --drain-timeout 30s a real timeout cannot happen, so every datagram received must be sent to both
(healthy) targets: none counted as dropped_shutdown, none missing from the counters (offered = received +
kernel_drops), and each sink got what its target counts as sent."""
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import updtest as up  # noqa: E402

up.require_big_buffers()  # exact counts at these rates need the big (forced) sink buffers

for sig in (signal.SIGTERM, signal.SIGINT):
    N = 50000
    a, b = up.Sink(), up.Sink()
    targets = [a.target, b.target]
    src = up.free_port()
    p = up.Proxy(["--source", "127.0.0.1:%d" % src, "--target", a.target, "--target", b.target,
                  "--channel-size", "65536", "--drain-timeout", "30s"])
    payloads = up.dogstatsd_payloads(N, seed=4, special=False)
    up.Sender(("127.0.0.1", src), payloads, 200000).join()  # as fast as Python goes
    rc, g, t = p.stop(sig, timeout=40)
    up.check_eq(rc, 0, "signal %d: exit status" % sig)
    up.check(p.count_log("stopping: draining") == 1, "signal %d: drain logged" % sig)
    up.check_totals(g, t, N, targets, healthy=targets)
    for name, sink in (("target 1", a), ("target 2", b)):
        n = sink.wait_for(t[sink.target]["sent"], timeout=10)
        up.check(n == t[sink.target]["sent"], "signal %d: %s got %d, its target counts sent=%d"
                 % (sig, name, n, t[sink.target]["sent"]))
    a.close()
    b.close()
print("PASS")
