// f32-layernorm, AVX2: the reference's operations in the reference's order.
// lane_sum's 16 lanes are two ymm accumulators (lanes 0-7, 8-15), each step
// one vaddps of the next 16 values, exactly lane[l] += value(k + l); the lanes
// are then added pairwise as the header says (0-7 + 8-15, then 128-bit halves,
// then 0+2 / 1+3, then 0+1) and the remaining k in order. Output and residual
// passes are elementwise (multiply, multiply, add; no FMA), so they are exact
// copies of the scalar ones. Same bits as heed_f32_layernorm__scalar.
#include <immintrin.h>

#include <cmath>

#include "kernels/layernorm/f32-layernorm.h"
#include "kernels/math/f32-math-avx2.h"

namespace heed {

namespace {
}  // namespace

void heed_f32_layernorm__avx2(size_t M, size_t N, const float* x, const float* residual, const float* gamma,
                              const float* beta, float eps, float* y) {
  const float inv_n = 1.0f / float(N);
  const size_t n16 = N / 16 * 16;
  for (size_t m = 0; m < M; ++m) {
    const float* xr = x + m * N;
    const float* rr = residual ? residual + m * N : nullptr;
    float* yr = y + m * N;
    if (rr) {
      size_t k = 0;
      for (; k + 8 <= N; k += 8) _mm256_storeu_ps(yr + k, _mm256_add_ps(_mm256_loadu_ps(xr + k), _mm256_loadu_ps(rr + k)));
      for (; k < N; ++k) yr[k] = xr[k] + rr[k];
      xr = yr;
    }
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    size_t k = 0;
    for (; k < n16; k += 16) {
      lo = _mm256_add_ps(lo, _mm256_loadu_ps(xr + k));
      hi = _mm256_add_ps(hi, _mm256_loadu_ps(xr + k + 8));
    }
    float sum = f32x8x2_sum16(lo, hi);
    for (; k < N; ++k) sum += xr[k];
    const float mean = sum * inv_n;
    const __m256 vmean = _mm256_set1_ps(mean);
    lo = _mm256_setzero_ps();
    hi = _mm256_setzero_ps();
    for (k = 0; k < n16; k += 16) {
      const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(xr + k), vmean);
      const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(xr + k + 8), vmean);
      lo = _mm256_add_ps(lo, _mm256_mul_ps(d0, d0));
      hi = _mm256_add_ps(hi, _mm256_mul_ps(d1, d1));
    }
    float ss = f32x8x2_sum16(lo, hi);
    for (; k < N; ++k) {
      const float d = xr[k] - mean;
      ss += d * d;
    }
    const float var = ss * inv_n;
    const float rstd = 1.0f / std::sqrt(var + eps);
    const __m256 vrstd = _mm256_set1_ps(rstd);
    const __m256 nan = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fc00000));
    for (k = 0; k + 8 <= N; k += 8) {
      const __m256 t = _mm256_mul_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + k), vmean), vrstd),
                                     _mm256_loadu_ps(gamma + k));
      const __m256 out = _mm256_add_ps(t, _mm256_loadu_ps(beta + k));
      _mm256_storeu_ps(yr + k, _mm256_blendv_ps(out, nan, _mm256_cmp_ps(out, out, _CMP_UNORD_Q)));
    }
    for (; k < N; ++k) yr[k] = layernorm_out(xr[k], mean, rstd, gamma[k], beta[k]);
  }
}

}  // namespace heed
