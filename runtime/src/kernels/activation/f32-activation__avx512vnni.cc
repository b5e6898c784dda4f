// f32-activation, AVX-512: gelu and tanh 16 floats at a time with
// f32-math-avx512.h, which repeats f32-math.h's scalar operation sequence
// lane by lane; the last n % 16 elements go through the same vector code on a
// masked load and store (no byte read or written past n). Hence the same bits
// as heed_f32_gelu__scalar / heed_f32_tanh__scalar.
#include <immintrin.h>

#include "kernels/activation/f32-activation.h"
#include "kernels/math/f32-math-avx512.h"

namespace heed {

namespace {
template <__m512 (*F)(__m512)>
inline void apply(size_t n, const float* x, float* y) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {  // two independent vectors per step
    const __m512 a = F(_mm512_loadu_ps(x + i)), b = F(_mm512_loadu_ps(x + i + 16));
    _mm512_storeu_ps(y + i, a);
    _mm512_storeu_ps(y + i + 16, b);
  }
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, F(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const __mmask16 mask = __mmask16((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(y + i, mask, F(_mm512_maskz_loadu_ps(mask, x + i)));
  }
}
}  // namespace

void heed_f32_gelu__avx512vnni(size_t n, const float* x, float* y) { apply<f32x16_gelu>(n, x, y); }
void heed_f32_gelu_tanh__avx512vnni(size_t n, const float* x, float* y) { apply<f32x16_gelu_tanh>(n, x, y); }

// Row by row: silu of the gate half times the up half, 16 at a time, masked tail.
void heed_f32_swiglu__avx512vnni(size_t rows, size_t n, const float* x, float* y) {
  for (size_t r = 0; r < rows; ++r) {
    const float* gate = x + r * 2 * n;
    const float* up = gate + n;
    float* out = y + r * n;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
      _mm512_storeu_ps(out + i, _mm512_mul_ps(f32x16_silu(_mm512_loadu_ps(gate + i)), _mm512_loadu_ps(up + i)));
    }
    if (i < n) {
      const __mmask16 mask = __mmask16((1u << (n - i)) - 1);
      const __m512 v = _mm512_mul_ps(f32x16_silu(_mm512_maskz_loadu_ps(mask, gate + i)), _mm512_maskz_loadu_ps(mask, up + i));
      _mm512_mask_storeu_ps(out + i, mask, v);
    }
  }
}
void heed_f32_tanh__avx512vnni(size_t n, const float* x, float* y) { apply<f32x16_tanh>(n, x, y); }

}  // namespace heed
