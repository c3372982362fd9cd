"""Socket activation (LISTEN_FDS/LISTEN_PID, sd_listen_fds(3)): the proxy forwards from
the socket it is given and binds none (issue 13).

1. By hand, as systemd does it: this script binds a datagram socket S to the source
   address (without SO_REUSEPORT, so a bind by the proxy would fail), plus a socket U
   on another port, and starts the proxy with S as descriptor 3, U as 4, LISTEN_FDS=2
   and LISTEN_PID=the proxy's pid. Datagrams sent before the proxy even started (queued
   in S) and after are all forwarded, in order. The proxy's source is S (same inode in
   /proc/PID/fd); U is closed with a log line. A SIGUSR2 re-exec keeps S, and the
   LISTEN_* variables are not passed on to the new image.
2. A "systemctl restart" with the socket unit: the proxy stops, datagrams sent while
   none runs wait in S, a new proxy given S forwards them.
3. LISTEN_PID naming another process: the variables are ignored, the proxy binds.
4. Drops before adoption are not the proxy's: a socket with a tiny receive buffer gets a
   burst while no proxy runs (the kernel drops most); the proxy given it reports
   kernel_drops=0 and received = what the socket held (so the final totals of
   successive owners of one socket, re-execs included, add up).
5. systemd-socket-activate --datagram (when installed): the first datagram starts the
   proxy, which forwards it.
"""
import fcntl
import threading
import re
import shutil

from harness import *
import updtest as up


def inodes(pid):
    """Inodes of the sockets the process holds."""
    out = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:"):
                out.add(os.stat("/proc/%d/fd/%s" % (pid, fd)).st_ino)
        except OSError:
            pass
    return out


class Activated(Proxy):
    """The proxy started with `socks` as descriptors 3.. and LISTEN_* set in the child."""

    def __init__(self, args, socks, listen_pid=None):
        fds = [s.fileno() for s in socks]

        def child():
            # Move the sockets to 3, 4... (via high numbers first: no clobbering).
            tmp = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in fds]
            for i, t in enumerate(tmp):
                os.dup2(t, 3 + i)  # inheritable: close-on-exec off
            os.environ["LISTEN_PID"] = str(listen_pid if listen_pid else os.getpid())
            os.environ["LISTEN_FDS"] = str(len(fds))

        # The test library's Proxy, started with the sockets passed (its log
        # is kept and printed on a failure, as for every proxy).
        self.cmd = [BINARY] + [str(a) for a in args]
        self.name = "udp-proxy"
        self.lines = []
        self.lock = threading.Lock()
        self.rc = None
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, errors="replace",
                                     pass_fds=tuple(range(3, 3 + len(fds))), preexec_fn=child)
        self.p = self.proc
        up._Proxies.all.append(self)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        if not self.wait_log(r"listening on", 10):
            fail("proxy did not start (%s): %s" % (self.proc.poll(), self.text()))


