"""ctl_drain_traffic.py - datagrams that arrive while the queues drain are
counted, never lost silently (review m2; audit P0-5, E5).

A stuck unix: target (its receiver never reads) holds the drain for the
whole --drain-timeout of 3 s; a healthy UDP target runs beside it. A sender
keeps going at 2000/s through SIGTERM and most of the drain, and stops
before the drain ends. Then every datagram the sender sent is in a counter:
received + kernel_drops == sent; each target accounts for every received
one (sent + drops == received); the healthy target's sink got exactly its
`sent`; what arrived during the drain is in dropped_shutdown. With one
reader and with --readers 2.
"""
import os
import shutil
import signal
import socket
import time

from harness import accounted
from harness import RATE_SCALE
from ops_util import Proxy, Sender, Sink, check, free_port, payloads, tempdir

d = tempdir()
try:
    for readers in (1, 2):
        src, dst = free_port(), free_port()
        healthy = Sink(("127.0.0.1", dst))
        stuck_path = os.path.join(d, "stuck-%d.sock" % readers)
        stuck = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.bind(stuck_path)  # never read
        px = Proxy(["--source", "127.0.0.1:%d" % src, "--target", "127.0.0.1:%d" % dst, "--target",
                    "unix:" + stuck_path, "--drain-timeout", "3s", "--channel-size", "1024", "--stats-interval", "0",
                    "--readers", str(readers)])
        try:
            # 2.5 s at 2000/s; sanitizer builds scale the rate down (UP_TEST_RATE_SCALE), so the count too.
            data = payloads(int(5000 * RATE_SCALE))
            snd = Sender(("127.0.0.1", src), data, rate=2000)
            time.sleep(0.8)
            t0 = time.time()
            px.p.send_signal(signal.SIGTERM)
            check(px.wait_log(r"stopping: draining", 5), "no drain:\n" + px.log())
            snd.join()
            sent = snd.sent
            check(time.time() - t0 < 2.9, "the sender outlived the drain: the test proves nothing (slow machine?)")
            rc = px.stop(timeout=30)
            check(rc == 0, "exit status %d" % rc)
            g, t = px.final_totals()
            th, ts = t["127.0.0.1:%d" % dst], t["unix:" + stuck_path]
            check(g["received"] + g["kernel_drops"] == sent,
                  "readers=%d: sent %d, received %d + kernel_drops %d: %d uncounted\n%r" %
                  (readers, sent, g["received"], g["kernel_drops"], sent - g["received"] - g["kernel_drops"], g))
            for name, c in t.items():
                check(accounted(c) == g["received"], "%s: %r, received %d" % (name, c, g["received"]))
            got = healthy.settle()
            check(got == th["sent"], "healthy sink got %d, its target says sent=%d" % (got, th["sent"]))
            check(th["dropped_shutdown"] > 0, "nothing arrived during the drain? %r" % th)
            check(ts["dropped_queue_full"] + ts["dropped_shutdown"] > 0, "the stuck target never backed up: %r" % ts)
            print("ok: readers=%d: sent %d = received %d + kernel_drops %d; healthy %r" %
                  (readers, sent, g["received"], g["kernel_drops"], th))
        finally:
            px.stop()
            healthy.close()
            stuck.close()
finally:
    shutil.rmtree(d, ignore_errors=True)
