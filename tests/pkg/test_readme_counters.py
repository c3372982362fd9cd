#!/usr/bin/env python3
"""test_readme_counters.py - every field the stats line can show is explained
in the README's "What it counts" table (finding 20 of the new-user
walkthrough: recv_errors was shown but never explained).

The fields are taken from the running binary, not from the source: a proxy
with --allow (so not_allowed shows), a target name that never resolves with
--allow-unresolved (resolve_failures) and a denied datagram; recv_errors, which
a test cannot provoke from outside, is taken from src/stats.c's format
strings. Usage: test_readme_counters.py BIN SRCDIR
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time

binary, src = sys.argv[1], sys.argv[2]
readme = open(os.path.join(src, "README.md"), encoding="utf-8").read()
sec = readme[readme.index("## What it counts"):]
sec = sec[:sec.index("\n## ", 1)]
documented = set(re.findall(r"`(\w+)`", "\n".join(l for l in sec.splitlines() if l.startswith("| "))))

def port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p

sp, tp = port(), port()
p = subprocess.Popen([binary, "--source", "127.0.0.1:%d" % sp, "--allow", "10.0.0.0/8", "--target",
                      "127.0.0.1:%d" % tp, "--target", "never-resolves.invalid:8125", "--allow-unresolved",
                      "--resolve-interval", "1", "--stats-interval", "1"],
                     stderr=subprocess.PIPE, text=True)
time.sleep(1.0)
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x:1|c", ("127.0.0.1", sp))
time.sleep(1.5)
p.send_signal(signal.SIGTERM)
try:
    err = p.communicate(timeout=15)[1]
except subprocess.TimeoutExpired:
    p.kill()
    err = p.communicate()[1]
lines = [l for l in err.splitlines() if "final totals:" in l]
if not lines:
    print("FAIL: no final totals line:\n" + err)
    sys.exit(1)
shown = set(re.findall(r" (\w+)=", lines[-1]))
stats_c = open(os.path.join(src, "src", "stats.c"), encoding="utf-8").read()
shown |= set(re.findall(r'" ?(\w+)=%', stats_c))
shown.discard("target")
missing = sorted(shown - documented)
if missing:
    print("FAIL: stats-line fields not explained in README.md's \"What it counts\" table: %s" % ", ".join(missing))
    sys.exit(1)
print("ok: all %d stats-line fields are in the README's table: %s" % (len(shown), " ".join(sorted(shown))))
