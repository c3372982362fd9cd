"""contrib/prometheus/udp-proxy.rules.yml: `promtool check rules` passes and the rules' unit
tests (`promtool test rules udp-proxy.rules.test.yml`, synthetic series) pass: each alert fires
when it should and stays quiet when it should not. promtool comes with Debian's `prometheus`.
Takes the binary as its first argument like the other tests (unused)."""
import os
import shutil
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DIR = os.path.join(ROOT, "contrib", "prometheus")


def main():
    promtool = shutil.which("promtool")
    if not promtool:
        print("SKIP: promtool not found; install it with: apt-get install -y prometheus")
        return 77
    for args in (["check", "rules", "udp-proxy.rules.yml"], ["test", "rules", "udp-proxy.rules.test.yml"]):
        r = subprocess.run([promtool] + args, cwd=DIR, capture_output=True, text=True, timeout=120)
        print("$ promtool %s\n%s%s" % (" ".join(args), r.stdout, r.stderr))
        if r.returncode != 0:
            print("FAIL: promtool %s exited %d" % (" ".join(args), r.returncode))
            return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
