// AVX2 has no int8 dot product into int32: the usual chain per 32 MACs is
// vpmaddubsw (u8 x s8 pairs into int16), vpmaddwd with ones (pairs into
// int32), vpaddd; 6 independent chains in ymm8..ymm13, in inline assembly so
// nothing is hoisted or spilled.
#include <immintrin.h>

#include "peak.h"

namespace heed::bench {

uint64_t peak_vpmaddubsw_ymm(size_t iters) {
  const __m256i a = _mm256_set1_epi8(3), b = _mm256_set1_epi8(-2), ones = _mm256_set1_epi16(1);
  for (size_t it = 0; it < iters; ++it) {
    __asm__ volatile(
        "vpmaddubsw %[b], %[a], %%ymm2\n\t vpmaddwd %[o], %%ymm2, %%ymm2\n\t vpaddd %%ymm2, %%ymm8, %%ymm8\n\t"
        "vpmaddubsw %[b], %[a], %%ymm3\n\t vpmaddwd %[o], %%ymm3, %%ymm3\n\t vpaddd %%ymm3, %%ymm9, %%ymm9\n\t"
        "vpmaddubsw %[b], %[a], %%ymm4\n\t vpmaddwd %[o], %%ymm4, %%ymm4\n\t vpaddd %%ymm4, %%ymm10, %%ymm10\n\t"
        "vpmaddubsw %[b], %[a], %%ymm5\n\t vpmaddwd %[o], %%ymm5, %%ymm5\n\t vpaddd %%ymm5, %%ymm11, %%ymm11\n\t"
        "vpmaddubsw %[b], %[a], %%ymm6\n\t vpmaddwd %[o], %%ymm6, %%ymm6\n\t vpaddd %%ymm6, %%ymm12, %%ymm12\n\t"
        "vpmaddubsw %[b], %[a], %%ymm7\n\t vpmaddwd %[o], %%ymm7, %%ymm7\n\t vpaddd %%ymm7, %%ymm13, %%ymm13\n\t"
        :
        : [a] "x"(a), [b] "x"(b), [o] "x"(ones)
        : "ymm2", "ymm3", "ymm4", "ymm5", "ymm6", "ymm7", "ymm8", "ymm9", "ymm10", "ymm11", "ymm12", "ymm13");
  }
  return uint64_t(iters) * 6 * 32;
}

uint64_t peak_vfmadd_ymm(size_t iters) {
  const __m256 a = _mm256_set1_ps(1.0f), b = _mm256_set1_ps(0.0f);
  for (size_t it = 0; it < iters; ++it) {
    __asm__ volatile(
        "vfmadd231ps %[a], %[b], %%ymm2\n\t vfmadd231ps %[a], %[b], %%ymm3\n\t vfmadd231ps %[a], %[b], %%ymm4\n\t"
        "vfmadd231ps %[a], %[b], %%ymm5\n\t vfmadd231ps %[a], %[b], %%ymm6\n\t vfmadd231ps %[a], %[b], %%ymm7\n\t"
        "vfmadd231ps %[a], %[b], %%ymm8\n\t vfmadd231ps %[a], %[b], %%ymm9\n\t vfmadd231ps %[a], %[b], %%ymm10\n\t"
        "vfmadd231ps %[a], %[b], %%ymm11\n\t vfmadd231ps %[a], %[b], %%ymm12\n\t vfmadd231ps %[a], %[b], %%ymm13\n\t"
        :
        : [a] "x"(a), [b] "x"(b)
        : "ymm2", "ymm3", "ymm4", "ymm5", "ymm6", "ymm7", "ymm8", "ymm9", "ymm10", "ymm11", "ymm12", "ymm13");
  }
  return uint64_t(iters) * 12 * 8;
}

}  // namespace heed::bench
