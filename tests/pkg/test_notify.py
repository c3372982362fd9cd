#!/usr/bin/env python3
"""test_notify.py - the systemd notification protocol, end to end.

Plays systemd's part: makes a Unix datagram socket, starts the real udp-proxy
with NOTIFY_SOCKET naming it (loopback source and two loopback targets on
ephemeral ports) and checks:
  - READY=1 arrives, and only once the source is bound: a datagram sent the
    moment READY=1 is read (no retry) reaches both targets;
  - every message comes from the proxy's own pid (NotifyAccess=main);
  - SIGHUP gives RELOADING=1 with a plausible MONOTONIC_USEC, then READY=1;
  - SIGTERM gives STOPPING=1 and a clean exit 0;
  - a source port already taken gives exit status 1 and no READY=1;
  - a NOTIFY_SOCKET nobody listens on costs one warning, nothing more: the
    proxy forwards, reloads and stops cleanly.
Runs once with a socket file and once with an abstract ('@') socket.
Usage: test_notify.py path/to/udp-proxy
"""
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

from pkgtest import TIMEOUT, fail, forward_one, free_port, proxy_cmd, send_until_received, sink


def recv_notify(ns, proc):
    """One notification: (dict of assignments, sender pid)."""
    ns.settimeout(TIMEOUT)
    try:
        data, anc, _, _ = ns.recvmsg(4096, socket.CMSG_SPACE(12))
    except socket.timeout:
        fail("no notification within %.0f s (proxy exit status %s)" % (TIMEOUT, proc.poll()))
    pid = None
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", payload[:12])[0]
    fields = {}
    for line in data.decode().split("\n"):
        if "=" not in line:
            fail("malformed notification line %r in %r" % (line, data))
        k, v = line.split("=", 1)
        fields[k] = v
    return fields, pid


def expect(ns, proc, key):
    fields, pid = recv_notify(ns, proc)
    if fields.get(key) != "1":
        fail("expected %s=1, got %r" % (key, fields))
    if pid != proc.pid:
        fail("notification from pid %s, not from the proxy (pid %d)" % (pid, proc.pid))
    return fields


def run(proxy, notify_name, bind_addr, reload_check):
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    ns.bind(bind_addr)
    a, b = sink(), sink()
    port = free_port()
    env = dict(os.environ, NOTIFY_SOCKET=notify_name)
    cmd = proxy_cmd(proxy, port, (a, b), "--stats-interval", "0", "--log-level", "warn")
    proc = subprocess.Popen(cmd, env=env)
    try:
        expect(ns, proc, "READY")
        # Bound before READY=1: this one datagram, sent once, must arrive.
        forward_one(port, (a, b), b"notify.ready:1|c|#test:sdnotify")

        if reload_check:
            before = time.monotonic()
            proc.send_signal(signal.SIGHUP)
            fields = expect(ns, proc, "RELOADING")
            after = time.monotonic()
            usec = fields.get("MONOTONIC_USEC", "")
            if not usec.isdigit():
                fail("RELOADING=1 without a MONOTONIC_USEC number: %r" % fields)
            # Same clock (CLOCK_MONOTONIC) on both sides.
            if not before * 1e6 - 1000 <= int(usec) <= after * 1e6 + 1000:
                fail("MONOTONIC_USEC=%s is not between %.0f and %.0f" % (usec, before * 1e6, after * 1e6))
            expect(ns, proc, "READY")
            if proc.poll() is not None:
                fail("proxy exited on SIGHUP")

        proc.send_signal(signal.SIGTERM)
        expect(ns, proc, "STOPPING")
        try:
            rc = proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            fail("proxy did not exit after SIGTERM")
        if rc != 0:
            fail("proxy exited %d after SIGTERM, expected 0" % rc)
        ns.settimeout(0.2)
        try:
            extra = ns.recv(4096)
            fail("unexpected notification after STOPPING=1: %r" % extra)
        except socket.timeout:
            pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        ns.close()
        a.close()
        b.close()


def run_port_taken(proxy, d):
    path = os.path.join(d, "taken.sock")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(path)
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("127.0.0.1", 0))
    a = sink()
    cmd = proxy_cmd(proxy, blocker.getsockname()[1], (a,), "--log-level", "fatal")
    proc = subprocess.run(cmd, env=dict(os.environ, NOTIFY_SOCKET=path), timeout=TIMEOUT)
    if proc.returncode != 1:
        fail("source port in use: exit %d, expected 1" % proc.returncode)
    ns.settimeout(0.2)
    try:
        fail("source port in use, yet the proxy sent %r" % ns.recv(4096))
    except socket.timeout:
        pass
    ns.close()
    blocker.close()
    a.close()


def run_nobody_listens(proxy, d):
    a = sink()
    port = free_port()
    log = os.path.join(d, "nobody.log")
    env = dict(os.environ, NOTIFY_SOCKET=os.path.join(d, "nobody.sock"))
    proc = subprocess.Popen(proxy_cmd(proxy, port, (a,), "--stats-interval", "0", "--log-file", log),
                            env=env, stderr=subprocess.DEVNULL)
    try:
        send_until_received(port, a, b"probe", "with an unreachable NOTIFY_SOCKET, the target")
        proc.send_signal(signal.SIGHUP)
        # Reload unaffected: the proxy says it ignores SIGHUP (no --config) and keeps running.
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and not (os.path.exists(log) and "SIGHUP ignored" in open(log).read()):
            time.sleep(0.05)
        if not (os.path.exists(log) and "SIGHUP ignored" in open(log).read()):
            fail("no 'SIGHUP ignored' in the log within %.0f s of SIGHUP" % TIMEOUT)
        if proc.poll() is not None:
            fail("exited (%d) on SIGHUP with an unreachable NOTIFY_SOCKET" % proc.returncode)
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        a.close()
    if rc != 0:
        fail("with an unreachable NOTIFY_SOCKET: exit %d after SIGTERM, expected 0" % rc)
    warnings = [line for line in open(log) if "NOTIFY_SOCKET" in line]
    if len(warnings) != 1:
        fail("expected exactly one warning about NOTIFY_SOCKET, got %d: %r" % (len(warnings), warnings))


def main():
    proxy = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="up-notify-") as d:
        path = os.path.join(d, "notify.sock")
        run(proxy, path, path, reload_check=True)
        print("ok: socket file %s: READY=1 after bind, RELOADING=1+READY=1 on SIGHUP, STOPPING=1" % path)
        run_port_taken(proxy, d)
        print("ok: source port in use: exit 1, no READY=1")
        run_nobody_listens(proxy, d)
        print("ok: NOTIFY_SOCKET with no listener: one warning, forwarding, reload and stop unaffected")
    name = "udp-proxy-test-notify-%d" % os.getpid()
    run(proxy, "@" + name, "\0" + name, reload_check=False)
    print("ok: abstract socket @%s: READY=1 after bind, STOPPING=1" % name)


if __name__ == "__main__":
    main()
