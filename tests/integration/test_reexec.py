"""SIGUSR2 upgrades in place under load (issue 13): nothing is lost.

The binary is copied into a temporary directory and started from there. A paced
stream of DogStatsD-like datagrams (20,000/s, scaled by UP_TEST_RATE_SCALE) goes to
two targets while the proxy re-execs twice: first the same file, then after a fresh
copy has been renamed over it (what a package upgrade does). Checked:
  - every datagram reaches both targets, byte for byte and in order;
  - the process id never changes, and after the second re-exec the process runs the
    new file (/proc/PID/exe is the renamed copy's inode);
  - the new image logs "udp-proxy VERSION starting (re-exec, 1 sockets inherited)",
    VERSION being what --version of the binary prints;
  - the three "final totals:" lines (two re-execs, one stop) add up exactly: received
    = sent to each target, nothing dropped anywhere, no kernel drop; exit status 0.
"""
import re
import shutil

from harness import *

tmp = tempfile.mkdtemp(prefix="udp-proxy-reexec-")
exe = os.path.join(tmp, "udp-proxy")
shutil.copy2(BINARY, exe)
version = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
check(version.startswith("udp-proxy "), "--version prints the version: %r" % version)

import harness  # noqa: E402  run the copy, not the build output

harness.BINARY = exe
N = int(120000 * min(1.0, RATE_SCALE))
RATE = 20000
a, b = Sink(), Sink()
src = free_port()
p = Proxy(["--source", "127.0.0.1:%d" % src, "--target", a.addr, "--target", b.addr, "--stats-interval", "0"])
pid = p.proc.pid
try:
    payloads = dogstatsd_payloads(N, seed=13)
    sender = threading.Thread(target=send_paced, args=(payloads, ("127.0.0.1", src), RATE))
    sender.start()

    def reexec(n):
        """SIGUSR2, then wait for the n-th new image to be listening."""
        p.proc.send_signal(signal.SIGUSR2)
        end = time.time() + 20
        while time.time() < end:
            if p.text().count("listening on") > n and p.text().count("starting (re-exec") >= n:
                return
            if p.proc.poll() is not None:
                fail("the proxy exited during re-exec %d (%s):\n%s" % (n, p.proc.returncode, p.text()))
            time.sleep(0.02)
        fail("re-exec %d did not finish:\n%s" % (n, p.text()))

    time.sleep(1.5)
    reexec(1)
    check(p.proc.poll() is None, "alive after re-exec 1 (pid %d)" % pid)
    time.sleep(1.0)
    # A package upgrade: a new file renamed over the running one's path.
    shutil.copy2(BINARY, exe + ".new")
    os.rename(exe + ".new", exe)
    new_inode = os.stat(exe).st_ino
    check(os.stat("/proc/%d/exe" % pid).st_ino != new_inode, "before re-exec 2 the old file runs")
    reexec(2)
    check(os.stat("/proc/%d/exe" % pid).st_ino == new_inode, "after re-exec 2 pid %d runs the new file" % pid)
    sender.join(120)
    check(not sender.is_alive(), "the sender finished")
    got_a, got_b = a.wait_for(N, timeout=30), b.wait_for(N, timeout=30)
    rc = p.stop()
    check(rc == 0, "exit status 0")
    text = p.text()
    starts = re.findall(r"(udp-proxy \S+) starting \(re-exec, (\d+) sockets inherited\)", text)
    check(starts == [(version, "1"), (version, "1")], "both new images log the version and one inherited socket: %s"
          % starts)
    check(text.count("re-exec: executing %s with 1 socket(s)" % exe) == 2, "the exec of the same path is logged twice")
    check(got_a == N and got_b == N, "every datagram delivered: sent %d, target 1 got %d, target 2 got %d"
          % (N, got_a, got_b))
    check(a.got == payloads, "target 1: byte for byte, in order")
    check(b.got == payloads, "target 2: byte for byte, in order")
    totals = [parse_stats(m) for m in re.findall(r"final totals: (.*)", text)]
    check(len(totals) == 3, "three final totals lines (two re-execs, one stop)")
    received = sum(g["received"] for g, _ in totals)
    check(received == N, "received over the three images = sent (%d)" % received)
    check(sum(g["kernel_drops"] for g, _ in totals) == 0, "no kernel drop")
    for t in (a.addr, b.addr):
        sent = sum(tt[t]["sent"] for _, tt in totals)
        dropped = sum(accounted(tt[t]) - tt[t]["sent"] for _, tt in totals)
        check(sent == N and dropped == 0, "%s: sent %d of %d, dropped %d" % (t, sent, N, dropped))
    # How long no reader ran, per re-exec (logged, not asserted): from the
    # drain to the new image listening; the kernel held the datagrams meanwhile.
    stamps = re.findall(r"^(\S+)T(\d+):(\d+):([\d.]+)Z \w+\s+(re-exec: draining|udp-proxy \S+ listening)", text, re.M)
    secs = [(int(h) * 3600 + int(m) * 60 + float(s_), what) for _, h, m, s_, what in stamps]
    gaps = ["%.0f ms" % ((secs[i + 1][0] - secs[i][0]) * 1000) for i in range(len(secs) - 1)
            if secs[i][1].startswith("re-exec")]
    print("measured: reader pause per re-exec (drain + exec + start): %s" % ", ".join(gaps))
    print("measured: %d datagrams sent, %d and %d delivered across 2 re-execs" % (N, got_a, got_b))
finally:
    p.kill()
    a.close()
    b.close()
    shutil.rmtree(tmp, ignore_errors=True)
print("PASS")
