#!/bin/sh
# Install the Debian packages that the Windows build and its tests under Wine
# need (as root), or print the exact command for a person to run.
# Called by .ci/run, so CI always runs the Windows tests; `make test` runs
# them whenever these are installed and reports them SKIPPED otherwise.
#   gcc-mingw-w64-x86-64, gcc-mingw-w64-i686   cross compilers (make windows)
#   binutils-mingw-w64-x86-64, -i686           windres/windmc, objdump (PE checks)
#   wine, wine64                               runs the x64 executable and its service
# 32-bit Wine (wine32) needs the i386 architecture and is not installed: the
# x86 executable is checked for its PE type and imports only.
# Installing Wine takes about 1.9 GB and a minute or more.
# The list itself is WINDOWS_PKGS in scripts/deps.sh.
exec sh "$(dirname "$0")/deps.sh" windows
