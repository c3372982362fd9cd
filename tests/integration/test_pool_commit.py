"""The packet pool is reserved, not committed (Linux): 8 targets at the defaults (--buffer 65535,
--channel-size 8192) make a pool of ~4 GiB. It must be address space without access (PROT_NONE: Linux charges
no commit for it, even under vm.overcommit_memory=2, which ignores MAP_NORESERVE for writable mappings), with
only what is used made writable, 64 buffers at a time. Read from /proc/PID/smaps before and after traffic
(some datagrams of 65507 bytes); every target gets every datagram byte for byte. A calloc'd pool is one
writable 4 GiB mapping: the check fails on it."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import updtest as up  # noqa: E402

TARGETS = 8
POOL_AREAS = (TARGETS * 8192 + 128) * (65535 - 2048)  # bytes of continuation areas of one reader
WRITABLE_MAX = 1 << 30


def mappings(pid):
    """(bytes in writable private mappings, bytes in no-access private mappings) of pid."""
    rw = none = 0
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            if parts[1] == "rw-p":
                rw += hi - lo
            elif parts[1] == "---p":
                none += hi - lo
    return rw, none


# Sanitizer builds (they scale the offered rates) map terabytes of writable shadow memory: only the
# forwarding is checked there.
sanitized = os.environ.get("UP_TEST_RATE_SCALE") is not None
sinks = [up.Sink() for _ in range(TARGETS)]
src = up.free_port()
args = ["--source", "127.0.0.1:%d" % src, "--stats-interval", "0"]
for s in sinks:
    args += ["--target", s.target]
p = up.Proxy(args)

if sanitized:
    print("sanitizer build: the mappings are not checked (its shadow memory is writable), only the forwarding")
else:
    rw, none = mappings(p.pid)
    print("after start: %d MiB writable private, %d MiB reserved without access (pool areas: %d MiB)"
          % (rw >> 20, none >> 20, POOL_AREAS >> 20))
    up.check(none >= POOL_AREAS, "the pool's areas are reserved without access (%d MiB >= %d MiB)"
             % (none >> 20, POOL_AREAS >> 20))
    up.check(rw < WRITABLE_MAX, "writable memory after start stays under 1 GiB (%d MiB): the pool is not committed"
             % (rw >> 20))

data = up.payloads(1500) + up.sized_payloads(200, 65507) + up.payloads(300, b"tail")
up.Sender(("127.0.0.1", src), data, 2000).join()
short = [(s.target, n) for s, n in ((s, s.wait_count(len(data), 30)) for s in sinks) if n != len(data)]
up.check(short == [], "every target received all %d datagrams (short: %s)" % (len(data), short))

if not sanitized:
    rw, none = mappings(p.pid)
    print("after %d datagrams: %d MiB writable private, %d MiB reserved without access" % (len(data), rw >> 20,
                                                                                         none >> 20))
    up.check(rw < WRITABLE_MAX, "writable memory after traffic stays under 1 GiB (%d MiB)" % (rw >> 20))

rc, g, t = p.stop()
up.check_eq(rc, 0, "exit status")
targets = [s.target for s in sinks]
up.check_totals(g, t, len(data), targets, healthy=targets)
bad = [s.target for s in sinks if s.data() != data]
up.check(bad == [], "every target got the datagrams byte for byte, in order (differ: %s)" % bad)
for s in sinks:
    s.close()
print("PASS")
