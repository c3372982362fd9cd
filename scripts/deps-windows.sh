#!/bin/sh
# Install the Debian packages that the Windows build and its tests under Wine
# need (as root), or print the exact command for a person to run.
# Called by .ci/run and by `make deps` / `make test` (unless UP_SKIP_WINDOWS=1),
# so a fresh machine runs the Windows tests; without these packages they
# report SKIPPED.
#   gcc-mingw-w64-x86-64, gcc-mingw-w64-i686   cross compilers (make windows)
#   binutils-mingw-w64-x86-64, -i686           windres/windmc, objdump (PE checks)
#   wine, wine64                               runs the x64 executable and its service
# 32-bit Wine (wine32) needs the i386 architecture and is not installed: the
# x86 executable is checked for its PE type and imports only.
# Installing Wine takes about 1.9 GB and a minute or more.
# The list itself is WINDOWS_PKGS in scripts/deps.sh.
exec sh "$(dirname "$0")/deps.sh" windows
