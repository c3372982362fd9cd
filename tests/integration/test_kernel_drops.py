"""The kernel's receive-buffer drops are counted: received + kernel_drops = sent, exactly."""
from harness import *

N = 20000
a = Sink()
src = free_port()
# A tiny receive buffer and a burst far faster than one reader drains it.
p = Proxy(["--source", "127.0.0.1:%d" % src, "--target", a.addr, "--rcvbuf", "4096"])
try:
    payloads = [b"m:%d|c" % i for i in range(N)]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for x in payloads:
        s.sendto(x, ("127.0.0.1", src))
    s.close()
    a.wait_for(N, timeout=5)
    check(p.stop() == 0, "exit 0")
    g, t = p.final_totals()
    print("received=%d kernel_drops=%d" % (g["received"], g["kernel_drops"]))
    check(g["kernel_drops"] > 0, "the burst overflowed the receive buffer and the drops were counted")
    check(g["received"] + g["kernel_drops"] == N, "received + kernel_drops = datagrams sent (%d)" % N)
    check(t[a.addr]["sent"] == g["received"], "everything received was forwarded")
    check(same_multiset(a.got, [x for x in payloads if x in set(a.got)]) and len(set(a.got)) == len(a.got),
          "no duplicates, no corruption")
finally:
    p.kill()
    a.close()
print("PASS")
