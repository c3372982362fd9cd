#!/usr/bin/env python3
"""wine_test.py - the Windows executables, built and run for real (CTest, tests/windows/CMakeLists.txt).

One step per CTest entry:
  build           make windows: build/windows/udp-proxy-x64.exe and -x86.exe (skips without mingw-w64)
  pe              both executables: PE machine type, imports only system DLLs
  prefix-setup    a private WINEPREFIX under the build dir: wineboot -i once, wineserver -p
  console         the x64 console exe forwards Linux -> two Linux sinks byte for byte, drains on Ctrl+C
  metrics         the x64 console exe with --metrics-listen: /metrics counts exactly, /healthz, 404, Ctrl+C
  service         install, sc start, forwarding while RUNNING, sc query, service stop, uninstall
  port-taken      a service whose source port is taken reports STOPPED with its exit code
  prefix-cleanup  wineserver -k, then the prefix is removed

A step whose tools are missing exits 77 (CTest SKIP_RETURN_CODE) and says how to install them: a skip is
never a pass. Every wait is bounded; traffic goes to 127.0.0.1 only.
"""
import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

# The UDP sink, free ports and the Prometheus text parser come from the integration tests' helpers.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import Sink, free_port  # noqa: E402
from metricslib import free_port as free_tcp_port, parse_prometheus, value  # noqa: E402

SKIP = 77
WINE_HINT = "sudo apt-get install -y wine wine64   (or, as root: sh scripts/deps-windows.sh)"
MINGW_HINT = "sudo apt-get install -y gcc-mingw-w64-x86-64 gcc-mingw-w64-i686 binutils-mingw-w64   " \
             "(or, as root: sh scripts/deps-windows.sh)"
SERVICES_KEY = "HKLM\\SYSTEM\\CurrentControlSet\\Services\\"
EVENTLOG_KEY = SERVICES_KEY + "EventLog\\Application\\"
ALLOWED_DLLS = {"kernel32.dll", "advapi32.dll", "ws2_32.dll", "msvcrt.dll", "ucrtbase.dll"}
# Functions that Windows 7 / Server 2008 R2 lacks: importing one would stop the program from loading there.
AFTER_WIN7 = {"GetSystemTimePreciseAsFileTime", "SetThreadDescription", "GetThreadDescription", "WaitOnAddress",
              "WakeByAddressSingle", "WakeByAddressAll", "CreateFile2", "SetThreadInformation",
              "GetCurrentThreadStackLimits", "SetDefaultDllDirectories", "GetSystemTimes2"}


def log(msg):
    print("wine_test: " + msg, flush=True)


def skip(msg):
    log("SKIPPED: " + msg)
    sys.exit(SKIP)


