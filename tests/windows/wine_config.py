#!/usr/bin/env python3
"""wine_config.py - Windows configuration parity under Wine (issue 9 item 2; CTest, tests/windows/CMakeLists.txt).

The x64 exe, run for real in the Wine prefix that wine_test.py sets up. One step per CTest entry:
  config-console  a console run from a --config file (UTF-8 BOM, CRLF) forwards to two Linux sinks byte for byte;
                  a third, dead target has every datagram counted (sent + drops == received, send_error > 0);
                  --log-max-size rotates the log file (PATH, .1 .. .3, never .4); the Windows-only checks of
                  --readers 2, unix: and --help
  config-service  a service installed with `-- --config FILE` reaches RUNNING and forwards; after editing the file,
                  `udp-proxy service reload` (and `sc control NAME paramchange` where Wine's sc has it) applies it:
                  a new target receives, a removed one gets nothing more; a second instance installs without
                  --display-name; the forwarding gap of `service stop` + `service start` is measured (printed, not
                  asserted)
  unresolved      --allow-unresolved: a target whose name resolves only later (private mount namespace with a
                  bind-mounted /etc/hosts) counts its datagrams as send errors, in bulk, then connects and forwards

Every wait is bounded; traffic goes to 127.0.0.1 only. Missing tools: exit 77 with the reason (never a silent pass).
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import Sink, accounted, free_port, parse_stats  # noqa: E402
from wine_test import (SKIP, Console, Ctx, check, check_bytes, dos_path, fail, log, payloads, read_log,  # noqa: E402
                       send_checked, service_names, wait_for, wait_state)


def write_conf(path, lines, bom=False):
    """A config file as Notepad may save it: CRLF line ends, optionally a UTF-8 BOM."""
    data = ("\r\n".join(lines) + "\r\n").encode()
    with open(path, "wb") as f:
        f.write((b"\xef\xbb\xbf" if bom else b"") + data)


def final_counters(final_line):
    """(globals, {target: counters}) of a 'final totals:' line."""
    return parse_stats(final_line.split("final totals:", 1)[1])


# ---- console from a config file --------------------------------------------------------------------------------


def step_config_console(c):
    c.need_wine()
    sinks = [Sink(), Sink()]
    port, dead = free_port(), free_port()
    conf = os.path.join(c.win, "console-%d.conf" % os.getpid())
    logf = os.path.join(c.win, "console-%d.log" % os.getpid())
    for i in range(6):
        p = logf + (".%d" % i if i else "")
        if os.path.exists(p):
            os.unlink(p)
    names = ["127.0.0.1:%d" % s.port for s in sinks]
    dead_name = "127.0.0.1:%d" % dead
    write_conf(conf, ["# udp-proxy under Wine: saved with a BOM and CRLF, as Notepad does",
                      "source = 127.0.0.1:%d" % port,
                      "target = %s" % names[0],
                      "target = %s" % names[1],
                      "target = %s   # nothing listens here" % dead_name,
                      "stats-interval = 0",
                      "drain-timeout = 5",
                      "log-file = %s" % dos_path(logf),
                      "log-max-size = 200"], bom=True)
    proxy = None
    try:
        rc, out = c.wine(c.x64, "--config", dos_path(conf), "--check-config", timeout=60)
        check(rc == 0 and "configuration ok" in out and "(3 target(s))" in out,
              "--check-config of a BOM + CRLF file: exit %d, %r" % (rc, out))

        # Before M4's fix: "--readers above 1 needs SO_REUSEPORT" and "address family not supported", exit 1.
        proxy = Console(c, ["--config", dos_path(conf)])
        log("console proxy from %s listening after %.1f s" % (os.path.basename(conf), time.time() - proxy.t0))
        data = payloads(2000, 11)
        send_checked(port, data, sinks)
        final = proxy.ctrl_c()
        time.sleep(0.3)
        check_bytes(sinks, data, "console x64 from --config")
        g, t = final_counters(final)
        check(g.get("received") == len(data), "final totals: received %s, sent %d: %s" % (g.get("received"), len(data),
                                                                                          final))
        for n in names:
            check(t[n]["sent"] == len(data) and accounted(t[n]) == len(data), "target %s: %s" % (n, t[n]))
        # The dead target (audit P1 item 3): every datagram in a counter, the failures as send errors.
        d = t.get(dead_name)
        check(d is not None, "the dead target is missing from the final totals: " + final)
        check(accounted(d) == len(data), "dead target: sent + drops = %d, received %d: %s" % (accounted(d), len(data), d))
        check(d["dropped_send_error"] > 0, "dead target: no send error counted: %s" % d)
        log("dead target %s: sent=%d dropped_send_error=%d (sum %d = received); Windows reports the ICMP "
            "'port unreachable' of one send as the error of the next" % (dead_name, d["sent"], d["dropped_send_error"],
                                                                        accounted(d)))

        # --log-max-size 200: the log rotated, three old files kept, none beyond.
        files = [logf] + ["%s.%d" % (logf, i) for i in (1, 2, 3)]
        for p in files:
            check(os.path.exists(p), "%s is missing after rotation (have %s)" % (p, sorted(os.listdir(c.win))))
        check(not os.path.exists(logf + ".4"), "a fourth old log file was kept")
        for p in files:
            text = open(p, "rb").read()
            check(len(text) <= 200 or text.count(b"\n") == 1,
                  "%s: %d bytes in %d lines, past --log-max-size 200" % (p, len(text), text.count(b"\n")))
        check("final totals" in read_log(logf), "the last line is not in the current log file:\n" + read_log(logf))
        log("--log-max-size 200: %s" % ", ".join("%s %d B" % (os.path.basename(p), os.path.getsize(p))
                                                 for p in files))

        # What Windows cannot do is refused as a configuration error (exit 2), not at bind time (finding 4).
        rc, out = c.wine(c.x64, "--config", dos_path(conf), "--readers", "2", "--check-config")
        check(rc == 2 and "--readers 2: Windows has no SO_REUSEPORT" in out, "--readers 2: exit %d, %r" % (rc, out))
        rc, out = c.wine(c.x64, "--target", "unix:/tmp/x.sock", "--check-config")
        check(rc == 2 and "unix: sockets are not supported on Windows" in out, "unix: target: exit %d, %r" % (rc, out))
        rc, out = c.wine(c.x64, "--help")
        check(rc == 0 and "--log-max-size" in out and "service reload" in out, "--help: exit %d, %r" % (rc, out))
        for linux_only in ("unix:/PATH", "SIGHUP", "--readers", "--source-mode", "rmem_max"):
            check(linux_only not in out, "Windows --help shows %r:\n%s" % (linux_only, out))
        log("--readers 2 and unix: refused with exit 2; --help shows no Linux-only flag")
    finally:
        if proxy:
            proxy.close()
        for s in sinks:
            s.close()
        for p in [conf, logf] + ["%s.%d" % (logf, i) for i in range(1, 6)]:
            if os.path.exists(p):
                os.unlink(p)


# ---- a service from a config file, reloaded -----------------------------------------------------------------------


def sc_control_paramchange(c, name):
    """`sc control NAME paramchange`: (True, output) if Wine's sc knows the verb, else (False, output)."""
    rc, out = c.wine("sc", "control", name, "paramchange", timeout=30)
    return rc == 0, "exit %d, %r" % (rc, out.strip())


