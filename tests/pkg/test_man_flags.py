#!/usr/bin/env python3
"""test_man_flags.py - every flag in `udp-proxy --help`'s table is in udp-proxy(8).

Keeps the man page and the program from drifting apart: add a flag to the
usage text and this fails until the manual documents it. A flag counts as
documented when it appears (as \\-\\-name, roff's minus signs) in the OPTIONS
section.
Usage: test_man_flags.py PROXY MANPAGE
"""
import re
import subprocess
import sys

# The option table of --help: an indented line that starts with a flag
# ("  --help, -h   show..."); its first column may list several flags.
ENTRY = re.compile(r"^\s+(-{1,2}[A-Za-z][\w-]*(?:,\s*-{1,2}[A-Za-z][\w-]*)*)", re.M)
FLAG = re.compile(r"-{1,2}[A-Za-z][\w-]*")


def main():
    proxy, page = sys.argv[1], sys.argv[2]
    helptext = subprocess.run([proxy, "--help"], capture_output=True, text=True, timeout=10)
    if helptext.returncode != 0:
        print("FAIL: %s --help exited %d" % (proxy, helptext.returncode))
        return 1
    flags = sorted({f for entry in ENTRY.findall(helptext.stdout) for f in FLAG.findall(entry)})
    if len(flags) < 10:
        print("FAIL: only %d flags found in --help: %s" % (len(flags), flags))
        return 1
    roff = open(page).read()
    m = re.search(r"^\.SH OPTIONS$(.*?)^\.SH ", roff, re.M | re.S)
    if not m:
        print("FAIL: no OPTIONS section in %s" % page)
        return 1
    options = m.group(1).replace("\\-", "-")
    missing = [f for f in flags if not re.search(r"(?<![\w-])" + re.escape(f) + r"(?![\w-])", options)]
    if missing:
        print("FAIL: flags in --help but not in the OPTIONS of %s: %s" % (page, " ".join(missing)))
        return 1
    print("ok: all %d flags of --help are documented: %s" % (len(flags), " ".join(flags)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
