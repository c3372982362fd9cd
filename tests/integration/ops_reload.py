"""ops_reload.py - SIGHUP applies a new config file without losing datagrams.

A steady stream runs while SIGHUP (1) adds a target, (2) removes one,
(3) reloads the unchanged file, (4) reloads a broken file. The target that
stays in the file throughout must receive every datagram, byte for byte and
in order; the added one a contiguous run up to the end; the removed one a
contiguous run from the start; the broken file changes nothing.
"""
import os
import shutil
import time

from ops_util import Proxy, Sender, Sink, check, free_port, payloads, tempdir, write

d = tempdir()
conf = os.path.join(d, "proxy.conf")
src, pa, pb, pc = free_port(), free_port(), free_port(), free_port()
a, b, c = Sink(("127.0.0.1", pa)), Sink(("127.0.0.1", pb)), Sink(("127.0.0.1", pc))


def config(*targets, extra=""):
    lines = ["# written by ops_reload.py", "source = 127.0.0.1:%d" % src, "stats-interval = 0"]
    lines += ["target = 127.0.0.1:%d" % p for p in targets]
    write(conf, "\n".join(lines) + "\n" + extra)


config(pa, pb)
px = Proxy(["--config", conf])
try:
    data = payloads(12000)
    snd = Sender(("127.0.0.1", src), data, rate=2000)  # about 6 s
    time.sleep(1.0)
    config(pa, pb, pc)  # (1) add c
    px.hup()
    check(px.count_log(r"target 127\.0\.0\.1:%d added" % pc) == 1, "add not logged:\n" + px.log())
    time.sleep(1.0)
    config(pa, pc)  # (2) remove b
    px.hup()
    check(px.count_log(r"target 127\.0\.0\.1:%d removed" % pb) == 1, "removal not logged:\n" + px.log())
    time.sleep(0.5)
    px.hup()  # (3) unchanged
    check(px.count_log(r"reload: done: 2 target\(s\) kept, 0 added, 0 removed") >= 1, "unchanged reload:\n" + px.log())
    time.sleep(0.5)
    write(conf, "source = 127.0.0.1:%d\ntarget = 127.0.0.1:%d\ntarget = nonsense\n" % (src, pa))  # (4) broken
    px.hup()
    check(px.count_log(r"reload failed.*proxy\.conf:3:") == 1, "broken file not reported with file:line:\n" + px.log())
    snd.join()
    check(snd.sent == len(data), "sender did not finish")
    a.settle()
    c.settle()
    rc = px.stop()
    check(rc == 0, "exit status %d" % rc)
    got_a = a.data()
    check(len(got_a) == len(data), "kept target lost datagrams: %d of %d" % (len(got_a), len(data)))
    check(got_a == data, "kept target: datagrams differ or out of order")
    got_b, got_c = b.data(), c.data()
    check(0 < len(got_b) < len(data), "removed target got %d" % len(got_b))
    check(got_b == data[: len(got_b)], "removed target: not a contiguous run from the start")
    check(0 < len(got_c) < len(data), "added target got %d" % len(got_c))
    check(got_c == data[len(data) - len(got_c):], "added target: not a contiguous run to the end")
    glob, targets = px.final_totals()
    check(glob["received"] == len(data), "received=%d" % glob["received"])
    check(set(targets) == {"127.0.0.1:%d" % pa, "127.0.0.1:%d" % pc}, "targets in totals: %s" % sorted(targets))
    check(targets["127.0.0.1:%d" % pa]["sent"] == len(data), "kept target's counters were reset")
    print("ok: kept %d/%d, removed target got %d, added target got %d" % (len(got_a), len(data), len(got_b), len(got_c)))
finally:
    px.stop()
    for s in (a, b, c):
        s.close()
    shutil.rmtree(d, ignore_errors=True)
