"""test_updtest.py - the test library's own checks: that its strict parts
really fail (a truncated stats line, a missing target, a lost datagram) and
that its HTTP never goes through an http_proxy. Uses the real binary for the
Proxy checks (argv[1] or UP_BINARY)."""
import http.server
import os
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import updtest as up  # noqa: E402

LINE = ("2026-12-01T07:56:41.520Z info  final totals: received=5 received_bytes=50 oversize=0 no_buffer=0 "
        "kernel_drops=0 target=127.0.0.1:1 sent=5 sent_bytes=50 dropped_queue_full=0 dropped_send_error=0 "
        "dropped_shutdown=0 queue=0/8192 target=unix:/tmp/x sent=4 sent_bytes=40 dropped_queue_full=1 "
        "dropped_send_error=0 dropped_shutdown=0 queue=3/8192")


def fails(fn, *args, **kw):
    """True when fn(...) ends the test with FAIL (SystemExit 1); its output is hidden."""
    saved = sys.stdout
    sys.stdout = open(os.devnull, "w")
    try:
        fn(*args, **kw)
        return False
    except SystemExit as e:
        return e.code == 1
    finally:
        sys.stdout.close()
        sys.stdout = saved
        up._Proxies.shown = False


def parse_checks():
    g, t = up.parse_stats(LINE, "final totals:")
    up.check_eq(g, {"received": 5, "received_bytes": 50, "oversize": 0, "no_buffer": 0, "kernel_drops": 0},
                "globals")
    up.check_eq(sorted(t), ["127.0.0.1:1", "unix:/tmp/x"], "targets")
    up.check_eq((t["unix:/tmp/x"]["dropped_queue_full"], t["unix:/tmp/x"]["queue_depth"]), (1, 3), "unix counters")
    # One line per target after the globals: merged.
    head, _, rest = LINE.partition(" target=127.0.0.1:1 ")
    first, _, second = rest.partition(" target=unix:/tmp/x ")
    split = [head, "2026 info  final totals: target=127.0.0.1:1 " + first, "2026 info  target=unix:/tmp/x " + second]
    up.check_eq(up.parse_stats(split, "final totals:"), (g, t), "per-target lines merged")
    # Cut anywhere before the last value's digits: always a FAIL.
    last_digits = LINE.rindex("=") + 1
    bad = [n for n in range(len(LINE) - 40, last_digits) if not fails(up.parse_stats, LINE[:n], "final totals:")]
    up.check(bad == [], "every cut of the line before its last value fails", got=bad)
    up.check(fails(up.parse_stats, LINE + " target=127.0.0.1:1 sent=1", "final totals:"), "a target twice fails")
    up.check(fails(up.parse_stats, LINE.replace("sent=4 ", "sent=4x "), "final totals:"), "a non-number fails")
    up.check(fails(up.parse_stats, [], "final totals:"), "no line at all fails")
    # Reports split into one line per target, with other messages in between, are grouped per report.
    T = " sent=%d sent_bytes=1 dropped_queue_full=0 dropped_send_error=0 dropped_shutdown=0 queue=0/8"
    G = "received=%d received_bytes=1 oversize=0 no_buffer=0 kernel_drops=0"
    log = ["t info  stats " + G % 1, "t info  stats target=a" + T % 1, "t warn  target b: send failed",
           "t info  stats target=b" + T % 1, "t info  stats " + G % 2 + " target=a" + T % 2 + " target=b" + T % 2,
           "t info  stopping: draining", "t info  final totals: " + G % 3, "t info  final totals: target=a" + T % 3,
           "t info  final totals: target=b" + T % 3, "t info  reload: target c removed (drained): sent=0"]
    groups = up.stats_groups(log, r"\sstats\s+received=")
    up.check_eq([len(g) for g in groups], [3, 1], "stats reports found, lines in each")
    final = up.stats_groups(log, r"final totals:.*\breceived=")
    up.check_eq(len(final), 1, "final totals reports")
    g, t = up.parse_stats(final[0], "final totals:")
    up.check_eq((g["received"], sorted(t), t["b"]["sent"]), (3, ["a", "b"], 3), "split final totals merged")


def totals_checks():
    g, t = up.parse_stats(LINE, "final totals:")
    names = ["127.0.0.1:1", "unix:/tmp/x"]
    up.check(not fails(up.check_totals, g, t, 5, names, healthy=["127.0.0.1:1"]), "check_totals passes a good run")
    up.check(fails(up.check_totals, g, t, 6, names), "check_totals fails when one offered datagram is missing")
    up.check(fails(up.check_totals, g, t, 5, names + ["127.0.0.1:2"]), "check_totals fails on a missing target")
    up.check(fails(up.check_totals, g, t, 5, names, healthy=["unix:/tmp/x"]), "check_totals fails on a drop "
             "at a healthy target")
    g2 = dict(g, no_buffer=1, received=4)
    t2 = {k: dict(v, sent=v["sent"] - 1) for k, v in t.items()}
    up.check(fails(up.check_totals, g2, t2, 5, names), "check_totals fails when no_buffer > 0")


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"direct"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def http_checks():
    srv = http.server.HTTPServer((up.LOOPBACK, 0), Hello)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    dead = up.free_port(up.socket.SOCK_STREAM)
    os.environ["http_proxy"] = os.environ["HTTP_PROXY"] = "http://127.0.0.1:%d" % dead
    os.environ.pop("no_proxy", None)
    os.environ.pop("NO_PROXY", None)
    try:
        status, body = up.http_get("http://127.0.0.1:%d/" % srv.server_port, timeout=5)
    finally:
        srv.shutdown()
    up.check((status, body) == (200, b"direct"), "urlopen ignores http_proxy for loopback", got=(status, body))


def proxy_checks():
    sink = up.Sink()
    src = up.free_port()
    px = up.Proxy(["--source", "127.0.0.1:%d" % src, "--target", sink.target])
    data = up.payloads(200)
    s = up.Sender(("127.0.0.1", src), data, 2000)
    s.join()
    up.check_eq(sink.wait_count(len(data), 10), len(data), "sink count")
    rc, g, t = px.stop()
    up.check_eq(rc, 0, "exit status")
    up.check_totals(g, t, s.sent, [sink.target], healthy=[sink.target])
    up.check_received(sink, data, ordered=True)
    sink.close()
    # A failing test prints the proxy's log: run one in a child.
    code = ("import sys; sys.path.insert(0, %r); import updtest as up; s = up.Sink(); "
            "p = up.Proxy(['--source', '127.0.0.1:%d', '--target', s.target]); up.check(False, 'on purpose')"
            % (os.path.dirname(os.path.abspath(__file__)), up.free_port()))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, UP_BINARY=up.binary()))
    up.check(r.returncode == 1 and "FAIL: on purpose" in r.stdout and "listening on" in r.stdout,
             "a failure prints the proxy log tail (exit %d)" % r.returncode, got=r.stdout[-300:])


parse_checks()
totals_checks()
http_checks()
proxy_checks()
print("test_updtest: ok")