def udp(port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    big_rcvbuf(s, 16 << 20)
    s.bind(("127.0.0.1", port))
    return s


sink = Sink()
S, U = udp(), udp()
port, uport = S.getsockname()[1], U.getsockname()[1]
dest = ("127.0.0.1", port)
args = ["--source", "127.0.0.1:%d" % port, "--target", sink.addr, "--stats-interval", "0"]
sent = []


def send(n, seed):
    data = dogstatsd_payloads(n, seed=seed)
    send_paced(data, dest, 5000)
    sent.extend(data)


def delivered(what):
    got = sink.wait_for(len(sent), timeout=20)
    check(got == len(sent) and sink.got == sent, "%s: %d of %d delivered, byte for byte, in order"
          % (what, got, len(sent)))


procs = []
try:
    # 1. By hand.
    send(500, 1)  # before any proxy: waits in S
    p = Activated(args, [S, U])
    procs.append(p)
    check(re.search(r"udp-proxy \S+ starting \(socket activation, 2 sockets inherited\)", p.text()) is not None,
          "the start names socket activation")
    check("inherited socket 4 bound to 127.0.0.1:%d matches no --source: closing it" % uport in p.text(),
          "the unmatched socket is closed with a log line")
    mine = inodes(p.proc.pid)
    s_ino, u_ino = os.fstat(S.fileno()).st_ino, os.fstat(U.fileno()).st_ino
    check(s_ino in mine and u_ino not in mine, "the proxy holds S and not U")
    check("listening on 127.0.0.1:%d (127.0.0.1:%d)" % (port, port) in p.text(), "the source is S's address")
    send(2000, 2)
    delivered("activated")
    p.proc.send_signal(signal.SIGUSR2)
    end = time.time() + 15
    while time.time() < end and p.text().count("listening on") < 2:
        time.sleep(0.02)
    check(re.search(r"starting \(re-exec, 1 sockets inherited\)", p.text()) is not None, "re-exec with S")
    check(s_ino in inodes(p.proc.pid), "after the re-exec the proxy still holds S")
    # /proc/PID/environ is what execve got: the first image removed LISTEN_* before passing it on.
    env = open("/proc/%d/environ" % p.proc.pid, "rb").read().split(b"\0")
    check(not [e for e in env if e.startswith(b"LISTEN_")], "LISTEN_* are not in the new image's environment")
    send(2000, 3)
    delivered("after the re-exec")

    # 2. Restart with the socket kept open by the "service manager" (us).
    check(p.stop() == 0, "stop: exit status 0")
    send(1000, 4)  # no proxy runs: S holds them
    p2 = Activated(args, [S])
    procs.append(p2)
    delivered("restart: what was sent while no proxy ran")
    check(p2.stop() == 0, "second proxy: exit status 0")

    # 3. LISTEN_PID of someone else: ignored.
    free = free_port()
    p3 = Activated(["--source", "127.0.0.1:%d" % free, "--target", sink.addr, "--stats-interval", "0"], [S],
                   listen_pid=1)
    procs.append(p3)
    check("inherited" not in p3.text() and "listening on 127.0.0.1:%d" % free in p3.text(),
          "LISTEN_PID=1: nothing adopted, the source is bound")
    check(p3.stop() == 0, "third proxy: exit status 0")

    # 4. Drops that happened before the proxy owned the socket.
    K = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    K.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    K.bind(("127.0.0.1", 0))
    kport = K.getsockname()[1]
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(200):
        tx.sendto(b"burst:%d|c|#pad:%s" % (i, b"x" * 100), ("127.0.0.1", kport))
    tx.close()
    before = Sink.kernel_drops(type("port", (), {"port": kport})())
    check(0 < before < 200, "the tiny buffer dropped %d of 200 before any proxy ran" % before)
    sink2 = Sink()
    p4 = Activated(["--source", "127.0.0.1:%d" % kport, "--target", sink2.addr, "--stats-interval", "0"], [K])
    procs.append(p4)
    sink2.wait_for(200 - before, timeout=10)
    check(p4.stop() == 0, "fourth proxy: exit status 0")
    g, t = p4.final_totals()
    check(g["kernel_drops"] == 0 and g["received"] == 200 - before and len(sink2.got) == 200 - before,
          "the proxy reports kernel_drops=%d (not the %d before it), received=%d, forwarded %d (= 200 - %d)"
          % (g["kernel_drops"], before, g["received"], len(sink2.got), before))
    sink2.close()
    K.close()

    # 5. systemd's own tool.
    tool = shutil.which("systemd-socket-activate")
    if tool:
        S.close()  # free the port for the tool
        before = len(sent)
        log = tempfile.NamedTemporaryFile(prefix="udp-proxy-sa-", suffix=".log", delete=False)
        proc = subprocess.Popen([tool, "--datagram", "-l", "127.0.0.1:%d" % port, "--", BINARY] + args,
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            text = ""
            end = time.time() + 10
            while time.time() < end and "Listening on" not in text:
                time.sleep(0.05)
                text = open(log.name, errors="replace").read()
            send(1000, 5)  # the first datagram starts the proxy
            delivered("systemd-socket-activate")
            text = open(log.name, errors="replace").read()
            check("starting (socket activation, 1 sockets inherited)" in text, "the tool's socket was adopted")
            proc.send_signal(signal.SIGTERM)
            check(proc.wait(15) == 0, "systemd-socket-activate run: exit status 0")
            print("ok: systemd-socket-activate: %d datagrams forwarded" % (len(sent) - before))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.unlink(log.name)
    else:
        print("note: systemd-socket-activate not installed; the by-hand activation above covers the protocol")
finally:
    for p in procs:
        p.kill()
    sink.close()
print("PASS")
