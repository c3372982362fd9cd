"""Datagrams larger than --buffer are counted and never forwarded cut."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import updtest as up  # noqa: E402

a = up.Sink()
src = up.free_port()
p = up.Proxy(["--source", "127.0.0.1:%d" % src, "--target", a.target, "--buffer", "3000"])
ok = [b"a" * 3000, b"b" * 2048, b"c" * 2049, b"d"]
big = [b"x" * 3001, b"y" * 65507]
up.Sender(("127.0.0.1", src), ok + big + ok, 1000).join()
up.check_eq(a.wait_for(8, timeout=5), 8, "forwarded count")
up.check(p.count_log("--buffer 3000") > 0, "the oversize warning names --buffer 3000")
rc, g, t = p.stop()
up.check_eq(rc, 0, "exit status")
up.check_totals(g, t, 10, [a.target], healthy=[a.target])
up.check_eq(g["oversize"], 2, "oversize counter")
up.check_eq(g["received"], 8, "received (forwarded datagrams only)")
a.settle(0.3)
up.check_eq(sorted(a.data()), sorted(ok + ok), "only datagrams <= --buffer forwarded, whole")
a.close()

# At the default --buffer, the largest IPv4 datagram passes whole.
a = up.Sink()
src = up.free_port()
p = up.Proxy(["--source", "127.0.0.1:%d" % src, "--target", a.target])
big = bytes(i % 256 for i in range(65507))
up.Sender(("127.0.0.1", src), [big], 10).join()
up.check_eq(a.wait_for(1, timeout=5), 1, "65,507-byte datagram count")
up.check(a.data()[0] == big, "65,507-byte datagram forwarded whole (%d bytes)" % len(a.data()[0]))
rc, g, t = p.stop()
up.check_eq(rc, 0, "exit status")
up.check_totals(g, t, 1, [a.target], healthy=[a.target])
a.close()
print("PASS")
