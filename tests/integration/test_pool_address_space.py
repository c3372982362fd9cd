"""A 32-bit-sized address space (RLIMIT_AS 1.5 GiB, as tight as the x86 Windows exe's 2 GiB): the pool of 4
targets at the defaults (--buffer 65535, --channel-size 8192: ~2 GiB of reservations) cannot be reserved, and
the proxy stops at start with exit 1 and a message that says which options to lower; with --buffer 8192 (the
advice of docs/WINDOWS.md for the x86 exe: ~260 MiB) the same limit starts and forwards byte for byte."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import updtest as up  # noqa: E402

LIMIT_KIB = 1536 * 1024
TARGETS = 4
# ulimit -v sets RLIMIT_AS for the shell, which then becomes the proxy (same pid).
PREFIX = ["sh", "-c", 'ulimit -v %d && exec "$@"' % LIMIT_KIB, "sh"]

if os.environ.get("UP_TEST_RATE_SCALE") is not None:
    up.skip("sanitizer build: its shadow memory needs terabytes of address space, so RLIMIT_AS cannot be tested")

sinks = [up.Sink() for _ in range(TARGETS)]
src = up.free_port()
args = ["--source", "127.0.0.1:%d" % src, "--stats-interval", "0"]
for s in sinks:
    args += ["--target", s.target]

# 1. The defaults do not fit: a clear fatal error, no crash.
p = up.Proxy(args, prefix=PREFIX, ready=None)
rc = p.wait_exit(20)
log = p.log()
print(log.strip().splitlines()[-1] if log.strip() else "(no output)")
up.check_eq(rc, 1, "exit status with 4 targets at the defaults in 1.5 GiB of address space")
up.check("cannot reserve 2.0 GiB" in log and "lower --buffer" in log and "--buffer 8192 needs 0.25 GiB" in log
         and "--channel-size" in log, "the message says the buffers cannot be reserved and which options to lower")

# 2. --buffer 8192 fits, and forwards (large datagrams up to 8192 bytes too).
p = up.Proxy(args + ["--buffer", "8192"], prefix=PREFIX)
data = up.payloads(500) + up.sized_payloads(100, 8192) + up.payloads(100, b"tail")
up.Sender(("127.0.0.1", src), data, 2000).join()
short = [(s.target, n) for s, n in ((s, s.wait_count(len(data), 30)) for s in sinks) if n != len(data)]
up.check(short == [], "every target received all %d datagrams (short: %s)" % (len(data), short))
rc, g, t = p.stop()
up.check_eq(rc, 0, "exit status")
targets = [s.target for s in sinks]
up.check_totals(g, t, len(data), targets, healthy=targets)
bad = [s.target for s in sinks if s.data() != data]
up.check(bad == [], "every target got the datagrams byte for byte, in order (differ: %s)" % bad)
for s in sinks:
    s.close()
print("PASS")