def wait_reloads(logf, n, timeout=20):
    wait_for(lambda: read_log(logf).count("reload: done") >= n, timeout, "reload number %d in the log" % n)


def quiet_for(sink, before, secs, what):
    time.sleep(secs)
    check(len(sink.got) == before, "%s: %d datagrams arrived after it was removed" % (what, len(sink.got) - before))


class GapProbe:
    """Sends numbered datagrams every ~2 ms to the proxy; the sink's arrivals show how long forwarding stopped."""

    def __init__(self, port, sink):
        self.port, self.sink, self.sent_at, self.stop = port, sink, [], False
        self.base = len(sink.got)
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        deadline = time.time() + 120  # bounded whatever happens
        i = 0
        while not self.stop and time.time() < deadline:
            self.sent_at.append(time.time())
            tx.sendto(b"gap-probe-%d" % i, ("127.0.0.1", self.port))
            i += 1
            time.sleep(0.002)
        tx.close()

    def finish(self):
        self.stop = True
        self.t.join(5)
        time.sleep(0.5)
        got = sorted(int(d.split(b"-")[-1]) for d in self.sink.got[self.base:] if d.startswith(b"gap-probe-"))
        worst, lost = 0.0, len(self.sent_at) - len(got)
        for a, b in zip(got, got[1:]):
            if b - a > 1:
                worst = max(worst, self.sent_at[b] - self.sent_at[a])
        return len(self.sent_at), len(got), lost, worst


