#!/usr/bin/env python3
"""The metrics HTTP server answers as HTTP says: 200 for GET/HEAD /metrics
and /healthz (HEAD without a body), 404 for other paths, 405 with Allow for
other methods, 400 for garbage, 431 for oversized heads, 505 for other
versions; it cuts a client that does not finish its request in time, keeps
working when more idle connections arrive than it keeps, listens on IPv6,
and a listen address in use fails start-up with exit status 1.

usage: test_http_server.py BUILD/udp-proxy
"""
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import updtest as up  # noqa: E402

H = b"Host: 127.0.0.1\r\n"
CASES = [
    (b"GET /metrics HTTP/1.1\r\n" + H + b"\r\n", 200),
    (b"GET /metrics?debug=1 HTTP/1.1\r\n" + H + b"Accept: */*\r\n\r\n", 200),
    (b"GET /metrics HTTP/1.0\r\n\r\n", 200),
    (b"GET http://127.0.0.1/metrics HTTP/1.1\r\n" + H + b"\r\n", 200),
    (b"GET /healthz HTTP/1.1\r\n" + H + b"\r\n", 200),
    (b"\r\nGET /healthz HTTP/1.1\r\n" + H + b"\r\n", 200),
    (b"GET / HTTP/1.1\r\n" + H + b"\r\n", 404),
    (b"GET /metrics/ HTTP/1.1\r\n" + H + b"\r\n", 404),
    (b"GET /favicon.ico HTTP/1.1\r\n" + H + b"\r\n", 404),
    (b"POST /metrics HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n\r\n", 405),
    (b"DELETE /healthz HTTP/1.1\r\n" + H + b"\r\n", 405),
    (b"get /metrics HTTP/1.1\r\n" + H + b"\r\n", 405),
    (b"OPTIONS /metrics HTTP/1.1\r\n" + H + b"\r\n", 405),
    (b"GET /metrics HTTP/1.1\r\n\r\n", 400),  # no Host in HTTP/1.1
    (b"GET /metrics HTTP/1.1\r\n" + H + H + b"\r\n", 400),  # two Host
    (b"GET /metrics HTTP/1.1\n" + H + b"\n", 400),  # bare LF
    (b"GET  /metrics HTTP/1.1\r\n" + H + b"\r\n", 400),
    (b"GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n", 400),
    (b"GET /metrics HTTP/1.1\r\n" + H + b" folded\r\n\r\n", 400),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),  # a TLS ClientHello
    (b"\x00" * 100, 400),
    (b"GET /metrics HTTP/2.0\r\n" + H + b"\r\n", 505),
    (b"GET /metrics HTTP/0.9\r\n" + H + b"\r\n", 505),
    (b"GET /metrics HTTP/1.1\r\n" + H + b"X-Big: " + b"a" * 9000 + b"\r\n\r\n", 431),
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n" + H + b"\r\n", 431),
    (b"GET /metrics HTTP/1.1\r\n" + H + b"".join(b"X-%d: y\r\n" % i for i in range(70)) + b"\r\n", 431),
]


