"""ops_log_errors.py [rofs] - errors carry the system's own text, never a
catch-all "input/output error" (walkthrough finding 14), and --check-config
creates no --log-file (finding 19).

  (no mode) a directory as --log-file or --config, a path through a regular
            file, --check-config with a --log-file that does not exist yet
  rofs      --log-file on a read-only file system (a private mount namespace
            with a read-only tmpfs: needs root and unshare(1), else exit 77)
"""
import os
import shutil
import subprocess
import sys

from ops_util import check, free_port, run, tempdir

MODE = sys.argv[2] if len(sys.argv) > 2 else ""
T = ["--target", "127.0.0.1:%d" % free_port(), "--source", "127.0.0.1:%d" % free_port()]


def expect(args, rc_want, text):
    rc, out = run(args)
    check(rc == rc_want, "%s: exit %d, want %d:\n%s" % (" ".join(args), rc, rc_want, out))
    check(text in out, "%s: %r not in the message:\n%s" % (" ".join(args), text, out))
    check("input/output error" not in out, "%s: a catch-all error text:\n%s" % (" ".join(args), out))
    print("ok: %s -> %s" % (" ".join(args[-2:]), out.splitlines()[0]))


if MODE == "rofs":
    if os.environ.get("UP_ROFS_NS") != "1":
        if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("mount"):
            print("skip: needs root and unshare(1) to mount a read-only file system")
            sys.exit(77)
        env = dict(os.environ, UP_ROFS_NS="1")
        r = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable] + sys.argv, env=env)
        sys.exit(r.returncode)
    d = tempdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", d]).returncode != 0:
        print("skip: cannot mount a read-only tmpfs")
        sys.exit(77)
    expect(T + ["--log-file", os.path.join(d, "a.log")], 2, "Read-only file system")
    print("PASS")
    sys.exit(0)

d = tempdir()
expect(T + ["--log-file", d], 2, "--log-file: cannot open '%s': Is a directory" % d)
expect(["--config", d, "--check-config"], 2, "cannot read config file '%s': Is a directory" % d)
plain = os.path.join(d, "plain")
open(plain, "w").close()
expect(T + ["--log-file", os.path.join(plain, "a.log")], 2, "Not a directory")
expect(T + ["--log-file", os.path.join(d, "x" * 300 + ".log")], 2, "File name too long")

# A dry run binds nothing and writes nothing: no log file appears.
log = os.path.join(d, "new.log")
rc, out = run(T + ["--log-file", log, "--check-config"])
check(rc == 0 and "configuration ok" in out, "--check-config: %d %s" % (rc, out))
check(not os.path.exists(log), "--check-config created the --log-file %s" % log)
print("ok: --check-config creates no --log-file")
print("PASS")