def fail(msg):
    log("FAILED: " + msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


class Ctx:
    def __init__(self, args):
        self.src = os.path.abspath(args.source_dir)
        self.build = os.path.abspath(args.build_dir)
        self.win = os.path.join(self.build, "windows")
        self.x64 = os.path.join(self.win, "udp-proxy-x64.exe")
        self.x86 = os.path.join(self.win, "udp-proxy-x86.exe")
        self.linux_exe = args.linux_exe
        self.prefix = os.path.join(self.win, "wineprefix")
        self.env = dict(os.environ)
        self.env.update({
            "WINEPREFIX": self.prefix,
            "WINEDEBUG": "-all",
            "WINEARCH": "win64",
            # No Mono/Gecko install dialogs, no window: a test never waits on a person.
            "WINEDLLOVERRIDES": "mscoree,mshtml=",
        })
        self.env.pop("DISPLAY", None)
        self.env.pop("WAYLAND_DISPLAY", None)

    def run(self, cmd, timeout=60, check_rc=None):
        """Run cmd (bounded); returns (rc, stdout+stderr). Output goes through a file, not a pipe: wine
        may start wineserver, services.exe... that inherit it and outlive the command."""
        with tempfile.TemporaryFile() as f:
            try:
                p = subprocess.run(cmd, env=self.env, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                                   timeout=timeout)
            except subprocess.TimeoutExpired:
                fail("timed out after %d s: %s" % (timeout, " ".join(cmd)))
            f.seek(0)
            out = f.read().decode("utf-8", "replace")
        if check_rc is not None and p.returncode != check_rc:
            fail("%s exited %d, expected %d:\n%s" % (" ".join(cmd), p.returncode, check_rc, out))
        return p.returncode, out

    def wine(self, *args, timeout=60, check_rc=None):
        return self.run(["wine"] + list(args), timeout=timeout, check_rc=check_rc)

    def need_exe(self):
        for exe in (self.x64, self.x86):
            if not os.path.exists(exe):
                if not shutil.which("x86_64-w64-mingw32-gcc"):
                    skip("mingw-w64 is not installed, so the Windows executables are not built: " + MINGW_HINT)
                fail("%s is missing: the windows_build test should have built it" % exe)

    def need_wine(self):
        self.need_exe()
        for tool in ("wine", "wineserver", "wineboot"):
            if not shutil.which(tool):
                skip("Wine is not installed (no '%s'), so the Windows executables are not run: %s"
                     % (tool, WINE_HINT))
        if not os.path.isdir(os.path.join(self.prefix, "drive_c")):
            fail("no Wine prefix at %s: the windows_wine_prefix test should have made it" % self.prefix)
        # Keep the server (and so the SCM and its services) alive between wine commands.
        self.run(["wineserver", "-p"], timeout=30)


def dos_path(path):
    """Z:\\ maps the Linux root."""
    return "Z:" + path.replace("/", "\\")


# ---- build and PE checks ---------------------------------------------------------------------------------


def step_build(c):
    for cc in ("x86_64-w64-mingw32-gcc", "i686-w64-mingw32-gcc", "x86_64-w64-mingw32-objdump"):
        if not shutil.which(cc):
            skip("mingw-w64 is not installed (no '%s'): %s" % (cc, MINGW_HINT))
    t0 = time.time()
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):  # under `make test`: not the outer make's jobserver
        c.env.pop(k, None)
    rc, out = c.run(["make", "-C", c.src, "--no-print-directory", "windows", "BUILD=" + c.build, "JOBS=2"],
                    timeout=600)
    if rc != 0:
        fail("make windows failed:\n" + out[-6000:])
    for exe in (c.x64, c.x86):
        check(os.path.getsize(exe) > 0, exe + " was not produced")
    log("built %s and %s in %.1f s" % (c.x64, c.x86, time.time() - t0))


def pe_info(c, exe):
    rc, out = c.run(["x86_64-w64-mingw32-objdump", "-p", exe], check_rc=0)
    fmt = None
    dlls = []
    funcs = set()
    for line in out.splitlines():
        if "file format" in line:
            fmt = line.split("file format")[1].strip()
        s = line.strip()
        if s.startswith("DLL Name:"):
            dlls.append(s.split(":", 1)[1].strip().lower())
        elif dlls and line.startswith("\t") and s.split()[-1:]:
            funcs.add(s.split()[-1])  # import table rows: hint, ordinal, name
    return fmt, dlls, funcs, out


