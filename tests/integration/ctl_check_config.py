"""ctl_check_config.py - --check-config prints the settings in effect, and
the start-up log shows them too (walkthrough finding 19, issue 10 item 3).

A config file with two targets, channel-size 1000, an allow network, a log
file and --metrics-listen; on the command line one --target (replacing the
file's) and --readers 2. --check-config must:
- exit 0 while the source port is held by the test (it binds nothing);
- not create the --log-file;
- print one line per setting with its origin: every target with its
  resolved address, the queue capacity really used (1024, not 1000), the
  allow network, the exporters, defaults marked "default", and a warning
  that the command-line target replaces the file's two.
The start-up log shows the same lines ("setting: ..."), the replacement as
a warning, and the receive buffer the kernel granted.
"""
import os
import re
import shutil
import socket

from ops_util import Proxy, check, free_port, run, tempdir, write

d = tempdir()
try:
    src, m = free_port(), free_port()
    t1, t2, t3 = free_port(), free_port(), free_port()
    logf = os.path.join(d, "proxy.log")
    conf = os.path.join(d, "proxy.conf")
    write(conf, "source = 127.0.0.1:%d\ntarget = 127.0.0.1:%d\ntarget = localhost:%d\nchannel-size = 1000\n"
          "allow = 127.0.0.0/8\nlog-file = %s\nmetrics-listen = 127.0.0.1:%d\n" % (src, t1, t2, logf, m))
    args = ["--config", conf, "--target", "localhost:%d" % t3, "--readers", "2"]
    held = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    held.bind(("127.0.0.1", src))  # a bind attempt by --check-config would fail
    try:
        rc, out = run(args + ["--check-config"])
    finally:
        held.close()
    check(rc == 0, "--check-config: rc=%d\n%s" % (rc, out))
    check(not os.path.exists(logf), "--check-config created the --log-file")
    want = [
        r"source = 127\.0\.0\.1:%d -> 127\.0\.0\.1:%d \(file\)" % (src, src),
        r"target = localhost:%d -> 127\.0\.0\.1:%d \(flag\)" % (t3, t3),
        r"warning: the 1 --target flag\(s\) replace the 2 target\(s\) of ",
        r"channel-size = 1000: queues of 1024 datagrams, 2048 per target with 2 reader\(s\) \(file\)",
        r"readers = 2 \(flag\)",
        r"buffer = 65535 \(default\)",
        r"allow = 127\.0\.0\.0/8 \(file\)",
        r"metrics-listen = 127\.0\.0\.1:%d -> 127\.0\.0\.1:%d: /metrics and /healthz \(file\)" % (m, m),
        r"statsd-self = off \(default\)",
        r"log-file = %s \(file\)" % re.escape(logf),
        r"drain-timeout = 2000 ms \(default\)",
    ]
    for w in want:
        check(re.search(w, out), "--check-config lacks /%s/:\n%s" % (w, out))
    check("127.0.0.1:%d" % t1 not in out, "a replaced file target is listed:\n" + out)

    px = Proxy(args)
    try:
        check(px.wait_log(r"setting: statsd-self", 10), "no settings in the start-up log:\n" + px.log())
        log = px.log()
        for w in want:
            if w.startswith("warning"):
                w = r"warn .*setting: " + w[len("warning: "):]
            check(re.search(w, log), "start-up log lacks /%s/:\n%s" % (w, log))
        check(re.search(r"source receive buffer granted by the kernel: \d+ bytes", log), "no granted buffer:\n" + log)
        check(px.stop() == 0, "exit status")
    finally:
        px.stop()
    print("ok: --check-config and the start-up log show the settings in effect")
finally:
    shutil.rmtree(d, ignore_errors=True)
