"""ops_config.py - the config file: errors exit 2 naming file and line,
--check-config validates without binding, the command line overrides the
file (and its targets replace the file's)."""
import os
import shutil
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import updtest as up  # noqa: E402
from updtest import check, free_port, run, tempdir, write  # noqa: E402

d = tempdir()
conf = os.path.join(d, "up.conf")
try:
    port = free_port()
    # Each broken file: (text, line number, words of the reason).
    bad = [
        ("target = 127.0.0.1:9\nfrobnicate = 1\n", 2, "unknown setting 'frobnicate'"),
        ("target = 127.0.0.1:9\n\n# c\ntarget =\n", 4, "value is missing"),
        ("target = 127.0.0.1:0\n", 1, "port must be 1..65535"),
        ("target = 127.0.0.1:9\ntarget = 127.0.0.1:9\n", 2, "given twice"),
        ("buffer = lots\ntarget = 127.0.0.1:9\n", 1, "not a whole number"),
        ("target = 127.0.0.1:9\nconfig = /etc/x\n", 2, "command-line flag only"),
        ("target 127.0.0.1:9\n", 1, "expected 'name = value'"),
        ("= 5\n", 1, "name is missing"),
        ("target = \"127.0.0.1:9\n", 1, "closing '\"' is missing"),
        ("target = 127.0.0.1:9\nallow = 10.1.2.3/8\n", 2, "not a network"),
        ("target = 127.0.0.1:9\nsource-mode = 0999\n", 2, "not a file mode"),
        ("target = 127.0.0.1:9\nallow-unresolved = maybe\n", 2, "not true or false"),
        ("target = 127.0.0.1:9\nx" + "y" * 5000 + " = 1\n", 2, "longer than"),
        ("target = 127.0.0.1:9\nsource = a\0b\n", 2, "NUL byte"),
    ]
    for text, line, why in bad:
        write(conf, text)
        for extra in ([], ["--check-config"]):
            rc, out = run(["--config", conf] + extra)
            up.require(rc == 2 and "%s:%d:" % (conf, line) in out and why in out,
                       "%r %s: exit %d (want 2), output %r (want %s:%d: and %r)"
                       % (text[:40], " ".join(extra), rc, out, conf, line, why))
    # A missing file.
    rc, out = run(["--config", os.path.join(d, "nope.conf")])
    check(rc == 2 and "cannot read config file" in out, "missing file: exit %d, %r" % (rc, out.strip()))
    # No target anywhere.
    write(conf, "source = 127.0.0.1:%d\n" % port)
    rc, out = run(["--config", conf])
    check(rc == 2 and "no --target" in out, "no target: exit %d, %r" % (rc, out.strip()))
    # A name that does not resolve: exit 2, unless --allow-unresolved.
    write(conf, "target = does-not-exist.invalid:8125\n")
    rc, out = run(["--config", conf, "--check-config"])
    check(rc == 2 and "cannot resolve" in out, "unresolvable name: exit %d, %r" % (rc, out.strip()))
    rc, out = run(["--config", conf, "--check-config", "--allow-unresolved"])
    check(rc == 0, "unresolvable name with --allow-unresolved: exit %d, %r" % (rc, out.strip()))

    # --check-config on a good file: exit 0 and nothing bound. The port is held here during the run: a bind
    # attempt would fail with "address already in use" (exit 1).
    write(conf, "# good\n  source = 127.0.0.1:%d  \ntarget = 127.0.0.1:9 # agent\ntarget = \"127.0.0.1:10\"\n"
          "quiet\nallow = 127.0.0.0/8\nallow = ::1\nresolve-interval = 5\nsource-mode = 0600\n" % port)
    held = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    held.bind(("127.0.0.1", port))
    rc, out = run(["--config", conf, "--check-config"])
    held.close()
    up.check(rc == 0 and "configuration ok" in out, "--check-config binds nothing: exit %d with the port held, %r"
             % (rc, out))

    # Command line over the file: --source and --target replace the file's.
    src, pf, pc = free_port(), free_port(), free_port()
    file_sink, cli_sink = up.Sink(("127.0.0.1", pf)), up.Sink(("127.0.0.1", pc))
    write(conf, "source = 127.0.0.1:1\ntarget = 127.0.0.1:%d\nstats-interval = 0\n" % pf)
    px = up.Proxy(["--config", conf, "--source", "127.0.0.1:%d" % src, "--target", "127.0.0.1:%d" % pc])
    snd = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(50):
        snd.sendto(b"x:%d|c" % i, ("127.0.0.1", src))
    check(cli_sink.wait_count(50) == 50, "the command-line target got %d of 50" % cli_sink.count())
    rc, g, t = px.stop()
    check(rc == 0, "exit status %d" % rc)
    up.check_totals(g, t, 50, ["127.0.0.1:%d" % pc], healthy=["127.0.0.1:%d" % pc])
    check(file_sink.settle(0.3) == 0, "the file's target got %d (replaced by --target)" % file_sink.count())
    file_sink.close()
    cli_sink.close()
    print("ok: %d broken files rejected with file:line" % len(bad))
finally:
    shutil.rmtree(d, ignore_errors=True)
