"""One target stops reading (its buffer fills): the other still receives 100%."""
from harness import *

N = 30000
a = Sink()
stalled = Sink(rcvbuf=4096, read=False)  # never read: fills at once
src = free_port()
p = Proxy(["--source", "127.0.0.1:%d" % src, "--target", a.addr, "--target", stalled.addr])
try:
    payloads = dogstatsd_payloads(N, seed=3)
    send_paced(payloads, ("127.0.0.1", src), 25000)
    check(a.wait_for(N) == N, "healthy target received all %d while the other is stalled" % N)
    check(same_multiset(a.got, payloads), "healthy target byte for byte")
    check(p.stop() == 0, "exit 0")
    g, t = p.final_totals()
    for name, c in t.items():
        total = accounted(c)
        check(total == g["received"] == N, "%s: sent + dropped = received" % name)
finally:
    p.kill()
    a.close()
    stalled.close()
print("PASS")
