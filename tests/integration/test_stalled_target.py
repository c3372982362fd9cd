"""One target stops reading: the other still receives 100%, byte for byte (test audit P0-1).

The stalled target is a `unix:` socket whose receiver never reads: on loopback only a Unix target pushes
back (a UDP send to a full receiver succeeds and the kernel drops it at the receiver, so the proxy's queue
would never fill). The run checks that it really stalled (its own dropped_queue_full / dropped_shutdown),
that the healthy target got every datagram, that no_buffer stayed 0, and that both targets account for
every datagram received. DogStatsD-like traffic with one datagram in three padded to 8 KiB (DogStatsD over
UDS sends up to 8 KiB), with one reader and with four.
"""
import tempfile

from harness import *
from stalled_util import check_stalled_run, send_spread

N = 30000


def traffic():
    out = []
    for i, p in enumerate(dogstatsd_payloads(N, seed=3)):
        if i % 3 == 0:
            p = (p + b"|#pad:" + b"x" * 8192)[:8192]  # distinct: the sequence number is kept
        out.append(p)
    return out


def run(readers):
    label = "--readers %d" % readers
    d = tempfile.mkdtemp(prefix="up-stalled-")
    path = os.path.join(d, "stuck.sock")
    stuck = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    stuck.bind(path)  # never read
    a = Sink()
    src = free_port()
    p = Proxy(["--source", "127.0.0.1:%d" % src, "--target", a.addr, "--target", "unix:" + path,
               "--readers", str(readers), "--drain-timeout", "1s", "--stats-interval", "0"])
    try:
        data = traffic()
        large = sum(1 for x in data if len(x) > 2048)
        check(large >= 1000, "%d datagrams above 2 KiB" % large)
        send_spread(data, src, 25000, 16 if readers > 1 else 1)
        got = a.wait_for(N, timeout=30)
        rc = p.stop()
        s = check_stalled_run(label, p, rc, a, got, data, "unix:" + path)
        if readers == 1:
            check(s["dropped_queue_full"] > 0, "%s: the stalled target's queue filled: %r" % (label, s))
    except SystemExit:
        print(p.text()[-4000:])
        raise
    finally:
        p.kill()
        a.close()
        stuck.close()
        os.unlink(path)
        os.rmdir(d)


run(1)
run(4)
print("PASS")
