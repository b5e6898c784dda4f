// f32-activation, AVX2 + FMA: gelu and tanh 8 floats at a time with
// f32-math-avx2.h, which repeats f32-math.h's scalar operation sequence lane
// by lane; the last n % 8 elements go through the same vector code on a
// masked load and store (no byte read or written past n). Hence the same bits
// as heed_f32_gelu__scalar / heed_f32_tanh__scalar (and gelu_tanh, swiglu).
#include <immintrin.h>

#include "kernels/activation/f32-activation.h"
#include "kernels/math/f32-math-avx2.h"

namespace heed {

namespace {
template <__m256 (*F)(__m256)>
inline void apply(size_t n, const float* x, float* y) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, F(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n - i)), lane);
    _mm256_maskstore_ps(y + i, mask, F(_mm256_maskload_ps(x + i, mask)));
  }
}
}  // namespace

void heed_f32_gelu__avx2(size_t n, const float* x, float* y) { apply<f32x8_gelu>(n, x, y); }
void heed_f32_tanh__avx2(size_t n, const float* x, float* y) { apply<f32x8_tanh>(n, x, y); }
void heed_f32_gelu_tanh__avx2(size_t n, const float* x, float* y) { apply<f32x8_gelu_tanh>(n, x, y); }

// Row by row: silu of the gate half times the up half, 8 at a time, masked tail.
void heed_f32_swiglu__avx2(size_t rows, size_t n, const float* x, float* y) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (size_t r = 0; r < rows; ++r) {
    const float* gate = x + r * 2 * n;
    const float* up = gate + n;
    float* out = y + r * n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      _mm256_storeu_ps(out + i, _mm256_mul_ps(f32x8_silu(_mm256_loadu_ps(gate + i)), _mm256_loadu_ps(up + i)));
    }
    if (i < n) {
      const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n - i)), lane);
      const __m256 v = _mm256_mul_ps(f32x8_silu(_mm256_maskload_ps(gate + i, mask)), _mm256_maskload_ps(up + i, mask));
      _mm256_maskstore_ps(out + i, mask, v);
    }
  }
}

}  // namespace heed
