"""ctl_footguns.py - issue 10's footguns (walkthrough findings 8, 9 and the
open-source warning).

1. A target that is the proxy's own listener exits 2 naming the loop: the
   source itself, "--source :P --target 127.0.0.1:P", a wildcard source
   against other local addresses, the --metrics-listen address, a unix:
   source; at start, in --check-config, and at reload (refused, the running
   configuration stays). A target on another address is no loop.
2. A second instance on an address another process serves exits 1 "address
   already in use", with and without --config and with --readers 2; also
   when the other process uses SO_REUSEPORT itself. A reload onto such an
   address is refused; a reload onto a free one works.
3. A source on every interface without --allow logs how to restrict it.
"""
import os
import shutil
import socket
import time

from ops_util import Proxy, Sender, Sink, check, free_port, payloads, run, tempdir, write


def has_ipv6():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def expect_loop(args, what):
    for extra in (["--check-config"], []):
        rc, out = run(args + extra, timeout=20)
        check(rc == 2 and "loop" in out and what in out, "%s %s: rc=%d, want 2 naming the loop:\n%s" %
              (" ".join(args), extra, rc, out))


d = tempdir()
p = free_port()
sink = Sink(("127.0.0.1", free_port()))
try:
    # 1. Loops.
    expect_loop(["--source", "127.0.0.1:%d" % p, "--target", "127.0.0.1:%d" % p], "--source")
    expect_loop(["--source", ":%d" % p, "--target", "127.0.0.1:%d" % p], "--source")
    expect_loop(["--source", ":%d" % p, "--target", ":%d" % p], "--source")
    expect_loop(["--source", "0.0.0.0:%d" % p, "--target", "127.0.0.7:%d" % p], "--source")
    if has_ipv6():
        expect_loop(["--source", ":%d" % p, "--target", "[::1]:%d" % p], "--source")
        expect_loop(["--source", "[::1]:%d" % p, "--target", "[::1]:%d" % p], "--source")
    m = free_port()
    expect_loop(["--source", "127.0.0.1:%d" % p, "--target", "127.0.0.1:%d" % m, "--metrics-listen",
                 "127.0.0.1:%d" % m], "--metrics-listen")
    expect_loop(["--source", ":%d" % p, "--target", "127.0.0.1:%d" % m, "--statsd-self", "127.0.0.1:%d" % p],
                "--statsd-self")
    usock = os.path.join(d, "src.sock")
    expect_loop(["--source", "unix:" + usock, "--target", "unix:" + usock], "--source")
    rc, out = run(["--source", "127.0.0.1:%d" % p, "--target", "127.0.0.2:%d" % p, "--check-config"])
    check(rc == 0, "127.0.0.1 vs 127.0.0.2 is no loop: rc=%d %s" % (rc, out))
    rc, out = run(["--source", "127.0.0.1:%d" % p, "--target", "127.0.0.1:%d" % (p + 1 if p < 65535 else p - 1),
                   "--check-config"])
    check(rc == 0, "another port is no loop: rc=%d %s" % (rc, out))

    # ... and at reload.
    conf = os.path.join(d, "proxy.conf")
    src = free_port()
    write(conf, "source = 127.0.0.1:%d\ntarget = 127.0.0.1:%d\nstats-interval = 0\n" % (src, sink.addr[1]))
    px = Proxy(["--config", conf])
    try:
        write(conf, "source = 127.0.0.1:%d\ntarget = 127.0.0.1:%d\ntarget = 127.0.0.1:%d\n" %
              (src, sink.addr[1], src))
        px.hup()
        check(px.count_log(r"reload failed.*loop") == 1, "reload into a loop not refused:\n" + px.log())
        data = payloads(300)
        Sender(("127.0.0.1", src), data, rate=2000).join()
        check(sink.wait_count(len(data)) == len(data), "after the refused reload: %d of %d" % (sink.count(), len(data)))
        time.sleep(0.3)
        check(sink.count() == len(data), "datagrams multiplied: %d for %d sent" % (sink.count(), len(data)))

        # 2. A second instance: with and without --config, with --readers 2.
        for args in (["--config", conf], ["--source", "127.0.0.1:%d" % src, "--target", "127.0.0.1:%d" % p],
                     ["--source", "127.0.0.1:%d" % src, "--target", "127.0.0.1:%d" % p, "--readers", "2"]):
            write(conf, "source = 127.0.0.1:%d\ntarget = 127.0.0.1:%d\nstats-interval = 0\n" % (src, sink.addr[1]))
            rc, out = run(args, timeout=20)
            check(rc == 1 and "address already in use" in out, "second instance %s: rc=%d\n%s" % (args, rc, out))
        # A reload onto a port another process serves (with SO_REUSEPORT): refused.
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        taken = other.getsockname()[1]
        write(conf, "source = 127.0.0.1:%d\ntarget = 127.0.0.1:%d\n" % (taken, sink.addr[1]))
        px.hup()
        check(px.count_log(r"reload failed.*address already in use") == 1, "rebind onto a served port:\n" + px.log())
        # ... and onto a free one: works.
        src2 = free_port()
        write(conf, "source = 127.0.0.1:%d\ntarget = 127.0.0.1:%d\n" % (src2, sink.addr[1]))
        px.hup()
        check(px.count_log(r"reload: done.*source rebound") == 1, "rebind onto a free port:\n" + px.log())
        before = sink.count()
        Sender(("127.0.0.1", src2), payloads(100), rate=2000).join()
        check(sink.wait_count(before + 100) == before + 100, "after the rebind: %d" % (sink.count() - before))
        check(px.stop() == 0, "exit status")
    finally:
        px.stop()
    # Somebody else on the port with SO_REUSEPORT: a --config start must not join it.
    write(conf, "source = 127.0.0.1:%d\ntarget = 127.0.0.1:%d\n" % (taken, sink.addr[1]))
    rc, out = run(["--config", conf], timeout=20)
    check(rc == 1 and "address already in use" in out, "joined a foreign SO_REUSEPORT group: rc=%d\n%s" % (rc, out))
    other.close()

    # 3. Every interface, no --allow: a warning that says how to restrict it.
    for args, want in (([":%d" % free_port()], 1), ([":%d" % free_port(), "--allow", "127.0.0.1"], 0),
                       (["127.0.0.1:%d" % free_port()], 0)):
        px = Proxy(["--source", args[0], "--target", "127.0.0.1:%d" % sink.addr[1]] + args[1:])
        try:
            n = px.count_log(r"warn .*every interface.*--allow")
            check(n == want, "%s: %d warnings, want %d:\n%s" % (args, n, want, px.log()))
        finally:
            check(px.stop() == 0, "exit status")
    # ... and when a reload opens the source to every interface.
    conf2 = os.path.join(d, "open.conf")
    sp = free_port()
    write(conf2, "source = 127.0.0.1:%d\ntarget = 127.0.0.1:%d\n" % (sp, sink.addr[1]))
    px = Proxy(["--config", conf2])
    try:
        write(conf2, "source = :%d\ntarget = 127.0.0.1:%d\n" % (sp, sink.addr[1]))
        px.hup()
        check(px.count_log(r"warn .*every interface.*--allow") == 1, "no warning after the reload:\n" + px.log())
        check(px.stop() == 0, "exit status")
    finally:
        px.stop()
    print("ok: loops refused (start, --check-config, reload), second instances exit 1, open source warned")
finally:
    sink.close()
    shutil.rmtree(d, ignore_errors=True)