def main():
    binary = sys.argv[1]
    sink = up.Sink()
    src = up.free_port()
    mport = up.free_port(socket.SOCK_STREAM)
    args = ["--source", "%s:%d" % (up.LOOPBACK, src), "--target", sink.addr, "--metrics-listen",
            "%s:%d" % (up.LOOPBACK, mport)]
    proxy = up.Proxy(args, binary_path=binary)
    try:
        for req, want in CASES:
            status, headers, body = up.http(mport, req)
            up.require(status == want, "%r: got %d, want %d" % (req[:60], status, want))
            up.require_cmp(headers["connection"], '==', "close", 'headers["connection"] == "close"')
            if status == 405:
                up.require(headers["allow"] == "GET, HEAD", headers)
        print("status codes: %d cases ok" % len(CASES))

        status, headers, body = up.get(mport, "/metrics", method="HEAD")
        up.require(status == 200 and body == b"" and int(headers["content-length"]) > 1000, (status, headers))
        status, headers, body = up.get(mport, "/healthz", method="HEAD")
        up.check((status, body, headers.get("content-length")) == (200, b"", "3"),
                 "HEAD /healthz: status, body, Content-Length %r" % ((status, body, headers.get("content-length")),))
        status, _, body = up.get(mport, "/healthz")
        up.require_cmp((status, body), '==', (200, b"ok\n"), '(status, body) == (200, b"ok\\n")')

        # A request split into many small writes is still read whole.
        with socket.create_connection((up.LOOPBACK, mport), timeout=10) as s:
            for b in b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n":
                s.sendall(bytes([b]))
                time.sleep(0.005)
            status = up.parse_response(up.read_to_end(s), head_request=False)[0]
            up.check(status == 200, "a request written byte by byte: status %d" % status)

        # A client that never completes its request is cut (timeout 5 s).
        s = socket.create_connection((up.LOOPBACK, mport), timeout=15)
        s.sendall(b"GET /metrics HTTP/1.1\r\n")
        t0 = time.monotonic()
        data = s.recv(100)  # blocks until the server closes
        cut = time.monotonic() - t0
        s.close()
        up.require(data == b"", data)
        up.check(4.0 <= cut < 12, "a slow client is cut after the documented 5 s: %.1f s" % cut)
        print("slow client cut after %.1f s" % cut)

        # More idle connections than the server keeps: new requests still work.
        idle = [socket.create_connection((up.LOOPBACK, mport), timeout=5) for _ in range(50)]
        time.sleep(0.3)
        for _ in range(5):
            up.require_cmp(up.get(mport, "/healthz")[0], '==', 200, 'up.get(mport, "/healthz")[0] == 200')
        for s in idle:
            s.close()
        # A flood of connections closed at once, then a normal scrape.
        for _ in range(300):
            socket.create_connection((up.LOOPBACK, mport), timeout=5).close()
        up.scrape(mport)

        # The same port again: start-up fails with a clear message, status 1.
        r = subprocess.run([binary, "--source", "%s:%d" % (up.LOOPBACK, up.free_port()), "--target",
                            sink.addr, "--metrics-listen", "%s:%d" % (up.LOOPBACK, mport)],
                           capture_output=True, text=True, timeout=20)
        up.require(r.returncode == 1, (r.returncode, r.stderr))
        up.require("--metrics-listen" in r.stderr and "in use" in r.stderr, r.stderr)
        rc = proxy.stop().rc
        up.check(rc == 0, "exit status %d" % rc)
        g, t = proxy.final_totals()
        up.check_totals(g, t, 0, [sink.addr], healthy=[sink.addr])

        # Bad values of the new flags: exit status 2, a message naming the flag.
        for flag, val in (("--metrics-listen", "nope"), ("--metrics-listen", "127.0.0.1:0"),
                          ("--statsd-self", "1.2.3.4"), ("--statsd-self-interval", "10ms"),
                          ("--statsd-self-interval", "soon"), ("--statsd-self-prefix", "a|b"),
                          ("--statsd-self-prefix", "x" * 64)):
            r = subprocess.run([binary, "--target", sink.addr, flag, val], capture_output=True, text=True, timeout=20)
            up.require(r.returncode == 2 and flag in r.stderr, (flag, val, r.returncode, r.stderr))

        # IPv6 loopback, where the host has it.
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as t:
                t.bind(("::1", 0))
                p6 = t.getsockname()[1]
        except OSError as e:
            p6 = None
            why = str(e)
        if p6:
            args = ["--source", "%s:%d" % (up.LOOPBACK, src), "--target", sink.addr, "--metrics-listen",
                    "[::1]:%d" % p6]
            proxy = up.Proxy(args, binary_path=binary)
            status, _, body = up.http(p6, b"GET /healthz HTTP/1.1\r\nHost: [::1]\r\n\r\n", host="::1",
                                      family=socket.AF_INET6)
            up.require_cmp((status, body), '==', (200, b"ok\n"), '(status, body) == (200, b"ok\\n")')
            up.require_cmp(proxy.stop().rc, '==', 0, 'proxy.stop() == 0')
            g, t = proxy.final_totals()
            up.check_totals(g, t, 0, [sink.addr], healthy=[sink.addr])
            print("IPv6 listen: ok")
        print("http server test: ok")
        if not p6:
            up.skip("the IPv4 parts passed, but the IPv6 listen part cannot run here: ::1 unavailable (%s)" % why)
        return 0
    finally:
        if proxy.proc.poll() is None:
            proxy.proc.kill()
        sink.close()


if __name__ == "__main__":
    sys.exit(main())
