"""ctl_rebind_load.py - a source rebind under load loses nothing (review
M3, s1; audit P0-6, E4).

rcvbuf = 208K in the file (Debian's default net.core.rmem_max, 212992), so
the forced 16 MiB buffer cannot hide a pause: while no reader reads the new
socket, the kernel drops (kernel_drops). (64K, the audit's figure, also
overflowed on a loaded CI machine with no rebind at all: 17 drops in 16,000
with 4 readers while other builds ran, which tests the scheduler.)
A stream of 4,000 datagrams/s (scaled by UP_TEST_RATE_SCALE) runs while
SIGHUP rebinds the source onto the same address written differently
(127.0.0.1:P -> localhost:P: the new sockets join the old ones' SO_REUSEPORT
group), twice, then onto every interface (:P: a group of its own, while the
old, more specific sockets still exist), with one reader and with readers = 4. After the stop:
kernel_drops == 0, received == sent, and the target got every datagram.

Why 4,000/s and not the issue's 20,000/s: on the shared 2-core test machine
a 64K buffer at 20,000/s overflows with no rebind at all (328 and 2,142
kernel drops in two runs of 60,000), so that rate would test the scheduler.
At 4,000/s the same run has none, and the old rebind (a 0.2-0.4 s pause)
still loses hundreds.
"""
import os
import shutil
import time

from harness import RATE_SCALE
from ops_util import Proxy, Sender, Sink, check, free_port, payloads, tempdir, write

RATE = int(4000 * RATE_SCALE)
# Under a sanitizer (RATE_SCALE < 1) the control thread runs several times
# slower and a rebind onto another group (:P) takes ~0.3 s under TSan: a
# bigger buffer there, for what those builds check (races, memory), not
# timing.
RCVBUF = "208K" if RATE_SCALE >= 1 else "1M"
d = tempdir()
try:
    for readers in (1, 4):
        conf = os.path.join(d, "rebind-%d.conf" % readers)
        src, pt = free_port(), free_port()
        sink = Sink(("127.0.0.1", pt))

        def config(host):
            write(conf, "source = %s:%d\ntarget = 127.0.0.1:%d\nrcvbuf = %s\nreaders = %d\nstats-interval = 0\n"
                  % (host, src, pt, RCVBUF, readers))

        config("127.0.0.1")
        px = Proxy(["--config", conf])
        try:
            data = payloads(RATE * 4, b"r%d" % readers)  # about 4 s
            snd = Sender(("127.0.0.1", src), data, rate=RATE)
            time.sleep(0.8)
            config("localhost")
            px.hup()
            check(px.count_log(r"reload: done.*source rebound") == 1, "first rebind:\n" + px.log())
            time.sleep(0.8)
            config("127.0.0.1")
            px.hup()
            check(px.count_log(r"reload: done.*source rebound") == 2, "second rebind:\n" + px.log())
            time.sleep(0.6)
            config("")  # every interface: another group, the old one more specific
            px.hup()
            check(px.count_log(r"reload: done.*source rebound") == 3, "third rebind:\n" + px.log())
            snd.join()
            got = sink.wait_count(len(data), 20)
            rc = px.stop()
            check(rc == 0, "exit status %d" % rc)
            g, t = px.final_totals()
            check(g["kernel_drops"] == 0 and g["received"] == len(data),
                  "readers=%d: sent %d, received %d, kernel_drops %d (the rebind left the new socket unread)"
                  % (readers, len(data), g["received"], g["kernel_drops"]))
            check(got == len(data) and sorted(sink.data()) == sorted(data), "readers=%d: target got %d of %d"
                  % (readers, got, len(data)))
            print("ok: readers=%d: %d datagrams at %d/s through three rebinds, kernel_drops 0" %
                  (readers, len(data), RATE))
        finally:
            px.stop()
            sink.close()
finally:
    shutil.rmtree(d, ignore_errors=True)
