"""SIGUSR2 re-exec with several source sockets and with a unix: source (issue 13).

1. --readers 2: two SO_REUSEPORT sockets are passed and both adopted ("2 sockets
   inherited"); a stream sent across the re-exec arrives complete at both targets
   (two readers may reorder: compared as multisets).
2. unix:PATH source: the socket (and its file) survive the re-exec; a stream of
   datagrams sent to the path across it arrives complete and in order.
"""
import re
import shutil
from collections import Counter

from harness import *


def usr2(p, n):
    p.proc.send_signal(signal.SIGUSR2)
    end = time.time() + 15
    while time.time() < end and p.text().count("starting (re-exec") < n:
        if p.proc.poll() is not None:
            fail("the proxy exited (%s):\n%s" % (p.proc.returncode, p.text()))
        time.sleep(0.02)
    if p.text().count("starting (re-exec") < n:
        fail("re-exec %d did not happen:\n%s" % (n, p.text()))


# 1. Two readers.
a, b = Sink(), Sink()
src = free_port()
p = Proxy(["--source", "127.0.0.1:%d" % src, "--readers", "2", "--target", a.addr, "--target", b.addr,
           "--stats-interval", "0"])
try:
    data = dogstatsd_payloads(20000, seed=21)
    t = threading.Thread(target=send_paced, args=(data, ("127.0.0.1", src), 10000))
    t.start()
    time.sleep(0.5)
    usr2(p, 1)
    t.join(60)
    check(re.search(r"starting \(re-exec, 2 sockets inherited\)", p.text()) is not None, "readers 2: both adopted")
    got = (a.wait_for(len(data)), b.wait_for(len(data)))
    check(got == (len(data), len(data)), "readers 2: %d sent, got %s" % (len(data), got))
    check(Counter(a.got) == Counter(data) and Counter(b.got) == Counter(data), "readers 2: byte for byte")
    check(p.stop() == 0, "readers 2: exit status 0")
finally:
    p.kill()
    a.close()
    b.close()

# 2. A unix: source.
d = tempfile.mkdtemp(prefix="udp-proxy-reexec-unix-")
path = os.path.join(d, "dsd.socket")
a = Sink()
p = Proxy(["--source", "unix:" + path, "--target", a.addr, "--stats-interval", "0"])
try:
    data = dogstatsd_payloads(6000, seed=22, special=False)
    out = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    done = []

    def send():
        for i, x in enumerate(data):
            for _ in range(2000):  # a full unix socket refuses: retry, bounded
                try:
                    out.sendto(x, path)
                    break
                except (BlockingIOError, ConnectionRefusedError, FileNotFoundError):
                    time.sleep(0.001)
            if i % 50 == 49:
                time.sleep(0.01)
        done.append(True)

    out.setblocking(False)
    t = threading.Thread(target=send)
    t.start()
    time.sleep(0.3)
    ino = os.stat(path).st_ino
    usr2(p, 1)
    t.join(60)
    check(done == [True], "unix: the sender finished")
    check(os.stat(path).st_ino == ino, "unix: the socket file is the same one after the re-exec")
    check("starting (re-exec, 1 sockets inherited)" in p.text(), "unix: adopted")
    got = a.wait_for(len(data))
    check(got == len(data) and a.got == data, "unix: %d of %d arrived, byte for byte, in order" % (got, len(data)))
    check(p.stop() == 0, "unix: exit status 0")
finally:
    p.kill()
    a.close()
    shutil.rmtree(d, ignore_errors=True)
print("PASS")
