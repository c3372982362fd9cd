"""A SIGUSR2 re-exec that cannot happen keeps the running proxy forwarding (issue 13).

The binary runs from a temporary copy, with a --config file, two targets.
  1. the copy is deleted: SIGUSR2 is refused before anything stops, the log says
     "cannot execute PATH: No such file or directory";
  2. the configuration file is broken: refused too (the new image would not start),
     the log names the problem;
  3. the copy is replaced by a file that is executable but no program: the drain
     happens, execve fails ("Exec format error"), the old image logs why and starts
     again on its own socket, while a stream is being sent.
After each step a stream reaches both targets completely, in order; the process id
never changes; the final totals of both images add up exactly.
"""
import re
import shutil

from harness import *

import harness  # noqa: E402

tmp = tempfile.mkdtemp(prefix="udp-proxy-reexec-fail-")
exe = os.path.join(tmp, "udp-proxy")
conf = os.path.join(tmp, "udp-proxy.conf")
shutil.copy2(BINARY, exe)
harness.BINARY = exe
a, b = Sink(), Sink()
src = free_port()
good = "source = 127.0.0.1:%d\ntarget = %s\ntarget = %s\nstats-interval = 0\n" % (src, a.addr, b.addr)
with open(conf, "w") as f:
    f.write(good)
p = Proxy(["--config", conf])
pid = p.proc.pid
sent = []


def stream(n, seed, during=None):
    """Send n datagrams (2,000/s scaled); `during` runs in the middle of it."""
    data = dogstatsd_payloads(n, seed=seed)
    t = threading.Thread(target=send_paced, args=(data, ("127.0.0.1", src), 2000))
    t.start()
    if during:
        time.sleep(0.5)
        during()
    t.join(60)
    check(not t.is_alive(), "sender %d finished" % seed)
    sent.extend(data)
    got = (a.wait_for(len(sent), timeout=20), b.wait_for(len(sent), timeout=20))
    check(got == (len(sent), len(sent)), "stream %d: both targets have all %d datagrams (%d, %d)"
          % (seed, len(sent), got[0], got[1]))
    check(a.got == sent and b.got == sent, "stream %d: byte for byte, in order" % seed)


def usr2_and_wait(pattern):
    before = len(re.findall(pattern, p.text()))
    p.proc.send_signal(signal.SIGUSR2)
    end = time.time() + 15
    while time.time() < end and len(re.findall(pattern, p.text())) == before:
        check(p.proc.poll() is None, "still running")
        time.sleep(0.02)
    if len(re.findall(pattern, p.text())) == before:
        fail("log lacks /%s/:\n%s" % (pattern, p.text()))
    print("ok: logged /%s/" % pattern)


try:
    stream(2000, 1)

    os.unlink(exe)
    usr2_and_wait(r"SIGUSR2: re-exec refused, still running: cannot execute %s: No such file or directory"
                  % re.escape(exe))
    check("re-exec: draining" not in p.text(), "a refused re-exec stops nothing")
    stream(2000, 2)

    shutil.copy2(BINARY, exe)
    with open(conf, "w") as f:
        f.write(good + "no-such-setting = 1\n")
    usr2_and_wait(r"SIGUSR2: re-exec refused, still running: .*no-such-setting")
    with open(conf, "w") as f:
        f.write(good)
    stream(2000, 3)

    with open(exe + ".new", "wb") as f:
        f.write(b"this is not a program\n" * 10)
    os.chmod(exe + ".new", 0o755)
    os.rename(exe + ".new", exe)
    stream(4000, 4, during=lambda: usr2_and_wait(
        r"re-exec failed, resuming with the running binary and its sockets: execve %s: Exec format error"
        % re.escape(exe)))
    text = p.text()
    check(text.count("listening on") == 2, "the old image started again on its socket")
    check("starting (re-exec" not in text, "no new image ran")
    check(p.proc.pid == pid and p.proc.poll() is None, "same process %d, running" % pid)

    rc = p.stop()
    check(rc == 0, "exit status 0")
    totals = [parse_stats(m) for m in re.findall(r"final totals: (.*)", p.text())]
    check(len(totals) == 2, "two final totals lines (the failed re-exec, the stop)")
    received = sum(g["received"] for g, _ in totals)
    check(received == len(sent), "received over both runs = sent (%d)" % received)
    for t in (a.addr, b.addr):
        n = sum(tt[t]["sent"] for _, tt in totals)
        check(n == len(sent), "%s: sent %d of %d" % (t, n, len(sent)))
finally:
    p.kill()
    a.close()
    b.close()
    shutil.rmtree(tmp, ignore_errors=True)
print("PASS")
