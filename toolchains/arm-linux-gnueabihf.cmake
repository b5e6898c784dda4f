# 32-bit ARM Linux, hard float (Debian/Raspberry Pi OS armhf) with Debian's cross
# gcc (g++-arm-linux-gnueabihf). Debian's armhf baseline is armv7-a + VFPv3-D16
# without NEON: no -mfpu=neon here; NEON kernel files add -mfpu=neon-vfpv4
# themselves (PLATFORM.md), and the runtime picks them only when the CPU has NEON.
#
# libc/libstdc++ come from the cross toolchain (/usr/arm-linux-gnueabihf); XNNPACK,
# pthreadpool, cpuinfo, flatbuffers and doctest from a private sysroot made by
#   tools/make-sysroot.sh armhf [dir]
# Cache variables:
#   HEED_SYSROOT   that sysroot (default <repo>/.sysroot/armhf)
#   HEED_QEMU_CPU  qemu CPU model for running target binaries (default cortex-a7:
#                  armv7-a with NEON-VFPv4, like a Pi 2). The environment variable
#                  QEMU_CPU overrides it at run time.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)
# 64-bit off_t/ino_t (large-file support), as on every 64-bit target: without it
# readdir() fails with EOVERFLOW on 64-bit inode numbers or directory offsets,
# which is what qemu-arm on a 64-bit host hands out, and files over 2 GB can't be
# opened. -Wno-psabi: GCC's note that std::vector parameter passing changed in
# GCC 7.1 is noise, everything here is built with GCC 12.
set(CMAKE_C_FLAGS_INIT "-D_FILE_OFFSET_BITS=64")
set(CMAKE_CXX_FLAGS_INIT "-D_FILE_OFFSET_BITS=64 -Wno-psabi")

set(HEED_SYSROOT "${CMAKE_CURRENT_LIST_DIR}/../.sysroot/armhf" CACHE PATH "Target sysroot (tools/make-sysroot.sh armhf)")
set(HEED_QEMU_CPU cortex-a7 CACHE STRING "qemu -cpu for target binaries (QEMU_CPU in the environment overrides)")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES HEED_SYSROOT HEED_QEMU_CPU)
get_filename_component(HEED_SYSROOT "${HEED_SYSROOT}" ABSOLUTE)
if(NOT EXISTS "${HEED_SYSROOT}/usr/include/xnnpack.h")
  message(FATAL_ERROR "No target sysroot at ${HEED_SYSROOT}: run tools/make-sysroot.sh armhf (or set HEED_SYSROOT)")
endif()

# Not CMAKE_SYSROOT: the sysroot holds only the unpacked .debs, the compiler keeps
# its own libc. Libraries, headers and CMake packages come from the target trees only.
set(CMAKE_FIND_ROOT_PATH "${HEED_SYSROOT}" /usr/arm-linux-gnueabihf)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# libXNNPACK.so needs libcpuinfo/libpthreadpool at link time.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,${HEED_SYSROOT}/usr/lib/arm-linux-gnueabihf")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-Wl,-rpath-link,${HEED_SYSROOT}/usr/lib/arm-linux-gnueabihf")

# qemu-user (binfmt_misc is not mounted). -L makes the guest loader and libc the
# cross toolchain's; the toolchain's lib dir goes first in LD_LIBRARY_PATH so a
# multiarch armhf libc on the host can never be picked (PLATFORM.md).
set(CMAKE_CROSSCOMPILING_EMULATOR /bin/sh -c
  "exec qemu-arm -cpu \"\${QEMU_CPU:-${HEED_QEMU_CPU}}\" -L /usr/arm-linux-gnueabihf -E \"LD_LIBRARY_PATH=/usr/arm-linux-gnueabihf/lib:${HEED_SYSROOT}/usr/lib/arm-linux-gnueabihf\" \"\$@\""
  qemu-arm)
