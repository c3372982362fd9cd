"""One target with nothing listening: the other still receives 100%; the failures are counted."""
from harness import *

N = 20000
a = Sink()
dead = free_port()
src = free_port()
p = Proxy(["--source", "127.0.0.1:%d" % src, "--target", a.addr, "--target", "127.0.0.1:%d" % dead])
try:
    payloads = dogstatsd_payloads(N, seed=2)
    send_paced(payloads, ("127.0.0.1", src), 20000)
    check(a.wait_for(N) == N, "healthy target received all %d" % N)
    check(same_multiset(a.got, payloads), "healthy target byte for byte")
    check(p.stop() == 0, "exit 0")
    g, t = p.final_totals()
    d = t["127.0.0.1:%d" % dead]
    check(d["dropped_send_error"] > 0, "dead target: send errors counted (%d)" % d["dropped_send_error"])
    total = accounted(d)
    check(total == g["received"] == N, "dead target: sent + dropped = received = %d" % N)
    check("connection refused" in p.text(), "send error logged")
    check(p.text().count("send failed") < 50, "send errors are rate-limited in the log")
finally:
    p.kill()
    a.close()
print("PASS")
