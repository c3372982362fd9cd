"""/healthz says 200 while forwarding and 503 while stopping; the drain timeout is honoured and counted;
datagrams that arrive during the drain are forwarded or counted, never lost silently (m2).

A Unix datagram target whose receiver never reads keeps its writer waiting for room, so the drain lasts the
whole --drain-timeout: long enough to ask /healthz during it and to keep sending through it."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import updtest as up  # noqa: E402


def healthz(port):
    try:
        status, body = up.http_get("http://127.0.0.1:%d/healthz" % port, timeout=5)
        return status, body.decode()
    except OSError as e:  # URLError included: the exporter is gone
        up.fail("GET /healthz on 127.0.0.1:%d failed: %s" % (port, e))


d = up.tempdir("up-healthz-")
path = os.path.join(d, "stuck.sock")
stuck = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
stuck.bind(path)  # never read: fills after a few datagrams
a = up.Sink()
stuck_target = "unix:" + path
src, mport = up.free_port(), up.free_port(socket.SOCK_STREAM)
p = up.Proxy(["--source", "127.0.0.1:%d" % src, "--target", a.target, "--target", stuck_target,
              "--metrics-listen", "127.0.0.1:%d" % mport, "--drain-timeout", "10s"])
up.wait_tcp(mport)
status, body = healthz(mport)
up.check(status == 200 and body.strip() == "ok", "/healthz 200 ok while forwarding (%d %r)" % (status, body))
N = 500
first = [b"h:%d|c" % i for i in range(N)]
up.Sender(("127.0.0.1", src), first, 2000).join()
up.check_eq(a.wait_for(N, timeout=10), N, "healthy target count while the Unix one is stuck")

# Keep sending through SIGTERM and most of the 10 s drain.
more = up.Sender(("127.0.0.1", src), [b"d:%d|c" % i for i in range(20000)], 2000, max_seconds=8)
time.sleep(0.5)
p.send_signal(up.signal.SIGTERM)
p.expect_log("stopping: draining", 5)
status, body = healthz(mport)
up.check(p.proc.poll() is None, "still draining when /healthz is asked (exit status %s)" % p.proc.poll())
up.check(status == 503, "/healthz 503 while stopping (%d %r)" % (status, body))
time.sleep(1.5)  # traffic during the drain
up.check(p.proc.poll() is None, "still draining when the sender stops (exit status %s)" % p.proc.poll())
more.stop()
offered = N + more.sent
print("offered %d datagrams (%d during the stop)" % (offered, more.sent))
rc, g, t = p.stop(timeout=30)
up.check_eq(rc, 0, "exit status after the drain timeout")
u = t[stuck_target]
up.check(u["dropped_shutdown"] > 0, "what the stuck target still had queued is counted: %r" % u)
up.check_totals(g, t, offered, [a.target, stuck_target])
# The healthy target lost nothing but what arrived after SIGTERM: from then on the proxy forwards nothing more
# and counts every later datagram in dropped_shutdown for every target (review m2).
h = t[a.target]
up.check(h["dropped_queue_full"] == 0 and h["dropped_send_error"] == 0, "healthy target: no queue or send drops: %r" % h)
up.check(h["sent"] >= N, "healthy target sent all %d datagrams offered before SIGTERM: %r" % (N, h))
up.check_eq(a.wait_for(t[a.target]["sent"], timeout=10), t[a.target]["sent"], "healthy sink count against its sent")
a.close()
stuck.close()
os.unlink(path)
os.rmdir(d)
print("PASS")
