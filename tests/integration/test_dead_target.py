"""One target with nothing listening: the other still receives 100%; the failures are counted; the send
errors are logged at most once a second per thread (reader and writer)."""
import math
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import updtest as up  # noqa: E402

up.require_big_buffers()  # exact counts at these rates need the big (forced) sink buffers

N = 20000
a = up.Sink()
dead = "127.0.0.1:%d" % up.free_port()
src = up.free_port()
t0 = time.monotonic()
p = up.Proxy(["--source", "127.0.0.1:%d" % src, "--target", a.target, "--target", dead])
payloads = up.dogstatsd_payloads(N, seed=2)
up.Sender(("127.0.0.1", src), payloads, 20000).join()
up.check_eq(a.wait_for(N), N, "healthy target count")
up.check_received(a, payloads, "healthy target")
rc, g, t = p.stop()
secs = time.monotonic() - t0
up.check_eq(rc, 0, "exit status")
up.check_totals(g, t, N, [a.target, dead], healthy=[a.target])
d = t[dead]
up.check(d["dropped_send_error"] > 0, "dead target: send errors counted: %r" % d)
up.check(p.count_log("connection refused") > 0, "send error logged (%d lines)" % p.count_log("connection refused"))
lines = p.count_log("send failed")
limit = 2 * (math.ceil(secs) + 1)
up.check(0 < lines <= limit, "send errors rate-limited: %d 'send failed' lines in %.1f s (at most %d)"
         % (lines, secs, limit))
a.close()
print("PASS")
