"""ops_log_run.py MODE - logs an operator can run (issue 10 section 2).

  reopen       SIGUSR1 (logrotate's convention) and SIGHUP reopen --log-file:
               after `mv`, a new file is created and written, the old one is
               closed, and the process keeps forwarding
  journal      with $JOURNAL_STREAM naming standard error (as systemd sets it),
               lines carry "<N>" syslog priorities and no timestamp; the log
               file keeps its timestamps; without a match, nothing changes
  second_stop  a second SIGTERM during a long drain (a stuck unix: target)
               ends it at once; what is left is counted in dropped_shutdown
  logrotate    the shipped packaging/udp-proxy.logrotate, run by logrotate(8)
               on a live proxy's log file (paths and the signal command
               pointed at this test's process): a new file, no line lost
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time

from ops_util import BIN, Proxy, Sender, Sink, check, free_port, payloads, tempdir

MODE = sys.argv[2]
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def wait_file(path, pattern, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path) and re.search(pattern, read(path)):
            return True
        time.sleep(0.02)
    return False


def open_files(pid):
    out = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            out.append(os.readlink("/proc/%d/fd/%s" % (pid, fd)))
        except OSError:
            pass
    return out


def identity(px, names):
    g, t = px.final_totals()
    for name in names:
        c = t[name]
        acc = c["sent"] + c["dropped_queue_full"] + c["dropped_send_error"] + c["dropped_shutdown"]
        check(acc == g["received"], "%s: sent + dropped = %d, received = %d: %s" % (name, acc, g["received"], c))
    return g, t


def test_reopen():
    d = tempdir()
    log = os.path.join(d, "up.log")
    port = free_port()
    sink = Sink(("127.0.0.1", port))
    src = free_port()
    target = "127.0.0.1:%d" % port
    px = Proxy(["--source", "127.0.0.1:%d" % src, "--target", target, "--log-file", log, "--stats-interval", "1"])
    try:
        check(wait_file(log, "listening on"), "no start-up line in %s" % log)
        Sender(("127.0.0.1", src), payloads(500, b"a"), rate=2000).join()
        check(sink.wait_count(500) == 500, "before rotation: %d of 500" % sink.count())
        for n, sig, name in ((1, signal.SIGUSR1, "SIGUSR1"), (2, signal.SIGHUP, "SIGHUP")):
            old = "%s.%d" % (log, n)
            os.rename(log, old)
            px.p.send_signal(sig)
            check(wait_file(log, r"%s: log file .* reopened" % name), "%s: no new %s:\n%s" % (name, log, px.log()))
            check(px.p.poll() is None, "%s ended the process (%s):\n%s" % (name, px.p.returncode, px.log()))
            check(old not in open_files(px.p.pid), "%s: %s still open: %s" % (name, old, open_files(px.p.pid)))
            check(log in open_files(px.p.pid), "%s: %s not open: %s" % (name, log, open_files(px.p.pid)))
            # Forwarding goes on, and the stats lines go to the new file.
            before = sink.count()
            Sender(("127.0.0.1", src), payloads(500, b"r%d" % n), rate=2000).join()
            check(sink.wait_count(before + 500) == before + 500, "%s: after reopening %d of %d" % (
                name, sink.count() - before, 500))
            check(wait_file(log, r"stats received="), "%s: no stats line in the new file:\n%s" % (name, read(log)))
            check("%s: log file" % name not in read(old), "%s: the old file got the reopen line" % name)
            print("ok: %s reopened the log file, forwarding goes on" % name)
        check(px.stop() == 0, "exit status")
        identity(px, [target])
        check("final totals:" in read(log) and "final totals:" not in read(log + ".1"),
              "the final totals belong in the new file")
        check(all(STAMP.match(l) for l in read(log).splitlines()), "every file line has a timestamp")
        print("ok: final totals in the reopened file")
    finally:
        px.stop()
        sink.close()


def run_with_stderr(args, env_stream):
    """Run the proxy with stderr on a pipe; env_stream(dev, ino) gives JOURNAL_STREAM or None."""
    r, w = os.pipe()
    st = os.fstat(w)
    env = dict(os.environ)
    env.pop("JOURNAL_STREAM", None)
    val = env_stream(st.st_dev, st.st_ino)
    if val is not None:
        env["JOURNAL_STREAM"] = val
    p = subprocess.Popen([BIN] + args, stdout=subprocess.DEVNULL, stderr=w, env=env)
    os.close(w)
    return p, os.fdopen(r, errors="replace")


def test_journal():
    d = tempdir()
    for how, stream in (("match", lambda dev, ino: "%d:%d" % (dev, ino)),
                        ("other file", lambda dev, ino: "%d:%d" % (dev, ino + 1)),
                        ("unset", lambda dev, ino: None)):
        log = os.path.join(d, "j-%s.log" % how.replace(" ", "-"))
        src = free_port()
        args = ["--source", "127.0.0.1:%d" % src, "--target", "127.0.0.1:%d" % free_port(), "--log-file", log,
                "--stats-interval", "0"]
        p, err = run_with_stderr(args, stream)
        try:
            check(wait_file(log, "listening on"), "%s: did not start: %s" % (how, read(log)))
            p.send_signal(signal.SIGHUP)  # no --config: a warning
            check(wait_file(log, "SIGHUP ignored"), "%s: no warning" % how)
            p.send_signal(signal.SIGTERM)
            rc = p.wait(15)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        lines = err.read().splitlines()
        check(rc == 0 and lines, "%s: exit %s, stderr %r" % (how, rc, lines))
        if how == "match":
            for l in lines:
                check(re.match(r"^<[2-7]>", l) and not STAMP.search(l[3:]), "not a journal line: %r" % l)
            want = {"listening on": "<6>", "SIGHUP ignored": "<4>", "final totals:": "<6>"}
            for text, prio in want.items():
                got = [l for l in lines if text in l]
                check(got and got[0].startswith(prio), "%r: want priority %s, got %r" % (text, prio, got))
        else:
            for l in lines:
                check(STAMP.match(l) and not l.startswith("<"), "%s: changed line %r" % (how, l))
        # The file never changes: timestamps, no priorities.
        check(all(STAMP.match(l) for l in read(log).splitlines()), "%s: file lines changed:\n%s" % (how, read(log)))
        print("ok: JOURNAL_STREAM %s: %s" % (how, lines[0]))


def test_second_stop():
    d = tempdir()
    path = os.path.join(d, "stuck.sock")
    stuck = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    stuck.bind(path)  # never read: the writer waits for room until the drain ends
    port = free_port()
    sink = Sink(("127.0.0.1", port))
    src = free_port()
    healthy, unix = "127.0.0.1:%d" % port, "unix:" + path
    px = Proxy(["--source", "127.0.0.1:%d" % src, "--target", healthy, "--target", unix, "--drain-timeout", "120",
                "--stats-interval", "0"])
    try:
        N = 2000
        Sender(("127.0.0.1", src), payloads(N), rate=4000).join()
        check(sink.wait_count(N) == N, "healthy target got %d of %d" % (sink.count(), N))
        px.p.send_signal(signal.SIGTERM)
        check(px.wait_log("stopping: draining", 5), "no drain:\n" + px.log())
        time.sleep(1.0)
        check(px.p.poll() is None, "the drain should last (120 s) while the unix target is stuck:\n" + px.log())
        t0 = time.time()
        px.p.send_signal(signal.SIGTERM)
        try:
            rc = px.p.wait(20)  # far below the 120 s drain: the second signal ended it
        except subprocess.TimeoutExpired:
            check(False, "a second SIGTERM did not end the drain:\n" + px.log())
        print("ok: exit %d %.2f s after the second SIGTERM" % (rc, time.time() - t0))
        check(rc == 0, "exit status %d" % rc)
        check(px.wait_log("second stop request", 1), "no log line about the second signal:\n" + px.log())
        g, t = identity(px, [healthy, unix])
        check(g["received"] == N, "received %d of %d" % (g["received"], N))
        check(t[unix]["dropped_shutdown"] > 0, "nothing counted in dropped_shutdown: %s" % t[unix])
        check(t[healthy]["sent"] == N, "healthy target: %s" % t[healthy])
        print("ok: dropped_shutdown=%d, identity holds" % t[unix]["dropped_shutdown"])
    finally:
        px.stop()
        sink.close()
        stuck.close()


def test_logrotate():
    import shutil
    lr = shutil.which("logrotate") or ("/usr/sbin/logrotate" if os.path.exists("/usr/sbin/logrotate") else None)
    if not lr:
        print("skip: logrotate(8) is not installed (apt-get install logrotate)")
        sys.exit(77)
    here = os.path.dirname(os.path.abspath(__file__))
    conf_text = read(os.path.join(here, "..", "..", "packaging", "udp-proxy.logrotate"))
    head = "/var/log/udp-proxy/*.log /var/log/udp-proxy-*/*.log {"  # the service's and every instance's
    post = "systemctl kill --kill-whom=main --signal=SIGUSR1 udp-proxy.service 'udp-proxy@*.service'"
    check(head in conf_text and post in conf_text, "the shipped logrotate file changed shape:\n" + conf_text)
    d = tempdir()
    log = os.path.join(d, "udp-proxy.log")
    port = free_port()
    sink = Sink(("127.0.0.1", port))
    src = free_port()
    target = "127.0.0.1:%d" % port
    px = Proxy(["--source", "127.0.0.1:%d" % src, "--target", target, "--log-file", log, "--stats-interval", "1"])
    try:
        check(wait_file(log, "listening on"), "no start-up line in %s" % log)
        conf = os.path.join(d, "logrotate.conf")
        with open(conf, "w") as f:
            f.write(conf_text.replace(head, d + "/*.log {").replace(post, "kill -USR1 %d" % px.p.pid))
        os.chmod(conf, 0o644)
        sender = Sender(("127.0.0.1", src), payloads(3000), rate=1000)  # forwarding through the rotation
        time.sleep(1.2)
        r = subprocess.run([lr, "-f", "-s", os.path.join(d, "state"), conf], capture_output=True, text=True)
        check(r.returncode == 0, "logrotate failed (%d): %s %s" % (r.returncode, r.stdout, r.stderr))
        check(os.path.exists(log + ".1"), "no %s.1 after logrotate: %s" % (log, os.listdir(d)))
        check(wait_file(log, r"SIGUSR1: log file .* reopened"), "no new log file:\n" + px.log())
        check(wait_file(log, r"stats received="), "the new file gets no stats lines")
        sender.join()
        check(sink.wait_count(3000) == 3000, "through the rotation: %d of 3000" % sink.count())
        check(px.stop() == 0, "exit status")
        identity(px, [target])
        check("final totals:" in read(log), "no final totals in the new file")
        print("ok: logrotate with the shipped file: %s" % sorted(os.listdir(d)))
    finally:
        px.stop()
        sink.close()


{"reopen": test_reopen, "journal": test_journal, "second_stop": test_second_stop, "logrotate": test_logrotate}[MODE]()
print("PASS")
