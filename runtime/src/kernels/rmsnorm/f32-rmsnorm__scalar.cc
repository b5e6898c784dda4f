// f32-rmsnorm reference: the operations and summation order stated in
// f32-rmsnorm.h in scalar code (no FMA; -ffp-contract=off keeps the compiler
// from fusing), so a SIMD variant can repeat them exactly.
#include <cmath>

#include "kernels/rmsnorm/f32-rmsnorm.h"

namespace heed {

namespace {
constexpr size_t kLanes = 16;

// Sum of x[k]^2 in the 16-lane order of f32-rmsnorm.h.
float lane_sum_squares(size_t N, const float* x) {
  float lane[kLanes] = {0};
  size_t k = 0;
  for (; k + kLanes <= N; k += kLanes) {
    for (size_t l = 0; l < kLanes; ++l) lane[l] += x[k + l] * x[k + l];
  }
  for (size_t half = kLanes / 2; half > 0; half /= 2) {
    for (size_t l = 0; l < half; ++l) lane[l] += lane[l + half];
  }
  float sum = lane[0];
  for (; k < N; ++k) sum += x[k] * x[k];
  return sum;
}
}  // namespace

void heed_f32_rmsnorm__scalar(size_t M, size_t N, const float* x, const float* w, float eps, float* y) {
  for (size_t m = 0; m < M; ++m) {
    const float* xr = x + m * N;
    float* yr = y + m * N;
    const float ms = lane_sum_squares(N, xr) / float(N);
    const float r = 1.0f / std::sqrt(ms + eps);
    for (size_t k = 0; k < N; ++k) yr[k] = rmsnorm_out(xr[k], r, w[k]);
  }
}

}  // namespace heed
