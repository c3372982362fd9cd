"""A SIGUSR2 re-exec that cannot happen keeps the running proxy forwarding (issue 13).

The binary runs from a temporary copy, with a --config file, two targets.
  1. the copy is deleted: SIGUSR2 is refused before anything stops, the log says
     "cannot execute PATH: No such file or directory";
  2. the configuration file is broken: the trial run (PATH ... --check-config) fails,
     refused too, the log names the problem;
  3. the copy is replaced by a file that is executable but no program: the trial run
     cannot execute it, refused ("Exec format error").
After each step a stream reaches both targets completely, in order; nothing stopped.
  4. A second proxy whose drain lasts (a unix: target nobody reads, --drain-timeout
     3): while it drains for a re-exec, the file is replaced by one that is no
     program. The exec fails ("Exec format error"), the old image logs why and starts
     again on its own socket, while a stream is being sent: the UDP target gets all of
     it, in order; the process id never changes; the final totals of both runs add up.
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
    usr2_and_wait(r"SIGUSR2: re-exec refused, still running: cannot execute %s: Exec format error" % re.escape(exe))
    stream(2000, 4)
    text = p.text()
    check("re-exec: draining" not in text and text.count("listening on") == 1, "refused re-execs stopped nothing")
    check(p.proc.pid == pid and p.proc.poll() is None, "same process %d, running" % pid)
    rc = p.stop()
    check(rc == 0, "exit status 0")
    g, t = p.final_totals()
    check(g["received"] == len(sent) and all(t[x]["sent"] == len(sent) for x in (a.addr, b.addr)),
          "final totals: received %d, sent %s, of %d" % (g["received"], [t[x]["sent"] for x in t], len(sent)))

    # 4. The exec fails after the drain: the old image resumes on its socket.
    shutil.copy2(BINARY, exe + ".new")
    os.rename(exe + ".new", exe)
    stuck_path = os.path.join(tmp, "stuck.sock")
    stuck = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    stuck.bind(stuck_path)  # never read: its queue fills, the writer's queue holds the rest
    c = Sink()
    src = free_port()
    with open(conf, "w") as f:
        f.write("source = 127.0.0.1:%d\ntarget = %s\ntarget = unix:%s\nstats-interval = 0\ndrain-timeout = 3\n"
                % (src, c.addr, stuck_path))
    p = Proxy(["--config", conf])
    pid = p.proc.pid
    a, sent = c, []

    def break_binary_while_draining():
        usr2_and_wait(r"re-exec: draining")
        with open(exe + ".new", "wb") as f:
            f.write(b"this is not a program\n" * 10)
        os.chmod(exe + ".new", 0o755)
        os.rename(exe + ".new", exe)

    data = dogstatsd_payloads(6000, seed=5)
    t = threading.Thread(target=send_paced, args=(data, ("127.0.0.1", src), 2000))
    t.start()
    time.sleep(1.0)
    break_binary_while_draining()
    wait = time.time() + 15
    while time.time() < wait and "re-exec failed" not in p.text():
        time.sleep(0.05)
    t.join(60)
    got = c.wait_for(len(data), timeout=20)
    text = p.text()
    if not re.search(r"re-exec failed, resuming with the running binary and its sockets: execve %s: Exec format error"
                     % re.escape(exe), text):
        fail("the failed exec is not logged:\n" + text)
    print("ok: the failed exec is logged (Exec format error)")
    check(text.count("listening on") == 2 and "starting (re-exec" not in text, "the old image started again")
    check(p.proc.pid == pid and p.proc.poll() is None, "same process %d, running" % pid)
    check(got == len(data) and c.got == data, "across the failed exec the UDP target got %d of %d, in order"
          % (got, len(data)))
    rc = p.stop()
    check(rc == 0, "exit status 0")
    totals = [parse_stats(m) for m in re.findall(r"final totals: (.*)", p.text())]
    check(len(totals) == 2, "two final totals lines (the failed re-exec, the stop)")
    received = sum(g["received"] for g, _ in totals)
    check(received == len(data), "received over both runs = sent (%d)" % received)
    check(sum(tt[c.addr]["sent"] for _, tt in totals) == len(data), "the UDP target: all sent")
    u = "unix:" + stuck_path
    check(sum(tt[u]["dropped_shutdown"] for _, tt in totals) > 0, "the stuck target's leftovers are dropped_shutdown")
    for g, tt in totals:
        check(accounted(tt[u]) == g["received"], "the stuck target: sent + dropped = received (%d)" % g["received"])
    stuck.close()
finally:
    p.kill()
    a.close()
    b.close()
    shutil.rmtree(tmp, ignore_errors=True)
print("PASS")
