// f32-layernorm, AVX-512: the reference's operations in the reference's
// order. lane_sum's 16 lanes are one zmm accumulator, each step one vaddps of
// the next 16 values, exactly lane[l] += value(k + l); the lanes are then
// added pairwise as the header says (256-bit halves, 128-bit halves, 0+2 /
// 1+3, 0+1) and the remaining k in order. Output and residual passes are
// elementwise (multiply, multiply, add; no FMA) with a masked tail, so they
// are exact copies of the scalar ones. Same bits as heed_f32_layernorm__scalar.
#include <immintrin.h>

#include <cmath>

#include "kernels/layernorm/f32-layernorm.h"
#include "kernels/math/f32-math-avx512.h"

// GCC 12 reports the undefined source operand of its own unmasked AVX-512
// intrinsics (`__m256 __Y = __Y` in avx512fintrin.h) as maybe uninitialized.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace heed {

namespace {
inline __mmask16 tail_mask(size_t n) { return __mmask16((1u << n) - 1); }
}  // namespace

void heed_f32_layernorm__avx512vnni(size_t M, size_t N, const float* x, const float* residual, const float* gamma,
                                    const float* beta, float eps, float* y) {
  const float inv_n = 1.0f / float(N);
  const size_t n16 = N / 16 * 16;
  const __mmask16 tail = tail_mask(N - n16);
  for (size_t m = 0; m < M; ++m) {
    const float* xr = x + m * N;
    const float* rr = residual ? residual + m * N : nullptr;
    float* yr = y + m * N;
    if (rr) {
      for (size_t k = 0; k < n16; k += 16)
        _mm512_storeu_ps(yr + k, _mm512_add_ps(_mm512_loadu_ps(xr + k), _mm512_loadu_ps(rr + k)));
      if (tail)
        _mm512_mask_storeu_ps(yr + n16, tail, _mm512_add_ps(_mm512_maskz_loadu_ps(tail, xr + n16),
                                                           _mm512_maskz_loadu_ps(tail, rr + n16)));
      xr = yr;
    }
    __m512 acc = _mm512_setzero_ps();
    size_t k = 0;
    for (; k < n16; k += 16) acc = _mm512_add_ps(acc, _mm512_loadu_ps(xr + k));
    float sum = f32x16_sum16(acc);
    for (; k < N; ++k) sum += xr[k];
    const float mean = sum * inv_n;
    const __m512 vmean = _mm512_set1_ps(mean);
    acc = _mm512_setzero_ps();
    for (k = 0; k < n16; k += 16) {
      const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(xr + k), vmean);
      acc = _mm512_add_ps(acc, _mm512_mul_ps(d, d));
    }
    float ss = f32x16_sum16(acc);
    for (; k < N; ++k) {
      const float d = xr[k] - mean;
      ss += d * d;
    }
    const float var = ss * inv_n;
    const float rstd = 1.0f / std::sqrt(var + eps);
    const __m512 vrstd = _mm512_set1_ps(rstd);
    const __m512 nan = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fc00000));
    for (k = 0; k < n16; k += 16) {
      const __m512 t = _mm512_mul_ps(_mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(xr + k), vmean), vrstd),
                                     _mm512_loadu_ps(gamma + k));
      const __m512 out = _mm512_add_ps(t, _mm512_loadu_ps(beta + k));
      _mm512_storeu_ps(yr + k, _mm512_mask_blend_ps(_mm512_cmp_ps_mask(out, out, _CMP_UNORD_Q), out, nan));
    }
    if (tail) {
      const __m512 t = _mm512_mul_ps(
          _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, xr + n16), vmean), vrstd),
          _mm512_maskz_loadu_ps(tail, gamma + n16));
      const __m512 out = _mm512_add_ps(t, _mm512_maskz_loadu_ps(tail, beta + n16));
      _mm512_mask_storeu_ps(yr + n16, tail, _mm512_mask_blend_ps(_mm512_cmp_ps_mask(out, out, _CMP_UNORD_Q), out, nan));
    }
  }
}

}  // namespace heed
