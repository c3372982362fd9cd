#!/usr/bin/env python3
"""wine_vmem.py - the packet pool's memory on Windows, run under Wine (CTest windows_wine_vmem).

The x64 console exe with 8 targets at the default --buffer 65535 and --channel-size 8192: its pool is
8 x 8192 + 2 batches = 65,664 packets of 64 KiB, about 4 GiB of address space. The pool reserves it
(VirtualAlloc MEM_RESERVE) and commits only the packets it hands out (src/win32/vmem.c). The test checks
that it starts, forwards byte for byte (large datagrams too) to all 8 sinks, drains on Ctrl+C, and reads
the memory of the Wine process from outside (/proc/PID/smaps: Wine maps a reservation PROT_NONE and a
commit read-write): the reserved pool must not be committed (writable private memory stays far below the
4 GiB a calloc of the pool committed).

Usage: wine_vmem.py eight-targets --source-dir DIR --build-dir DIR (in the prefix made by wine_test.py).
"""
import argparse
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import Sink, free_port  # noqa: E402
from wine_test import Console, Ctx, check, check_bytes, fail, log, payloads, send_checked  # noqa: E402

TARGETS = 8
# A committed pool would be ~4 GiB writable; the proxy's own heap, stacks and Wine's are a few hundred MiB.
WRITABLE_MAX = 1 << 30


def exe_pid(exe):
    """The Linux pid of the process running the Windows exe `exe` (Wine keeps its path in argv)."""
    name = os.path.basename(exe).lower()
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().decode("utf-8", "replace").lower().split("\0")
        except OSError:
            continue
        if any(a.endswith(name) for a in argv) and not any(a.endswith("python3") for a in argv):
            found.append(int(pid))
    return found


def mappings(pid):
    """(bytes writable private, bytes inaccessible, bytes resident) of the process, from smaps."""
    rw = none = rss = 0
    perms = None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and "-" in parts[0] and len(parts[1]) == 4 and parts[1][0] in "r-":
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                perms = parts[1]
                if perms == "rw-p":
                    rw += hi - lo
                elif perms == "---p":
                    none += hi - lo
            elif parts and parts[0] == "Rss:":
                rss += int(parts[1]) * 1024
    return rw, none, rss


def step_eight_targets(c):
    c.need_wine()
    sinks = [Sink() for _ in range(TARGETS)]
    port = free_port()
    proxy = None
    try:
        args = ["--source", "127.0.0.1:%d" % port, "--stats-interval", "0", "--drain-timeout", "5"]
        for s in sinks:
            args += ["--target", "127.0.0.1:%d" % s.port]
        proxy = Console(c, args)
        log("8 targets at the defaults: listening after %.1f s" % (time.time() - proxy.t0))
        pids = exe_pid(c.x64)
        mem0 = None
        if len(pids) == 1:
            mem0 = mappings(pids[0])
            log("after start: %.0f MiB writable private, %.0f MiB reserved (no access), %.0f MiB resident"
                % tuple(x / 2**20 for x in mem0))
        else:
            log("cannot tell the proxy's Linux process (pids %s): memory not measured" % pids)
        data = payloads(2000, 3)
        send_checked(port, data, sinks)
        final = proxy.ctrl_c() if mem0 is None else None
        if mem0 is not None:
            mem1 = mappings(pids[0])
            log("after %d datagrams (%d of 65507 bytes): %.0f MiB writable private, %.0f MiB reserved, "
                "%.0f MiB resident" % ((len(data), sum(1 for d in data if len(d) == 65507))
                                       + tuple(x / 2**20 for x in mem1)))
            check(mem1[1] >= 3 << 30, "the pool's ~4 GiB is not reserved (no-access mappings: %d MiB)"
                  % (mem1[1] >> 20))
            check(mem1[0] < WRITABLE_MAX, "%d MiB of writable memory: the pool looks committed" % (mem1[0] >> 20))
            final = proxy.ctrl_c()
        total = len(data)
        check("received=%d " % total in final, "final totals do not count %d received: %s" % (total, final))
        # One "sent=" per target, wherever the log put them (a long totals line may be split).
        out = proxy.output()
        check(out.count("sent=%d " % total) == TARGETS, "final totals: not %d sent per target:\n%s" % (total, out))
        check_bytes(sinks, data, "console x64, 8 targets")
    finally:
        if proxy:
            proxy.close()
        for s in sinks:
            s.close()


STEPS = {"eight-targets": step_eight_targets}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("step", choices=sorted(STEPS))
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--linux-exe", default=None)
    args = ap.parse_args()
    t0 = time.time()
    STEPS[args.step](Ctx(args))
    log("%s: passed in %.1f s" % (args.step, time.time() - t0))


if __name__ == "__main__":
    try:
        main()
    except socket.error as e:
        fail("socket error: %r" % e)
