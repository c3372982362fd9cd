"""ctl_unix_umask.py - a unix: source is never connectable by others
before its mode is set (review m12).

bind() creates the socket file with 0777 & ~umask; under UMask=0000 any
local user could connect before the chmod to --source-mode, and stay
connected. Run the proxy under umask 000 with strace: a restrictive umask
(no bit for group or other) must be in force at the bind of the path, and
the chmod to the mode must follow.
"""
import os
import re
import shutil
import signal
import subprocess
import time

from ops_util import BIN, check, free_port, tempdir

if not shutil.which("strace"):
    print("SKIP: strace is not installed")
    raise SystemExit(77)

d = tempdir()
path = os.path.join(d, "src.sock")
trace = os.path.join(d, "trace")
dst = free_port()
old = os.umask(0)
try:
    p = subprocess.Popen(["strace", "-f", "-o", trace, "-e", "trace=umask,bind,chmod,fchmodat", BIN, "--source",
                          "unix:" + path, "--source-mode", "0660", "--target", "127.0.0.1:%d" % dst],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         # LeakSanitizer cannot run under ptrace (an ASan build)
                         env=dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0"))
finally:
    os.umask(old)
try:
    end = time.time() + 20
    while time.time() < end and not os.path.exists(path):
        time.sleep(0.05)
    check(os.path.exists(path), "the source socket never appeared")
    time.sleep(0.3)
    # strace's child is the proxy: stop it, not strace.
    kids = open("/proc/%d/task/%d/children" % (p.pid, p.pid)).read().split()
    check(kids, "no proxy under strace")
    os.kill(int(kids[0]), signal.SIGTERM)
    out = p.communicate(timeout=20)[0]
    check(p.returncode == 0, "exit %d:\n%s" % (p.returncode, out))
    calls = open(trace).read().splitlines()
    mask, at_bind, chmod_after = None, None, False
    for c in calls:
        m = re.search(r"umask\((0\d*)\)", c)
        if m:
            mask = int(m.group(1), 8)
        if "bind(" in c and path in c and at_bind is None:
            at_bind = mask
        if at_bind is not None and re.search(r"chmod(at)?\(.*%s.*0660" % re.escape(path), c):
            chmod_after = True
    check(at_bind is not None, "no umask call before the bind of %s (umask 000 inherited):\n%s" %
          (path, "\n".join(calls)))
    check(at_bind & 0o077 == 0o077, "umask at bind: %03o, group/other may connect" % at_bind)
    check(chmod_after, "no chmod to 0660 after the bind:\n" + "\n".join(calls))
    print("ok: umask %03o at bind, chmod 0660 after" % at_bind)
finally:
    if p.poll() is None:
        p.kill()
        p.wait()
    shutil.rmtree(d, ignore_errors=True)
