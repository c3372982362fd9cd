"""SIGTERM and SIGINT: stop receiving, drain the queues, log final totals, exit 0."""
from harness import *

for sig in (signal.SIGTERM, signal.SIGINT):
    N = 50000
    a, b = Sink(), Sink()
    src = free_port()
    p = Proxy(["--source", "127.0.0.1:%d" % src, "--target", a.addr, "--target", b.addr, "--channel-size", "65536"])
    try:
        payloads = dogstatsd_payloads(N, seed=4, special=False)
        send_paced(payloads, ("127.0.0.1", src), 200000)  # as fast as python goes
        t0 = time.time()
        rc = p.stop(sig)
        check(rc == 0, "signal %d: exit status 0" % sig)
        check(time.time() - t0 < 5, "signal %d: stopped within the drain timeout" % sig)
        g, t = p.final_totals()
        for name, c in t.items():
            total = accounted(c)
            check(total == g["received"], "signal %d: %s sent + dropped = received (%d)" % (sig, name, total))
        n_a = a.wait_for(g["received"], timeout=5)
        sent_a = t[a.addr]["sent"]
        check(n_a == sent_a, "signal %d: target 1 got every datagram counted as sent (%d)" % (sig, sent_a))
        check("stopping: draining" in p.text(), "drain logged")
    finally:
        p.kill()
        a.close()
        b.close()
print("PASS")