def step_config_service(c):
    c.need_wine()
    name, logf = service_names(c, "up-cfg")
    name2 = name + "-b"
    conf = os.path.join(c.win, "service-%s.conf" % name)
    sinks = {k: Sink() for k in "ABC"}
    addr = {k: "127.0.0.1:%d" % s.port for k, s in sinks.items()}
    port = free_port()

    def conf_with(targets, source=None):
        write_conf(conf, ["source = %s" % (source or "127.0.0.1:%d" % port)] +
                   ["target = %s" % addr[k] for k in targets] +
                   ["stats-interval = 0", "log-file = %s" % dos_path(logf)], bom=True)

    conf_with("AB")
    installed = []
    try:
        rc, out = c.wine(c.x64, "service", "install", "--name", name, "--", "--config", "relative.conf")
        check(rc == 2 and "must be an absolute path" in out, "install with a relative --config: exit %d, %r" % (rc, out))
        # A bad line in the file is refused at install, with FILE:LINE (nothing installed).
        with open(conf, "ab") as f:
            f.write(b"readers = 2\r\n")
        rc, out = c.wine(c.x64, "service", "install", "--name", name, "--", "--config", dos_path(conf))
        check(rc == 2 and "--readers 2: Windows has no SO_REUSEPORT" in out,
              "install with 'readers = 2' in the file: exit %d, %r" % (rc, out))
        with open(conf, "ab") as f:
            f.write(b"bogus = 1\r\n")
        rc, out = c.wine(c.x64, "service", "install", "--name", name, "--", "--config", dos_path(conf))
        check(rc == 2 and "%s:7: unknown setting 'bogus'" % dos_path(conf) in out,
              "install with a bad line: exit %d, %r" % (rc, out))
        conf_with("AB")
        # Before M4's fix: "no --target given", exit 2: the service never read the file.
        t0 = time.time()
        rc, out = c.wine(c.x64, "service", "install", "--name", name, "--", "--config", dos_path(conf), check_rc=0)
        installed.append(name)
        check("UDP Proxy (%s)" % name in out, "install: the display name is not derived from --name:\n" + out)
        # A second instance without --display-name (finding 6: used to clash on "UDP Proxy").
        rc, out = c.wine(c.x64, "service", "install", "--name", name2, "--", "--config", dos_path(conf))
        check(rc == 0, "second instance without --display-name: exit %d, %r" % (rc, out))
        installed.append(name2)
        c.wine(c.x64, "service", "uninstall", "--name", name2, timeout=90, check_rc=0)
        installed.remove(name2)
        # A display name that is really taken: the message names the display name, not --name.
        rc, out = c.wine(c.x64, "service", "install", "--name", name2, "--display-name", "UDP Proxy (%s)" % name,
                         "--", "--config", dos_path(conf))
        if rc == 0:
            installed.append(name2)
        check(rc == 1 and "display name 'UDP Proxy (%s)'" % name in out and "--display-name" in out,
              "install with a taken display name: exit %d, %r" % (rc, out))
        log("installed %s with -- --config %s; a second instance installed beside it without --display-name"
            % (name, dos_path(conf)))

        c.wine("sc", "start", name, check_rc=0)
        wait_state(c, name, "RUNNING", 30)
        log("RUNNING after %.1f s" % (time.time() - t0))
        a, b, cc = sinks["A"], sinks["B"], sinks["C"]
        d1 = payloads(1000, 21)
        send_checked(port, d1, [a, b])
        check(len(cc.got) == 0, "C got datagrams before it was configured")

        # Reload 1: B out, C in, with `udp-proxy service reload`.
        conf_with("AC")
        rc, out = c.wine(c.x64, "service", "reload", "--name", name)
        check(rc == 0 and "reload requested" in out, "service reload: exit %d, %r" % (rc, out))
        wait_reloads(logf, 1)
        text = read_log(logf)
        check("reload: target %s added" % addr["C"] in text, "no 'target added' line:\n" + text)
        b_before = len(b.got)
        d2 = payloads(1000, 22)
        send_checked(port, d2, [a, cc])
        quiet_for(b, b_before, 0.3, "target B")
        check(list(cc.got) == d2, "C did not get the second batch byte for byte")
        log("service reload: C added and receives (%d), B removed and gets nothing more" % len(cc.got))

        # Reload 2: C out, B back, with `sc control NAME paramchange` where Wine's sc has it.
        conf_with("AB")
        ok, out = sc_control_paramchange(c, name)
        how = "sc control paramchange"
        if not ok:
            log("Wine 8's sc has no 'control' verb (%s): reload 2 by 'udp-proxy service reload', which sends the "
                "same SERVICE_CONTROL_PARAMCHANGE" % out)
            c.wine(c.x64, "service", "reload", "--name", name, check_rc=0)
            how = "service reload"
        wait_reloads(logf, 2)
        c_before, b_before = len(cc.got), len(b.got)
        d3 = payloads(1000, 23)
        send_checked(port, d3, [a, b])
        quiet_for(cc, c_before, 0.3, "target C")
        check(list(b.got[b_before:]) == d3, "B did not get the third batch byte for byte")
        check(list(a.got) == d1 + d2 + d3, "A (kept through both reloads) did not get every datagram in order")
        log("%s: B back, C removed; A got all %d datagrams across both reloads" % (how, len(a.got)))

        # A broken file: the reload is refused with FILE:LINE, the running configuration stays.
        with open(conf, "ab") as f:
            f.write(b"target = nowhere\r\n")
        c.wine(c.x64, "service", "reload", "--name", name, check_rc=0)
        wait_for(lambda: "reload failed" in read_log(logf), 20, "the refused reload in the log")
        bad = [l for l in read_log(logf).splitlines() if "reload failed" in l][0]
        check("%s:6: " % dos_path(conf) in bad, "the refused reload does not name FILE:LINE: " + bad)
        log("broken file: %s" % bad.split("error ", 1)[-1][:150])
        # The source moves to another port: works. Onto an overlapping address (the same port, all interfaces):
        # Windows cannot bind it beside the running socket, so that reload is refused and the source stays.
        port2 = free_port()
        conf_with("AB", "127.0.0.1:%d" % port2)
        c.wine(c.x64, "service", "reload", "--name", name, check_rc=0)
        wait_reloads(logf, 3)
        d4 = payloads(300, 24)
        send_checked(port2, d4, [a, b])
        conf_with("AB", "0.0.0.0:%d" % port2)
        c.wine(c.x64, "service", "reload", "--name", name, check_rc=0)
        wait_for(lambda: read_log(logf).count("reload failed") >= 2, 20, "the refused overlapping rebind")
        bad = [l for l in read_log(logf).splitlines() if "reload failed" in l][-1]
        check("address already in use" in bad, "the overlapping rebind failed otherwise: " + bad)
        d5 = payloads(300, 25)
        send_checked(port2, d5, [a, b])
        log("source moved to port %d by reload; an overlapping rebind refused: %s" % (port2, bad.split("error ", 1)[-1]))
        port = port2
        conf_with("AB")

        # Issue 13's figure: how long forwarding stops across service stop + service start (not asserted).
        probe = GapProbe(port, a)
        time.sleep(0.3)
        t1 = time.time()
        c.wine(c.x64, "service", "stop", "--name", name, timeout=90, check_rc=0)
        t2 = time.time()
        c.wine(c.x64, "service", "start", "--name", name, timeout=90, check_rc=0)
        t3 = time.time()
        time.sleep(0.5)
        sent, got, lost, worst = probe.finish()
        log("restart gap (issue 13): 'service stop' took %.0f ms, 'service start' %.0f ms; probes every 2 ms: "
            "%d sent, %d forwarded, %d lost; longest forwarding gap %.0f ms"
            % ((t2 - t1) * 1000, (t3 - t2) * 1000, sent, got, lost, worst * 1000))
        check(got > 0, "no probe datagram forwarded after the restart")

        c.wine(c.x64, "service", "stop", "--name", name, timeout=90, check_rc=0)
        wait_state(c, name, "STOPPED", 30)
        text = read_log(logf)
        check(text.count("final totals") == 2, "expected two final totals lines (stop, restart, stop):\n" + text)

        # The file broken while stopped: the service does not start, exit code 2 (bad configuration).
        with open(conf, "ab") as f:
            f.write(b"bogus = 1\r\n")
        rc, out = c.wine(c.x64, "service", "start", "--name", name, timeout=60)
        check(rc == 1 and "service-specific exit code 2 (bad configuration)" in out,
              "start with a broken file: exit %d, %r" % (rc, out))
        log("broken file at start: %s" % out.strip().splitlines()[0][:140])
    finally:
        for n in installed:
            c.wine(c.x64, "service", "uninstall", "--name", n, timeout=90)
        for s in sinks.values():
            s.close()
        if os.path.exists(conf):
            os.unlink(conf)