def step_pe(c):
    c.need_exe()
    for exe, want_fmt, want_magic in ((c.x64, "pei-x86-64", "020b"), (c.x86, "pei-i386", "010b")):
        fmt, dlls, funcs, out = pe_info(c, exe)
        check(fmt == want_fmt, "%s: file format %s, expected %s" % (exe, fmt, want_fmt))
        check(("Magic\t\t\t" + want_magic) in out, "%s: PE magic is not %s" % (exe, want_magic))
        bad = [d for d in dlls if d not in ALLOWED_DLLS and not d.startswith("api-ms-win-crt-")]
        check(not bad, "%s imports non-system DLLs %s (the runtime must be static)" % (exe, bad))
        for d in ("kernel32.dll", "ws2_32.dll", "advapi32.dll"):
            check(d in dlls, "%s does not import %s: imports %s" % (exe, d, dlls))
        check("WSARecvFrom" in funcs and "StartServiceCtrlDispatcherA" in funcs,
              "%s: import names not found in objdump's output" % exe)
        late = sorted(funcs & AFTER_WIN7)
        check(not late, "%s imports functions that Windows 7 lacks: %s" % (exe, late))
        log("%s: %s, imports %s (%d functions, none newer than Windows 7 of %d checked)"
            % (os.path.basename(exe), fmt, ", ".join(sorted(dlls)), len(funcs), len(AFTER_WIN7)))
    if c.linux_exe:
        p = subprocess.run([c.linux_exe, "service", "status"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=10)
        err = p.stderr.decode()
        check(p.returncode == 2 and "only available on Windows" in err,
              "Linux 'udp-proxy service status': exit %d, %r" % (p.returncode, err))
        log("Linux 'udp-proxy service status' exits 2: " + err.splitlines()[0])


# ---- the Wine prefix -----------------------------------------------------------------------------------------


def step_prefix_setup(c):
    c.need_exe()
    for tool in ("wine", "wineserver", "wineboot"):
        if not shutil.which(tool):
            skip("Wine is not installed (no '%s'): %s" % (tool, WINE_HINT))
    c.run(["wineserver", "-k"], timeout=30)  # a server left from an earlier run of this prefix
    shutil.rmtree(c.prefix, ignore_errors=True)
    t0 = time.time()
    c.run(["wineboot", "-i"], timeout=300, check_rc=0)
    c.run(["wineserver", "-w"], timeout=120)
    check(os.path.isdir(os.path.join(c.prefix, "drive_c")), "wineboot -i made no prefix at " + c.prefix)
    c.run(["wineserver", "-p"], timeout=30)
    log("Wine prefix %s ready in %.1f s" % (c.prefix, time.time() - t0))


def prefix_pids(prefix):
    """Processes started with WINEPREFIX=prefix (wineserver, services.exe, our service...)."""
    want = b"WINEPREFIX=" + prefix.encode() + b"\0"
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/environ" % d, "rb") as f:
                    if want in f.read():
                        pids.append(int(d))
            except OSError:
                pass
    return pids


def wait_prefix_idle(prefix, timeout):
    """Wait until no process of the prefix is left; returns the pids still there."""
    deadline = time.time() + timeout
    while True:
        left = prefix_pids(prefix)
        if not left or time.time() > deadline:
            return left
        time.sleep(0.2)


def step_prefix_cleanup(c):
    if shutil.which("wineserver") and os.path.isdir(c.prefix):
        c.run(["wineserver", "-k"], timeout=30)
        left = wait_prefix_idle(c.prefix, 20)  # the server saves the registry as it exits
        check(not left, "Wine processes of the prefix still run after wineserver -k: %s" % left)
        log("wineserver -k: done, no Wine process of the prefix left")
    # About 700 MB, made anew by every run: do not leave it in the build dir.
    shutil.rmtree(c.prefix, ignore_errors=True)


# ---- traffic -------------------------------------------------------------------------------------------------


def payloads(n, seed, large=65507):
    """Mostly DogStatsD-sized, some 0, 1, 1500 and `large` bytes; each one unique."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        r = rnd.random()
        if i in (3, n // 2):
            size = 0
        elif r < 0.01:
            size = 1
        elif r < 0.02:
            size = large
        elif r < 0.05:
            size = 1500
        else:
            size = rnd.randint(40, 220)
        head = b"m%d.%d:1|c|#seed:%d" % (i, size, seed)
        body = (head + bytes(rnd.getrandbits(8) for _ in range(min(size, 64))) * (size // 64 + 1))[:size]
        out.append(body)
    return out


def wait_for(cond, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.02)
    fail("timed out after %.0f s waiting for %s" % (timeout, what))


def send_checked(port, data, sinks, chunk=100, timeout=30):
    """Send data to 127.0.0.1:port in chunks, each chunk only after every sink has all of the one before
    (flow control: no loss from socket buffers, so every datagram must arrive)."""
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    base = [len(s.got) for s in sinks]
    for i in range(0, len(data), chunk):
        part = data[i:i + chunk]
        for d in part:
            tx.sendto(d, ("127.0.0.1", port))
        want = i + len(part)
        wait_for(lambda: all(len(s.got) - b >= want for s, b in zip(sinks, base)), timeout,
                 "datagrams %d..%d at both sinks (have %s)" % (i, want, [len(s.got) - b for s, b in zip(sinks, base)]))
    tx.close()


def check_bytes(sinks, data, what):
    for k, s in enumerate(sinks):
        got = list(s.got)
        check(len(got) == len(data), "%s: sink %d got %d datagrams, sent %d" % (what, k, len(got), len(data)))
        for i, (a, b) in enumerate(zip(got, data)):
            check(a == b, "%s: sink %d datagram %d differs (%d bytes, sent %d)" % (what, k, i, len(a), len(b)))
    log("%s: both sinks got all %d datagrams (%d bytes), byte for byte, in order"
        % (what, len(data), sum(len(d) for d in data)))


# ---- (1) the console executable --------------------------------------------------------------------------


class Console:
    """`wine udp-proxy-x64.exe ARGS` as a console program, its output read from a file."""

    def __init__(self, c, args):
        self.t0 = time.time()
        self.outf = tempfile.TemporaryFile()  # a file, not a pipe: see Ctx.run
        self.p = subprocess.Popen(["wine", c.x64] + args, env=c.env, stdin=subprocess.DEVNULL, stdout=self.outf,
                                  stderr=subprocess.STDOUT)
        wait_for(lambda: "listening on" in self.output() or self.p.poll() is not None, 60, "the proxy to listen")
        check(self.p.poll() is None, "the proxy exited at start:\n" + self.output())

    def output(self):
        self.outf.seek(0)
        return self.outf.read().decode("utf-8", "replace")

    def ctrl_c(self):
        """Ctrl+C; checks that the proxy drains and exits 0. Returns its final totals line."""
        # Wine turns SIGINT for a console program into CTRL_C_EVENT for its console control handler:
        # exactly what Ctrl+C in a Windows console delivers.
        self.p.send_signal(signal.SIGINT)
        try:
            rc = self.p.wait(30)
        except subprocess.TimeoutExpired:
            fail("the proxy did not exit within 30 s of Ctrl+C:\n" + self.output())
        out = self.output()
        check(rc == 0, "exit status %d after Ctrl+C, expected 0:\n%s" % (rc, out))
        check("stopping: draining" in out, "no drain after Ctrl+C:\n" + out)
        final = [l for l in out.splitlines() if "final totals" in l]
        check(final, "no final totals line:\n" + out)
        return final[0]

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(10)
        self.outf.close()


def step_console(c):
    c.need_wine()
    sinks = [Sink(), Sink()]
    port = free_port()
    dead = free_port()  # a third target with nothing listening: the other two must not notice
    proxy = None
    try:
        proxy = Console(c, ["--source", "127.0.0.1:%d" % port, "--target", "127.0.0.1:%d" % sinks[0].port,
                            "--target", "127.0.0.1:%d" % sinks[1].port, "--target", "127.0.0.1:%d" % dead,
                            "--stats-interval", "0", "--drain-timeout", "5"])
        log("console proxy listening after %.1f s" % (time.time() - proxy.t0))
        data = payloads(3000, 1)
        send_checked(port, data, sinks)
        # A last burst, then Ctrl+C at once: what the proxy has taken must still reach both sinks.
        tail = payloads(200, 2)
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for d in tail:
            tx.sendto(d, ("127.0.0.1", port))
        tx.close()
        time.sleep(0.05)
        final = proxy.ctrl_c()
        total = len(data) + len(tail)
        wait_for(lambda: all(len(s.got) >= total for s in sinks), 10, "the drained datagrams")
        time.sleep(0.3)
        check("received=%d " % total in final, "final totals do not count %d received: %s" % (total, final))
        check(final.count("sent=%d " % total) >= 2, "final totals: not %d sent per target: %s" % (total, final))
        check_bytes(sinks, data + tail, "console x64")
        log("Ctrl+C: drained and exited 0; %s" % final.split("final totals:")[1].strip())
    finally:
        if proxy:
            proxy.close()
        for s in sinks:
            s.close()


# ---- (1b) the console executable's Prometheus endpoint -----------------------------------------------------


# No proxy from the environment (http_proxy...): the requests go to 127.0.0.1 itself, nowhere else.
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_get(port, path, timeout=10):
    """GET http://127.0.0.1:port/path; returns (status, headers, body). A 4xx/5xx answer is returned too."""
    try:
        with HTTP.open("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
            return r.status, r.headers, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        body = e.read().decode("utf-8", "replace")
        e.close()
        return e.code, e.headers, body


def scrape(port, targets):
    """GET /metrics (must be 200, Prometheus text); returns (received, {target: sent}, samples)."""
    status, headers, text = http_get(port, "/metrics")
    check(status == 200, "GET /metrics: status %d, expected 200:\n%s" % (status, text))
    check(headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
          "GET /metrics: Content-Type %r" % headers.get("Content-Type"))
    try:
        s = parse_prometheus(text)
        return (int(value(s, "udp_proxy_received_datagrams_total")),
                {t: int(value(s, "udp_proxy_sent_datagrams_total", target=t)) for t in targets}, s)
    except (AssertionError, KeyError) as e:
        fail("GET /metrics: %r:\n%s" % (e, text))


def check_healthz(mport, when):
    status, _, body = http_get(mport, "/healthz")
    check(status == 200 and body == "ok\n", "GET /healthz %s: %d %r, expected 200 'ok'" % (when, status, body))


def step_metrics(c):
    c.need_wine()
    sinks = [Sink(), Sink()]
    port = free_port()
    mport = free_tcp_port()
    names = ["127.0.0.1:%d" % s.port for s in sinks]
    proxy = None
    try:
        proxy = Console(c, ["--source", "127.0.0.1:%d" % port, "--target", names[0], "--target", names[1],
                            "--metrics-listen", "127.0.0.1:%d" % mport, "--stats-interval", "0",
                            "--drain-timeout", "5"])
        # The HTTP socket is bound before the "listening on" line: it must answer at once.
        check_healthz(mport, "at start")
        received, sent, _ = scrape(mport, names)
        check(received == 0 and sent == {n: 0 for n in names},
              "GET /metrics before any traffic: received %s, sent %s" % (received, sent))
        log("metrics endpoint on 127.0.0.1:%d answers after %.1f s; /healthz 200 ok; all counters 0"
            % (mport, time.time() - proxy.t0))

        data = payloads(2000, 4)
        send_checked(port, data, sinks)
        got = {n: len(s.got) for n, s in zip(names, sinks)}
        check(all(v == len(data) for v in got.values()), "sinks got %s, sent %d" % (got, len(data)))
        # A writer counts a send just after the call returns, so the sink may be a hair ahead: a bounded wait.
        deadline = time.time() + 10
        while True:
            received, sent, samples = scrape(mport, names)
            if (received == len(data) and sent == got) or time.time() > deadline:
                break
            time.sleep(0.1)
        check(received == len(data), "udp_proxy_received_datagrams_total %s, sent %d" % (received, len(data)))
        check(sent == got, "udp_proxy_sent_datagrams_total per target %s, the sinks got %s" % (sent, got))
        check(value(samples, "udp_proxy_source_bound") == 1 and
              all(value(samples, "udp_proxy_writer_up", target=n) == 1 for n in names),
              "GET /metrics: source not bound or a writer not up")
        log("GET /metrics: udp_proxy_received_datagrams_total %d; udp_proxy_sent_datagrams_total %s"
            % (received, ", ".join("%s=%d" % kv for kv in sorted(sent.items()))))
        check_healthz(mport, "after traffic")
        status, _, body = http_get(mport, "/nope")
        check(status == 404, "GET /nope: status %d, expected 404: %r" % (status, body))
        log("GET /healthz: 200 ok; GET /nope: 404")

        final = proxy.ctrl_c()
        check("received=%d " % len(data) in final and final.count("sent=%d " % len(data)) == 2,
              "final totals do not match %d datagrams: %s" % (len(data), final))
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.settimeout(5)
        check(probe.connect_ex(("127.0.0.1", mport)) != 0, "the metrics port still accepts after exit")
        probe.close()
        log("Ctrl+C: drained and exited 0, metrics port closed; %s" % final.split("final totals:")[1].strip())
    finally:
        if proxy:
            proxy.close()
        for s in sinks:
            s.close()


# ---- (2) and (3) the service ---------------------------------------------------------------------------------


def sc_state(c, name):
    rc, out = c.wine("sc", "query", name, timeout=30)
    fields = {}
    for line in out.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            fields[k.strip()] = v.strip()
    return rc, fields, out


def wait_state(c, name, state, timeout):
    deadline = time.time() + timeout
    while True:
        rc, f, out = sc_state(c, name)
        if state in f.get("STATE", ""):
            return f
        if time.time() > deadline:
            fail("service %s did not reach %s within %d s:\n%s" % (name, state, timeout, out))
        time.sleep(0.3)


def read_log(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def service_names(c, prefix):
    """A service name of its own for this run, and a fresh log file path for it."""
    name = "%s-%d" % (prefix, os.getpid())
    logf = os.path.join(c.win, "service-%s.log" % name)
    if os.path.exists(logf):
        os.unlink(logf)
    return name, logf


def step_service(c):
    c.need_wine()
    name, logf = service_names(c, "up-test")
    # Installed from a folder with a space, like C:\Program Files: the stored command line must quote it.
    exe_dir = os.path.join(c.win, "Program Files")
    os.makedirs(exe_dir, exist_ok=True)
    exe = os.path.join(exe_dir, "udp-proxy.exe")
    shutil.copyfile(c.x64, exe)
    logf = os.path.join(exe_dir, os.path.basename(logf))
    sinks = [Sink(), Sink()]
    port = free_port()
    # --buffer 3000: a datagram takes both buffers (2,048-byte slot + continuation) or is oversize.
    run_flags = ["--source", "127.0.0.1:%d" % port, "--target", "127.0.0.1:%d" % sinks[0].port,
                 "--target", "127.0.0.1:%d" % sinks[1].port, "--stats-interval", "1", "--buffer", "3000",
                 "--log-file", dos_path(logf)]
    installed = False
    try:
        # Bad run flags: refused before anything is installed.
        rc, out = c.wine(exe, "service", "install", "--name", name, "--", "--target", "nowhere")
        check(rc == 2 and "--target" in out, "install with a bad --target: exit %d, %r" % (rc, out))
        rc, f, out = sc_state(c, name)
        check("STATE" not in f, "a service was installed despite bad run flags:\n" + out)

        t0 = time.time()
        rc, out = c.wine(exe, "service", "install", "--name", name, "--description", "udp-proxy test service",
                         "--", *run_flags, check_rc=0)
        installed = True
        check("LocalService" in out and "service run --name %s --" % name in out, "install said:\n" + out)
        log("installed: " + [l for l in out.splitlines() if "installed service" in l][0])
        rc, out = c.wine(exe, "service", "install", "--name", name, "--", *run_flags)
        check(rc == 1 and "already installed" in out, "second install: exit %d, %r" % (rc, out))
        # What the SCM stores (Wine's sc has no qc): the marker command line, the account, automatic start,
        # and the event log source.
        rc, out = c.wine("reg", "query", SERVICES_KEY + name, check_rc=0)
        check("\"%s\" service run --name %s -- --source 127.0.0.1:%d" % (dos_path(exe), name, port) in out,
              "ImagePath:\n" + out)
        check("NT AUTHORITY\\LocalService" in out, "ObjectName is not LocalService:\n" + out)
        check("Start    REG_DWORD    0x2" in out, "start type is not automatic:\n" + out)
        check("udp-proxy test service" in out, "no description:\n" + out)
        rc, out = c.wine("reg", "query", EVENTLOG_KEY + name, check_rc=0)
        check("EventMessageFile" in out and dos_path(exe) in out, "event log source:\n" + out)

        c.wine("sc", "start", name, check_rc=0)  # exits 0 even if the service dies: check sc query instead
        f = wait_state(c, name, "RUNNING", 30)
        log("sc query: STATE %s after %.1f s" % (f["STATE"], time.time() - t0))
        rc, out = c.wine(exe, "service", "status", "--name", name)
        check(rc == 0 and "RUNNING" in out, "service status: exit %d, %r" % (rc, out))

        data = payloads(2000, 3, large=3000)
        send_checked(port, data, sinks)
        # Oversize (WSAEMSGSIZE): counted, never forwarded cut. The marker behind it shows it was handled.
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tx.sendto(b"o" * 5000, ("127.0.0.1", port))
        tx.sendto(b"marker-after-oversize", ("127.0.0.1", port))
        tx.close()
        data.append(b"marker-after-oversize")
        wait_for(lambda: all(len(s.got) >= len(data) for s in sinks), 10, "the marker after the oversize datagram")
        time.sleep(0.2)
        check_bytes(sinks, data, "service x64 while RUNNING")
        rc, f, out = sc_state(c, name)
        check("RUNNING" in f.get("STATE", ""), "sc query after forwarding:\n" + out)
        wait_for(lambda: " stats " in read_log(logf) or "info  stats" in read_log(logf), 10,
                 "a periodic stats line in the log file")

        rc, out = c.wine(exe, "service", "stop", "--name", name, timeout=90)
        check(rc == 0 and "STOPPED" in out, "service stop: exit %d, %r" % (rc, out))
        f = wait_state(c, name, "STOPPED", 30)
        check(f.get("WIN32_EXIT_CODE", "").startswith("0"), "stopped with an error: %s" % f)
        text = read_log(logf)
        check("stopping: draining" in text, "no drain in the log:\n" + text)
        final = [l for l in text.splitlines() if "final totals" in l]
        check(final and "received=%d " % len(data) in final[-1] and final[-1].count("sent=%d " % len(data)) == 2
              and " oversize=1 " in final[-1],
              "final totals in the log do not match %d datagrams:\n%s" % (len(data), text))
        check("service '%s' stopped" % name in text, "no 'stopped' line in the log:\n" + text)
        log("service stop: drained, STOPPED, exit code 0; log: %s" % final[-1].split("final totals:")[1][:120])

        rc, out = c.wine(exe, "service", "uninstall", "--name", name, timeout=90)
        check(rc == 0 and "removed" in out, "uninstall: exit %d, %r" % (rc, out))
        installed = False
        rc, f, out = sc_state(c, name)
        check(rc != 0 and "STATE" not in f, "sc query still finds the service:\n" + out)
        rc, out = c.wine(exe, "service", "status", "--name", name)
        check(rc == 1 and "no service named" in out, "status after uninstall: exit %d, %r" % (rc, out))
        rc, out = c.wine("reg", "query", EVENTLOG_KEY + name)
        check(rc != 0, "the event log source is still registered:\n" + out)
        rc, out = c.wine(exe, "service", "uninstall", "--name", name)
        check(rc == 1 and "no service named" in out, "second uninstall: exit %d, %r" % (rc, out))
        log("uninstalled: sc query no longer finds %s (%.1f s for the whole cycle)" % (name, time.time() - t0))
    finally:
        if installed:
            c.wine(exe, "service", "uninstall", "--name", name, timeout=90)
        for s in sinks:
            s.close()


def step_port_taken(c):
    c.need_wine()
    name, logf = service_names(c, "up-busy")
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind(("127.0.0.1", 0))
    port = busy.getsockname()[1]
    sink = Sink()
    installed = False
    try:
        c.wine(c.x64, "service", "install", "--name", name, "--", "--source", "127.0.0.1:%d" % port,
               "--target", "127.0.0.1:%d" % sink.port, "--log-file", dos_path(logf), check_rc=0)
        installed = True
        c.wine("sc", "start", name)
        f = wait_state(c, name, "STOPPED", 30)
        check(f.get("WIN32_EXIT_CODE", "").startswith("1066"),
              "WIN32_EXIT_CODE %r, expected 1066 (ERROR_SERVICE_SPECIFIC_ERROR)" % f.get("WIN32_EXIT_CODE"))
        check(f.get("SERVICE_EXIT_CODE", "").startswith("1 "), "SERVICE_EXIT_CODE %r, expected 1"
              % f.get("SERVICE_EXIT_CODE"))
        log("sc query: STATE %s, WIN32_EXIT_CODE %s, SERVICE_EXIT_CODE %s"
            % (f["STATE"], f["WIN32_EXIT_CODE"], f["SERVICE_EXIT_CODE"]))
        rc, out = c.wine(c.x64, "service", "status", "--name", name)
        check(rc == 3 and "STOPPED" in out and "exit code 1" in out, "service status: exit %d, %r" % (rc, out))
        rc, out = c.wine(c.x64, "service", "start", "--name", name)
        check(rc == 1 and "did not start" in out, "service start on a taken port: exit %d, %r" % (rc, out))
        text = read_log(logf)
        check("address already in use" in text, "the log does not say why:\n" + text)
        log("service start: exit 1, %r; the log says: %s" % (out.strip().splitlines()[0][:90],
                                                             [l for l in text.splitlines() if "in use" in l][0]))
    finally:
        if installed:
            c.wine(c.x64, "service", "uninstall", "--name", name, timeout=90)
        busy.close()
        sink.close()


# ---- (4) the live view: `udp-proxy stats` ---------------------------------------------------------------------


def step_stats(c):
    """`udp-proxy-x64.exe stats` against the x64 console proxy, both under Wine: two tables with both targets
    and non-zero rates while a sender runs; the URL from a config file (Windows path); exit 1 when nothing
    listens."""
    c.need_wine()
    import threading
    sinks = [Sink(), Sink()]
    port = free_port()
    mport = free_tcp_port()
    names = ["127.0.0.1:%d" % s.port for s in sinks]
    proxy = None
    stop = threading.Event()

    def send():
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        deadline = time.time() + 90
        n = 0
        while not stop.is_set() and time.time() < deadline:
            for _ in range(10):
                tx.sendto(b"stats.test:%d|c" % n, ("127.0.0.1", port))
                n += 1
            time.sleep(0.01)
        tx.close()

    th = threading.Thread(target=send, daemon=True)
    conf = os.path.join(c.win, "stats-%d.conf" % os.getpid())
    try:
        proxy = Console(c, ["--source", "127.0.0.1:%d" % port, "--target", names[0], "--target", names[1],
                            "--metrics-listen", "127.0.0.1:%d" % mport, "--stats-interval", "0"])
        th.start()
        rc, out = c.wine(c.x64, "stats", "--metrics-url", "http://127.0.0.1:%d/metrics" % mport, "--interval", "1",
                         "--count", "2", timeout=90)
        out = out.replace("\r", "")
        check(rc == 0, "stats --count 2: exit %d:\n%s" % (rc, out))
        check("(1/2)" in out and "(2/2)" in out, "stats printed not two tables:\n" + out)
        for n in names:
            rows = [l.split() for l in out.splitlines() if l.startswith(n + " ")]
            check(len(rows) == 2 and all(float(r[1]) > 0 for r in rows),
                  "target %s: not two rows with a non-zero sent rate:\n%s" % (n, out))
        log("stats --count 2 --interval 1 under Wine: two tables, both targets sending:\n" +
            "\n".join(l for l in out.splitlines() if l.startswith(("received", "127.0.0.1"))))
        with open(conf, "w") as f:
            f.write("target = %s\r\nmetrics-listen = 127.0.0.1:%d\r\n" % (names[0], mport))
        rc, out = c.wine(c.x64, "stats", "--config", dos_path(conf), "--interval", "0.5", "--count", "1", timeout=60)
        check(rc == 0 and names[1] in out, "stats --config %s: exit %d:\n%s" % (dos_path(conf), rc, out))
        log("stats --config %s: the URL from metrics-listen" % dos_path(conf))
        stop.set()
        th.join(5)
        proxy.ctrl_c()
        rc, out = c.wine(c.x64, "stats", "--metrics-url", "http://127.0.0.1:%d/metrics" % mport, "--count", "1",
                         timeout=60)
        check(rc == 1 and "cannot connect" in out, "stats with nothing listening: exit %d, %r" % (rc, out))
        log("stats with nothing listening: exit 1, %s" % out.strip().splitlines()[-1])
    finally:
        stop.set()
        if proxy:
            proxy.close()
        for s in sinks:
            s.close()
        if os.path.exists(conf):
            os.unlink(conf)


STEPS = {
    "build": step_build,
    "pe": step_pe,
    "prefix-setup": step_prefix_setup,
    "prefix-cleanup": step_prefix_cleanup,
    "console": step_console,
    "metrics": step_metrics,
    "service": step_service,
    "port-taken": step_port_taken,
    "stats": step_stats,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("step", choices=sorted(STEPS))
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--linux-exe", default=None)
    args = ap.parse_args()
    t0 = time.time()
    STEPS[args.step](Ctx(args))
    log("%s: passed in %.1f s" % (args.step, time.time() - t0))


if __name__ == "__main__":
    main()
