"""`udp-proxy stats`: the live view read from a running proxy's /metrics.

- --count 2 --interval 1 while a sender runs: exit 0, two tables, each with every target's
  name and a non-zero sent rate, a non-zero received rate and one line per reader;
- the URL found from a config file's metrics-listen (--config);
- a config file without metrics-listen: exit 2, and the message says so;
- nothing listening at the URL: exit 1 with "cannot connect";
- an answer that is not udp-proxy's metrics (/healthz, a 404): exit 1 with the reason."""
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

import metricslib as ml


def stats(binary, *args, timeout=30):
    r = subprocess.run([binary, "stats"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def sender(port, stop):
    """About 2,000 datagrams/s from 8 source ports (so both readers get some) until stop, at most 60 s."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(8)]
    deadline = time.monotonic() + 60
    n = 0
    while not stop.is_set() and time.monotonic() < deadline:
        for s in socks:
            for _ in range(5):
                s.sendto(ml.payload(n), (ml.LOOPBACK, port))
                n += 1
        time.sleep(0.02)
    for s in socks:
        s.close()


def main():
    binary = sys.argv[1]
    sinks = [ml.Sink(), ml.Sink()]
    src, mport = ml.free_port(socket.SOCK_DGRAM), ml.free_port()
    d = tempfile.mkdtemp(prefix="up-stats-")
    p = ml.Proxy(binary, ["--source", "127.0.0.1:%d" % src, "--target", sinks[0].addr, "--target", sinks[1].addr,
                          "--readers", "2", "--metrics-listen", "127.0.0.1:%d" % mport, "--stats-interval", "0"])
    stop = threading.Event()
    th = threading.Thread(target=sender, args=(src, stop), daemon=True)
    th.start()
    try:
        rc, out, err = stats(binary, "--metrics-url", "http://127.0.0.1:%d/metrics" % mport, "--interval", "1",
                             "--count", "2")
        print(out)
        assert rc == 0, "exit 0 after 2 refreshes (rc=%d, %s)" % (rc, err)
        tables = out.split("udp-proxy ")[1:]
        assert len(tables) == 2 and "(1/2)" in tables[0] and "(2/2)" in tables[1], "two tables: %r" % out
        for t in tables:
            m = re.search(r"^received\s+([0-9.]+)/s", t, re.M)
            assert m and float(m.group(1)) > 0, "a non-zero received rate in %r" % t
            readers = re.findall(r"^reader (\d+)\s+([0-9.]+)/s", t, re.M)
            assert [r[0] for r in readers] == ["0", "1"], "one line per reader: %r" % t
            assert "SENT/S" in t and "QUEUE_FULL/S" in t and "SEND_ERROR/S" in t and "SHUTDOWN/S" in t, t
            for s in sinks:
                m = re.search(r"^%s\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+(\d+)/(\d+)\s+up$"
                              % re.escape(s.addr), t, re.M)
                assert m, "a row for target %s in %r" % (s.addr, t)
                assert float(m.group(1)) > 0, "non-zero sent rate for %s" % s.addr
                assert int(m.group(6)) == 2 * 8192, "capacity of 2 readers' queues for %s" % s.addr

        # The URL from the config file's metrics-listen.
        conf = os.path.join(d, "udp-proxy.conf")
        with open(conf, "w") as f:
            f.write("source = 127.0.0.1:%d\ntarget = %s\nmetrics-listen = 127.0.0.1:%d\n" % (src, sinks[0].addr, mport))
        rc, out, err = stats(binary, "--config", conf, "--interval", "0.5", "--count", "1")
        assert rc == 0 and sinks[1].addr in out, "--config finds the URL (rc=%d, %s %s)" % (rc, out, err)
        with open(conf, "w") as f:
            f.write("target = %s\n" % sinks[0].addr)
        rc, out, err = stats(binary, "--config", conf, "--count", "1")
        assert rc == 2 and "metrics-listen" in err, "no metrics-listen: exit 2 naming it (rc=%d, %s)" % (rc, err)

        # Answers that are not udp-proxy's metrics.
        rc, out, err = stats(binary, "--metrics-url", "http://127.0.0.1:%d/healthz" % mport, "--count", "1")
        assert rc == 1 and "cannot parse" in err, "/healthz is no metrics text: exit 1 (rc=%d, %s)" % (rc, err)
        rc, out, err = stats(binary, "--metrics-url", "http://127.0.0.1:%d/nothing" % mport, "--count", "1")
        assert rc == 1 and "404" in err, "a 404: exit 1 naming it (rc=%d, %s)" % (rc, err)
    finally:
        stop.set()
        th.join(5)
        p.stop()
        for s in sinks:
            s.kill()
    # Bad usage: exit 2 naming the flag.
    for args, word in ((["--interval", "abc"], "--interval"), (["--count", "-1"], "--count"), (["--bogus"], "--bogus"),
                       (["--metrics-url", "https://127.0.0.1:1/metrics"], "https")):
        rc, out, err = stats(binary, *args)
        assert rc == 2 and word in err, "stats %s: exit 2 naming %s (rc=%d, %s)" % (args, word, rc, err)
    rc, out, err = stats(binary, "--help")
    assert rc == 0 and "--metrics-url" in out and "--count" in out, "stats --help (rc=%d)" % rc
    # Nothing listening there any more.
    rc, out, err = stats(binary, "--metrics-url", "http://127.0.0.1:%d/metrics" % mport, "--count", "1")
    assert rc == 1 and "cannot connect" in err, "unreachable: exit 1 with a message (rc=%d, %s)" % (rc, err)
    print(err.strip())
    os.unlink(conf)
    os.rmdir(d)
    print("PASS")


if __name__ == "__main__":
    main()
