# mingw-i686.cmake - cross-compile udp-proxy for 32-bit Windows with
# Debian's mingw-w64 (gcc-mingw-w64-i686). Used by `make windows`:
#   cmake -S . -B build/windows/x86 -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-i686.cmake
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86)
set(UP_MINGW_TRIPLE i686-w64-mingw32)
include(${CMAKE_CURRENT_LIST_DIR}/mingw-common.cmake)
