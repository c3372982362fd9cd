# mingw-common.cmake - what both mingw-w64 toolchain files share.
# The caller sets UP_MINGW_TRIPLE (x86_64-w64-mingw32 or i686-w64-mingw32).
#
# Debian ships two flavours of each compiler: -win32 (Win32 threads) and
# -posix (winpthreads). udp-proxy uses Win32 threads directly, so the -win32
# flavour is preferred; the plain name is the fallback.
find_program(UP_MINGW_CC NAMES ${UP_MINGW_TRIPLE}-gcc-win32 ${UP_MINGW_TRIPLE}-gcc REQUIRED)
set(CMAKE_C_COMPILER ${UP_MINGW_CC})
set(CMAKE_RC_COMPILER ${UP_MINGW_TRIPLE}-windres)
set(CMAKE_OBJDUMP ${UP_MINGW_TRIPLE}-objdump CACHE FILEPATH "objdump for PE files")

set(CMAKE_FIND_ROOT_PATH /usr/${UP_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)

# Windows 7 / Server 2008 R2 and newer. Static runtime: the executable
# imports system DLLs only (kernel32, advapi32, ws2_32, msvcrt).
set(CMAKE_C_FLAGS_INIT "-D_WIN32_WINNT=0x0601 -DWINVER=0x0601 -D__USE_MINGW_ANSI_STDIO=1")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc")
