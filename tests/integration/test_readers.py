"""--readers 4: four SO_REUSEPORT sockets; every datagram from many senders reaches every target once."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import updtest as up  # noqa: E402

up.require_big_buffers()  # exact counts at these rates need the big (forced) sink buffers

N = 40000
a, b = up.Sink(), up.Sink()
targets = [a.target, b.target]
src = up.free_port()
p = up.Proxy(["--source", "127.0.0.1:%d" % src, "--target", a.target, "--target", b.target, "--readers", "4"])
n_socks = up.udp_sockets_of(p.pid, src)
up.check_eq(n_socks, 4, "UDP sockets on port %d held by the proxy" % src)
up.check(p.count_log(r"listening on .* 4 reader\(s\)") == 1, "the start line says 4 reader(s)")
payloads = up.dogstatsd_payloads(N, seed=9, special=False)
# 64 sender sockets (64 source ports) so the kernel spreads them over the readers.
up.Sender(("127.0.0.1", src), payloads, 20000, nsocks=64).join()
for name, sink in (("target 1", a), ("target 2", b)):
    up.check_eq(sink.wait_for(N), N, "%s count" % name)
    up.check_received(sink, payloads, name)
rc, g, t = p.stop()
up.check_eq(rc, 0, "exit status")
up.check_totals(g, t, N, targets, healthy=targets)
a.close()
b.close()
print("PASS")
