# mingw-x86_64.cmake - cross-compile udp-proxy for 64-bit Windows with
# Debian's mingw-w64 (gcc-mingw-w64-x86-64). Used by `make windows`:
#   cmake -S . -B build/windows/x64 -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-x86_64.cmake
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(UP_MINGW_TRIPLE x86_64-w64-mingw32)
include(${CMAKE_CURRENT_LIST_DIR}/mingw-common.cmake)
