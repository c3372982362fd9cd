"""ops_unix.py MODE - Unix datagram sockets as source and target.

  source: unix: source -> UDP target (byte for byte); stale socket file
          removed; live socket and non-socket files refused (exit 1); file
          mode (default 0660, --source-mode); the file is removed on exit.
  target: a Unix target that is missing at start counts send errors and
          is connected once it appears; a receiver that restarts is
          reconnected.
  mixed:  UDP in -> one UDP and one Unix target; a Unix target that stops
          reading only loses its own datagrams (counted in its own
          dropped_queue_full), never costs the UDP target one, with 8 KiB
          datagrams and no_buffer 0; with --readers 1 and 2.
"""
import os
import shutil
import socket
import stat
import sys
import time

from ops_util import Proxy, Sender, Sink, check, free_port, payloads, run, tempdir, up

mode = sys.argv[2]
d = tempdir()
U = socket.AF_UNIX


def unix_send(path, data, rate=2000):
    s = Sender(path, data, rate=rate, family=U)
    s.join()


def test_source():
    path = os.path.join(d, "in.sock")
    # A stale socket file, as a crashed run leaves it.
    stale = socket.socket(U, socket.SOCK_DGRAM)
    stale.bind(path)
    stale.close()
    check(os.path.exists(path), "stale socket not made")
    pt = free_port()
    sink = Sink(("127.0.0.1", pt))
    px = Proxy(["--source", "unix:" + path, "--target", "127.0.0.1:%d" % pt, "--stats-interval", "0"])
    try:
        check(stat.S_IMODE(os.stat(path).st_mode) == 0o660, "mode %o" % stat.S_IMODE(os.stat(path).st_mode))
        data = payloads(3000) + [b"", b"x", b"y" * 60000]
        unix_send(path, data)
        check(sink.wait_count(len(data)) == len(data), "UDP target got %d of %d" % (sink.count(), len(data)))
        check(sink.data() == data, "datagrams differ")
        # A second proxy on the same live socket: refused, exit 1.
        rc, out = run(["--source", "unix:" + path, "--target", "127.0.0.1:%d" % pt])
        check(rc == 1 and "another process receives" in out, "live socket: %d %s" % (rc, out))
        check(px.stop() == 0, "exit status")
        g, t = px.final_totals()
        target = "127.0.0.1:%d" % pt
        up.check_totals(g, t, len(data), [target], healthy=[target])
        check(not os.path.exists(path), "socket file left behind on exit")
    finally:
        px.stop()
        sink.close()
    # Not a socket: never removed, exit 1.
    with open(path, "w") as f:
        f.write("precious\n")
    rc, out = run(["--source", "unix:" + path, "--target", "127.0.0.1:%d" % pt])
    check(rc == 1 and "not a socket" in out, "regular file: %d %s" % (rc, out))
    check(open(path).read() == "precious\n", "regular file was touched")
    os.unlink(path)
    # --source-mode.
    px = Proxy(["--source", "unix:" + path, "--source-mode", "0600", "--target", "127.0.0.1:%d" % pt])
    try:
        check(stat.S_IMODE(os.stat(path).st_mode) == 0o600, "--source-mode 0600 gave %o" % os.stat(path).st_mode)
        check(px.stop() == 0, "exit status")
        g, t = px.final_totals()
        up.check_totals(g, t, 0, ["127.0.0.1:%d" % pt], healthy=["127.0.0.1:%d" % pt])
    finally:
        px.stop()
    rc, out = run(["--source", "unix:" + path, "--readers", "2", "--target", "127.0.0.1:%d" % pt])
    check(rc == 2 and "--readers" in out, "unix source with 2 readers: %d %s" % (rc, out))
    rc, out = run(["--source", "unix:relative.sock", "--target", "127.0.0.1:%d" % pt])
    check(rc == 2 and "absolute path" in out, "relative path: %d %s" % (rc, out))
    print("ok: unix source")


