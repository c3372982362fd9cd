"""ctl_bufsize.py - --rcvbuf 1G and --sndbuf 1G, the largest values the
options accept (review m5: twice the value overflowed an int, so the
privileged override was never tried and no warning said so).

As root (CAP_NET_ADMIN) the kernel must grant the source socket a receive
buffer of at least 1 GiB (ss shows it); without the privilege the start-up
log must warn that the buffer was capped. Either way the proxy forwards and
exits 0 on SIGTERM.
"""
import os
import re
import subprocess

from ops_util import Proxy, Sender, Sink, check, free_port, payloads

src, dst = free_port(), free_port()
sink = Sink(("127.0.0.1", dst))
px = Proxy(["--source", "127.0.0.1:%d" % src, "--target", "127.0.0.1:%d" % dst, "--rcvbuf", "1G", "--sndbuf", "1G"])
try:
    out = subprocess.run(["ss", "-uamnH", "sport = :%d" % src], capture_output=True, text=True, timeout=10).stdout
    m = re.search(r"skmem:\(r\d+,rb(\d+),", out)
    check(m, "no skmem for the source in ss output: %r" % out)
    rb = int(m.group(1))
    capped = px.count_log(r"source receive buffer capped")
    if os.geteuid() == 0:
        check(rb >= 1 << 30, "root: receive buffer %d bytes, want at least 1 GiB\n%s" % (rb, px.log()))
        check(capped == 0, "root: a cap warning although the buffer was granted:\n" + px.log())
    else:
        check(rb < 1 << 30 and capped == 1, "unprivileged: rb=%d, cap warnings %d\n%s" % (rb, capped, px.log()))
    data = payloads(200)
    Sender(("127.0.0.1", src), data, rate=1000).join()
    check(sink.wait_count(len(data)) == len(data), "forwarded %d of %d" % (sink.count(), len(data)))
    rc = px.stop()
    check(rc == 0, "exit status %d\n%s" % (rc, px.log()))
    print("ok: --rcvbuf 1G gave rb=%d (%s)" % (rb, "root" if os.geteuid() == 0 else "capped, warned"))
finally:
    px.stop()
    sink.close()
