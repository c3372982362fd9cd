#!/usr/bin/env python3
"""test_syscalls.py - the unit's sandbox lets the real proxy do its work.

packaging/udp-proxy.service confines udp-proxy with SystemCallFilter= and
RestrictAddressFamilies=; a call outside them fails with EPERM. systemd cannot
run here, so this test traces the proxy (strace -f) through start-up with a
name to resolve and a log file, READY=1, forwarding, SIGHUP (RELOADING=1,
READY=1) and SIGTERM (STOPPING=1, drain) - with a --config file whose
reload adds a unix: target, and names re-resolved, when the binary has
--config, and one GET /metrics when it has --metrics-listen - then checks every system call it
made against the unit's filter, expanded with `systemd-analyze syscall-filter`,
and every socket() family against RestrictAddressFamilies=.
Code paths not run here (other helpers' features) are not covered.
Usage: test_syscalls.py UNIT PROXY [SANITIZER]
"""
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

from pkgtest import TIMEOUT, fail, forward_one, free_port, send_until_received, sink, skip, urlopen


def syscall_groups():
    """{'@group': [members...]} from systemd-analyze."""
    out = subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True, text=True, check=True).stdout
    groups, cur = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            cur = groups.setdefault(line.strip(), [])
        elif line.startswith("    ") and not line.strip().startswith("#") and cur is not None:
            cur.append(line.strip())
        elif not line.strip():
            cur = None
    return groups


def expand(names, groups, seen=None):
    seen = set() if seen is None else seen
    out = set()
    for n in names:
        if n.startswith("@"):
            if n not in groups:
                fail("unknown system call group %s" % n)
            if n not in seen:
                seen.add(n)
                out |= expand(groups[n], groups, seen)
        else:
            out.add(n)
    return out


def unit_values(unit, key):
    vals = []
    for line in open(unit):
        if line.startswith(key + "="):
            vals.append(line[len(key) + 1:].strip())
    return vals


def allowed_syscalls(unit):
    """The set the unit's SystemCallFilter= lines allow (allow-list form)."""
    groups = syscall_groups()
    lines = unit_values(unit, "SystemCallFilter")
    if not lines or lines[0].startswith("~"):
        fail("expected the unit to start SystemCallFilter= with an allow list")
    allowed = expand(["@default"], groups)  # always allowed with an allow list
    for v in lines:
        if v.startswith("~"):
            allowed -= expand(v[1:].split(), groups)
        else:
            allowed |= expand(v.split(), groups)
    return allowed


def scrape(port):
    """GET /metrics once; fail unless it answers 200 with our counters."""
    try:
        with urlopen("http://127.0.0.1:%d/metrics" % port, timeout=TIMEOUT) as r:
            body = r.read().decode()
    except OSError as e:
        fail("GET /metrics under strace: %s" % e)
    if "udp_proxy_" not in body:
        fail("GET /metrics under strace: no udp_proxy_ metric in %r" % body[:200])


def notify_pid(ns):
    data, anc, _, _ = ns.recvmsg(4096, socket.CMSG_SPACE(12))
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            return data.decode(), struct.unpack("iII", payload[:12])[0]
    fail("notification without credentials")


def hosts_opens(trace_file):
    """How many opens of /etc/hosts the strace output shows so far."""
    try:
        with open(trace_file) as f:
            return len(re.findall(r"open(?:at)?\(.*\"/etc/hosts\"", f.read()))
    except OSError:
        return 0


def free_tcp_port():
    return free_port(socket.SOCK_STREAM)


def write_conf(path, port, targets):
    with open(path, "w") as f:
        f.write("source = 127.0.0.1:%d\nresolve-interval = 1\n" % port)
        f.writelines("target = %s\n" % t for t in targets)


