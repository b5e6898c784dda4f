// f32-rmsnorm, AVX-512: the reference's operations in the reference's order.
// The 16 lanes of the sum of squares are one zmm accumulator, each step one
// vmulps and one vaddps of the next 16 values, exactly lane[l] += x[k + l] *
// x[k + l]; the lanes are then added pairwise as the header says (256-bit
// halves, 128-bit halves, 0+2 / 1+3, 0+1) and the remaining k in order. The
// output pass is elementwise (two multiplies, no FMA) with a masked tail, an
// exact copy of the scalar one. Same bits as heed_f32_rmsnorm__scalar.
#include <immintrin.h>

#include <cmath>

#include "kernels/rmsnorm/f32-rmsnorm.h"
#include "kernels/math/f32-math-avx512.h"

// GCC 12 reports the undefined source operand of its own unmasked AVX-512
// intrinsics (`__m256 __Y = __Y` in avx512fintrin.h) as maybe uninitialized.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace heed {

namespace {
}  // namespace

void heed_f32_rmsnorm__avx512vnni(size_t M, size_t N, const float* x, const float* w, float eps, float* y) {
  const size_t n16 = N / 16 * 16;
  const __mmask16 tail = __mmask16((1u << (N - n16)) - 1);
  const __m512 nan = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fc00000));
  for (size_t m = 0; m < M; ++m) {
    const float* xr = x + m * N;
    float* yr = y + m * N;
    __m512 acc = _mm512_setzero_ps();
    size_t k = 0;
    for (; k < n16; k += 16) {
      const __m512 a = _mm512_loadu_ps(xr + k);
      acc = _mm512_add_ps(acc, _mm512_mul_ps(a, a));
    }
    float ss = f32x16_sum16(acc);
    for (; k < N; ++k) ss += xr[k] * xr[k];
    const float ms = ss / float(N);
    const float r = 1.0f / std::sqrt(ms + eps);
    const __m512 vr = _mm512_set1_ps(r);
    for (k = 0; k < n16; k += 16) {
      const __m512 out = _mm512_mul_ps(_mm512_loadu_ps(w + k), _mm512_mul_ps(_mm512_loadu_ps(xr + k), vr));
      _mm512_storeu_ps(yr + k, _mm512_mask_blend_ps(_mm512_cmp_ps_mask(out, out, _CMP_UNORD_Q), out, nan));
    }
    if (tail) {
      const __m512 xv = _mm512_maskz_loadu_ps(tail, xr + k), wv = _mm512_maskz_loadu_ps(tail, w + k);
      const __m512 out = _mm512_mul_ps(wv, _mm512_mul_ps(xv, vr));
      _mm512_mask_storeu_ps(yr + k, tail, _mm512_mask_blend_ps(_mm512_cmp_ps_mask(out, out, _CMP_UNORD_Q), out, nan));
    }
  }
}

}  // namespace heed
