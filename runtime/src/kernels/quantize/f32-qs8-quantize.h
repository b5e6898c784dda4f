// f32-qs8-quantize: float activations -> int8 rows for the int8 GEMM.
//
// Dynamic (static_scale == 0): per row and per block of `block` columns
// (block >= K: one scale per row), nb = ceil(K / block):
//   v[m,k] = smooth ? x[m,k] * smooth[k] : x[m,k]
//   absmax = max |v| over the block; scales[m*nb + b] = absmax / 127 (0 if absmax == 0)
//   q[m,k] = clamp(round_half_even(v[m,k] * (127 / absmax)), -127, 127)   (0 if absmax == 0)
// Static (static_scale > 0, calibrated): q = clamp(round_half_even(v * (1 /
// static_scale)), -127, 127); every scale entry is static_scale.
// Each row is written to kp = padded_k(K) bytes: columns K..kp-1 are 0.
// Every byte is stored XOR xor_mask (0, or 0x80 for GEMM variants that read
// unsigned x + 128). A NaN input becomes 0 (and is ignored by absmax, as
// std::fmax ignores it). round_half_even is std::nearbyint under the default
// rounding mode. Every variant gives these bytes and scales exactly: products
// and quotients are single correctly rounded operations, absmax is exact in any
// order, and SIMD rounding (vcvtps2dq, fcvtns, or the 1.5*2^23 addition on
// values already clamped to [-127, 127]) is round half to even as well.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/isa.h"

namespace heed {

struct QuantizeParams {
  size_t M, K, kp, block;
  const float* x;        // [M, ldx]
  size_t ldx;
  const float* smooth;   // [K] SmoothQuant multipliers, or null
  float static_scale;    // 0: dynamic scales
  int8_t* q;             // [M, ldq], ldq >= kp
  size_t ldq;
  float* scales;         // [M, nb]
  uint8_t xor_mask;
};

using QuantizeFn = void (*)(const QuantizeParams& p);

struct QuantizeVariant {
  const char* name;
  Isa isa;
  QuantizeFn fn;
};

extern const QuantizeVariant kQuantizeVariants[];
extern const size_t kQuantizeVariantCount;

void heed_f32_qs8_quantize__scalar(const QuantizeParams& p);
void heed_f32_qs8_quantize__avx2(const QuantizeParams& p);
void heed_f32_qs8_quantize__avx512vnni(const QuantizeParams& p);
void heed_f32_qs8_quantize__neon(const QuantizeParams& p);

// One value as the reference quantizes it: round half to even under the
// default rounding mode, then clamp to the symmetric int8 range (-128 is
// never produced, so negation stays exact); NaN (only reachable from a weight
// file changed after load) becomes 0, so the float-to-int conversion is
// always defined. `static`: every translation unit (each with its own ISA
// flags) keeps its own copy.
static inline int8_t qs8_quantize_one(float v) {
  float r = std::nearbyint(v);
  if (r > 127.0f) r = 127.0f;
  if (r < -127.0f) r = -127.0f;
  return r == r ? static_cast<int8_t>(r) : int8_t(0);
}
static inline int8_t qs8_masked(int8_t q, uint8_t mask) { return static_cast<int8_t>(static_cast<uint8_t>(q) ^ mask); }

}  // namespace heed
