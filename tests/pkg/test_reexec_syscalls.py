#!/usr/bin/env python3
"""test_reexec_syscalls.py - the unit's sandbox allows a SIGUSR2 re-exec (issue 13).

As test_syscalls.py, for the re-exec paths: the proxy (a copy in a temporary
directory, with --config and --log-file) runs under strace -f through READY=1,
forwarding, SIGUSR2 (the trial run of PATH ... --check-config, RELOADING=1, the
exec, READY=1 from the new image), forwarding, SIGUSR2 after the file was replaced
by one that is no program (the trial cannot run it: refused, nothing notified),
forwarding, and SIGTERM (STOPPING=1).
Every system call made is checked against the unit's SystemCallFilter=; a denied
one would fail with EPERM under systemd and break upgrades.
Usage: test_reexec_syscalls.py UNIT PROXY [SANITIZER]
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

from pkgtest import TIMEOUT, fail, forward_one, free_port, sink, skip
from test_syscalls import allowed_syscalls, notify_pid, write_conf


LOG = []


def expect(ns, pid, *wants):
    for want in wants:
        try:
            msg, sender = notify_pid(ns)
        except socket.timeout:
            fail("no %s under strace; the log:\n%s" % (want, open(LOG[0]).read() if LOG else ""))
        if not msg.startswith(want) or sender != pid:
            fail("expected %s from pid %d, got %r from %s" % (want, pid, msg, sender))


def main():
    unit, proxy = sys.argv[1], os.path.abspath(sys.argv[2])
    if len(sys.argv) > 3 and sys.argv[3]:
        skip("sanitizer build (%s): its runtime makes system calls the production binary does not" % sys.argv[3])
    for tool, pkg in (("strace", "strace"), ("systemd-analyze", "systemd")):
        if not shutil.which(tool):
            skip("%s not found (apt-get install %s)" % (tool, pkg))
    allowed = allowed_syscalls(unit)
    with tempfile.TemporaryDirectory(prefix="up-reexec-syscalls-") as d:
        exe = os.path.join(d, "udp-proxy")
        shutil.copy2(proxy, exe)
        ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        ns.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        ns.bind(os.path.join(d, "notify.sock"))
        ns.settimeout(TIMEOUT)
        a = sink()
        port = free_port()
        conf = os.path.join(d, "udp-proxy.conf")
        write_conf(conf, port, ["127.0.0.1:%d" % a.getsockname()[1]])
        out = os.path.join(d, "trace")
        LOG.append(os.path.join(d, "log"))
        cmd = ["strace", "-f", "-qq", "-o", out, "--", exe, "--config", conf, "--log-file", os.path.join(d, "log"),
               "--stats-interval", "0"]
        proc = subprocess.Popen(cmd, env=dict(os.environ, NOTIFY_SOCKET=os.path.join(d, "notify.sock")),
                                stderr=subprocess.PIPE, text=True)
        pid = None
        try:
            try:
                msg, pid = notify_pid(ns)
            except socket.timeout:
                proc.kill()
                err = proc.communicate()[1]
                if "ptrace" in err or "Operation not permitted" in err:
                    skip("strace cannot trace here: %s" % err.strip())
                fail("no READY=1 under strace: %s" % err.strip())
            if msg != "READY=1":
                fail("expected READY=1, got %r" % msg)
            forward_one(port, (a,), b"reexec.before:1|c")
            os.kill(pid, signal.SIGUSR2)
            expect(ns, pid, "RELOADING=1", "READY=1")
            forward_one(port, (a,), b"reexec.after:1|c")
            with open(exe + ".new", "wb") as f:
                f.write(b"no program\n")
            os.chmod(exe + ".new", 0o755)
            os.rename(exe + ".new", exe)
            os.kill(pid, signal.SIGUSR2)
            forward_one(port, (a,), b"reexec.refused:1|c")
            os.kill(pid, signal.SIGTERM)
            expect(ns, pid, "STOPPING=1")
            rc = proc.wait(TIMEOUT)
            if rc != 0:
                fail("proxy under strace exited %d" % rc)
            log = open(os.path.join(d, "log")).read()
            if "starting (re-exec, 1 sockets inherited)" not in log or "Exec format error" not in log:
                fail("the log lacks the re-exec or the refused one:\n" + log)
        finally:
            if proc.poll() is None:
                if pid:
                    try:
                        os.kill(pid, signal.SIGKILL)  # killing strace alone would leave the proxy running
                    except OSError:
                        pass
                proc.kill()
                proc.wait()
            ns.close()
        text = open(out).read()
    used = set(re.findall(r"^\d+\s+([a-z0-9_]+)\(", text, re.M))
    if text.count("execve(") < 4:
        fail("expected four execve calls in the trace (start, trial, re-exec, failed trial): strace output not "
             "understood")
    denied = sorted(used - allowed)
    if denied:
        fail("system calls of the re-exec paths the unit's SystemCallFilter= denies (EPERM): %s" % ", ".join(denied))
    print("ok: %d system calls used across start, trial runs, re-exec, refused re-exec and stop, all allowed: %s"
          % (len(used), " ".join(sorted(used))))


if __name__ == "__main__":
    main()
