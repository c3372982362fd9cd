#!/usr/bin/env python3
"""--statsd-self: a UDP sink bound as the self-metrics destination receives
well-formed DogStatsD lines; the counter deltas add up exactly to what
flowed (and to the final totals line), gauges carry current values, and
every per-target line carries its #target tag.

usage: test_selfstats.py BUILD/udp-proxy
"""
import os
import re
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import updtest as up  # noqa: E402

N = 3000
PREFIX = "selftest.udp_proxy."
LINE = re.compile(r"^([A-Za-z0-9_.\-]+):(\d+)\|(c|g)(?:\|#([^|\s]+))?$")
COUNTERS = {"received_datagrams", "received_bytes", "oversize_datagrams", "no_buffer_datagrams", "receive_errors",
            "kernel_receive_drops", "reader_received_datagrams", "sent_datagrams", "sent_bytes", "dropped_datagrams", "not_allowed_datagrams",
            "resolve_failures"}
GAUGES = {"source_bound", "queue_depth", "queue_capacity", "writer_up"}


def main():
    binary = sys.argv[1]
    up.require_big_buffers()  # exact counts at 10,000/s need the big (forced) sink buffers
    sinks = [up.Sink(), up.Sink()]
    statsd = up.Sink()
    targets = [s.addr for s in sinks]
    src = up.free_port()
    args = ["--source", "%s:%d" % (up.LOOPBACK, src), "--target", targets[0], "--target", targets[1],
            "--statsd-self", statsd.addr, "--statsd-self-interval", "200ms", "--statsd-self-prefix", PREFIX,
            "--buffer", "1000"]
    proxy = up.Proxy(args, binary_path=binary)
    try:
        up.Sender((up.LOOPBACK, src), up.seq_payloads(N), 10000, burst=50, process=True).join(60)
        # One oversize datagram: counted, not forwarded.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"x" * 1500, (up.LOOPBACK, src))
        up.check(statsd.wait_count(3, 10) >= 3, "several self-metrics reports while running (%d)" % statsd.count())
        rc = proxy.stop().rc
        up.require(rc == 0, "exit status %d:\n%s" % (rc, proxy.log()))
        got = statsd.summary()
        fwd = [s.summary() for s in sinks]
        glob, per = proxy.final_totals()
        up.check_totals(glob, per, N + 1, targets, healthy=targets)

        sums, gauges, lines = {}, {}, 0
        for dgram in got["data"]:
            up.require(len(dgram) <= 1432, "datagram of %d bytes" % len(dgram))
            for line in dgram.decode().split("\n"):
                lines += 1
                m = LINE.match(line)
                up.require(m, "malformed DogStatsD line %r" % line)
                name, val, kind, tags = m.group(1), int(m.group(2)), m.group(3), m.group(4) or ""
                up.require(name.startswith(PREFIX), line)
                base = name[len(PREFIX):]
                up.require(base in (COUNTERS if kind == "c" else GAUGES), "unknown or mistyped metric %r" % line)
                if base in ("sent_datagrams", "sent_bytes", "dropped_datagrams", "queue_depth",
                            "queue_capacity", "writer_up"):
                    up.require(tags.startswith("target:"), "no target tag: %r" % line)
                for t in tags.split(",") if tags else []:
                    up.require(re.match(r"^[a-z_]+:[^,]+$", t), "bad tag %r in %r" % (t, line))
                key = (base, tags)
                if kind == "c":
                    sums[key] = sums.get(key, 0) + val
                else:
                    gauges[key] = val
        print("selfstats: %d datagrams, %d lines" % (len(got["data"]), lines))
        up.check(len(got["data"]) >= 3, "several reports: %d" % len(got["data"]))

        def same(what, *vals):
            up.check(len(set(vals)) == 1, "%s: %s all equal" % (what, " == ".join(repr(v) for v in vals)))

        same("received_datagrams: sum of deltas, sent, final", sums.get(("received_datagrams", "")), N,
             glob["received"])
        same("received_bytes: sum of deltas, final, sink 1", sums.get(("received_bytes", "")), glob["received_bytes"],
             fwd[0]["bytes"])
        same("oversize_datagrams: sum of deltas, sent, final", sums.get(("oversize_datagrams", "")), 1,
             glob["oversize"])
        same("kernel_receive_drops: sum of deltas, final", sums.get(("kernel_receive_drops", "reader:0")),
             glob["kernel_drops"])
        for t, f in zip(targets, fwd):
            tag = "target:" + t
            same("%s sent_datagrams: sum of deltas, sent, sink, final" % t, sums.get(("sent_datagrams", tag)), N,
                 f["count"], per[t]["sent"])
            same("%s sent_bytes: sum of deltas, sink, final" % t, sums.get(("sent_bytes", tag)), f["bytes"],
                 per[t]["sent_bytes"])
            for r in ("queue_full", "send_error", "shutdown"):
                same("%s dropped %s: sum of deltas, final, 0" % (t, r),
                     sums.get(("dropped_datagrams", tag + ",reason:" + r)), per[t]["dropped_" + r], 0)
            up.require_cmp(gauges[("queue_capacity", tag)], '==', 8192, 'gauges[("queue_capacity", tag)] == 8192')
            up.require_cmp(gauges[("queue_depth", tag)], '==', 0, 'gauges[("queue_depth", tag)] == 0')
            # The last report comes after the writers stopped.
            up.require_cmp(gauges[("writer_up", tag)], '==', 0, 'gauges[("writer_up", tag)] == 0')
        up.require_cmp(gauges[("source_bound", "")], '==', 0, 'gauges[("source_bound", "")] == 0')
        print("selfstats test: counter sums match the final totals (%d received, %d per target): ok" % (N, N))
        return 0
    finally:
        if proxy.proc.poll() is None:
            proxy.proc.kill()
        for s in sinks + [statsd]:
            s.close()


if __name__ == "__main__":
    sys.exit(main())
