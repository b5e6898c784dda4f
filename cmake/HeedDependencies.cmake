# Finds heed's four required dependencies from Debian's packages.
# PLATFORM.md: XNNPACK/pthreadpool ship no CMake config or pkg-config file, and
# cpuinfo's CMake config is broken (points at a libclog.a under a wrong path), so
# those three are found by hand. flatbuffers and doctest have working configs.

find_package(FlatBuffers CONFIG REQUIRED)
find_package(doctest CONFIG QUIET)

find_path(XNNPACK_INCLUDE_DIR xnnpack.h REQUIRED)
find_library(XNNPACK_LIBRARY NAMES XNNPACK xnnpack REQUIRED)
find_path(PTHREADPOOL_INCLUDE_DIR pthreadpool.h REQUIRED)
find_library(PTHREADPOOL_LIBRARY pthreadpool REQUIRED)
find_path(CPUINFO_INCLUDE_DIR cpuinfo.h REQUIRED)
find_library(CPUINFO_LIBRARY cpuinfo REQUIRED)
find_package(Threads REQUIRED)

if(NOT TARGET heed::xnnpack)
  add_library(heed::pthreadpool UNKNOWN IMPORTED)
  set_target_properties(heed::pthreadpool PROPERTIES
    IMPORTED_LOCATION ${PTHREADPOOL_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${PTHREADPOOL_INCLUDE_DIR}
    INTERFACE_LINK_LIBRARIES Threads::Threads)
  add_library(heed::cpuinfo UNKNOWN IMPORTED)
  set_target_properties(heed::cpuinfo PROPERTIES
    IMPORTED_LOCATION ${CPUINFO_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${CPUINFO_INCLUDE_DIR})
  add_library(heed::xnnpack UNKNOWN IMPORTED)
  set_target_properties(heed::xnnpack PROPERTIES
    IMPORTED_LOCATION ${XNNPACK_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${XNNPACK_INCLUDE_DIR}
    INTERFACE_LINK_LIBRARIES "heed::pthreadpool;heed::cpuinfo")
endif()

if(CMAKE_CROSSCOMPILING)
  # flatc must run on the build machine.
  find_program(HEED_FLATC flatc REQUIRED)
else()
  if(TARGET flatbuffers::flatc)
    set(HEED_FLATC $<TARGET_FILE:flatbuffers::flatc>)
  else()
    find_program(HEED_FLATC flatc REQUIRED)
  endif()
endif()
