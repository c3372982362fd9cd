"""Issue 11 with a real DogStatsD client library: hot-shots (npm) sends counters
with sample rates, gauges with signs, histograms, distributions, timers, sets,
events and service checks, with a container ID, cardinality, external data
(DD_EXTERNAL_ENV) and a bare tag, packing lines itself, through udp-proxy to a
raw target and an otel target.

- the raw target gets exactly the datagrams the client put on the wire;
- the otel target gets only lines of the receiver's grammar;
- every input line is accounted: a reference written here from the issue's
  table says which samples each line gives; they all arrive, with the tags
  expected, and the rest is in the drop counters by reason.

Needs node and hot-shots (scripts/deps.sh installs it into
/usr/local/lib/udp-proxy-tests, or set UP_NODE_MODULES): exit 77 without them.
"""
import base64
import os
import re
import shutil
import subprocess
import tempfile
from collections import Counter

from harness import *
import updtest as up

MODULES = os.environ.get("UP_NODE_MODULES", "/usr/local/lib/udp-proxy-tests/node_modules")
if not shutil.which("node") or not os.path.isfile(os.path.join(MODULES, "hot-shots", "package.json")):
    print("SKIP: node or the npm package hot-shots is missing (run scripts/deps.sh as root, or set "
          "UP_NODE_MODULES to a node_modules folder that has hot-shots)")
    sys.exit(77)

LINE = re.compile(rb"^([^:|\s][^:|]*):(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\|(c|g|ms|h|d)(?:\|@(\d+\.?\d*|\.\d+))?"
                  rb"(?:\|#([^,|:\s][^,|:]*:[^,|]+(?:,[^,|:\s][^,|:]*:[^,|]+)*))?$")


def expect(line):
    """From the issue's table: (reason, None) for a dropped line, else (None, [(name, value, type, rate, tags)])."""
    if line.startswith(b"_e{"):
        return "event", None
    if line.startswith(b"_sc"):
        return "service_check", None
    fields = line.split(b"|")
    name, _, values = fields[0].partition(b":")
    typ = fields[1]
    if typ == b"s":
        return "set", None
    rate, tags = None, None
    for f in fields[2:]:
        if f.startswith(b"@"):
            rate = f[1:]
        elif f.startswith(b"#"):
            tags = f[1:]
    tagset = []
    for t in (tags or b"").split(b","):
        if not t or t.startswith(b":"):
            continue
        tagset.append(t if b":" in t.rstrip(b":") else t.rstrip(b":") + b":true")
    out = []
    for v in values.split(b":"):
        if not v:
            continue
        if typ == b"g" and v.startswith(b"+"):
            v = v[1:]
        elif typ == b"g" and v.startswith(b"-"):
            out.append((name, b"0", typ, rate, tuple(tagset)))
        out.append((name, v, typ, rate, tuple(tagset)))
    return None, out


raw, otel = Sink(), Sink()
src = free_port()
log = tempfile.NamedTemporaryFile(prefix="hotshots-", suffix=".txt", delete=False).name
p = Proxy(["--source", "127.0.0.1:%d" % src, "--target", raw.addr + ",name=datadog",
           "--target", otel.addr + ",name=otel,dialect=otel", "--stats-interval", "0"])
try:
    env = dict(os.environ, DD_EXTERNAL_ENV="it-false,cn-app,pu-0123")
    r = subprocess.run(["node", os.path.join(os.path.dirname(os.path.abspath(__file__)), "hotshots_send.js"), MODULES,
                        "127.0.0.1", str(src), log], env=env, capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "hot-shots sent its metrics (%s)" % (r.stderr.strip()[-300:] or "ok"))
    sent = [base64.b64decode(l) for l in open(log).read().split("\n") if l]
    check(len(sent) > 10, "the client put %d datagrams on the wire" % len(sent))
    raw.wait_for(len(sent), timeout=20)
    check(same_multiset(raw.got, sent), "raw target: exactly the client's datagrams, byte for byte (%d)" % len(sent))
    in_lines = [l for d in sent for l in d.split(b"\n") if l]
    kinds = Counter(re.sub(rb".*\|(c|g|ms|h|d|s)(\||$).*", rb"\1", l) if not l.startswith(b"_") else l[:3]
                    for l in in_lines)
    check(all(k in kinds for k in (b"c", b"g", b"ms", b"h", b"d", b"s", b"_e{", b"_sc")),
          "the client sent every kind of line: %s" % dict(kinds))
    check(any(b"|c:abc123def456" in l for l in in_lines) and any(b"|card:" in l for l in in_lines) and
          any(b"|e:" in l for l in in_lines) and any(b"|@0.5" in l for l in in_lines) and
          any(b":-3|g" in l for l in in_lines), "with container ID, cardinality, external data, rates, signed gauges")

    want, want_drops = Counter(), Counter()
    for l in in_lines:
        reason, samples = expect(l)
        if reason:
            want_drops[reason] += 1
        else:
            want.update(samples)
    end = time.time() + 10
    while time.time() < end and sum(d.count(b"\n") + 1 for d in otel.got) < sum(want.values()):
        time.sleep(0.05)
    got_lines = [l for d in otel.got for l in d.split(b"\n")]
    bad = [l for l in got_lines if not LINE.match(l)]
    check(not bad, "otel target: %d lines, all of the receiver's grammar (bad: %r)" % (len(got_lines), bad[:3]))
    got = Counter()
    for l in got_lines:
        m = LINE.match(l)
        got[(m.group(1), m.group(2), m.group(3), m.group(4), tuple((m.group(5) or b"").split(b",")) if m.group(5)
             else ())] += 1
    check(got == want, "otel target: every sample the table says arrives, with its tags (%d)" % sum(want.values()))

    check(p.stop() == 0, "exit 0")
    g, t = p.final_totals()
    m = re.search(r"final lines: (target=otel .*)", p.text())
    o = up.parse_stats(m.group(1), require_globals=False, target_keys=())[1]["otel"]
    check(o["lines_in"] == len(in_lines), "lines_in = %d input lines" % len(in_lines))
    for reason, n in want_drops.items():
        check(o.get("lines_dropped_" + reason, 0) == n, "dropped %s = %d" % (reason, n))
    dropped = sum(v for k, v in o.items() if k.startswith("lines_dropped_"))
    check(dropped == sum(want_drops.values()) and o["lines_out"] == sum(want.values()),
          "every input line accounted: %d in = %d dropped + %d giving %d samples" % (
              len(in_lines), dropped, len(in_lines) - dropped, o["lines_out"]))
    check(o.get("lines_rewritten_container_id", 0) > 0 and o.get("lines_rewritten_cardinality", 0) > 0 and
          o.get("lines_rewritten_external_data", 0) > 0 and o.get("lines_rewritten_gauge_sign", 0) > 0 and
          o.get("lines_rewritten_bare_tag", 0) > 0, "rewrites counted by rule")
    check(t["otel"]["sent"] == g["received"] == len(sent), "sent counts the client's datagrams")
finally:
    p.kill()
    raw.close()
    otel.close()
    os.unlink(log)
print("PASS")
