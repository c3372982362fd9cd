"""ctl_dns.py - DNS never holds up the control thread (review M6, audit
item 6), and a temporary resolver failure is not a configuration error
(walkthrough finding 13).

Runs in a private mount namespace (unshare -m, as root) with its own
/etc/hosts and /etc/resolv.conf; no query leaves the host:

1. No resolver reachable: a name that is not in /etc/hosts gives exit
   status 1 ("temporary", a service manager restarts that), at start and
   with --check-config; with --allow-unresolved the proxy starts and waits.
   A name that later moves onto the proxy's own source is not followed
   (the loop is logged, the last address kept).
2. A resolver that never answers (a UDP socket on 127.0.0.3:53 that only
   counts queries; "options timeout:5 attempts:2"), three targets named in
   /etc/hosts, --config, --resolve-interval 1. Once the names leave
   /etc/hosts, every re-resolution hangs ~10 s in getaddrinfo. While they
   hang (the fake server saw queries): SIGHUP gives RELOADING=1 at once,
   and SIGTERM drains and exits 0 within --drain-timeout + 1 s (before the
   fix the signals waited for the lookups in turn: about 30 s).
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

from harness import RATE_SCALE  # noqa: E402
import updtest as up  # noqa: E402
from ops_util import BIN, Sink, check, free_port, run, tempdir, write  # noqa: E402

d, hosts, resolv = up.private_resolver("# no nameserver: glibc asks 127.0.0.1:53, where nothing listens\n")

port = free_port()
sink = Sink(("127.0.0.1", port))
names = ["up-a.test", "up-b.test", "up-c.test"]
try:
    # 1. No resolver: temporary, exit 1; --allow-unresolved waits.
    src = free_port()
    base = ["--source", "127.0.0.1:%d" % src, "--target", "up-missing.test:%d" % port]
    for extra in ([], ["--check-config"]):
        rc, out = run(base + extra)
        check(rc == 1 and "temporary" in out, "no resolver %s: rc=%d, want 1 (temporary):\n%s" % (extra, rc, out))
    p = subprocess.Popen([BIN] + base + ["--allow-unresolved", "--stats-interval", "0"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    time.sleep(1.0)
    p.send_signal(signal.SIGTERM)
    out = p.communicate(timeout=20)[0]
    check(p.returncode == 0 and "waits for its name" in out, "--allow-unresolved: rc=%d\n%s" % (p.returncode, out))

    # 1b. A name that moves onto the proxy's own source is not followed (a loop).
    lsrc = free_port()
    loop_sink = Sink(("127.0.0.2", lsrc))
    write(hosts, "127.0.0.1 localhost\n127.0.0.2 up-loop.test\n")
    lp = subprocess.Popen([BIN, "--source", "127.0.0.1:%d" % lsrc, "--target", "up-loop.test:%d" % lsrc,
                           "--resolve-interval", "1", "--stats-interval", "0"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(0.5)
        write(hosts, "127.0.0.1 localhost\n127.0.0.1 up-loop.test\n")
        time.sleep(2.5)  # two re-resolutions
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(100):
            s.sendto(b"loop.%d:1|c" % i, ("127.0.0.1", lsrc))
        s.close()
        got = loop_sink.wait_count(100, 5)
        time.sleep(0.5)
    finally:
        lp.send_signal(signal.SIGTERM)
        out = lp.communicate(timeout=20)[0]
    check("not followed (a loop)" in out, "a move onto the source was followed:\n" + out)
    check(got == 100 and loop_sink.count() == 100, "the old address got %d of 100" % loop_sink.count())
    check("final totals: received=100 " in out, "datagrams multiplied or lost:\n" + out)
    loop_sink.close()
    write(hosts, "127.0.0.1 localhost\n")

    # 2. A resolver that never answers.
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind(("127.0.0.3", 53))
    queries = [0]

    def swallow():
        while True:
            try:
                dns.recv(4096)
            except OSError:
                return
            queries[0] += 1

    threading.Thread(target=swallow, daemon=True).start()
    write(resolv, "nameserver 127.0.0.3\noptions timeout:5 attempts:2\n")
    write(hosts, "127.0.0.1 localhost\n" + "".join("127.0.0.1 %s\n" % n for n in names))
    conf = os.path.join(d, "proxy.conf")
    ports = [port, free_port(), free_port()]
    write(conf, "source = 127.0.0.1:%d\nresolve-interval = 1\ndrain-timeout = 1s\nstats-interval = 0\n" % src +
          "".join("target = %s:%d\n" % (n, pt) for n, pt in zip(names, ports)))
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    npath = os.path.join(d, "notify")
    ns.bind(npath)
    ns.settimeout(0.2)
    logf = open(os.path.join(d, "log"), "w+")
    p = subprocess.Popen([BIN, "--config", conf], stdout=logf, stderr=subprocess.STDOUT,
                         env=dict(os.environ, NOTIFY_SOCKET=npath))

    def expect(word, within):
        end = time.time() + within
        while time.time() < end:
            try:
                msg = ns.recv(4096).decode()
            except socket.timeout:
                continue
            if ("%s=1" % word) in msg.split("\n"):
                return True
        return False

    def log():
        logf.seek(0)
        return logf.read()

    try:
        check(expect("READY", 10), "no READY=1:\n" + log())
        write(hosts, "127.0.0.1 localhost\n")  # the names now go to the silent server
        end = time.time() + 10
        while time.time() < end and queries[0] < 1:
            time.sleep(0.05)
        check(queries[0] >= 1, "no query reached the silent DNS server:\n" + log())
        time.sleep(1.5)  # a few ticks with the lookups hanging
        t0 = time.time()
        p.send_signal(signal.SIGHUP)
        check(expect("RELOADING", 3), "RELOADING=1 held up by DNS:\n" + log())
        t_hup = time.time() - t0
        drain_s, slack = 1.0, 1.0 / min(1.0, RATE_SCALE)
        t0 = time.time()
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(drain_s + slack)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            fail_log = log()
            check(False, "SIGTERM during a DNS outage: no exit within %.1f s (%d queries hanging):\n%s" %
                  (drain_s + slack, queries[0], fail_log))
        t_stop = time.time() - t0
        check(rc == 0, "exit status %d:\n%s" % (rc, log()))
        check("final totals:" in log(), "no final totals:\n" + log())
        print("ok: temporary DNS failure exits 1; with DNS hanging (%d queries) RELOADING=1 after %.2f s, "
              "stop after %.2f s" % (queries[0], t_hup, t_stop))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        dns.close()
        ns.close()
finally:
    sink.close()
    shutil.rmtree(d, ignore_errors=True)
