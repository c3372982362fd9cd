"""Bad flags exit 2 with a message naming the flag and value; runtime errors exit 1; per-datagram logging
only at debug level; --rcvbuf/--sndbuf granted as root, up to 1G.

Own CTest entries: `test_cli.py rcvbuf-root` (root: 64M and 1G buffers granted, no warning) and
`test_cli.py rcvbuf-unprivileged` (a user asking for more than net.core.rmem_max gets exactly one warning
naming the sysctl). Each exits 77 with the reason where it cannot run."""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import updtest as up  # noqa: E402

BINARY = up.binary()


def run(args, timeout=10, prefix=()):
    r = subprocess.run(list(prefix) + [BINARY] + args, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout + r.stderr


def rcvbufs(port):
    """The rb (receive buffer, bytes) of every UDP socket on port, from ss."""
    out = subprocess.run(["ss", "-uamn", "sport = :%d" % port], capture_output=True, text=True, timeout=10).stdout
    return [int(x) for x in re.findall(r"\brb(\d+)", out)]


def rcvbuf_unprivileged():
    want = 64 << 20
    if not up.is_root():
        up.skip("needs root to run the proxy as user nobody (setpriv)")
    if shutil.which("setpriv") is None:
        up.skip("setpriv (util-linux) is not installed")
    if up.rmem_max() >= want:
        up.skip("net.core.rmem_max is %d >= 64 MiB: --rcvbuf 64M is not above it here" % up.rmem_max())
    # A copy 'nobody' can execute, whatever the checkout's permissions.
    d = tempfile.mkdtemp(prefix="up-cli-")
    os.chmod(d, 0o755)
    binary = os.path.join(d, "udp-proxy")
    shutil.copy(BINARY, binary)
    os.chmod(binary, 0o755)
    a = up.Sink()
    src = up.free_port()
    p = up.Proxy(["--source", "127.0.0.1:%d" % src, "--target", a.target, "--readers", "3", "--rcvbuf", "64M"],
                 binary_path=binary, prefix=["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"])
    rc, g, t = p.stop()
    up.check_eq(rc, 0, "unprivileged: exit status")
    n = p.count_log("net.core.rmem_max")
    up.check(n == 1, "unprivileged: exactly one warning naming net.core.rmem_max (got %d)" % n)
    a.close()
    shutil.rmtree(d)
    print("PASS")
    sys.exit(0)


def rcvbuf_root():
    """Buffers above net.core.rmem_max: root forces them (SO_RCVBUFFORCE) without a warning; the kernel
    doubles what it grants. 1G must work too (no overflow)."""
    if not up.is_root():
        up.skip("needs root: SO_RCVBUFFORCE / SO_SNDBUFFORCE are root-only")
    for size, want in (("64M", 64 << 20), ("1G", 1 << 30)):
        a = up.Sink()
        src = up.free_port()
        p = up.Proxy(["--source", "127.0.0.1:%d" % src, "--target", a.target, "--readers", "3", "--rcvbuf", size,
                      "--sndbuf", size])
        rb = rcvbufs(src)
        up.check(len(rb) == 3 and all(x >= want for x in rb),
                 "root, --rcvbuf %s: each of the 3 sockets got at least %d bytes (ss rb: %s)" % (size, want, rb))
        up.Sender(("127.0.0.1", src), [b"y:1|c"] * 5, 100).join()
        up.check_eq(a.wait_for(5, timeout=5), 5, "--rcvbuf %s: datagrams forwarded" % size)
        rc, g, t = p.stop()
        up.check_eq(rc, 0, "--rcvbuf %s --sndbuf %s: exit status" % (size, size))
        up.check_totals(g, t, 5, [a.target], healthy=[a.target])
        n = p.count_log("rmem_max|wmem_max")
        up.check(n == 0, "root, --rcvbuf %s: no warning about the sysctl limits (%d)" % (size, n))
        a.close()
    print("PASS")
    sys.exit(0)


if sys.argv[1:2] == ["rcvbuf-unprivileged"]:
    rcvbuf_unprivileged()
if sys.argv[1:2] == ["rcvbuf-root"]:
    rcvbuf_root()


T = ["--target", "127.0.0.1:9"]
cases = [
    (["--bogus"] + T, "unknown flag '--bogus'"),
    (["--target"], "--target needs a value"),
    ([], "no --target"),
    (["--source", "nonsense"] + T, "--source: 'nonsense'"),
    (["--source", ":0"] + T, "--source: ':0': port must be 1..65535"),
    (["--target", "127.0.0.1:65536"], "--target: '127.0.0.1:65536': port must be 1..65535"),
    (["--target", "::1:80"], "--target: '::1:80' is not an address"),
    (["--target", "[::1:80"], "--target: '[::1:80' is not an address"),
    (["--target", "no-such-host.invalid:80"], "--target: cannot resolve 'no-such-host.invalid:80'"),
    (["--target", "127.0.0.1:9", "--target", "127.0.0.1:9"], "--target: '127.0.0.1:9' is given twice"),
    (["--target", "127.0.0.1:9", "--target", ":9"], "are the same target"),
    (["--buffer", "0"] + T, "--buffer: '0' is out of range"),
    (["--buffer", "65536"] + T, "--buffer: '65536' is out of range"),
    (["--buffer", "12abc"] + T, "--buffer: '12abc' is not a whole number"),
    (["--channel-size", "0"] + T, "--channel-size: '0' is out of range"),
    (["--channel-size=-5"] + T, "--channel-size: '-5' is not a whole number"),
    (["--readers", "65"] + T, "--readers: '65' is out of range"),
    (["--rcvbuf", "1"] + T, "--rcvbuf: '1' is out of range"),
    (["--rcvbuf", "16Q"] + T, "--rcvbuf: '16Q' is not a size"),
    (["--drain-timeout", "soon"] + T, "--drain-timeout: 'soon' is not a duration"),
    (["--stats-interval", "99999999"] + T, "--stats-interval: '99999999' is out of range"),
    (["--log-level", "loud"] + T, "--log-level: 'loud' is not one of"),
    (["--metrics-listen", "unix:/tmp/m.sock"] + T, "--metrics-listen: 'unix:/tmp/m.sock': unix: is not supported here"),
    (["--statsd-self", "unix:/tmp/s.sock"] + T, "--statsd-self: 'unix:/tmp/s.sock': unix: is not supported here"),
    (["--quiet=maybe"] + T, "--quiet: 'maybe' is not true or false"),
    (["--rcvbuf", "16MB"] + T, "--rcvbuf: '16MB': MB is ambiguous, write 16M or 16MiB"),
    (["--log-level", "verbose"] + T, "not one of trace, debug, info, warn, warning, error, fatal, panic"),
    (["stray"] + T, "unexpected argument 'stray'"),
]
for args, want in cases:
    rc, out = run(args)
    up.check(rc == 2, "%s -> exit 2 (got %d)" % (" ".join(args), rc))
    up.check(want in out, "message contains %r" % want + ("" if want in out else "; output: %r" % out))
    up.check("--help" in out, "usage hint given" + ("" if "--help" in out else "; output: %r" % out))

rc, out = run(["--help"])
up.check(rc == 0 and "--channel-size" in out, "--help exits 0 (got %d) and documents --channel-size" % rc)
flags = [f for f in re.findall(r"^\s+(--[a-z-]+)", out, re.M) if f not in ("--help", "--version")]
up.check(len(flags) >= 10, "--help lists the flags (%d found)" % len(flags))
for flag in flags:
    rc2, out2 = run([flag + "=x", "--version"] + T)
    up.check("unknown flag" not in out2, "documented flag %s is accepted (exit %d)" % (flag, rc2))
rc, out = run(["--version"])
up.check(rc == 0 and out.startswith("udp-proxy "), "--version: exit %d, %r" % (rc, out[:40]))
rc, out = run(["-source=127.0.0.1:1", "-target", "127.0.0.1:2", "-version"])
up.check_eq(rc, 0, "single-dash Go-style flags: exit status")

# A source address already in use: clear message, exit 1.
busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
busy.bind(("127.0.0.1", 0))
port = busy.getsockname()[1]
rc, out = run(["--source", "127.0.0.1:%d" % port] + T)
up.check(rc == 1, "address in use -> exit 1 (got %d)" % rc)
want = "cannot listen on 127.0.0.1:%d: address already in use" % port
up.check(want in out, "address-in-use message %r" % want + ("" if want in out else "; output: %r" % out))
busy.close()
# A source address not on this host: exit 1 with a message.
rc, out = run(["--source", "192.0.2.1:%d" % port] + T)
up.check(rc == 1 and "cannot listen on 192.0.2.1" in out, "address not available -> exit 1 (got %d: %r)" % (rc, out))

# Per-datagram log lines exist only at debug level.
for level, expect in (("debug", True), ("info", False)):
    a = up.Sink()
    src = up.free_port()
    p = up.Proxy(["--source", "127.0.0.1:%d" % src, "--target", a.target, "--log-level", level])
    up.Sender(("127.0.0.1", src), [b"x:1|c"] * 5, 100).join()
    up.check_eq(a.wait_for(5, timeout=5), 5, "--log-level %s: datagrams forwarded" % level)
    rc, g, t = p.stop()
    up.check_eq(rc, 0, "--log-level %s: exit status" % level)
    up.check_totals(g, t, 5, [a.target], healthy=[a.target])
    n = p.count_log("received 5 bytes")
    up.check((n == 5) if expect else (n == 0), "per-datagram lines at %s: %d" % (level, n))
    a.close()

print("PASS")
