"""--health-stall SECS: /healthz answers 503 naming a target that has sent nothing for SECS
while datagrams were queued for it, and 200 again once it catches up; off by default.

A Unix datagram target whose receiver does not read fills its socket buffer, so the writer
holds queued datagrams it cannot send: a stalled target."""
import os
import socket
import sys
import tempfile
import time

import metricslib as ml


def healthz(port):
    status, _, body = ml.get(port, "/healthz")
    return status, body.decode()


def run(binary, stall_args):
    d = tempfile.mkdtemp(prefix="up-stall-")
    path = os.path.join(d, "stuck.sock")
    stuck = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    stuck.bind(path)  # not read for now: fills after a few hundred datagrams
    sink = ml.Sink()
    src, mport = ml.free_port(socket.SOCK_DGRAM), ml.free_port()
    p = ml.Proxy(binary, ["--source", "127.0.0.1:%d" % src, "--target", sink.addr, "--target", "unix:" + path,
                          "--metrics-listen", "127.0.0.1:%d" % mport, "--stats-interval", "0",
                          "--drain-timeout", "500ms"] + stall_args)
    try:
        status, body = healthz(mport)
        assert status == 200 and body == "ok\n", "healthy at start: %d %r" % (status, body)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(3000):
            s.sendto(ml.payload(i), ("127.0.0.1", src))
            if i % 100 == 99:
                time.sleep(0.01)
        s.close()
        depth = lambda: ml.value(ml.scrape(mport), "udp_proxy_queue_depth", target="unix:" + path)
        ml.wait_until(lambda: depth() > 0, 10, what="datagrams queued for the stuck target")
        return p, mport, stuck, path, d, sink
    except BaseException:
        p.proc.kill()
        sink.kill()
        stuck.close()
        raise


def main():
    binary = sys.argv[1]
    # Off by default: a stuck target does not fail /healthz.
    p, mport, stuck, path, d, sink = run(binary, [])
    try:
        time.sleep(2.5)
        status, body = healthz(mport)
        assert status == 200, "no --health-stall: still 200 with a stuck target (%d %r)" % (status, body)
    finally:
        p.stop()
        sink.kill()
        stuck.close()
        os.unlink(path)
        os.rmdir(d)

    p, mport, stuck, path, d, sink = run(binary, ["--health-stall", "2"])
    try:
        # Shortly after it filled: not yet stalled for 2 s.
        status, body = healthz(mport)
        assert status == 200, "stalled for less than 2 s: 200 (%d %r)" % (status, body)
        status, body = ml.wait_until(lambda: (lambda r: r if r[0] == 503 else None)(healthz(mport)), 10, step=0.2,
                                     what="/healthz 503 for the stalled target")
        print("stalled: %d %r" % (status, body))
        assert "unix:" + path in body, "the 503 body names the target: %r" % body
        assert sink.addr not in body, "and not the healthy one: %r" % body
        # The receiver starts reading: the queue drains and health comes back.
        stuck.settimeout(0.2)
        deadline = time.monotonic() + 20
        ok = None
        while time.monotonic() < deadline:
            try:
                while True:
                    stuck.recv(70000)
            except socket.timeout:
                pass
            status, body = healthz(mport)
            if status == 200:
                ok = body
                break
        assert ok == "ok\n", "200 ok again once the target drains (%d %r)" % (status, body)
        assert p.stop() == 0
    finally:
        if p.proc.poll() is None:
            p.proc.kill()
        sink.kill()
        stuck.close()
        os.unlink(path)
        os.rmdir(d)
    print("PASS")


if __name__ == "__main__":
    main()
