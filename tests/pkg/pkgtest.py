"""pkgtest.py - small helpers shared by the packaging tests (tests/pkg/)."""
import os
import socket
import sys

# fail(), skip(), free_port() and the loopback HTTP come from the test library.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from updtest import SKIP, fail, free_port, skip, urlopen  # noqa: E402,F401

TIMEOUT = 10.0  # seconds for any one expected event


def sink():
    """A bound loopback UDP socket standing in for a target."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(TIMEOUT)
    return s


def proxy_cmd(proxy, port, sinks, *extra):
    """The udp-proxy command line: source 127.0.0.1:port, one target per sink."""
    cmd = [proxy, "--source", "127.0.0.1:%d" % port]
    for s in sinks:
        cmd += ["--target", "127.0.0.1:%d" % s.getsockname()[1]]
    return cmd + list(extra)


def forward_one(port, sinks, payload):
    """Send payload once to the proxy; fail unless every sink gets it intact."""
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out.sendto(payload, ("127.0.0.1", port))
    out.close()
    for s in sinks:
        try:
            got = s.recv(65536)
        except socket.timeout:
            fail("datagram %r never reached target %s" % (payload, s.getsockname()))
        if got != payload:
            fail("target received %r, sent %r" % (got, payload))


def send_until_received(port, sock, payload, what):
    """Send payload to the proxy every 0.1 s until sock receives it (at most
    TIMEOUT); for when there is no READY=1 to wait for."""
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(0.1)
    for _ in range(int(TIMEOUT / 0.1)):
        out.sendto(payload, ("127.0.0.1", port))
        try:
            if sock.recv(65536) == payload:
                out.close()
                return
        except socket.timeout:
            pass
    fail("%s never received a datagram" % what)
