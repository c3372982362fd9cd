"""ctl_stats_lines.py - the stats line and the final totals are never cut
(review m8, issue 9 item 5).

Eight targets, four of them unix: sockets with long paths: the text is
longer than one log line may carry (1,024 bytes), so it comes in parts
("final totals: received=..." then "final totals+: target=..."). Every
target and every field must be there, each part a whole number of targets,
and no log line longer than 1,024 bytes.
"""
import os
import re
import shutil
import socket

from ops_util import Proxy, Sender, Sink, check, free_port, payloads, tempdir
from harness import join_stats

FIELDS = ("sent", "sent_bytes", "dropped_queue_full", "dropped_send_error", "dropped_shutdown")

d = tempdir()
long_dir = os.path.join(d, "long-dir-" + "x" * 30)
os.makedirs(long_dir)
src = free_port()
sinks, targets = [], []
try:
    for i in range(4):
        port = free_port()
        sinks.append(Sink(("127.0.0.1", port)))
        targets.append("127.0.0.1:%d" % port)
    for i in range(4):
        path = os.path.join(long_dir, "dogstatsd-target-number-%d.sock" % i)
        sinks.append(Sink(path, socket.AF_UNIX))
        targets.append("unix:" + path)
    args = ["--source", "127.0.0.1:%d" % src, "--stats-interval", "1"]
    for t in targets:
        args += ["--target", t]
    px = Proxy(args)
    try:
        data = payloads(500)
        snd = Sender(("127.0.0.1", src), data, rate=1000)
        snd.join()
        for s in sinks:
            s.wait_count(len(data), 10)
        check(px.wait_log(r"info  stats received=", 10), "no stats line:\n" + px.log())
        rc = px.stop()
        check(rc == 0, "exit status %d" % rc)
        log = px.log()
        longest = max(len(l.encode()) + 1 for l in log.splitlines())
        check(longest <= 1024, "a log line of %d bytes (limit 1,024)" % longest)
        check(px.count_log(r"final totals\+: target=") >= 1, "8 long targets fit on one line?\n" + log)
        g, t = px.final_totals()
        check(set(t) == set(targets), "targets in the final totals: %s\nwant %s\n%s" % (sorted(t), sorted(targets), log))
        for name, c in t.items():
            missing = [f for f in FIELDS if f not in c]
            check(not missing, "target %s lacks %s: %r\n%s" % (name, missing, c, log))
            check(c["sent"] == len(data), "target %s: %r" % (name, c))
        check(g["received"] == len(data), "globals: %r" % g)
        # The periodic stats line is complete too (its last occurrence).
        text = join_stats(log, "stats")
        check(text is not None, "no stats line")
        check(all(("target=" + x + " ") in text for x in targets), "stats line lacks targets: %s" % text)
        for line in log.splitlines():
            if " final totals+: " in line or " stats+ " in line:
                check(re.search(r" (final totals\+:|stats\+) target=\S+ sent=\d+ ", line),
                      "a continuation line that does not start with a target: %s" % line)
        print("ok: 8 targets, %d final totals lines, longest log line %d bytes" %
              (1 + px.count_log(r"final totals\+:"), longest))
    finally:
        px.stop()
finally:
    for s in sinks:
        s.close()
    shutil.rmtree(d, ignore_errors=True)
