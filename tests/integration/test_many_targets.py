"""64 targets with long names (32 UDP, 32 unix: with ~95-character paths): every periodic stats line and the
final totals list every target with every counter, nothing cut (issue 9 item 5, m8); every target receives
every datagram, and the accounting adds up."""
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import updtest as up  # noqa: E402

N = 500
d = up.tempdir("up-many-")
long_dir = os.path.join(d, "t" * (94 - len(d) - len("/u00.sock")))
os.mkdir(long_dir)
sinks = [up.Sink() for _ in range(32)] + [up.Sink("unix:%s/u%02d.sock" % (long_dir, i)) for i in range(32)]
targets = [s.target for s in sinks]
print("longest target name: %d characters" % max(len(t) for t in targets))
src = up.free_port()
args = ["--source", "127.0.0.1:%d" % src, "--stats-interval", "1", "--channel-size", "1024"]
for t in targets:
    args += ["--target", t]
p = up.Proxy(args)
data = up.payloads(N, b"many")
up.Sender(("127.0.0.1", src), data, 500).join()
short = [(s.target, s.wait_count(N, 20)) for s in sinks]
short = [(t, n) for t, n in short if n != N]
up.check(short == [], "every one of the 64 targets received %d (short: %s)" % (N, short))
seen = p.count_log(r"\sstats\s+received=")
p.expect_log(r"\sstats\s+received=", 10, after=seen, what="a stats line after the traffic")
lines = p.stats_lines()  # strict: a cut line fails here
for i, (g, t) in enumerate(lines):
    up.require(set(t) == set(targets), "stats line %d lists %d of the 64 targets" % (i, len(t)))
up.check(len(lines) >= 1, "%d stats lines, each listing all 64 targets with every counter" % len(lines))
up.check_eq(sum(g["received"] for g, _ in lines), N, "sum of the received deltas")
rc, g, t = p.stop()
up.check_eq(rc, 0, "exit status")
up.check_totals(g, t, N, targets, healthy=targets)
bad = [s.target for s in sinks if s.data() != data]
up.check(bad == [], "every target got the datagrams byte for byte, in order (differ: %s)" % bad)
for s in sinks:
    s.close()
shutil.rmtree(d, ignore_errors=True)
print("PASS")
