"""Helpers shared by the tools' tests (tools/test_tools.py) and the benchmark (bench/run.py):
read the tools' key=value summaries and wait for a process to bind its UDP port."""
import socket
import time


def kv(line):
    """'a=1 b=x' -> {'a': '1', 'b': 'x'} (fields without '=' are skipped)."""
    return dict(f.split("=", 1) for f in line.split() if "=" in f)


def last_kv(text):
    """The key=value fields of the last non-empty line of text ({} if none)."""
    lines = [ln for ln in text.strip().splitlines() if "=" in ln]
    return kv(lines[-1]) if lines else {}


def free_port():
    """A UDP port on 127.0.0.1 that nothing uses right now."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def udp_bound(port):
    """True when a UDP socket is bound to local `port` (IPv4 or IPv6)."""
    want = "%04X" % port
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(table) as f:
                if any(ln.split()[1].rsplit(":", 1)[1] == want for ln in f.readlines()[1:]):
                    return True
        except OSError:
            pass
    return False


def wait_bound(port, timeout=5.0, proc=None):
    """Wait until something binds `port`; raises if it does not in time or proc exits first."""
    end = time.time() + timeout
    while time.time() < end:
        if udp_bound(port):
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited (status %s) before binding port %d" % (proc.returncode, port))
        time.sleep(0.02)
    raise RuntimeError("nothing bound to port %d after %.0f s" % (port, timeout))
