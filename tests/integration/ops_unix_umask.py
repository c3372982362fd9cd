"""ops_unix_umask.py - a unix: source never exists with more permissions than --source-mode, not even between
bind() and chmod() (review m12): run under `umask 000` and strace, the socket file is either created under a
umask that already masks what --source-mode does not grant, or bound elsewhere (a private directory) and renamed
into place.

usage: ops_unix_umask.py BUILD/udp-proxy
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import updtest as up  # noqa: E402

if shutil.which("strace") is None:
    up.skip("strace is not installed (apt-get install strace)")
probe = subprocess.run(["strace", "-f", "-qq", "-o", os.devnull, "true"], capture_output=True, text=True, timeout=30)
if probe.returncode != 0:
    up.skip("strace cannot trace here: %s" % probe.stderr.strip())
d = up.tempdir("up-umask-")
os.chmod(d, 0o755)
path = os.path.join(d, "in.sock")
trace = os.path.join(d, "trace")
sink = up.Sink()
old = os.umask(0)  # the proxy inherits umask 000: the worst case
try:
    px = up.Proxy(["--source", "unix:" + path, "--source-mode", "0660", "--target", sink.target],
                  prefix=["strace", "-f", "-qq", "-o", trace, "-e", "trace=umask,bind,chmod,fchmod,fchmodat,rename,"
                          "renameat,renameat2,mkdir,mkdirat", "--"],
                  # LeakSanitizer cannot run under strace (both use ptrace): leaks are checked elsewhere.
                  env=dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0"))
finally:
    os.umask(old)
mode = os.stat(path).st_mode & 0o777
up.check_eq(oct(mode), oct(0o660), "the socket file's final mode")
# Stop the proxy itself (strace, its parent here, would only detach on SIGTERM).
with open("/proc/%d/task/%d/children" % (px.pid, px.pid)) as f:
    child = int(f.read().split()[0])
os.kill(child, up.signal.SIGTERM)
rc, g, t = px.stop(sig=0)
up.check_eq(rc, 0, "exit status")
up.check_totals(g, t, 0, [sink.target], healthy=[sink.target])
text = open(trace).read()
calls = re.findall(r"^\d+\s+(umask|bind|chmod|fchmod|fchmodat|rename|renameat|renameat2|mkdir|mkdirat)\((.*)$",
                   text, re.M)
binds = [i for i, (name, args) in enumerate(calls) if name == "bind" and "AF_UNIX" in args]
up.check(len(binds) >= 1, "the trace shows the unix bind (%d calls traced)" % len(calls))
b = binds[0]
bound = re.search(r'sun_path="([^"]*)"', calls[b][1])
bound = bound.group(1) if bound else ""
umask_before = None
for name, args in calls[:b]:
    if name == "umask":
        m = re.match(r"(0[0-7]*|\d+)", args)
        umask_before = int(m.group(1), 8) if m else None
renamed = any(name.startswith("rename") and path in args for name, args in calls[b:])
safe_umask = umask_before is not None and (0o777 & ~umask_before) & ~0o660 == 0
private = bound != path and renamed
up.check(safe_umask or private,
         "bind(%s) under umask %s (creates mode %s), renamed into place: %s; traced: %s"
         % (bound, oct(umask_before) if umask_before is not None else "000 (inherited)",
            oct(0o777 & ~(umask_before or 0)), renamed, [(n, a[:60]) for n, a in calls]))
sink.close()
shutil.rmtree(d, ignore_errors=True)
print("PASS")
