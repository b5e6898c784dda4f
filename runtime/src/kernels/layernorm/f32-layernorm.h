// f32-layernorm: y[m,:] = LayerNorm(x[m,:] + residual[m,:]) * gamma + beta.
//   v = x + residual (residual may be null); y may alias x.
//   mean = lane_sum(v) * (1/N); var = lane_sum((v - mean)^2) * (1/N)
//   rstd = 1 / sqrt(var + eps); y = (v - mean) * rstd * gamma + beta   (left to right, no FMA)
//   a NaN y is stored as the default NaN 0x7fc00000 (payloads would depend on
//   operand order)
// lane_sum: 16 partial sums over k (lane = k % 16) for k < 16 * floor(N/16),
// the lanes added pairwise (0+8 .. 7+15, then 0+4 .., 0+2, 0+1), then the
// remaining k in order. SIMD variants keep exactly this order (avx2: two 8-lane
// accumulators, avx512vnni: one 16-lane, neon: four 4-lane), and compute the
// residual and output passes elementwise with the same operations, so every
// variant gives the reference's bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

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
void heed_f32_layernorm__avx2(size_t M, size_t N, const float* x, const float* residual, const float* gamma,
                              const float* beta, float eps, float* y);
void heed_f32_layernorm__avx512vnni(size_t M, size_t N, const float* x, const float* residual, const float* gamma,
                                    const float* beta, float eps, float* y);
void heed_f32_layernorm__neon(size_t M, size_t N, const float* x, const float* residual, const float* gamma,
                              const float* beta, float eps, float* y);

// One output element as every variant computes it. `static`: each
// translation unit (each with its own ISA flags) keeps its own copy.
static inline float layernorm_out(float v, float mean, float rstd, float gamma, float beta) {
  float y = (v - mean) * rstd * gamma + beta;
  if (y != y) {
    const uint32_t nan = 0x7fc00000u;
    std::memcpy(&y, &nan, sizeof y);
  }
  return y;
}

}  // namespace heed
