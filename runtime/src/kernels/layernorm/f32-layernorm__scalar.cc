// f32-layernorm reference: the operations and summation order stated in
// f32-layernorm.h, written out in scalar code (no FMA; -ffp-contract=off keeps
// the compiler from fusing), so each SIMD variant can repeat them exactly.
#include <cmath>

#include "kernels/layernorm/f32-layernorm.h"

namespace heed {

namespace {
constexpr size_t kLanes = 16;

// Sum in the 16-lane order of kernels.h.
template <typename F>
inline float lane_sum(size_t N, F value) {
  float lane[kLanes] = {0};
  size_t k = 0;
  for (; k + kLanes <= N; k += kLanes) {
    for (size_t l = 0; l < kLanes; ++l) lane[l] += value(k + l);
  }
  for (size_t half = kLanes / 2; half > 0; half /= 2) {
    for (size_t l = 0; l < half; ++l) lane[l] += lane[l + half];
  }
  float sum = lane[0];
  for (; k < N; ++k) sum += value(k);
  return sum;
}
}  // namespace

void heed_f32_layernorm__scalar(size_t M, size_t N, const float* x, const float* residual,
                                const float* gamma, const float* beta, float eps, float* y) {
  const float inv_n = 1.0f / float(N);
  for (size_t m = 0; m < M; ++m) {
    const float* xr = x + m * N;
    const float* rr = residual ? residual + m * N : nullptr;
    float* yr = y + m * N;
    if (rr) {
      for (size_t k = 0; k < N; ++k) yr[k] = xr[k] + rr[k];
      xr = yr;
    }
    const float mean = lane_sum(N, [&](size_t k) { return xr[k]; }) * inv_n;
    const float var = lane_sum(N, [&](size_t k) {
                        const float d = xr[k] - mean;
                        return d * d;
                      }) * inv_n;
    const float rstd = 1.0f / std::sqrt(var + eps);
    for (size_t k = 0; k < N; ++k) yr[k] = layernorm_out(xr[k], mean, rstd, gamma[k], beta[k]);
  }
}

}  // namespace heed
