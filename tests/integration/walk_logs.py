#!/usr/bin/env python3
"""walk_logs.py - the log lines the new-user walkthrough (finding 28) asked for:

- the --allow warning names the sender it dropped (address and port);
- a stale unix: socket file replaced at start logs one line naming the path;
- at debug level, each forwarded datagram's line says its size, its sender
  (a bound Unix sender by path, an unbound one as "an unnamed socket", a UDP
  sender as ADDRESS:PORT) and to how many targets it goes;
- at info level no per-datagram line appears.

Usage: walk_logs.py BIN. Loopback and a temporary directory only.
"""
import os
import re
import shutil
import socket
import sys

from ops_util import Proxy, Sink, check, free_port, tempdir


def allow_names_sender():
    src, t1 = free_port(), free_port()
    sink = Sink(("127.0.0.1", t1))
    p = Proxy(["--source", "127.0.0.1:%d" % src, "--allow", "10.0.0.0/8", "--target", "127.0.0.1:%d" % t1,
               "--stats-interval", "0"])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.sendto(b"denied:1|c", ("127.0.0.1", src))
    want = r"warn +dropped a datagram from 127\.0\.0\.1:%d: a sender outside --allow" % port
    ok = p.wait_log(want, 5)
    rc = p.stop()
    s.close()
    sink.close()
    check(ok, "the --allow warning does not name the sender 127.0.0.1:%d:\n%s" % (port, p.log()))
    check(rc == 0, "exit %d" % rc)
    print("ok: the --allow warning names the sender 127.0.0.1:%d" % port)


def unix_source(d):
    path = os.path.join(d, "src.sock")
    # A socket file nobody receives on: what a killed proxy leaves behind.
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    stale.bind(path)
    stale.close()
    t1, t2 = free_port(), free_port()
    s1, s2 = Sink(("127.0.0.1", t1)), Sink(("127.0.0.1", t2))
    p = Proxy(["--source", "unix:" + path, "--target", "127.0.0.1:%d" % t1, "--target", "127.0.0.1:%d" % t2,
               "--log-level", "debug", "--stats-interval", "0"])
    check(p.count_log(r"info +removed the stale socket file %s \(" % re.escape(path)) == 1,
          "no single line about the stale socket file:\n" + p.log())
    unbound = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    unbound.sendto(b"a:1|c", path)
    bound = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    cpath = os.path.join(d, "client.sock")
    bound.bind(cpath)
    bound.sendto(b"bb:1|c", path)
    unbound.sendto(b"ccc:1|c", path)
    check(s1.wait_count(3) >= 3 and s2.wait_count(3) >= 3, "not forwarded:\n" + p.log())
    rc = p.stop()
    unbound.close()
    bound.close()
    s1.close()
    s2.close()
    lines = [l for l in p.log().splitlines() if " debug " in l and "received" in l]
    want = [
        "received 5 bytes from an unnamed socket, forwarding to 2 target(s)",
        "received 6 bytes from unix:%s, forwarding to 2 target(s)" % cpath,
        # The bound sender's path must not stick to the next, unbound one.
        "received 7 bytes from an unnamed socket, forwarding to 2 target(s)",
    ]
    got = [l.split(" debug ", 1)[1].strip() for l in lines]
    check(got == want, "debug lines:\n%s\nwanted:\n%s\nlog:\n%s" % ("\n".join(got), "\n".join(want), p.log()))
    check(rc == 0, "exit %d" % rc)
    print("ok: stale socket replaced with one line; debug lines name size, Unix sender and fan-out")


def udp_debug_and_info():
    for level in ("debug", "info"):
        src, t1 = free_port(), free_port()
        sink = Sink(("127.0.0.1", t1))
        p = Proxy(["--source", "127.0.0.1:%d" % src, "--target", "127.0.0.1:%d" % t1, "--log-level", level,
                   "--stats-interval", "0"])
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        for _ in range(3):
            s.sendto(b"x:1|c", ("127.0.0.1", src))
        check(sink.wait_count(3) >= 3, "not forwarded:\n" + p.log())
        rc = p.stop()
        s.close()
        sink.close()
        n = p.count_log(r"debug +received 5 bytes from 127\.0\.0\.1:%d, forwarding to 1 target\(s\)$" % port)
        per_dgram = p.count_log(r"received \d+ bytes")
        if level == "debug":
            check(n == 3, "%d debug lines naming 127.0.0.1:%d, wanted 3:\n%s" % (n, port, p.log()))
        else:
            check(per_dgram == 0, "per-datagram lines at info level:\n" + p.log())
        check(rc == 0, "exit %d" % rc)
    print("ok: UDP sender named at debug; no per-datagram line at info")


def main():
    d = tempdir()
    try:
        allow_names_sender()
        unix_source(d)
        udp_debug_and_info()
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
