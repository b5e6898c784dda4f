// f32-rmsnorm: y[m,:] = x[m,:] / sqrt(mean(x[m,:]^2) + eps) * w, as Llama's
// LlamaRMSNorm computes it in float32:
//   ms = lane_sum(x * x) / N; r = 1 / sqrt(ms + eps); y = w * (x * r)
//   (left to right, no FMA); y may alias x.
//   a NaN y is stored as the default NaN 0x7fc00000 (payloads would depend on
//   operand order)
// lane_sum: the order of f32-layernorm.h: 16 partial sums over k (lane =
// k % 16) for k < 16 * floor(N/16), the lanes added pairwise (0+8 .. 7+15,
// then 0+4 .., 0+2, 0+1), then the remaining k in order. A SIMD variant must
// keep exactly this order to give the reference's bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/isa.h"

namespace heed {

using RmsNormFn = void (*)(size_t M, size_t N, const float* x, const float* w, float eps, float* y);

struct RmsNormVariant {
  const char* name;
  Isa isa;
  RmsNormFn fn;
};

extern const RmsNormVariant kRmsNormVariants[];
extern const size_t kRmsNormVariantCount;

void heed_f32_rmsnorm__scalar(size_t M, size_t N, const float* x, const float* w, float eps, float* y);
void heed_f32_rmsnorm__avx2(size_t M, size_t N, const float* x, const float* w, float eps, float* y);
void heed_f32_rmsnorm__avx512vnni(size_t M, size_t N, const float* x, const float* w, float eps, float* y);
void heed_f32_rmsnorm__neon(size_t M, size_t N, const float* x, const float* w, float eps, float* y);

// One output element as every variant computes it. `static`: each
// translation unit (each with its own ISA flags) keeps its own copy.
static inline float rmsnorm_out(float x, float r, float w) {
  float y = w * (x * r);
  if (y != y) {
    const uint32_t nan = 0x7fc00000u;
    std::memcpy(&y, &nan, sizeof y);
  }
  return y;
}

}  // namespace heed
