#include "kernels/kernels.h"

namespace heed {

namespace {
constexpr size_t kLanes = 16;

// Dot product in the fixed order documented in kernels.h. The lane array lets
// the compiler keep independent partial sums in vector registers without
// reassociating (no -ffast-math needed), and SIMD variants can reproduce it.
inline float dot_f32(const float* a, const float* b, size_t K) {
  float lane[kLanes] = {0};
  size_t k = 0;
  for (; k + kLanes <= K; k += kLanes) {
    for (size_t l = 0; l < kLanes; ++l) lane[l] += a[k + l] * b[k + l];
  }
  for (size_t half = kLanes / 2; half > 0; half /= 2) {
    for (size_t l = 0; l < half; ++l) lane[l] += lane[l + half];
  }
  float sum = lane[0];
  for (; k < K; ++k) sum += a[k] * b[k];
  return sum;
}
}  // namespace

void heed_f32_gemm_ukernel__scalar(size_t M, size_t N, size_t K, const float* x, size_t ldx,
                                   const float* w, const float* bias, float* y, size_t ldy) {
  for (size_t m = 0; m < M; ++m) {
    const float* xr = x + m * ldx;
    float* yr = y + m * ldy;
    for (size_t n = 0; n < N; ++n) {
      float acc = dot_f32(xr, w + n * K, K);
      yr[n] = bias ? acc + bias[n] : acc;
    }
  }
}

}  // namespace heed
