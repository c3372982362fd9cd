"""SIGUSR2 re-exec and systemd's notification protocol (issue 13).

Plays systemd (a Unix datagram socket named in NOTIFY_SOCKET, SO_PASSCRED), as
tests/pkg/test_notify.py does: READY=1 at start; SIGUSR2 gives RELOADING=1 with
MONOTONIC_USEC from the old image, then READY=1 from the new one; every message
comes from the same pid (MAINPID does not change). The proxy writes a --log-file: after
the re-exec it holds exactly as many descriptors as before (nothing opened without
close-on-exec, like the log file, piles up over re-execs). Then a re-exec that is
refused (binary missing) sends nothing and the proxy forwards; SIGTERM gives STOPPING=1.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pkg"))
from pkgtest import TIMEOUT, fail, forward_one, free_port, proxy_cmd, sink  # noqa: E402
from test_notify import expect  # noqa: E402

binary = os.environ.get("UP_BINARY", "build/udp-proxy")
d = tempfile.mkdtemp(prefix="udp-proxy-reexec-notify-")
exe = os.path.join(d, "udp-proxy")
shutil.copy2(binary, exe)
ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
ns.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
ns.bind(os.path.join(d, "notify"))
a, b = sink(), sink()
port = free_port()
log = open(os.path.join(d, "log"), "w+")
env = dict(os.environ, NOTIFY_SOCKET=os.path.join(d, "notify"))
proc = subprocess.Popen(proxy_cmd(exe, port, (a, b), "--stats-interval", "0", "--log-file", log.name), env=env,
                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def fds():
    return sorted(os.readlink("/proc/%d/fd/%s" % (proc.pid, f)).split("[")[0]
                  for f in os.listdir("/proc/%d/fd" % proc.pid))


try:
    expect(ns, proc, "READY")
    forward_one(port, (a, b), b"before:1|c")
    held = fds()
    proc.send_signal(signal.SIGUSR2)
    fields = expect(ns, proc, "RELOADING")
    if not fields.get("MONOTONIC_USEC", "").isdigit():
        fail("RELOADING=1 without MONOTONIC_USEC: %r" % fields)
    expect(ns, proc, "READY")  # from the new image: same pid
    forward_one(port, (a, b), b"after:1|c")
    text = open(log.name).read()
    if "starting (re-exec, 1 sockets inherited)" not in text:
        fail("READY=1 came, but no new image started:\n" + text)
    print("ok: RELOADING=1 then READY=1 across the re-exec, all from pid %d" % proc.pid)
    if fds() != held:
        fail("descriptors before the re-exec %s, after %s" % (held, fds()))
    print("ok: the same %d descriptors after the re-exec" % len(held))

    os.unlink(exe)
    proc.send_signal(signal.SIGUSR2)
    forward_one(port, (a, b), b"refused:1|c")  # the refused re-exec changed nothing
    proc.send_signal(signal.SIGTERM)
    expect(ns, proc, "STOPPING")  # no RELOADING=1 came before it
    if proc.wait(TIMEOUT) != 0:
        fail("exit status %s" % proc.returncode)
    if "re-exec refused" not in open(log.name).read():
        fail("the refused re-exec is not logged")
    print("ok: a refused re-exec notifies nothing; STOPPING=1 and exit 0")
finally:
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    shutil.rmtree(d, ignore_errors=True)
print("PASS")
