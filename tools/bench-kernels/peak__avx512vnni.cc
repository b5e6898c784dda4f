// 12 independent accumulator chains per loop iteration in zmm16..zmm27, in
// inline assembly so the compiler can neither drop the work nor round-trip
// the accumulators through memory; 12 chains cover the instructions' latency
// at two per cycle.
#include <immintrin.h>

#include "peak.h"

namespace heed::bench {

#define HEED_TWELVE(op)                                                                                         \
  op " %[a], %[b], %%zmm16\n\t" op " %[a], %[b], %%zmm17\n\t" op " %[a], %[b], %%zmm18\n\t" op                  \
     " %[a], %[b], %%zmm19\n\t" op " %[a], %[b], %%zmm20\n\t" op " %[a], %[b], %%zmm21\n\t" op                  \
     " %[a], %[b], %%zmm22\n\t" op " %[a], %[b], %%zmm23\n\t" op " %[a], %[b], %%zmm24\n\t" op                  \
     " %[a], %[b], %%zmm25\n\t" op " %[a], %[b], %%zmm26\n\t" op " %[a], %[b], %%zmm27\n\t"
#define HEED_CLOBBERS \
  "zmm16", "zmm17", "zmm18", "zmm19", "zmm20", "zmm21", "zmm22", "zmm23", "zmm24", "zmm25", "zmm26", "zmm27"

uint64_t peak_vpdpbusd_zmm(size_t iters) {
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  for (size_t it = 0; it < iters; ++it) __asm__ volatile(HEED_TWELVE("vpdpbusd") : : [a] "v"(a), [b] "v"(b) : HEED_CLOBBERS);
  return uint64_t(iters) * 12 * 64;
}

uint64_t peak_vfmadd_zmm(size_t iters) {
  const __m512 a = _mm512_set1_ps(1.0f), b = _mm512_set1_ps(0.0f);
  for (size_t it = 0; it < iters; ++it) __asm__ volatile(HEED_TWELVE("vfmadd231ps") : : [a] "v"(a), [b] "v"(b) : HEED_CLOBBERS);
  return uint64_t(iters) * 12 * 16;
}

}  // namespace heed::bench
