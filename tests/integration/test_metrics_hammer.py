#!/usr/bin/env python3
"""While 100,000 datagrams flow at a moderate rate, hammer the metrics
server: back-to-back scrapes, idle connections (more than it keeps), half-open
connections, a slow client, garbage, oversized heads and a flood of
connect-and-close. Forwarding must lose nothing: received = N, for each
target sent + dropped = received with nothing dropped, every sink got every
datagram exactly once; and the server still answers afterwards.

usage: test_metrics_hammer.py BUILD/udp-proxy
(20,000 datagrams per second, times UP_TEST_RATE_SCALE: sanitizer builds set
it through CTest, as their reader is several times slower.) Every scrape must
answer 200 (a cut connection is counted, and bounded); queue_depth never
exceeds queue_capacity in any scrape.
"""
import os
import random
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import updtest as up  # noqa: E402

N = 100000
RATE = 20000  # datagrams per second: moderate, ~5 s of traffic
# Queues deep enough for the whole run: on a loaded 2-core CI machine the
# hammering clients can keep a writer thread off the CPU for a while; what
# this test checks is that the HTTP side never stalls or disturbs forwarding
# (a queue_full drop would still be counted, and fail the test).
CHANNEL = 131072


class Hammer:
    def __init__(self, port):
        self.port = port
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.stats = {}
        self.held = []  # sockets kept open on purpose
        self.bad_depth = []  # (labels, depth, capacity) seen with depth > capacity

    def count(self, key):
        with self.lock:
            self.stats[key] = self.stats.get(key, 0) + 1

    def connect(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect((up.LOOPBACK, self.port))
        return s

    def check_depths(self, samples):
        """queue_depth <= queue_capacity for every target, in every scrape (m3)."""
        for (name, labels), v in samples.items():
            if name == "udp_proxy_queue_depth":
                cap = samples.get(("udp_proxy_queue_capacity", labels))
                if cap is None or v > cap:
                    with self.lock:
                        self.bad_depth.append((dict(labels), v, cap))

    def scraper(self):
        while not self.done.is_set():
            try:
                status, _, body = up.get(self.port, "/metrics")
                if status == 200:
                    samples = up.parse_prometheus(body.decode())  # every answer is well-formed
                    self.check_depths(samples)
                self.count("scrape_%d" % status)
            except (OSError, AssertionError) as e:
                # A scrape may be cut when the idle flood evicts it: count it.
                self.count("scrape_error_" + type(e).__name__)
            time.sleep(0.002)

    def idle(self):
        # More idle connections than the server keeps, opened again and again.
        for _ in range(5):
            if self.done.is_set():
                break
            for _ in range(40):
                try:
                    self.held.append(self.connect())
                    self.count("idle_opened")
                except OSError:
                    self.count("idle_connect_error")
            time.sleep(0.5)

    def half_open(self):
        for i in range(60):
            if self.done.is_set():
                break
            try:
                s = self.connect()
                s.sendall(b"GET /metr")
                if i % 2:
                    s.shutdown(socket.SHUT_WR)  # FIN before the head is complete
                self.held.append(s)
                self.count("half_open")
            except OSError:
                self.count("half_open_error")
            time.sleep(0.05)

    def slow(self):
        try:
            s = self.connect()
            req = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
            for b in req:
                if self.done.is_set():
                    break
                s.sendall(bytes([b]))
                time.sleep(0.3)
            self.held.append(s)
            self.count("slow")
        except OSError:
            self.count("slow_cut")

    def garbage(self):
        rnd = random.Random(1234)
        cases = [
            (b"\x00\x01\x02garbage\r\n\r\n", 400),
            (b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * 10000 + b"\r\n\r\n", 431),
            (b"GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n", 505),
            (b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 405),
            (b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n", 404),
            (b"GET /metrics HTTP/1.1\r\n\r\n", 400),
        ]
        for i in range(300):
            if self.done.is_set() and i > len(cases):
                break
            if i % 3 == 0:
                req, want = cases[(i // 3) % len(cases)]
            else:
                req, want = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 300))) + b"\r\n\r\n", None
            try:
                status, _, _ = up.http(self.port, req)
                if want is not None and status != want:
                    self.count("garbage_wrong_status")
                    print("garbage %r: got %d, want %d" % (req[:40], status, want))
                self.count("garbage_%d" % status)
            except (OSError, AssertionError):
                self.count("garbage_no_answer")

    def flood(self):
        for _ in range(500):
            if self.done.is_set():
                break
            try:
                s = self.connect()
                s.close()
                self.count("flood")
            except OSError:
                self.count("flood_error")


def main():
    binary = sys.argv[1]
    up.require_big_buffers()  # exact counts at 20,000/s need the forced source and sink buffers
    rate = RATE
    sinks = [up.Sink(), up.Sink()]
    targets = [s.addr for s in sinks]
    src = up.free_port()
    mport = up.free_port(socket.SOCK_STREAM)
    args = ["--source", "%s:%d" % (up.LOOPBACK, src), "--target", targets[0], "--target", targets[1],
            "--metrics-listen", "%s:%d" % (up.LOOPBACK, mport), "--stats-interval", "1", "--channel-size",
            str(CHANNEL)]
    proxy = up.Proxy(args, binary_path=binary)
    h = Hammer(mport)
    threads = []
    try:
        for fn in (h.scraper, h.scraper, h.idle, h.half_open, h.slow, h.garbage, h.flood):
            t = threading.Thread(target=fn, daemon=True)
            t.start()
            threads.append(t)
        t0 = time.monotonic()
        sender = up.Sender((up.LOOPBACK, src), up.seq_payloads(N), rate, burst=50, process=True)
        sender.join(180)
        up.require(sender.exitcode == 0, "sender failed")
        send_s = time.monotonic() - t0
        final = up.wait_drained(mport, N, targets, 30)
        h.done.set()
        for t in threads:
            t.join(30)
        for s in h.held:
            s.close()
        got = [s.summary() for s in sinks]

        print("hammer: %d datagrams in %.1f s; HTTP activity: %s" % (N, send_s, dict(sorted(h.stats.items()))))
        kernel = up.value(final, "udp_proxy_kernel_receive_drops_total", reader="0")
        received = up.value(final, "udp_proxy_received_datagrams_total")
        up.require_cmp(received + kernel, '==', N, 'received + kernel == N')
        up.check(kernel == 0, "the kernel dropped %d datagrams at the source" % kernel)
        N_fwd = N
        for t, g in zip(targets, got):
            sent = up.value(final, "udp_proxy_sent_datagrams_total", target=t)
            dropped = sum(up.value(final, "udp_proxy_dropped_datagrams_total", target=t, reason=r)
                          for r in ("queue_full", "send_error", "shutdown"))
            print("target %s: sent %d dropped %d (%s), sink received %d" % (
                t, sent, dropped, ", ".join("%s %d" % (r, up.value(final, "udp_proxy_dropped_datagrams_total",
                                                                  target=t, reason=r))
                                            for r in ("queue_full", "send_error", "shutdown")), g["count"]))
            up.require_cmp(sent + dropped, '==', received, 'sent + dropped == received')
            up.require(dropped == 0, "forwarding dropped %d datagrams for %s" % (dropped, t))
            up.require(g["count"] == N_fwd, "sink %s got %d of %d" % (t, g["count"], N_fwd))
            up.require(len(set(up.seq_numbers(g["data"]))) == N_fwd, "sink %s: duplicated datagrams" % t)
            if N_fwd == N:
                up.require(sorted(up.seq_numbers(g["data"])) == list(range(N)),
                           "sink %s: lost or duplicated datagrams" % t)
        codes = {k for k in h.stats if k.startswith("scrape_") and k[7:].isdigit()}
        up.check(codes == {"scrape_200"}, "every scrape answered 200: %s" % sorted(codes))
        ok = h.stats.get("scrape_200", 0)
        up.check(ok >= send_s / 0.05, "at least one scrape per 50 ms per the %.1f s of sending: %d" % (send_s, ok))
        errors = sum(v for k, v in h.stats.items() if k.startswith("scrape_error_"))
        up.check(errors <= ok // 2, "scrapes cut by the idle flood (%d) stay below half the successful ones (%d)"
                 % (errors, ok))
        up.check(h.bad_depth == [], "queue_depth <= queue_capacity in every scrape (%d violations: %s)"
                 % (len(h.bad_depth), h.bad_depth[:5]))
        up.require(not h.stats.get("garbage_wrong_status"), "wrong status codes for bad requests")
        for code in (400, 404, 405, 431, 505):
            up.require(h.stats.get("garbage_%d" % code, 0) > 0, "never answered %d: %s" % (code, h.stats))

        # Still serving, and healthy.
        status, _, body = up.get(mport, "/healthz")
        up.require(status == 200 and body == b"ok\n", (status, body))
        up.scrape(mport)
        rc = proxy.stop().rc
        up.require(rc == 0, "exit status %d" % rc)
        glob, per = proxy.final_totals()
        up.check_totals(glob, per, N, targets, healthy=targets)
        up.check(glob["received"] == N_fwd and glob["kernel_drops"] == kernel,
                 "final totals received=%d kernel_drops=%d, /metrics %d and %d"
                 % (glob["received"], glob["kernel_drops"], N_fwd, kernel))
        for t in targets:
            up.check(per[t]["sent"] == N_fwd and per[t]["dropped_queue_full"] == 0,
                     "%s final totals: sent %d (want %d), dropped_queue_full %d"
                     % (t, per[t]["sent"], N_fwd, per[t]["dropped_queue_full"]))
        print("hammer test: %d sent, %d kernel drops, 0 lost in forwarding: ok" % (N, kernel))
        return 0
    finally:
        h.done.set()
        if proxy.proc.poll() is None:
            proxy.proc.kill()
        for s in sinks:
            s.close()


if __name__ == "__main__":
    sys.exit(main())
