#!/usr/bin/env python3
"""A real Prometheus server scrapes udp-proxy's /metrics (scrape interval
1 s) while datagrams flow; queries through Prometheus's HTTP API must return
exactly what the test's sinks received, and `promtool check metrics` must
accept the exposition. A third target with nothing listening makes the
documented drop alert return exactly its series.

usage: test_metrics_prometheus.py BUILD/udp-proxy
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import updtest as up  # noqa: E402

N1 = 5000  # before Prometheus starts
N2 = 7000  # while it scrapes


def prom_query(port, expr):
    url = "http://%s:%d/api/v1/query?%s" % (up.LOOPBACK, port, urllib.parse.urlencode({"query": expr}))
    with up.urlopen(url, timeout=5) as r:
        doc = json.load(r)
    up.require(doc["status"] == "success", doc)
    return {json.dumps(x["metric"], sort_keys=True): float(x["value"][1]) for x in doc["data"]["result"]}


def prom_value(port, expr):
    r = prom_query(port, expr)
    return list(r.values())[0] if len(r) == 1 else None


def main():
    binary = sys.argv[1]
    t_start = time.time()
    for tool in ("prometheus", "promtool"):
        if not shutil.which(tool):
            print("FAIL: %s not installed (Debian package 'prometheus'; see scripts/deps.sh)" % tool)
            return 1
    up.require_big_buffers()  # exact counts at 20,000/s need the forced source and sink buffers
    tmp = tempfile.mkdtemp(prefix="up-prom-")
    sinks = [up.Sink(), up.Sink()]
    targets = [s.addr for s in sinks]
    dead = "%s:%d" % (up.LOOPBACK, up.free_port())  # nothing listens: every datagram is a send error
    src = up.free_port()
    mport = up.free_port(socket.SOCK_STREAM)
    args = ["--source", "%s:%d" % (up.LOOPBACK, src), "--target", targets[0], "--target", targets[1], "--target",
            dead, "--metrics-listen", "%s:%d" % (up.LOOPBACK, mport), "--stats-interval", "1"]
    proxy = up.Proxy(args, binary_path=binary)
    prom = None
    try:
        up.Sender((up.LOOPBACK, src), up.seq_payloads(N1), 20000, burst=50, process=True).join(60)
        up.wait_drained(mport, N1, targets + [dead], 20)

        # promtool's linter on the real output.
        status, headers, body = up.get(mport, "/metrics")
        up.require_cmp(status, '==', 200, 'status == 200')
        chk = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, timeout=30)
        print("promtool check metrics: rc=%d %s%s" % (chk.returncode, chk.stdout.decode(), chk.stderr.decode()))
        up.require(chk.returncode == 0, "promtool rejected the exposition")

        pport = up.free_port(socket.SOCK_STREAM)
        cfg = os.path.join(tmp, "gen.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: udp-proxy\n    static_configs:\n"
                    "      - targets: ['%s:%d']\n" % (up.LOOPBACK, mport))
        chk = subprocess.run(["promtool", "check", "config", cfg], capture_output=True, timeout=30)
        up.require(chk.returncode == 0, chk.stdout + chk.stderr)
        plog = open(os.path.join(tmp, "prometheus.log"), "w")
        prom = subprocess.Popen(["prometheus", "--config.file=" + cfg,
                                 "--storage.tsdb.path=" + os.path.join(tmp, "data"),
                                 "--web.listen-address=%s:%d" % (up.LOOPBACK, pport)],
                                stdin=subprocess.DEVNULL, stdout=plog, stderr=subprocess.STDOUT)

        def ready():
            if prom.poll() is not None:
                raise AssertionError("prometheus exited %s" % prom.returncode)
            with up.urlopen("http://%s:%d/-/ready" % (up.LOOPBACK, pport), timeout=2) as r:
                return r.status == 200
        up.wait_until(ready, 60, step=0.2, what="prometheus ready")
        up.wait_until(lambda: prom_value(pport, 'up{job="udp-proxy"}') == 1, 30, step=0.3,
                      what="prometheus to scrape udp-proxy")
        up.check_eq(prom_value(pport, "udp_proxy_received_datagrams_total"), N1, "Prometheus: received")

        # More traffic while Prometheus scrapes every second.
        up.Sender((up.LOOPBACK, src), up.seq_payloads(N2, N1), 20000, burst=50, process=True).join(60)
        total = N1 + N2
        final = up.wait_drained(mport, total, targets + [dead], 20)
        got = [s.summary() for s in sinks]
        for t, g in zip(targets, got):
            up.require(g["count"] == total, "sink %s got %d of %d" % (t, g["count"], total))
            up.check(sorted(up.seq_numbers(g["data"])) == list(range(total)),
                     "sink %s: every sequence number once" % t)

        # Prometheus must now see exactly what the sinks saw.
        up.wait_until(lambda: prom_value(pport, "udp_proxy_received_datagrams_total") == total, 30, step=0.3,
                      what="prometheus to see %d received" % total)
        for t, g in zip(targets, got):
            q = 'udp_proxy_sent_datagrams_total{job="udp-proxy",target="%s"}' % t
            up.wait_until(lambda: prom_value(pport, q) == g["count"], 30, step=0.3, what=q)
            qb = 'udp_proxy_sent_bytes_total{target="%s"}' % t
            up.wait_until(lambda: prom_value(pport, qb) == g["bytes"], 30, step=0.3, what=qb)
            print("prometheus: %s = %d (sink received %d datagrams, %d bytes)" % (q, g["count"], g["count"],
                                                                                  g["bytes"]))
        healthy_drops = prom_value(pport, 'sum(udp_proxy_dropped_datagrams_total{target!="%s"})' % dead)
        up.check(healthy_drops == 0, "Prometheus: no drops at the two healthy targets (%r)" % healthy_drops)
        up.check_eq(prom_value(pport, "udp_proxy_received_bytes_total"), got[0]["bytes"],
                    "Prometheus: received bytes against sink 1")
        up.check_eq(prom_value(pport, 'udp_proxy_build_info{version!=""}'), 1, "Prometheus: build_info")
        # writer_up: one series per target, so no single value.
        up.check_eq(prom_value(pport, "udp_proxy_writer_up"), None, "Prometheus: writer_up as one value")
        up.check_eq(len(prom_query(pport, "udp_proxy_writer_up == 1")), 3, "Prometheus: writer_up == 1 series")
        age = prom_value(pport, "time() - process_start_time_seconds")
        limit = time.time() - t_start + 5
        up.check(age is not None and 0 < age < limit, "process age %r s is within the test's %.0f s" % (age, limit))
        # The documented alert expression returns exactly the dead target's send errors.
        alert = prom_query(pport, "rate(udp_proxy_dropped_datagrams_total[5m]) > 0")
        want = {json.dumps({"instance": "%s:%d" % (up.LOOPBACK, mport), "job": "udp-proxy", "reason": "send_error",
                            "target": dead}, sort_keys=True)}
        up.check(set(alert) == want, "the drop alert returns exactly the dead target's series: %s" % sorted(alert))

        rc = proxy.stop().rc
        up.require(rc == 0, "exit status %d" % rc)
        glob, per = proxy.final_totals()
        up.check_totals(glob, per, total, targets + [dead], healthy=targets)
        up.check(per[dead]["dropped_send_error"] > 0, "dead target: send errors counted: %r" % per[dead])
        up.require_cmp(glob["received"], '==', total, 'glob["received"] == total')
        for t in targets:
            up.require_cmp(int(per[t]["sent"]), '==', total, 'int(per[t]["sent"]) == total')
        up.check_eq(up.value(final, "udp_proxy_received_datagrams_total"), glob["received"],
                    "/metrics received against the final totals")
        print("prometheus test: %d datagrams, %d per sink, Prometheus agrees: ok" % (total, total))
        return 0
    finally:
        if prom is not None and prom.poll() is None:
            prom.terminate()
            try:
                prom.wait(15)
            except subprocess.TimeoutExpired:
                prom.kill()
        if proxy.proc.poll() is None:
            proxy.proc.kill()
        for s in sinks:
            s.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