def test_target():
    path = os.path.join(d, "out.sock")
    src = free_port()
    px = Proxy(["--source", "127.0.0.1:%d" % src, "--target", "unix:" + path, "--stats-interval", "1"])
    sink = None
    try:
        check(px.wait_log(r"cannot connect"), "missing target not reported:\n" + px.log())
        first = payloads(100, b"early")
        Sender(("127.0.0.1", src), first, rate=1000).join()

        def early_done():  # the writer has dealt with every early datagram (stats line deltas)
            return sum(up.accounted(t.get("unix:" + path, {"sent": 0, "dropped_send_error": 0,
                                                           "dropped_queue_full": 0, "dropped_shutdown": 0}))
                       for _, t in px.stats_lines()) >= len(first)

        up.wait_until(early_done, 10, 0.1, "the %d early datagrams accounted in the stats lines" % len(first))
        sink = Sink(path, family=U)
        check(px.wait_log(r"unix:%s: connected" % path, 5), "not connected after the socket appeared:\n" + px.log())
        data = payloads(2000)
        Sender(("127.0.0.1", src), data, rate=2000).join()
        check(sink.wait_count(len(data)) == len(data), "unix target got %d of %d" % (sink.count(), len(data)))
        check(sink.data() == data, "datagrams differ")
        # The receiver restarts: a new socket at the same path.
        sink.close()
        sink = Sink(path, family=U)
        lost = payloads(20, b"gap")
        Sender(("127.0.0.1", src), lost, rate=1000).join()
        check(px.wait_log(r"unix:%s: connected" % path, 5, after=1), "no reconnect after restart:\n" + px.log())
        more = payloads(500, b"after")
        Sender(("127.0.0.1", src), more, rate=2000).join()
        check(sink.wait_count(500) >= 500, "after restart got %d" % sink.count())
        check(sink.data()[-500:] == more, "after restart: datagrams differ")
        check(px.stop() == 0, "exit status")
        g, targets = px.final_totals()
        up.check_totals(g, targets, len(first) + len(data) + 20 + 500, ["unix:" + path])
        t = targets["unix:" + path]
        check(t["dropped_send_error"] >= len(first), "send errors %d" % t["dropped_send_error"])
        check(t["sent"] + t["dropped_send_error"] + t["dropped_queue_full"] == len(first) + len(data) + 20 + 500,
              "counters do not add up: %s" % t)
    finally:
        px.stop()
        if sink:
            sink.close()
    print("ok: unix target")


def test_mixed(readers=1):
    """The README's headline set-up: a UDP target and a DogStatsD UDS target that stops reading, with
    8 KiB datagrams as DogStatsD over UDS sends them (test audit P0-2, review M1)."""
    path = os.path.join(d, "dsd.sock")
    src, pu = free_port(), free_port()
    udp, uni = Sink(("127.0.0.1", pu)), Sink(path, family=U)
    px = Proxy(["--source", "127.0.0.1:%d" % src, "--target", "127.0.0.1:%d" % pu, "--target", "unix:" + path,
                "--channel-size", "1024", "--stats-interval", "0", "--readers", str(readers)])
    label = "--readers %d" % readers
    try:
        data = payloads(3000)
        Sender(("127.0.0.1", src), data, rate=2000).join()
        check(udp.wait_count(len(data)) == len(data), "%s: UDP target got %d" % (label, udp.count()))
        check(uni.wait_count(len(data)) == len(data), "%s: Unix target got %d" % (label, uni.count()))
        check(udp.data() == data and uni.data() == data, "%s: datagrams differ" % label)
        # The Unix receiver stops reading: its socket fills up.
        uni.close()
        stuck = socket.socket(U, socket.SOCK_DGRAM)
        stuck.bind(path)
        # The proxy reconnects to the new socket (after the first send fails).
        Sender(("127.0.0.1", src), [b"probe:1|c"], rate=1000).join()
        check(px.wait_log(r"unix:%s: connected" % path, 10), "%s: no reconnect to the stuck socket:\n%s"
              % (label, px.log()))
        more = [p.ljust(8192, b"x") for p in payloads(3000, b"more")]
        Sender(("127.0.0.1", src), more, rate=3000).join()
        offered = 2 * len(data) + 1
        udp.wait_count(offered)
        rc = px.stop()
        check(rc == 0, "%s: exit status %d" % (label, rc))
        glob, targets = px.final_totals()
        u = targets["127.0.0.1:%d" % pu]
        seen = "globals %r, targets %r" % (glob, targets)
        check(glob["no_buffer"] == 0, "%s: no_buffer == 0 (%s)" % (label, seen))
        check(glob["received"] == offered, "%s: proxy received %d of %d (%s)" % (label, glob["received"], offered,
                                                                                  seen))
        check(u["sent"] == offered, "%s: UDP target hurt by the full Unix target: %s" % (label, seen))
        check(udp.count() == offered, "%s: UDP sink got %d of %d" % (label, udp.count(), offered))
        check(udp.data()[len(data) + 1:] == more, "%s: UDP target: datagrams differ" % label)
        t = targets["unix:" + path]
        check(t["dropped_queue_full"] > 0, "%s: the full Unix target's queue never filled? %s" % (label, t))
        dropped = t["dropped_queue_full"] + t["dropped_send_error"] + t["dropped_shutdown"]
        check(t["sent"] + dropped == offered, "%s: counters do not add up: %s" % (label, t))
        stuck.close()
    finally:
        px.stop()
        udp.close()
    print("ok: mixed fan-out (%s)" % label)


def test_mixed_both():
    test_mixed(1)
    test_mixed(2)


try:
    {"source": test_source, "target": test_target, "mixed": test_mixed_both}[mode]()
finally:
    shutil.rmtree(d, ignore_errors=True)
