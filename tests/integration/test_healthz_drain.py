"""/healthz says 200 while forwarding and 503 while stopping; the drain timeout is honoured and counted.

A Unix datagram target whose receiver never reads keeps its writer waiting for room, so the drain lasts the
whole --drain-timeout: long enough to ask /healthz during it.
"""
import tempfile
import urllib.error
import urllib.request

from harness import *


def get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=2) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


d = tempfile.mkdtemp(prefix="up-healthz-")
path = os.path.join(d, "stuck.sock")
stuck = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
stuck.bind(path)  # never read: fills after a few datagrams
a = Sink()
src, mport = free_port(), free_port()
# TCP port for the metrics listener: a free UDP port number is almost surely free for TCP too.
p = Proxy(["--source", "127.0.0.1:%d" % src, "--target", a.addr, "--target", "unix:" + path,
           "--metrics-listen", "127.0.0.1:%d" % mport, "--drain-timeout", "3s"])
try:
    status, body = get(mport, "/healthz")
    check(status == 200 and body.strip() == "ok", "/healthz 200 ok while forwarding (%d %r)" % (status, body))
    N = 500
    send_paced([b"h:%d|c" % i for i in range(N)], ("127.0.0.1", src), 2000)
    check(a.wait_for(N, timeout=10) == N, "the healthy target got all %d while the Unix one is stuck" % N)
    p.proc.send_signal(signal.SIGTERM)
    time.sleep(0.8)  # readers stop within 200 ms; the stuck writer holds the drain open for 3 s
    check(p.proc.poll() is None, "still draining")
    status, body = get(mport, "/healthz")
    check(status == 503, "/healthz 503 while stopping (%d %r)" % (status, body))
    rc = p.proc.wait(15)
    check(rc == 0, "exit 0 after the drain timeout")
    g, t = p.final_totals()
    u = t["unix:" + path]
    check(u["dropped_shutdown"] > 0, "what the stuck target still had queued is counted (%d)" % u["dropped_shutdown"])
    total = accounted(u)
    check(total == g["received"] == N, "stuck target: sent + dropped = received = %d" % N)
finally:
    p.kill()
    a.close()
    stuck.close()
    os.unlink(path)
    os.rmdir(d)
print("PASS")
