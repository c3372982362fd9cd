#!/usr/bin/env python3
"""A real Prometheus server scrapes udp-proxy's /metrics (scrape interval
1 s) while datagrams flow; queries through Prometheus's HTTP API must return
exactly what the test's sinks received, and `promtool check metrics` must
accept the exposition.

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
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import metricslib as ml  # noqa: E402

N1 = 5000  # before Prometheus starts
N2 = 7000  # while it scrapes


def prom_query(port, expr):
    url = "http://%s:%d/api/v1/query?%s" % (ml.LOOPBACK, port, urllib.parse.urlencode({"query": expr}))
    with urllib.request.urlopen(url, timeout=5) as r:
        doc = json.load(r)
    assert doc["status"] == "success", doc
    return {json.dumps(x["metric"], sort_keys=True): float(x["value"][1]) for x in doc["data"]["result"]}


def prom_value(port, expr):
    r = prom_query(port, expr)
    return list(r.values())[0] if len(r) == 1 else None


def main():
    binary = sys.argv[1]
    for tool in ("prometheus", "promtool"):
        if not shutil.which(tool):
            print("FAIL: %s not installed (Debian package 'prometheus'; see scripts/deps.sh)" % tool)
            return 1
    tmp = tempfile.mkdtemp(prefix="up-prom-")
    sinks = [ml.Sink(), ml.Sink()]
    targets = [s.addr for s in sinks]
    src = ml.free_port(ml.socket.SOCK_DGRAM)
    mport = ml.free_port()
    proxy = ml.Proxy(binary, ["--source", "%s:%d" % (ml.LOOPBACK, src), "--target", targets[0], "--target",
                              targets[1], "--metrics-listen", "%s:%d" % (ml.LOOPBACK, mport), "--stats-interval", "1"])
    prom = None
    try:
        ml.start_sender(src, N1, rate=20000).join(60)
        ml.wait_drained(mport, N1, targets, 20)

        # promtool's linter on the real output.
        status, headers, body = ml.get(mport, "/metrics")
        assert status == 200
        chk = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, timeout=30)
        print("promtool check metrics: rc=%d %s%s" % (chk.returncode, chk.stdout.decode(), chk.stderr.decode()))
        assert chk.returncode == 0, "promtool rejected the exposition"

        pport = ml.free_port()
        cfg = os.path.join(tmp, "gen.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: udp-proxy\n    static_configs:\n"
                    "      - targets: ['%s:%d']\n" % (ml.LOOPBACK, mport))
        chk = subprocess.run(["promtool", "check", "config", cfg], capture_output=True, timeout=30)
        assert chk.returncode == 0, chk.stdout + chk.stderr
        plog = open(os.path.join(tmp, "prometheus.log"), "w")
        prom = subprocess.Popen(["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(tmp, "data"),
                                 "--web.listen-address=%s:%d" % (ml.LOOPBACK, pport)],
                                stdin=subprocess.DEVNULL, stdout=plog, stderr=subprocess.STDOUT)

        def ready():
            if prom.poll() is not None:
                raise AssertionError("prometheus exited %s" % prom.returncode)
            with urllib.request.urlopen("http://%s:%d/-/ready" % (ml.LOOPBACK, pport), timeout=2) as r:
                return r.status == 200
        ml.wait_until(ready, 60, step=0.2, what="prometheus ready")
        ml.wait_until(lambda: prom_value(pport, 'up{job="udp-proxy"}') == 1, 30, step=0.3,
                      what="prometheus to scrape udp-proxy")
        assert prom_value(pport, "udp_proxy_received_datagrams_total") == N1

        # More traffic while Prometheus scrapes every second.
        ml.start_sender(src, N2, rate=20000, first=N1).join(60)
        total = N1 + N2
        final = ml.wait_drained(mport, total, targets, 20)
        got = [s.result() for s in sinks]
        for t, g in zip(targets, got):
            assert g["count"] == total, "sink %s got %d of %d" % (t, g["count"], total)
            assert sorted(g["seqs"]) == list(range(total)), "sink %s: lost or duplicated datagrams" % t

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
        assert prom_value(pport, "sum(udp_proxy_dropped_datagrams_total)") == 0
        assert prom_value(pport, "udp_proxy_received_bytes_total") == got[0]["bytes"]
        assert prom_value(pport, 'udp_proxy_build_info{version!=""}') == 1
        assert prom_value(pport, "udp_proxy_writer_up") is None  # two series: one per target
        assert len(prom_query(pport, "udp_proxy_writer_up == 1")) == 2
        assert prom_value(pport, "time() - process_start_time_seconds") > 0
        # The documented alert expression evaluates (and finds no loss).
        assert prom_query(pport, "rate(udp_proxy_dropped_datagrams_total[5m]) > 0") == {}

        rc = proxy.stop()
        assert rc == 0, "exit status %d" % rc
        glob, per = proxy.final_totals()
        assert glob["received"] == total
        for t in targets:
            assert int(per[t]["sent"]) == total
        assert ml.value(final, "udp_proxy_received_datagrams_total") == glob["received"]
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
