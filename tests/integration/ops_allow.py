"""ops_allow.py - --allow CIDR: datagrams from other senders are dropped and
counted (not_allowed); IPv4 and IPv6; a reload changes the list live."""
import os
import shutil
import socket

from ops_util import Proxy, Sender, Sink, check, free_port, payloads, tempdir, up, write

d = tempdir()
conf = os.path.join(d, "allow.conf")
try:
    # IPv4, from a config file; then a reload drops the list.
    src, pt = free_port(), free_port()
    sink = Sink(("127.0.0.1", pt))
    write(conf, "source = 127.0.0.1:%d\ntarget = 127.0.0.1:%d\nallow = 127.0.0.2/32\nallow = ::1\n"
          "stats-interval = 0\n" % (src, pt))
    px = Proxy(["--config", conf])
    try:
        good, bad = payloads(300, b"good"), payloads(200, b"bad")
        Sender(("127.0.0.1", src), bad, rate=2000, bind=("127.0.0.1", 0)).join()
        Sender(("127.0.0.1", src), good, rate=2000, bind=("127.0.0.2", 0)).join()
        check(sink.wait_count(len(good)) == len(good), "allowed sender: got %d" % sink.count())
        check(sink.settle(0.3) == len(good) and sink.data() == good, "denied datagrams were forwarded")
        check(px.wait_log(r"outside --allow"), "no log line for the denied sender")
        write(conf, "source = 127.0.0.1:%d\ntarget = 127.0.0.1:%d\nstats-interval = 0\n" % (src, pt))
        px.hup()
        check(px.count_log(r"--allow now has 0 network") == 1, "allow change not logged:\n" + px.log())
        late = payloads(100, b"late")
        Sender(("127.0.0.1", src), late, rate=2000, bind=("127.0.0.1", 0)).join()
        check(sink.wait_count(len(good) + len(late)) == len(good) + len(late), "after reload got %d" % sink.count())
        check(px.stop() == 0, "exit status")
        glob, per = px.final_totals()
        target = "127.0.0.1:%d" % pt
        up.check_totals(glob, per, len(bad) + len(good) + len(late), [target], healthy=[target])
        check(glob.get("not_allowed") == len(bad), "not_allowed=%s, want %d" % (glob.get("not_allowed"), len(bad)))
        check(glob["received"] == len(good) + len(late), "received=%d" % glob["received"])
    finally:
        px.stop()
        sink.close()

    # IPv6: ::1 allowed by a /128, denied when only another network is listed.
    src6, pt = free_port(socket.AF_INET6, "::1"), free_port()
    sink = Sink(("127.0.0.1", pt))
    for allow, want in (("::1/128", 50), ("2001:db8::/32", 0)):
        px = Proxy(["--source", "[::1]:%d" % src6, "--target", "127.0.0.1:%d" % pt, "--allow", allow,
                    "--allow", "10.0.0.0/8", "--stats-interval", "0"])
        try:
            before = sink.count()
            Sender(("::1", src6), payloads(50, b"six"), family=socket.AF_INET6).join()
            if want:  # a readiness wait for the positive case; settle only to show that nothing comes
                got = sink.wait_count(before + want) - before
            else:
                got = sink.settle(0.3) - before
            check(got == want, "--allow %s: forwarded %d, want %d" % (allow, got, want))
            check(px.stop() == 0, "exit status")
            glob, per = px.final_totals()
            target = "127.0.0.1:%d" % pt
            up.check_totals(glob, per, 50, [target], healthy=[target])
            check(glob.get("not_allowed", 0) == 50 - want, "--allow %s: not_allowed=%s" % (allow, glob.get("not_allowed")))
        finally:
            px.stop()
    sink.close()
    print("ok: --allow")
finally:
    shutil.rmtree(d, ignore_errors=True)
