"""IPv6 source and target, mixed with an IPv4 target; a [::] source takes IPv4 too."""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import updtest as up  # noqa: E402

up.require_big_buffers()  # exact counts at these rates need the big (forced) sink buffers

if not socket.has_ipv6:
    up.skip("this Python has no IPv6")
try:
    probe = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    probe.bind(("::1", 0))
    probe.close()
except OSError as e:
    up.skip("::1 not available: %s" % e)

N = 5000
a, b = up.Sink("::1"), up.Sink("127.0.0.1")
src = up.free_port(host="::1")
p = up.Proxy(["--source", "[::1]:%d" % src, "--target", a.target, "--target", b.target])
payloads = up.dogstatsd_payloads(N, seed=6)
up.Sender(("::1", src), payloads, 20000).join()
up.check_eq(a.wait_for(N), N, "IPv6 target count")
up.check_received(a, payloads, "IPv6 target")
up.check_eq(b.wait_for(N), N, "IPv4 target count")
up.check_received(b, payloads, "IPv4 target")
rc, g, t = p.stop()
up.check_eq(rc, 0, "exit status")
up.check_totals(g, t, N, [a.target, b.target], healthy=[a.target, b.target])
a.close()
b.close()

# [::]:PORT (all interfaces, dual stack) accepts IPv4 too.
a = up.Sink()
src = up.free_port(host="::")
p = up.Proxy(["--source", "[::]:%d" % src, "--target", a.target])
payloads = up.dogstatsd_payloads(100, seed=7, special=False)
up.Sender(("127.0.0.1", src), payloads, 5000).join()
up.check_eq(a.wait_for(100), 100, "[::] source: IPv4 datagrams forwarded")
rc, g, t = p.stop()
up.check_eq(rc, 0, "exit status")
up.check_totals(g, t, 100, [a.target], healthy=[a.target])
up.check_received(a, payloads, "[::] source")
a.close()
print("PASS")
