"""--readers 4: several SO_REUSEPORT sockets; every datagram from many senders reaches every target once."""
from harness import *

N = 40000
a, b = Sink(), Sink()
src = free_port()
p = Proxy(["--source", "127.0.0.1:%d" % src, "--target", a.addr, "--target", b.addr, "--readers", "4"])
try:
    payloads = dogstatsd_payloads(N, seed=9, special=False)
    # Eight sender sockets (eight source ports) so the kernel spreads them over the readers.
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(8)]
    start = time.time()
    rate = max(100, int(20000 * RATE_SCALE))
    for i, x in enumerate(payloads):
        socks[i % 8].sendto(x, ("127.0.0.1", src))
        if i % 100 == 99:
            ahead = (i + 1) / rate - (time.time() - start)
            if ahead > 0:
                time.sleep(ahead)
    for s in socks:
        s.close()
    check(a.wait_for(N) == N and same_multiset(a.got, payloads), "target 1 got all %d byte for byte" % N)
    check(b.wait_for(N) == N and same_multiset(b.got, payloads), "target 2 got all %d byte for byte" % N)
    check(p.stop() == 0, "exit 0")
    g, t = p.final_totals()
    check(g["received"] == N, "received summed over readers = %d" % N)
    check("4 reader(s)" in p.text(), "four readers started")
finally:
    p.kill()
    a.close()
    b.close()
print("PASS")
