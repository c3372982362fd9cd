"""Two targets each receive all of 100,000 datagrams, byte for byte (some of 0, 1 and 65,507 bytes)."""
from harness import *

N = 100000
a, b = Sink(), Sink()
src = free_port()
p = Proxy(["--source", "127.0.0.1:%d" % src, "--target", a.addr, "--target", b.addr, "--stats-interval", "1"])
try:
    payloads = dogstatsd_payloads(N)
    secs = send_paced(payloads, ("127.0.0.1", src), 25000)
    print("sent %d datagrams in %.1fs" % (N, secs))
    got_a, got_b = a.wait_for(N), b.wait_for(N)
    if got_a != N or got_b != N:
        print("sink kernel drops: %d %d" % (a.kernel_drops(), b.kernel_drops()))
        p.stop()
        print("proxy log on failure:\n" + p.text())
    check(got_a == N, "target 1 received %d of %d" % (got_a, N))
    check(got_b == N, "target 2 received %d of %d" % (got_b, N))
    check(same_multiset(a.got, payloads), "target 1 got exactly the datagrams sent, byte for byte")
    check(same_multiset(b.got, payloads), "target 2 got exactly the datagrams sent, byte for byte")
    time.sleep(1.2)
    check("info  stats received=" in p.text(), "periodic stats line logged")
    check(p.stop() == 0, "exit status 0 after SIGTERM")
    g, t = p.final_totals()
    check(g["received"] == N, "received counter = %d" % g["received"])
    check(g["received_bytes"] == sum(len(x) for x in payloads), "received_bytes counter exact")
    for name, c in t.items():
        check(c["sent"] == N and c["dropped_queue_full"] == 0 and c["dropped_send_error"] == 0,
              "target %s: sent=%d, no drops" % (name, c["sent"]))
    # The periodic deltas add up to the totals.
    deltas = [parse_stats(m)[0]["received"] for m in re.findall(r"info  stats (.*)", p.text())]
    check(sum(deltas) <= N, "stats deltas (%d) never exceed the total" % sum(deltas))
finally:
    p.kill()
    a.close()
    b.close()
print("PASS")
