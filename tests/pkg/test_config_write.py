#!/usr/bin/env python3
"""test_config_write.py - `udp-proxy config-write`, which the MSI runs with its SOURCE and TARGETS properties.

Checks, on the real binary: the source and target lines are replaced where they stand and every other line
(comments, settings, a commented-out target) is kept byte for byte; a file without such lines gets them appended;
a missing file is created; a bad address or no value is refused (exit 2) and leaves the file as it was; an
unwritable path exits 1; the result loads with --check-config.
Usage: test_config_write.py PROXY
"""
import os
import subprocess
import sys
import tempfile

proxy = sys.argv[1]
failed = []


def check(cond, msg):
    if not cond:
        failed.append(msg)
        print("FAIL: " + msg)


def cw(*args):
    p = subprocess.run([proxy, "config-write"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=10)
    return p.returncode, p.stdout.decode() + p.stderr.decode()


def read(path):
    with open(path) as f:
        return f.read()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def loads(path, ntargets):
    p = subprocess.run([proxy, "--config", path, "--check-config"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=10)
    out = p.stdout.decode()
    check(p.returncode == 0 and "(%d target(s))" % ntargets in out, "%s does not load with %d targets: %s"
          % (path, ntargets, out))


with tempfile.TemporaryDirectory() as d:
    # 1. In place: the first source/target line takes the new values, the others go, the rest stays.
    f = os.path.join(d, "a.conf")
    write(f, "# head\nsource = :1\n\n# targets\ntarget = 10.0.0.1:1\n  target = 10.0.0.2:2   # two\n"
             "#target = 10.0.0.9:9\nstats-interval = 5\ntarget=10.0.0.3:3\nlog-level = debug")
    rc, out = cw("--file", f, "--source", "127.0.0.1:8125", "--targets", " 127.0.0.1:8126  127.0.0.1:8127 ")
    check(rc == 0 and "2 target(s)" in out, "replace: exit %d: %s" % (rc, out))
    want = ("# head\nsource = 127.0.0.1:8125\n\n# targets\ntarget = 127.0.0.1:8126\ntarget = 127.0.0.1:8127\n"
            "#target = 10.0.0.9:9\nstats-interval = 5\nlog-level = debug\n")
    check(read(f) == want, "replace: got %r, want %r" % (read(f), want))
    loads(f, 2)

    # 2. Only --targets: the source line stays.
    rc, out = cw("--file", f, "--targets", "[::1]:9000")
    check(rc == 0 and "source = 127.0.0.1:8125\n" in read(f) and read(f).count("\ntarget = ") == 1
          and "target = [::1]:9000\n" in read(f), "targets only: exit %d, %r" % (rc, read(f)))

    # 3. No active line (the shipped examples): appended at the end, under a note.
    g = os.path.join(d, "b.conf")
    write(g, "# example\n#target = 127.0.0.1:8126\nsource = 127.0.0.1:8125\n")
    rc, out = cw("--file", g, "--targets", "127.0.0.1:1 127.0.0.1:2")
    want = ("# example\n#target = 127.0.0.1:8126\nsource = 127.0.0.1:8125\n\n# Set by udp-proxy config-write.\n"
            "target = 127.0.0.1:1\ntarget = 127.0.0.1:2\n")
    check(rc == 0 and read(g) == want, "append: exit %d, %r" % (rc, read(g)))
    loads(g, 2)

    # 4. A missing file is created.
    h = os.path.join(d, "new.conf")
    rc, out = cw("--file", h, "--source", ":8125", "--targets", "127.0.0.1:1")
    check(rc == 0 and read(h) == "# Set by udp-proxy config-write.\nsource = :8125\ntarget = 127.0.0.1:1\n",
          "create: exit %d, %r" % (rc, read(h) if os.path.exists(h) else None))

    # 5. Refused: bad values and bad usage exit 2 and write nothing.
    before = read(g)
    for args, why in ((["--targets", "127.0.0.1:1 not-an-address:x:y"], "not an address"),
                      (["--source", "127.0.0.1:99999"], "--source"),
                      (["--targets", "   "], "no address"),
                      ([], "nothing to write"),
                      (["--targets"], "needs a value"),
                      (["--bogus", "x"], "unknown flag")):
        rc, out = cw("--file", g, *args)
        check(rc == 2 and why in out, "%s: exit %d, %r (expected 2 and %r)" % (args, rc, out, why))
        check(read(g) == before, "%s changed the file" % args)
    rc, out = cw("--source", ":1")
    check(rc == 2 and "--file PATH is required" in out, "no --file: exit %d, %r" % (rc, out))

    # 6. An unwritable place: exit 1 with the reason.
    rc, out = cw("--file", os.path.join(d, "no", "such", "dir.conf"), "--source", ":1")
    check(rc == 1 and "cannot write" in out, "unwritable: exit %d, %r" % (rc, out))

if failed:
    sys.exit(1)
print("ok: config-write replaces in place, appends, creates, refuses bad input (exit 2) and I/O errors (exit 1)")
