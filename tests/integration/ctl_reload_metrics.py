"""ctl_reload_metrics.py - /metrics after a reload, exporter settings on
reload, and a removed target's drain (review M2, m9; audit P0-4, P0-7,
item 14).

A stream runs while SIGHUP replaces the file's two targets by the kept one
plus 63 unix: targets with long paths, moves --metrics-listen, adds
--statsd-self and changes --statsd-self-interval. Then:
- /metrics on the running port answers 200 (it answered 500 "metrics too
  large for the buffer" before), its target labels are exactly the file's
  targets, and the kept target's counter never goes back;
- the exporter changes are logged as "needs a restart; keeping" and the old
  metrics port still answers;
- the removed target's "reload: target ... removed (drained)" line counts
  exactly what its sink received, and no drop (drain-timeout 10 s);
- a last reload removes the 63 stuck unix: targets: each drain line's sent
  is exactly what its peer holds, the backlog is in its drop counters.
"""
import os
import re
import shutil
import socket
import time

from metricslib import get, parse_prometheus
from ops_util import Proxy, Sender, Sink, check, free_port, payloads, tempdir, write

SENT = "udp_proxy_sent_datagrams_total"

d = tempdir()
conf = os.path.join(d, "proxy.conf")
src, pa, pb = free_port(), free_port(), free_port()
mport, mport2, self_port = free_port(), free_port(), free_port()
a, b = Sink(("127.0.0.1", pa)), Sink(("127.0.0.1", pb))
longdir = os.path.join(d, "l" * 40)
os.makedirs(longdir)
holders = []  # bound, never read: the unix targets only need a peer
unix_targets = []
for i in range(63):
    path = os.path.join(longdir, "dogstatsd-%02d-%s.sock" % (i, "p" * 20))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    holders.append(s)
    unix_targets.append("unix:" + path)


def config(targets, extra=""):
    lines = ["source = 127.0.0.1:%d" % src, "stats-interval = 0", "drain-timeout = 10s",
             "metrics-listen = 127.0.0.1:%d" % mport]
    lines += ["target = %s" % t for t in targets]
    write(conf, "\n".join(lines) + "\n" + extra)


def scrape(port):
    status, _, body = get(port, "/metrics")
    check(status == 200, "/metrics answered %d: %r" % (status, body[:200]))
    samples = parse_prometheus(body.decode())
    sent = {dict(k[1])["target"]: v for k, v in samples.items() if k[0] == SENT}
    return sent


ta, tb = "127.0.0.1:%d" % pa, "127.0.0.1:%d" % pb
config([ta, tb])
px = Proxy(["--config", conf])
try:
    data = payloads(8000)
    snd = Sender(("127.0.0.1", src), data, rate=2000)  # about 4 s
    time.sleep(1.0)
    before = scrape(mport)
    check(set(before) == {ta, tb}, "labels before the reload: %s" % sorted(before))
    config([ta] + unix_targets, extra="metrics-listen = 127.0.0.1:%d\nstatsd-self = 127.0.0.1:%d\n"
           "statsd-self-interval = 3s\n" % (mport2, self_port))
    # The file now sets metrics-listen twice: the last one counts.
    px.hup()
    check(px.count_log(r"reload: done: 1 target\(s\) kept, 63 added, 1 removed") == 1, "reload:\n" + px.log())
    after = scrape(mport)
    check(set(after) == {ta} | set(unix_targets), "labels after the reload: %d, want 64" % len(after))
    check(after[ta] >= before[ta], "kept target's counter went back: %d -> %d" % (before[ta], after[ta]))
    for flag in ("--metrics-listen", "--statsd-self", "--statsd-self-interval"):
        check(px.count_log(r"reload: %s changed .*needs a restart; keeping" % flag) == 1,
              "no 'needs a restart; keeping' for %s:\n%s" % (flag, px.log()))
    lines = [l for l in px.log().splitlines() if "reload: target %s removed (drained)" % tb in l]
    check(len(lines) == 1, "no drain line for the removed target:\n" + px.log())
    c = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", lines[0])}
    got_b = b.settle()
    check(c["sent"] == got_b and c["sent"] > 0, "removed target: line says sent=%d, its sink got %d" %
          (c["sent"], got_b))
    check(c["dropped_queue_full"] == c["dropped_send_error"] == c["dropped_shutdown"] == 0, "drops: %r" % c)
    check(b.data() == data[:got_b], "removed target: not a contiguous run from the start")
    # Remove the 63 unix targets, whose peers never read (stuck): each
    # drain line counts, in sent, exactly what its peer holds, and its
    # backlog in the drop counters (audit P0-7).
    time.sleep(0.5)
    write(conf, "source = 127.0.0.1:%d\nstats-interval = 0\ndrain-timeout = 1s\nmetrics-listen = 127.0.0.1:%d\n"
          "target = %s\n" % (src, mport, ta))
    px.hup()
    check(px.count_log(r"reload: done: 1 target\(s\) kept, 0 added, 63 removed") == 1, "removal:\n" + px.log())
    stuck = 0
    for path, h in zip(unix_targets, holders):
        lines = [l for l in px.log().splitlines() if "reload: target %s removed (drained)" % path in l]
        check(len(lines) == 1, "no drain line for %s" % path)
        c = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", lines[0])}
        h.setblocking(False)
        held = 0
        try:
            while True:
                h.recv(70000)
                held += 1
        except BlockingIOError:
            pass
        check(c["sent"] == held, "%s: sent=%d, its peer holds %d" % (path, c["sent"], held))
        if c["dropped_queue_full"] + c["dropped_shutdown"] > 0:
            stuck += 1
    check(stuck > 0, "no removed unix target was ever backed up: the check proves nothing")
    snd.join()
    a.settle()
    last = scrape(mport)
    check(set(last) == {ta}, "labels after removing the unix targets: %d" % len(last))
    check(last[ta] >= after[ta], "kept target's counter went back: %d -> %d" % (after[ta], last[ta]))
    check(last[ta] == len(data), "kept target sent %d of %d" % (last[ta], len(data)))
    for s in holders:  # the unix targets' peers go: their queues drop fast
        s.close()
    rc = px.stop(timeout=30)
    check(rc == 0, "exit status %d" % rc)
    check(a.data() == data, "kept target lost or reordered datagrams: %d of %d" % (a.count(), len(data)))
    print("ok: 64 targets after the reload, /metrics 200 (%d series), removed target drained %d" %
          (len(last), got_b))
finally:
    px.stop()
    for s in (a, b):
        s.close()
    for s in holders:
        s.close()
    shutil.rmtree(d, ignore_errors=True)
