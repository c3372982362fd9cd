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
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import metricslib as ml  # noqa: E402
import updtest as up  # noqa: E402

N1 = 5000  # before Prometheus starts
N2 = 7000  # while it scrapes


def prom_query(port, expr):
    url = "http://%s:%d/api/v1/query?%s" % (ml.LOOPBACK, port, urllib.parse.urlencode({"query": expr}))
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
    sinks = [ml.Sink(), ml.Sink()]
    targets = [s.addr for s in sinks]
    dead = "%s:%d" % (ml.LOOPBACK, up.free_port())  # nothing listens: every datagram is a send error
    src = ml.free_port(ml.socket.SOCK_DGRAM)
    mport = ml.free_port()
    proxy = ml.Proxy(binary, ["--source", "%s:%d" % (ml.LOOPBACK, src), "--target", targets[0], "--target",
                              targets[1], "--target", dead, "--metrics-listen", "%s:%d" % (ml.LOOPBACK, mport),
                              "--stats-interval", "1"])
    prom = None
    try:
        ml.start_sender(src, N1, rate=20000).join(60)
        ml.wait_drained(mport, N1, targets + [dead], 20)

        # promtool's linter on the real output.
        status, headers, body = ml.get(mport, "/metrics")
        up.require_cmp(status, '==', 200, 'status == 200')
        chk = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, timeout=30)
        print("promtool check metrics: rc=%d %s%s" % (chk.returncode, chk.stdout.decode(), chk.stderr.decode()))
        up.require(chk.returncode == 0, "promtool rejected the exposition")

        pport = ml.free_port()
        cfg = os.path.join(tmp, "gen.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: udp-proxy\n    static_configs:\n"
                    "      - targets: ['%s:%d']\n" % (ml.LOOPBACK, mport))
        chk = subprocess.run(["promtool", "check", "config", cfg], capture_output=True, timeout=30)
        up.require(chk.returncode == 0, chk.stdout + chk.stderr)
        plog = open(os.path.join(tmp, "prometheus.log"), "w")
        prom = subprocess.Popen(["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(tmp, "data"),
                                 "--web.listen-address=%s:%d" % (ml.LOOPBACK, pport)],
                                stdin=subprocess.DEVNULL, stdout=plog, stderr=subprocess.STDOUT)

        def ready():
            if prom.poll() is not None:
                raise AssertionError("prometheus exited %s" % prom.returncode)
            with up.urlopen("http://%s:%d/-/ready" % (ml.LOOPBACK, pport), timeout=2) as r:
                return r.status == 200
        ml.wait_until(ready, 60, step=0.2, what="prometheus ready")
        ml.wait_until(lambda: prom_value(pport, 'up{job="udp-proxy"}') == 1, 30, step=0.3,
                      what="prometheus to scrape udp-proxy")
        up.require_cmp(prom_value(pport, "udp_proxy_received_datagrams_total"), '==', N1, 'prom_value(pport, "udp_proxy_received_datagrams_total") == N1')

        # More traffic while Prometheus scrapes every second.
        ml.start_sender(src, N2, rate=20000, first=N1).join(60)
        total = N1 + N2
        final = ml.wait_drained(mport, total, targets + [dead], 20)
        got = [s.result() for s in sinks]
        for t, g in zip(targets, got):
            up.require(g["count"] == total, "sink %s got %d of %d" % (t, g["count"], total))
            up.require(sorted(g["seqs"]) == list(range(total)), "sink %s: lost or duplicated datagrams" % t)

        # Prometheus must now see exactly what the sinks saw.
        ml.wait_until(lambda: prom_value(pport, "udp_proxy_received_datagrams_total") == total, 30, step=0.3,
                      what="prometheus to see %d received" % total)
        for t, g in zip(targets, got):
            q = 'udp_proxy_sent_datagrams_total{job="udp-proxy",target="%s"}' % t
            ml.wait_until(lambda: prom_value(pport, q) == g["count"], 30, step=0.3, what=q)
            qb = 'udp_proxy_sent_bytes_total{target="%s"}' % t
            ml.wait_until(lambda: prom_value(pport, qb) == g["bytes"], 30, step=0.3, what=qb)
            print("prometheus: %s = %d (sink received %d datagrams, %d bytes)" % (q, g["count"], g["count"],
                                                                                  g["bytes"]))
        healthy_drops = prom_value(pport, 'sum(udp_proxy_dropped_datagrams_total{target!="%s"})' % dead)
        up.check(healthy_drops == 0, "Prometheus: no drops at the two healthy targets (%r)" % healthy_drops)
        up.require_cmp(prom_value(pport, "udp_proxy_received_bytes_total"), '==', got[0]["bytes"], 'prom_value(pport, "udp_proxy_received_bytes_total") == got[0]["bytes"]')
        up.require_cmp(prom_value(pport, 'udp_proxy_build_info{version!=""}'), '==', 1, 'prom_value(pport, \'udp_proxy_build_info{version!=""}\') == 1')
        up.require(prom_value(pport, "udp_proxy_writer_up") is None, 'prom_value(pport, "udp_proxy_writer_up") is None')  # two series: one per target
        up.require_cmp(len(prom_query(pport, "udp_proxy_writer_up == 1")), '==', 3, 'len(prom_query(pport, "udp_proxy_writer_up == 1")) == 3')
        age = prom_value(pport, "time() - process_start_time_seconds")
        limit = time.time() - t_start + 5
        up.check(age is not None and 0 < age < limit, "process age %r s is within the test's %.0f s" % (age, limit))
        # The documented alert expression returns exactly the dead target's send errors.
        alert = prom_query(pport, "rate(udp_proxy_dropped_datagrams_total[5m]) > 0")
        want = {json.dumps({"instance": "%s:%d" % (ml.LOOPBACK, mport), "job": "udp-proxy", "reason": "send_error",
                            "target": dead}, sort_keys=True)}
        up.check(set(alert) == want, "the drop alert returns exactly the dead target's series: %s" % sorted(alert))

        rc = proxy.stop()
        up.require(rc == 0, "exit status %d" % rc)
        glob, per = proxy.final_totals()
        up.check_totals(glob, per, total, targets + [dead], healthy=targets)
        up.check(per[dead]["dropped_send_error"] > 0, "dead target: send errors counted: %r" % per[dead])
        up.require_cmp(glob["received"], '==', total, 'glob["received"] == total')
        for t in targets:
            up.require_cmp(int(per[t]["sent"]), '==', total, 'int(per[t]["sent"]) == total')
        up.require_cmp(ml.value(final, "udp_proxy_received_datagrams_total"), '==', glob["received"], 'ml.value(final, "udp_proxy_received_datagrams_total") == glob["received"]')
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
            s.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
