// f32-rmsnorm, AVX2: the reference's operations in the reference's order.
// The 16 lanes of the sum of squares are two ymm accumulators (lanes 0-7,
// 8-15), each step one vmulps and one vaddps of the next 16 values, exactly
// lane[l] += x[k + l] * x[k + l]; the lanes are then added pairwise as the
// header says (0-7 + 8-15, then 128-bit halves, then 0+2 / 1+3, then 0+1)
// and the remaining k in order. The output pass is elementwise (two
// multiplies, no FMA), an exact copy of the scalar one. Same bits as
// heed_f32_rmsnorm__scalar.
#include <immintrin.h>

#include <cmath>

#include "kernels/rmsnorm/f32-rmsnorm.h"
#include "kernels/math/f32-math-avx2.h"

namespace heed {

namespace {
}  // namespace

void heed_f32_rmsnorm__avx2(size_t M, size_t N, const float* x, const float* w, float eps, float* y) {
  const size_t n16 = N / 16 * 16;
  const __m256 nan = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fc00000));
  for (size_t m = 0; m < M; ++m) {
    const float* xr = x + m * N;
    float* yr = y + m * N;
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    size_t k = 0;
    for (; k < n16; k += 16) {
      const __m256 a = _mm256_loadu_ps(xr + k), b = _mm256_loadu_ps(xr + k + 8);
      lo = _mm256_add_ps(lo, _mm256_mul_ps(a, a));
      hi = _mm256_add_ps(hi, _mm256_mul_ps(b, b));
    }
    float ss = f32x8x2_sum16(lo, hi);
    for (; k < N; ++k) ss += xr[k] * xr[k];
    const float ms = ss / float(N);
    const float r = 1.0f / std::sqrt(ms + eps);
    const __m256 vr = _mm256_set1_ps(r);
    for (k = 0; k + 8 <= N; k += 8) {
      const __m256 out = _mm256_mul_ps(_mm256_loadu_ps(w + k), _mm256_mul_ps(_mm256_loadu_ps(xr + k), vr));
      _mm256_storeu_ps(yr + k, _mm256_blendv_ps(out, nan, _mm256_cmp_ps(out, out, _CMP_UNORD_Q)));
    }
    for (; k < N; ++k) yr[k] = rmsnorm_out(xr[k], r, w[k]);
  }
}

}  // namespace heed
