"""ops_allow.py - --allow CIDR: datagrams from other senders are dropped and
counted (not_allowed); IPv4 and IPv6; a reload changes the list live."""
import os
import shutil
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import updtest as up  # noqa: E402
from updtest import Proxy, Sender, Sink, check, free_port, payloads, tempdir, write  # noqa: E402

d = tempdir()
conf = os.path.join(d, "allow.conf")
try:
    # IPv4, from a config file; then a reload drops the list.
    src, pt = free_port(), free_port()
    sink = Sink(("127.0.0.1", pt))
    write(conf, "source = 127.0.0.1:%d\ntarget = 127.0.0.1:%d\nallow = 127.0.0.2/32\nallow = ::1\n"
          "stats-interval = 0\n" % (src, pt))
    px = Proxy(["--config", conf])
    good, bad = payloads(300, b"good"), payloads(200, b"bad")
    Sender(("127.0.0.1", src), bad, rate=2000, bind=("127.0.0.1", 0)).join()
    Sender(("127.0.0.1", src), good, rate=2000, bind=("127.0.0.2", 0)).join()
    check(sink.wait_count(len(good)) == len(good),
          "allowed sender (127.0.0.2): got %d of %d" % (sink.count(), len(good)))
    n = sink.settle(0.3)
    check(n == len(good) and sink.data() == good, "denied sender (127.0.0.1): nothing forwarded (sink has %d, "
          "want the %d allowed ones in order)" % (n, len(good)))
    px.expect_log(r"outside --allow", 5, what="a log line for the denied sender")
    write(conf, "source = 127.0.0.1:%d\ntarget = 127.0.0.1:%d\nstats-interval = 0\n" % (src, pt))
    px.hup()
    check(px.count_log(r"--allow now has 0 network") == 1, "the reload logs '--allow now has 0 network(s)' (%d)"
          % px.count_log(r"--allow now has 0 network"))
    late = payloads(100, b"late")
    Sender(("127.0.0.1", src), late, rate=2000, bind=("127.0.0.1", 0)).join()
    want = len(good) + len(late)
    check(sink.wait_count(want) == want, "after the reload every sender is accepted: %d of %d" % (sink.count(), want))
    rc, glob, per = px.stop()
    check(rc == 0, "exit status %d" % rc)
    target = "127.0.0.1:%d" % pt
    up.check_totals(glob, per, len(bad) + len(good) + len(late), [target], healthy=[target])
    check(glob.get("not_allowed") == len(bad), "not_allowed=%s, want %d" % (glob.get("not_allowed"), len(bad)))
    check(glob["received"] == want, "received=%d, want %d" % (glob["received"], want))
    sink.close()

    # IPv6: ::1 allowed by a /128, denied when only another network is listed.
    src6, pt = free_port(host="::1"), free_port()
    sink = Sink(("127.0.0.1", pt))
    target = "127.0.0.1:%d" % pt
    for allow, want in (("::1/128", 50), ("2001:db8::/32", 0)):
        px = Proxy(["--source", "[::1]:%d" % src6, "--target", target, "--allow", allow,
                    "--allow", "10.0.0.0/8", "--stats-interval", "0"])
        before = sink.count()
        Sender(("::1", src6), payloads(50, b"six"), family=socket.AF_INET6).join()
        if want:  # a readiness wait for the positive case; settle only to show that nothing comes
            got = sink.wait_count(before + want) - before
        else:
            got = sink.settle(0.3) - before
        check(got == want, "--allow %s: forwarded %d, want %d" % (allow, got, want))
        rc, glob, per = px.stop()
        check(rc == 0, "exit status %d" % rc)
        up.check_totals(glob, per, 50, [target], healthy=[target])
        check(glob.get("not_allowed", 0) == 50 - want, "--allow %s: not_allowed=%s, want %d"
              % (allow, glob.get("not_allowed"), 50 - want))
    sink.close()
    print("ok: --allow")
finally:
    shutil.rmtree(d, ignore_errors=True)