def trace(proxy, d):
    """Run the scenario under strace; returns the trace text. With --config,
    the reload adds a unix: target and the names are re-resolved."""
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    ns.bind(os.path.join(d, "notify.sock"))
    ns.settimeout(TIMEOUT)
    a, b = sink(), sink()
    port = free_port()
    out = os.path.join(d, "trace")
    targets = ["127.0.0.1:%d" % a.getsockname()[1], "localhost:%d" % b.getsockname()[1]]
    args = ["--log-file", os.path.join(d, "log"), "--stats-interval", "0", "--log-level", "warn"]
    # Both paths are always traced (no feature detection that could quietly narrow the trace).
    conf = os.path.join(d, "udp-proxy.conf")
    metrics = free_tcp_port()
    if metrics:
        args += ["--metrics-listen", "127.0.0.1:%d" % metrics]
    if conf:
        write_conf(conf, port, targets)
        args = ["--config", conf] + args
    else:
        args = ["--source", "127.0.0.1:%d" % port] + [x for t in targets for x in ("--target", t)] + args
    cmd = ["strace", "-f", "-qq", "-o", out, "--", proxy] + args
    proc = subprocess.Popen(cmd, env=dict(os.environ, NOTIFY_SOCKET=os.path.join(d, "notify.sock")),
                            stderr=subprocess.PIPE, text=True)
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
        forward_one(port, (a, b), b"sandbox.check:1|c")
        if metrics:
            scrape(metrics)
        if conf:
            u = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            u.bind(os.path.join(d, "target.sock"))
            write_conf(conf, port, targets + ["unix:" + os.path.join(d, "target.sock")])
        os.kill(pid, signal.SIGHUP)
        for want in ("RELOADING=1", "READY=1"):
            msg = notify_pid(ns)[0]
            if not msg.startswith(want):
                fail("after SIGHUP expected %s, got %r" % (want, msg))
        if conf:
            send_until_received(port, u, b"sandbox.unix:1|c", "the unix: target added by the reload")
            # Two re-resolutions of "localhost" (resolve-interval = 1) traced after READY: /etc/hosts read again.
            n0 = hosts_opens(out)
            deadline = time.monotonic() + 4 * TIMEOUT
            while hosts_opens(out) < n0 + 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            if hosts_opens(out) < n0 + 2:
                fail("no two re-resolutions traced: /etc/hosts opened %d times after READY, want 2"
                     % (hosts_opens(out) - n0))
            print("ok: re-resolution traced (/etc/hosts opened %d more times)" % (hosts_opens(out) - n0))
            u.close()
        os.kill(pid, signal.SIGTERM)
        if notify_pid(ns)[0] != "STOPPING=1":
            fail("no STOPPING=1 after SIGTERM")
        rc = proc.wait(TIMEOUT)
        if rc != 0:
            fail("proxy under strace exited %d" % rc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        ns.close()
    return open(out).read()


def main():
    unit, proxy = sys.argv[1], os.path.abspath(sys.argv[2])
    if len(sys.argv) > 3 and sys.argv[3]:
        skip("sanitizer build (%s): its runtime makes system calls the production binary does not" % sys.argv[3])
    for tool, pkg in (("strace", "strace"), ("systemd-analyze", "systemd")):
        if not shutil.which(tool):
            skip("%s not found (apt-get install %s)" % (tool, pkg))
    allowed = allowed_syscalls(unit)
    with tempfile.TemporaryDirectory(prefix="up-syscalls-") as d:
        text = trace(proxy, d)
    used = set(re.findall(r"^\d+\s+([a-z0-9_]+)\(", text, re.M))
    if "recvmmsg" not in used and "recvfrom" not in used:
        fail("the trace shows no receive call: strace output not understood")
    denied = sorted(used - allowed)
    if denied:
        fail("system calls the unit's SystemCallFilter= denies (EPERM): %s" % ", ".join(denied))
    families = set(re.findall(r"^\d+\s+socket\((AF_[A-Z0-9]+)", text, re.M))
    permitted = set(" ".join(unit_values(unit, "RestrictAddressFamilies")).split())
    if families - permitted:
        fail("socket families outside RestrictAddressFamilies=: %s" % ", ".join(sorted(families - permitted)))
    print("ok: %d system calls used, all allowed: %s" % (len(used), " ".join(sorted(used))))
    print("ok: socket families %s within RestrictAddressFamilies=%s" % (" ".join(sorted(families)),
                                                                           " ".join(sorted(permitted))))


if __name__ == "__main__":
    main()
