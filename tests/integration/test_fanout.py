"""Two targets each receive all of 100,000 datagrams, byte for byte (some of 0, 1 and 65,507 bytes); the
periodic stats deltas add up to the final totals."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import updtest as up  # noqa: E402

up.require_big_buffers()  # 25,000/s into Python sink threads: needs the big (forced) buffers
N = 100000
a, b = up.Sink(rcvbuf=256 << 20), up.Sink(rcvbuf=256 << 20)
targets = [a.target, b.target]
src = up.free_port()
p = up.Proxy(["--source", "127.0.0.1:%d" % src, "--target", a.target, "--target", b.target, "--stats-interval", "1"])
payloads = up.dogstatsd_payloads(N)
s = up.Sender(("127.0.0.1", src), payloads, 25000)
s.join()
print("sent %d datagrams in %.1fs" % (s.sent, s.elapsed))
for name, sink in (("target 1", a), ("target 2", b)):
    got = sink.wait_for(N)
    up.check(got == N, "%s received %d of %d (sink kernel drops %d)" % (name, got, N, sink.kernel_drops()))
    up.check_received(sink, payloads, name)
# Two more stats lines once the sinks have everything: the deltas then cover every datagram.
seen = p.count_log(r"\sstats\s+received=")
p.expect_log(r"\sstats\s+received=", 10, after=seen + 1, what="two more stats lines")
rc, g, t = p.stop()
up.check_eq(rc, 0, "exit status after SIGTERM")
up.check_totals(g, t, N, targets, healthy=targets)
up.check_eq(g["received_bytes"], sum(len(x) for x in payloads), "received_bytes")
deltas = p.stats_lines()
up.check_eq(sum(d[0]["received"] for d in deltas), N, "sum of the received deltas over %d stats lines" % len(deltas))
for name in targets:
    up.check_eq(sum(d[1][name]["sent"] for d in deltas), N, "sum of the sent deltas of %s" % name)
a.close()
b.close()
print("PASS")
