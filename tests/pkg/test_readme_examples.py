#!/usr/bin/env python3
"""test_readme_examples.py - every README example that runs udp-proxy runs as written, on loopback.

1. Every command line in a ```sh block that starts with `udp-proxy` (continuation lines joined) runs with the
   built binary first in PATH: a daemon command with --check-config appended (it would run forever) must
   exit 0; `udp-proxy stats` lines are run in step 3. Where /etc/udp-proxy/udp-proxy.conf is not installed,
   a command naming it reads packaging/udp-proxy.conf instead (what `make install` puts there, targets named).
2. Every config-file example (a ``` block whose first line names /etc/udp-proxy/udp-proxy.conf) passes
   `udp-proxy --config FILE --check-config`.
3. The "Metrics and health" block runs for real, line by line as written (the daemon in the background, the
   curl lines, `udp-proxy stats` with --count 1 added), inside a private network namespace (unshare -n, as
   root) so its fixed ports cannot meet another test's; without root it runs on the host's loopback.
   /healthz must say ok, the grep must find the dropped family, stats must exit 0 and show every target.
Usage: test_readme_examples.py PROXY README
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

SYS_CONF = "/etc/udp-proxy/udp-proxy.conf"


def blocks(text):
    """(info string, body) of every fenced block."""
    return re.findall(r"^```([^\n]*)\n(.*?)^```", text, re.M | re.S)


def commands(body):
    """The shell commands of a block, continuation lines joined, comments kept out."""
    out, cur = [], ""
    for line in body.splitlines():
        if cur:
            cur += " " + line.strip()
        else:
            cur = line.strip()
        if cur.endswith("\\"):
            cur = cur[:-1].rstrip()
            continue
        if cur and not cur.startswith("#"):
            out.append(cur)
        cur = ""
    return out


def strip_comment(cmd):
    """The command without a trailing `# comment` (outside quotes)."""
    q = None
    for i, ch in enumerate(cmd):
        if q:
            if ch == q:
                q = None
        elif ch in "'\"":
            q = ch
        elif ch == "#" and (i == 0 or cmd[i - 1] in " \t"):
            return cmd[:i].rstrip()
    return cmd


def main():
    proxy, readme = os.path.abspath(sys.argv[1]), sys.argv[2]
    example_conf = os.path.join(os.path.dirname(os.path.abspath(readme)), "packaging", "udp-proxy.conf")
    text = open(readme).read()
    bindir = tempfile.mkdtemp(prefix="up-readme-")
    os.symlink(proxy, os.path.join(bindir, "udp-proxy"))
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    failures, ran = [], 0

    def sh(cmd, timeout=30):
        return subprocess.run(["bash", "-c", cmd], env=env, capture_output=True, text=True, timeout=timeout)

    # 1. Command lines.
    metrics_block = None
    for info, body in blocks(text):
        if info.strip() != "sh":
            continue
        cmds = [strip_comment(c) for c in commands(body)]
        if any(c.startswith("udp-proxy ") and "--metrics-listen" in c for c in cmds) and \
                any(c.startswith("curl ") for c in cmds):
            metrics_block = cmds
        for c in cmds:
            if not c.startswith("udp-proxy ") or c.startswith("udp-proxy stats"):
                continue
            if not re.search(r"--(check-config|help|version)\b", c):
                c += " --check-config"
            # The installed configuration, as the README's install steps leave it (targets named): where
            # nothing is installed here, the file `make install` would put there.
            if SYS_CONF in c and not os.path.exists(SYS_CONF):
                c = c.replace(SYS_CONF, example_conf)
                print("note: %s is not installed here: the command reads %s instead" % (SYS_CONF, example_conf))
            r = sh(c)
            ran += 1
            print("$ %s\n  -> exit %d %s" % (c, r.returncode, (r.stdout + r.stderr).strip()))
            if r.returncode != 0:
                failures.append("%s: exit %d: %s" % (c, r.returncode, r.stderr.strip()))

    # 2. Config-file examples.
    for info, body in blocks(text):
        first = body.splitlines()[0] if body else ""
        if info.strip() == "" and "/etc/udp-proxy/udp-proxy.conf" in first and first.startswith("#"):
            path = os.path.join(bindir, "udp-proxy.conf")
            with open(path, "w") as f:
                f.write(body)
            r = sh("udp-proxy --config %s --check-config" % path)
            ran += 1
            print("config example (%d lines) -> exit %d %s" % (len(body.splitlines()), r.returncode,
                                                             (r.stdout + r.stderr).strip()))
            if r.returncode != 0:
                failures.append("the config example: exit %d: %s" % (r.returncode, r.stderr.strip()))

    # 3. The metrics block, for real.
    if not metrics_block:
        failures.append("no 'Metrics and health' block (udp-proxy --metrics-listen ... and curl lines) found")
    else:
        daemon = [c for c in metrics_block if c.startswith("udp-proxy ") and "--metrics-listen" in c][0]
        port = re.search(r"--metrics-listen\s+\S*:(\d+)", daemon).group(1)
        lines = ["set -u", "ip link set lo up 2>/dev/null || true", daemon + " --stats-interval 0 2>/dev/null &",
                 "P=$!",
                 "for i in $(seq 100); do curl -s -o /dev/null 127.0.0.1:%s/healthz && break; sleep 0.1; done" % port]
        for c in metrics_block:
            if c == daemon:
                continue
            if c.startswith("udp-proxy stats"):
                c += " --count 1 --interval 0.5"
            lines.append("echo '>>> %s'; %s; echo \"<<< exit $?\"" % (c.replace("'", ""), c))
        lines += ["kill -TERM $P", "wait $P; echo \"<<< daemon exit $?\""]
        script = "\n".join(lines)
        wrap = ["bash", "-c", script]
        if os.geteuid() == 0 and shutil.which("unshare") and shutil.which("ip"):
            wrap = ["unshare", "-n"] + wrap
            where = "a private network namespace"
        else:
            where = "the host's loopback (not root: no private network namespace)"
        if not shutil.which("curl"):
            print("SKIP: curl is not installed; the README's metrics example uses it")
            return 77
        r = subprocess.run(wrap, env=env, capture_output=True, text=True, timeout=60)
        out = r.stdout
        print("metrics block in %s:\n%s%s" % (where, out, r.stderr))
        ran += 1
        sections = re.split(r"^>>> ", out, flags=re.M)[1:]
        for sec in sections:
            cmd, _, rest = sec.partition("\n")
            m = re.search(r"<<< exit (\d+)", rest)
            rc = int(m.group(1)) if m else -1
            if rc != 0:
                failures.append("metrics example line %r: exit %d" % (cmd, rc))
            if "/healthz" in cmd and "ok" not in rest:
                failures.append("metrics example %r: no 'ok' in %r" % (cmd, rest))
            if "grep" in cmd and "udp_proxy_dropped_datagrams_total{" not in rest:
                failures.append("metrics example %r: no dropped samples in %r" % (cmd, rest))
            if cmd.startswith("udp-proxy stats"):
                for t in re.findall(r"--target\s+(\S+)", daemon):
                    if t not in rest:
                        failures.append("metrics example %r: target %s not in %r" % (cmd, t, rest))
        if len(sections) != len(metrics_block) - 1:
            failures.append("metrics example: ran %d of %d lines" % (len(sections), len(metrics_block) - 1))
        if "<<< daemon exit 0" not in out:
            failures.append("metrics example: the daemon did not exit 0 on SIGTERM")
    shutil.rmtree(bindir)
    if ran < 3:
        failures.append("only %d examples found: has the README's layout changed?" % ran)
    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        return 1
    print("ok: %d README examples ran as written" % ran)
    return 0


if __name__ == "__main__":
    sys.exit(main())