# ---- a target name that resolves late ------------------------------------------------------------------------------


def step_unresolved(c):
    if os.environ.get("UP_WINE_DNS_NS") != "1":
        if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("mount"):
            print("wine_config: SKIPPED: needs root and unshare(1) for a private /etc/hosts")
            sys.exit(SKIP)
        env = dict(os.environ, UP_WINE_DNS_NS="1")
        r = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable] + sys.argv, env=env,
                           timeout=300)
        sys.exit(r.returncode)
    c.need_wine()
    d = os.path.join(c.win, "dns-%d" % os.getpid())
    os.makedirs(d, exist_ok=True)
    hosts, resolv = os.path.join(d, "hosts"), os.path.join(d, "resolv.conf")

    def write(path, text):
        with open(path, "w") as f:  # in place: the bind mount points at this inode
            f.write(text)

    write(hosts, "127.0.0.1 localhost\n")
    write(resolv, "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
    for src, dst in ((hosts, "/etc/hosts"), (resolv, "/etc/resolv.conf")):
        if subprocess.run(["mount", "--bind", src, dst]).returncode != 0:
            print("wine_config: SKIPPED: cannot bind-mount over %s" % dst)
            sys.exit(SKIP)
    NAME = "up-wine-target.test"
    sink = Sink()
    port = free_port()
    target = "%s:%d" % (NAME, sink.port)
    proxy = None
    try:
        proxy = Console(c, ["--source", "127.0.0.1:%d" % port, "--target", target, "--allow-unresolved",
                            "--resolve-interval", "1", "--stats-interval", "1", "--drain-timeout", "5"])
        check("waits for its name" in proxy.output(), "no --allow-unresolved warning:\n" + proxy.output())
        early = payloads(300, 31)
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for x in early:
            tx.sendto(x, ("127.0.0.1", port))
            time.sleep(0.001)

        def counted_early():
            errs = 0
            for line in proxy.output().splitlines():
                if " stats " in line and "target=" + target in line:
                    errs += parse_stats(line.split(" stats ", 1)[1])[1][target]["dropped_send_error"]
            return errs >= len(early)
        wait_for(counted_early, 20, "the %d early datagrams counted as send errors" % len(early))
        out = proxy.output()
        # m10: an unconnected socket is "not connected" (bulk-counted), not a closed socket per datagram.
        check("send failed: not connected" in out, "the send failure is not 'not connected':\n" + out)
        write(hosts, "127.0.0.1 localhost\n127.0.0.1 %s\n" % NAME)
        # M5: before the fix, "cannot move to 127.0.0.1:PORT: address family not supported" every interval.
        wait_for(lambda: "address changed: nothing -> 127.0.0.1:%d" % sink.port in proxy.output()
                 or "cannot move" in proxy.output(), 20, "the name to resolve")
        check("cannot move" not in proxy.output(), "the target could not connect:\n" + proxy.output())
        late = payloads(500, 32)
        send_checked(port, late, [sink])
        final = proxy.ctrl_c()
        g, t = final_counters(final)
        tc = t[target]
        check(tc["sent"] == len(late) and tc["dropped_send_error"] == len(early),
              "final totals: sent %d (want %d), dropped_send_error %d (want %d): %s"
              % (tc["sent"], len(late), tc["dropped_send_error"], len(early), final))
        check(accounted(tc) == g["received"] == len(early) + len(late), "not every datagram counted: " + final)
        check_bytes([sink], late, "resolved late")
        log("--allow-unresolved: %d early datagrams in dropped_send_error, then 'address changed: nothing -> "
            "127.0.0.1:%d' and %d forwarded" % (len(early), sink.port, len(late)))
    finally:
        if proxy:
            proxy.close()
        sink.close()
        shutil.rmtree(d, ignore_errors=True)


STEPS = {
    "config-console": step_config_console,
    "config-service": step_config_service,
    "unresolved": step_unresolved,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("step", choices=sorted(STEPS))
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--build-dir", required=True)
    args = ap.parse_args()
    args.linux_exe = None
    t0 = time.time()
    STEPS[args.step](Ctx(args))
    log("%s: passed in %.1f s" % (args.step, time.time() - t0))


if __name__ == "__main__":
    main()
