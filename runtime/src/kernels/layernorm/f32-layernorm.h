// f32-layernorm: y[m,:] = LayerNorm(x[m,:] + residual[m,:]) * gamma + beta.
//   v = x + residual (residual may be null); y may alias x.
//   mean = lane_sum(v) * (1/N); var = lane_sum((v - mean)^2) * (1/N)
//   rstd = 1 / sqrt(var + eps); y = (v - mean) * rstd * gamma + beta   (left to right, no FMA)
// lane_sum: 16 partial sums over k (lane = k % 16) for k < 16 * floor(N/16),
// the lanes added pairwise (0+8 .. 7+15, then 0+4 .., 0+2, 0+1), then the
// remaining k in order. SIMD variants keep exactly this order.
#pragma once

#include <cstddef>

#include "kernels/isa.h"

namespace heed {

using LayerNormFn = void (*)(size_t M, size_t N, const float* x, const float* residual, const float* gamma,
                             const float* beta, float eps, float* y);

struct LayerNormVariant {
  const char* name;
  Isa isa;
  LayerNormFn fn;
};

extern const LayerNormVariant kLayerNormVariants[];
extern const size_t kLayerNormVariantCount;

void heed_f32_layernorm__scalar(size_t M, size_t N, const float* x, const float* residual, const float* gamma,
                                const float* beta, float eps, float* y);

}  // namespace heed
