"""ops_dns.py - targets named by a host name follow their address.

Runs in a private mount namespace (unshare -m, as root) with a temporary
/etc/hosts and an /etc/resolv.conf that points at 127.0.0.1 (nothing there:
no query ever leaves the host). Skipped (exit 77) where that is impossible.

  - the name moves 127.0.0.1 -> 127.0.0.2 (same family: connect again),
    then -> ::1 (family change: a new socket put in place);
  - the name disappears: the last address is kept, resolve_failures counts;
  - a name that does not resolve at start: exit 2, unless
    --allow-unresolved (then drops are counted until it resolves).
"""
import os
import shutil
import socket
import subprocess
import sys

from ops_util import Proxy, Sender, Sink, check, free_port, payloads, run, tempdir, write  # noqa: E402
import updtest as up  # noqa: E402

d, hosts, resolv = up.private_resolver("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")

NAME = "up-target.test"
port = free_port()
s1, s2, s3 = Sink(("127.0.0.1", port)), Sink(("127.0.0.2", port)), Sink(("::1", port), family=socket.AF_INET6)
try:
    write(hosts, "127.0.0.1 localhost\n127.0.0.1 %s\n" % NAME)
    src = free_port()
    px = Proxy(["--source", "127.0.0.1:%d" % src, "--target", "%s:%d" % (NAME, port), "--resolve-interval", "1",
                "--stats-interval", "0"])
    try:
        def burst(tag, sink):
            data = payloads(200, tag)
            before = sink.count()
            Sender(("127.0.0.1", src), data, rate=2000).join()
            check(sink.wait_count(before + len(data)) == before + len(data), "%s: got %d" % (tag, sink.count() - before))
            check(sink.data()[before:] == data, "%s: datagrams differ" % tag)

        burst(b"first", s1)
        write(hosts, "127.0.0.1 localhost\n127.0.0.2 %s\n" % NAME)
        check(px.wait_log(r"address changed: 127\.0\.0\.1:%d -> 127\.0\.0\.2:%d" % (port, port), 10),
              "no move to 127.0.0.2:\n" + px.log())
        burst(b"second", s2)
        write(hosts, "127.0.0.1 localhost\n::1 %s\n" % NAME)
        check(px.wait_log(r"address changed: 127\.0\.0\.2:%d -> \[::1\]:%d" % (port, port), 10),
              "no move to [::1]:\n" + px.log())
        burst(b"third", s3)
        write(hosts, "127.0.0.1 localhost\n")
        check(px.wait_log(r"lookup failed.*keeping the last address", 10), "failed lookup not logged:\n" + px.log())
        burst(b"fourth", s3)
        check(px.stop() == 0, "exit status")
        _, targets = px.final_totals()
        t = targets["%s:%d" % (NAME, port)]
        check(t.get("resolve_failures", 0) >= 1, "resolve_failures not counted: %s" % t)
        check(t["sent"] == 800 and t["dropped_send_error"] == 0, "counters: %s" % t)
        check(s1.count() == 200 and s2.count() == 200 and s3.count() == 400, "sinks: %d %d %d"
              % (s1.count(), s2.count(), s3.count()))
    finally:
        px.stop()

    # Not resolvable at start.
    rc, out = run(["--source", "127.0.0.1:%d" % src, "--target", "%s:%d" % (NAME, port)])
    # No resolver answers here (nothing on 127.0.0.1:53): a temporary failure, exit 1.
    check(rc == 1 and "cannot resolve" in out and "temporary" in out, "unresolvable at start: %d %s" % (rc, out))
    px = Proxy(["--source", "127.0.0.1:%d" % src, "--target", "%s:%d" % (NAME, port), "--allow-unresolved",
                "--resolve-interval", "1", "--stats-interval", "0"])
    try:
        Sender(("127.0.0.1", src), payloads(100, b"lost"), rate=2000).join()
        before = s1.count()
        write(hosts, "127.0.0.1 localhost\n127.0.0.1 %s\n" % NAME)
        check(px.wait_log(r"address changed: nothing -> 127\.0\.0\.1:%d" % port, 10), "never resolved:\n" + px.log())
        data = payloads(100, b"found")
        Sender(("127.0.0.1", src), data, rate=2000).join()
        check(s1.wait_count(before + 100) == before + 100 and s1.data()[before:] == data, "after resolving: %d"
              % (s1.count() - before))
        check(px.stop() == 0, "exit status")
        _, targets = px.final_totals()
        t = targets["%s:%d" % (NAME, port)]
        check(t["dropped_send_error"] == 100 and t["sent"] == 100, "counters: %s" % t)
    finally:
        px.stop()
    print("ok: DNS follows the target")
finally:
    for s in (s1, s2, s3):
        s.close()
    shutil.rmtree(d, ignore_errors=True)
