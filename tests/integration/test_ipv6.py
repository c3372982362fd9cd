"""IPv6 source and target, mixed with an IPv4 target."""
from harness import *

if not socket.has_ipv6:
    print("SKIP: no IPv6")
    sys.exit(77)
try:
    probe = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    probe.bind(("::1", 0))
    probe.close()
except OSError:
    print("SKIP: ::1 not available")
    sys.exit(77)

N = 5000
a, b = Sink("::1"), Sink("127.0.0.1")
src = free_port(socket.AF_INET6, "::1")
p = Proxy(["--source", "[::1]:%d" % src, "--target", a.addr, "--target", b.addr])
try:
    payloads = dogstatsd_payloads(N, seed=6)
    send_paced(payloads, ("::1", src), 20000, socket.AF_INET6)
    check(a.wait_for(N) == N and same_multiset(a.got, payloads), "IPv6 target got all %d byte for byte" % N)
    check(b.wait_for(N) == N and same_multiset(b.got, payloads), "IPv4 target got all %d byte for byte" % N)
    check(p.stop() == 0, "exit 0")
finally:
    p.kill()
    a.close()
    b.close()

# [::]:PORT (all interfaces, dual stack) accepts IPv4 too.
a = Sink()
src = free_port(socket.AF_INET6, "::")
p = Proxy(["--source", "[::]:%d" % src, "--target", a.addr])
try:
    payloads = dogstatsd_payloads(100, seed=7, special=False)
    send_paced(payloads, ("127.0.0.1", src), 5000)
    check(a.wait_for(100) == 100, "[::] source receives IPv4 datagrams")
finally:
    p.stop()
    p.kill()
    a.close()
print("PASS")
