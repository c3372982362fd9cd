"""The kernel's receive-buffer drops are counted: received + kernel_drops = sent, exactly."""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import updtest as up  # noqa: E402

up.require_big_buffers()  # exact counts at these rates need the big (forced) sink buffers

N = 20000
a = up.Sink()
src = up.free_port()
# A tiny receive buffer and a burst far faster than one reader drains it.
p = up.Proxy(["--source", "127.0.0.1:%d" % src, "--target", a.target, "--rcvbuf", "4096"])
payloads = [b"m:%d|c" % i for i in range(N)]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for x in payloads:
    s.sendto(x, ("127.0.0.1", src))
s.close()
rc, g, t = p.stop()
up.check_eq(rc, 0, "exit status")
print("received=%d kernel_drops=%d" % (g["received"], g["kernel_drops"]))
up.check(g["kernel_drops"] > 0, "the burst overflowed the receive buffer and the drops were counted: %r" % g)
up.check_totals(g, t, N, [a.target], healthy=[a.target])
n = a.wait_for(t[a.target]["sent"], timeout=10)
up.check_eq(n, t[a.target]["sent"], "sink count against the target's sent")
got = a.data()
up.check(set(got) <= set(payloads) and len(set(got)) == len(got),
         "no duplicates, no corruption (%d received, %d distinct)" % (len(got), len(set(got))))
a.close()
print("PASS")
