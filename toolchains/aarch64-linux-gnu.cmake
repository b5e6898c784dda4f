# 64-bit ARM Linux (Raspberry Pi 4 / 5 class) with Debian's cross gcc
# (g++-aarch64-linux-gnu). Baseline armv8-a: no -mcpu here; per-ISA kernel files
# add their own flags (e.g. +dotprod).
#
# libc/libstdc++ come from the cross toolchain (/usr/aarch64-linux-gnu); XNNPACK,
# pthreadpool, cpuinfo, flatbuffers and doctest from a private sysroot made by
#   tools/make-sysroot.sh arm64 [dir]
# Cache variables:
#   HEED_SYSROOT   that sysroot (default <repo>/.sysroot/arm64)
#   HEED_QEMU_CPU  qemu CPU model for running target binaries (default cortex-a72,
#                  the Pi 4, no dotprod; cortex-a76 is the Pi 5, with dotprod).
#                  The environment variable QEMU_CPU overrides it at run time,
#                  so one build can be tested on several CPUs.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

set(HEED_SYSROOT "${CMAKE_CURRENT_LIST_DIR}/../.sysroot/arm64" CACHE PATH "Target sysroot (tools/make-sysroot.sh arm64)")
set(HEED_QEMU_CPU cortex-a72 CACHE STRING "qemu -cpu for target binaries (QEMU_CPU in the environment overrides)")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES HEED_SYSROOT HEED_QEMU_CPU)
get_filename_component(HEED_SYSROOT "${HEED_SYSROOT}" ABSOLUTE)
if(NOT EXISTS "${HEED_SYSROOT}/usr/include/xnnpack.h")
  message(FATAL_ERROR "No target sysroot at ${HEED_SYSROOT}: run tools/make-sysroot.sh arm64 (or set HEED_SYSROOT)")
endif()

# Not CMAKE_SYSROOT: the sysroot holds only the unpacked .debs, the compiler keeps
# its own libc. Libraries, headers and CMake packages come from the target trees only.
set(CMAKE_FIND_ROOT_PATH "${HEED_SYSROOT}" /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# libXNNPACK.so needs libcpuinfo/libpthreadpool at link time.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,${HEED_SYSROOT}/usr/lib/aarch64-linux-gnu")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-Wl,-rpath-link,${HEED_SYSROOT}/usr/lib/aarch64-linux-gnu")

# qemu-user (binfmt_misc is not mounted). -L makes the guest loader and libc the
# cross toolchain's; the toolchain's lib dir goes first in LD_LIBRARY_PATH so a
# multiarch arm64 libc on the host can never be picked (PLATFORM.md).
set(CMAKE_CROSSCOMPILING_EMULATOR /bin/sh -c
  "exec qemu-aarch64 -cpu \"\${QEMU_CPU:-${HEED_QEMU_CPU}}\" -L /usr/aarch64-linux-gnu -E \"LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib:${HEED_SYSROOT}/usr/lib/aarch64-linux-gnu\" \"\$@\""
  qemu-aarch64)
