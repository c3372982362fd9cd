"""Datagrams larger than --buffer are counted and never forwarded cut."""
from harness import *

a = Sink()
src = free_port()
p = Proxy(["--source", "127.0.0.1:%d" % src, "--target", a.addr, "--buffer", "3000"])
try:
    ok = [b"a" * 3000, b"b" * 2048, b"c" * 2049, b"d"]
    big = [b"x" * 3001, b"y" * 65507]
    send_paced(ok + big + ok, ("127.0.0.1", src), 1000)
    a.wait_for(8, timeout=5)
    time.sleep(0.5)
    check(sorted(a.got) == sorted(ok + ok), "only datagrams <= --buffer forwarded, whole")
    check("--buffer 3000" in p.text(), "oversize warning names --buffer")
    check(p.stop() == 0, "exit 0")
    g, t = p.final_totals()
    check(g["oversize"] == 2, "oversize counter = 2 (got %d)" % g["oversize"])
    check(g["received"] == 8, "received counts only forwarded datagrams (8)")
finally:
    p.kill()
    a.close()

# At the default --buffer, the largest IPv4 datagram passes whole.
a = Sink()
src = free_port()
p = Proxy(["--source", "127.0.0.1:%d" % src, "--target", a.addr])
try:
    big = bytes(i % 256 for i in range(65507))
    send_paced([big], ("127.0.0.1", src), 10)
    check(a.wait_for(1, timeout=5) == 1 and a.got[0] == big, "65,507-byte datagram forwarded whole at defaults")
finally:
    p.stop()
    p.kill()
    a.close()
print("PASS")
