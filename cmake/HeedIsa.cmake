# Per-ISA translation units: the file-name suffix picks the flags
# (`__avx2.cc`, `__avx512vnni.cc`, `__neon.cc`, `__neondot.cc`), and files of
# another architecture are left out. Never a whole target with ISA flags: the
# compiler would then use those instructions in plain code too (STYLE: one
# definition per symbol per flag set).
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|i[3-6]86)$")
  set(HEED_TARGET_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(HEED_TARGET_ARCH arm64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^arm")
  set(HEED_TARGET_ARCH arm32)
else()
  set(HEED_TARGET_ARCH other)
endif()
set(HEED_ISA_FLAGS_x86_avx2 -mavx2 -mfma -mf16c)
set(HEED_ISA_FLAGS_x86_avx512vnni -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx512vnni)
set(HEED_ISA_FLAGS_arm64_neon "")
set(HEED_ISA_FLAGS_arm64_neondot -march=armv8.2-a+dotprod)
# Debian's armhf baseline has no NEON (armv7 + VFPv3-D16).
set(HEED_ISA_FLAGS_arm32_neon -mfpu=neon-vfpv4)

# heed_isa_sources(<list variable>): sets the flags of the per-ISA files in
# the list and removes the ones this architecture cannot build.
function(heed_isa_sources var)
  set(kept)
  foreach(src ${${var}})
    if(src MATCHES "__(avx2|avx512vnni|neon|neondot|neoni8mm)\\.cc$")
      set(isa ${CMAKE_MATCH_1})
      if(DEFINED HEED_ISA_FLAGS_${HEED_TARGET_ARCH}_${isa})
        set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${HEED_ISA_FLAGS_${HEED_TARGET_ARCH}_${isa}}")
        list(APPEND kept ${src})
      endif()
    else()
      list(APPEND kept ${src})
    endif()
  endforeach()
  set(${var} ${kept} PARENT_SCOPE)
endfunction()
