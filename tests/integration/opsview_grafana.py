"""contrib/grafana/udp-proxy.json names only what /metrics really exports.

Scrapes the real binary (two readers, two targets, a drop of each reason it can cause here),
then checks every query of the dashboard (panel targets and template variables):
- every metric name in it is a family /metrics exports;
- every label it matches on, groups by or shows in a legend is a label those families carry
  (or instance/job, which Prometheus adds);
- no other identifier appears but PromQL's own functions and keywords.
And it covers what operators asked for: per-target send rate, drops by reason, queue depth,
kernel drops, per-reader received."""
import json
import os
import re
import socket
import sys

import metricslib as ml

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
PROMQL = {"sum", "min", "max", "avg", "count", "by", "without", "rate", "irate", "increase", "delta", "topk",
          "bottomk", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "offset", "bool",
          "label_values", "min_over_time", "max_over_time", "avg_over_time", "histogram_quantile", "clamp_min",
          "abs", "vector", "scalar", "time", "e"}
TARGET_LABELS = {"instance", "job"}


def queries(node):
    """(where, text) of every PromQL string in the dashboard."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("expr",) and isinstance(v, str):
                yield "expr", v
            elif k == "query" and isinstance(v, str) and node.get("type") != "datasource":
                yield "query", v
            elif k == "definition" and isinstance(v, str):
                yield "query", v
            elif k == "legendFormat" and isinstance(v, str):
                yield "legend", v
            else:
                yield from queries(v)
    elif isinstance(node, list):
        for v in node:
            yield from queries(v)


def main():
    binary = sys.argv[1]
    sink = ml.Sink()
    src, mport = ml.free_port(socket.SOCK_DGRAM), ml.free_port()
    dead = ml.free_port(socket.SOCK_DGRAM)  # nothing listens: send_error
    p = ml.Proxy(binary, ["--source", "127.0.0.1:%d" % src, "--target", sink.addr, "--target", "127.0.0.1:%d" % dead,
                          "--readers", "2", "--metrics-listen", "127.0.0.1:%d" % mport, "--stats-interval", "0"])
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(200):
            s.sendto(ml.payload(i), ("127.0.0.1", src))
        s.close()
        ml.wait_until(lambda: ml.value(ml.scrape(mport), "udp_proxy_received_datagrams_total") == 200, 10,
                      what="200 received")
        samples = ml.scrape(mport)
    finally:
        p.stop()
        sink.kill()
    families = {name for name, _ in samples}
    labels = {k for _, ls in samples for k, _ in ls} | TARGET_LABELS
    print("exported families: %d, labels: %s" % (len(families), sorted(labels)))

    dash = json.load(open(os.path.join(ROOT, "contrib", "grafana", "udp-proxy.json")))
    used = set()
    n = 0
    for where, text in queries(dash):
        n += 1
        if where == "legend":
            for l in re.findall(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}", text):
                assert l in labels, "legend %r shows label %r, which /metrics does not export" % (text, l)
            continue
        body = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)  # drop string literals
        body = re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", "", body)  # and $variables
        body = re.sub(r"\[[^\]]*\]", "", body)  # and range selectors
        # Label names: in matchers {name=...}, in by/without/on/ignoring (...), 2nd arg of label_values.
        label_refs = set(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)\s*\"", body))
        for grp in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", body):
            label_refs |= {x.strip() for x in grp.split(",") if x.strip()}
        m = re.match(r"\s*label_values\((?:.*,)?\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$", body)
        if m:
            label_refs.add(m.group(1))
        for l in label_refs:
            assert l in labels, "query %r uses label %r, which /metrics does not export" % (text, l)
        names = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", re.sub(r"\b\d+(\.\d+)?\b", "", body)))
        metrics = names - PROMQL - label_refs
        assert metrics, "query %r names no metric" % text
        for name in metrics:
            assert name in families, "query %r names %r, which /metrics does not export" % (text, name)
        used |= metrics
    assert n >= 10, "found only %d queries: is the dashboard's layout what this test expects?" % n
    for need in ("udp_proxy_sent_datagrams_total", "udp_proxy_dropped_datagrams_total", "udp_proxy_queue_depth",
                 "udp_proxy_kernel_receive_drops_total", "udp_proxy_reader_received_datagrams_total"):
        assert need in used, "the dashboard has no panel on %s" % need
    print("%d queries checked; metrics used: %s" % (n, " ".join(sorted(used))))
    print("PASS")


if __name__ == "__main__":
    main()
