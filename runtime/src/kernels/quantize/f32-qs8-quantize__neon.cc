// f32-qs8-quantize, NEON: 8 values per step (4 for the absmax scan), the
// rest in scalar code identical to the reference. Exact per step: v = x *
// smooth and v * inv are the reference's single roundings; absmax is an
// unsigned max of the magnitude bits with NaN lanes zeroed, which orders
// non-negative floats exactly as std::fmax does (NaN ignored) in any order;
// the value is clamped to [-127, 127] first (vmax/vmin; rounding and clamping
// commute since the bounds are integers), NaN lanes are zeroed, and rounding
// is half to even: fcvtns on AArch64, the 1.5*2^23 addition and subtraction
// (exact for |t| <= 127) then a truncating conversion on AArch32. Scales and
// reciprocals are the reference's scalar divisions.
//
// AArch32 NEON flushes subnormals to zero (the VFP scalar code does not).
// That cannot change a byte when the block's absmax is at least 2^-100
// (a flushed lane would have rounded to 0 anyway) unless an input is
// subnormal while smoothing multiplies it up; so on AArch32 a block with a
// smaller absmax, or with a subnormal x or multiplier, is done by the scalar
// code, as is a static row with 1/static_scale >= 2^100. Same bytes and
// scales as heed_f32_qs8_quantize__scalar on every ARM CPU.
#include <arm_neon.h>

#include <cmath>
#include <cstring>

#include "kernels/quantize/f32-qs8-quantize.h"

namespace heed {

namespace {
#if defined(__arm__)
constexpr bool kFlushes = true;
#else
constexpr bool kFlushes = false;
#endif
constexpr uint32_t kSmallBits = 0x0d800000u;  // 2^-100

inline float smoothed(const float* x, const float* smooth, size_t k) { return smooth ? x[k] * smooth[k] : x[k]; }

// The reference, for [k0, k1).
inline void quantize_scalar(const float* xr, const float* smooth, size_t k0, size_t k1, float inv, uint8_t mask,
                            int8_t* qr) {
  for (size_t k = k0; k < k1; ++k) qr[k] = qs8_masked(qs8_quantize_one(smoothed(xr, smooth, k) * inv), mask);
}

inline float32x4_t load_v(const float* x, const float* smooth, size_t k) {
  const float32x4_t v = vld1q_f32(x + k);
  return smooth ? vmulq_f32(v, vld1q_f32(smooth + k)) : v;
}

// Lanes holding a subnormal (zero exponent, nonzero fraction).
inline uint32x4_t subnormal(float32x4_t v) {
  const uint32x4_t b = vreinterpretq_u32_f32(v);
  const uint32x4_t exp_zero = vceqq_u32(vandq_u32(b, vdupq_n_u32(0x7f800000u)), vdupq_n_u32(0));
  return vandq_u32(exp_zero, vtstq_u32(b, vdupq_n_u32(0x007fffffu)));
}

inline uint32_t max_lane(uint32x4_t v) {
  uint32x2_t m = vpmax_u32(vget_low_u32(v), vget_high_u32(v));
  m = vpmax_u32(m, m);
  return vget_lane_u32(m, 0);
}

// |v| as bits, NaN lanes 0.
inline uint32x4_t magnitude(float32x4_t v) {
  const uint32x4_t b = vandq_u32(vreinterpretq_u32_f32(v), vdupq_n_u32(0x7fffffffu));
  return vbicq_u32(b, vcgtq_u32(b, vdupq_n_u32(0x7f800000u)));
}

// clamp(round_half_even(v * inv), -127, 127), NaN -> 0, as int32.
inline int32x4_t round_clamp(float32x4_t v, float32x4_t inv) {
  float32x4_t t = vmulq_f32(v, inv);
  const uint32x4_t ordered = vceqq_f32(t, t);
  t = vminq_f32(vmaxq_f32(t, vdupq_n_f32(-127.0f)), vdupq_n_f32(127.0f));
  t = vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(t), ordered));
#if defined(__aarch64__)
  return vcvtnq_s32_f32(t);
#else
  const float32x4_t magic = vdupq_n_f32(0x1.8p23f);
  return vcvtq_s32_f32(vsubq_f32(vaddq_f32(t, magic), magic));
#endif
}

inline void quantize_range(const float* xr, const float* smooth, size_t k0, size_t k1, float inv, uint8_t mask,
                           int8_t* qr) {
  const float32x4_t vinv = vdupq_n_f32(inv);
  const int8x8_t vmask = vdup_n_s8(int8_t(mask));
  size_t k = k0;
  for (; k + 8 <= k1; k += 8) {
    const float32x4_t v0 = load_v(xr, smooth, k), v1 = load_v(xr, smooth, k + 4);
    if (kFlushes && smooth &&
        max_lane(vorrq_u32(vorrq_u32(subnormal(vld1q_f32(xr + k)), subnormal(vld1q_f32(xr + k + 4))),
                           vorrq_u32(subnormal(vld1q_f32(smooth + k)), subnormal(vld1q_f32(smooth + k + 4)))))) {
      quantize_scalar(xr, smooth, k, k + 8, inv, mask, qr);
      continue;
    }
    const int16x8_t i16 = vcombine_s16(vqmovn_s32(round_clamp(v0, vinv)), vqmovn_s32(round_clamp(v1, vinv)));
    vst1_s8(qr + k, veor_s8(vqmovn_s16(i16), vmask));
  }
  quantize_scalar(xr, smooth, k, k1, inv, mask, qr);
}

// absmax of the block as the reference computes it; *unsafe on AArch32 when
// a subnormal input is multiplied by a smoothing factor.
inline float block_absmax(const float* xr, const float* smooth, size_t k0, size_t k1, bool* unsafe) {
  uint32x4_t acc = vdupq_n_u32(0), sub = vdupq_n_u32(0);
  size_t k = k0;
  for (; k + 4 <= k1; k += 4) {
    acc = vmaxq_u32(acc, magnitude(load_v(xr, smooth, k)));
    if (kFlushes && smooth) sub = vorrq_u32(sub, vorrq_u32(subnormal(vld1q_f32(xr + k)), subnormal(vld1q_f32(smooth + k))));
  }
  uint32_t bits = max_lane(acc);
  float absmax;
  std::memcpy(&absmax, &bits, sizeof absmax);
  for (; k < k1; ++k) absmax = std::fmax(absmax, std::fabs(smoothed(xr, smooth, k)));
  *unsafe = kFlushes && (max_lane(sub) != 0);
  return absmax;
}
}  // namespace

void heed_f32_qs8_quantize__neon(const QuantizeParams& p) {
  const size_t nb = (p.K + p.block - 1) / p.block;
  for (size_t m = 0; m < p.M; ++m) {
    const float* xr = p.x + m * p.ldx;
    int8_t* qr = p.q + m * p.ldq;
    float* sr = p.scales + m * nb;
    if (p.static_scale > 0.0f) {
      const float inv = 1.0f / p.static_scale;
      if (kFlushes && !(inv < 0x1p100f)) quantize_scalar(xr, p.smooth, 0, p.K, inv, p.xor_mask, qr);
      else quantize_range(xr, p.smooth, 0, p.K, inv, p.xor_mask, qr);
      for (size_t b = 0; b < nb; ++b) sr[b] = p.static_scale;
    } else {
      for (size_t b = 0; b < nb; ++b) {
        const size_t k0 = b * p.block, k1 = k0 + p.block < p.K ? k0 + p.block : p.K;
        bool unsafe = false;
        float absmax = block_absmax(xr, p.smooth, k0, k1, &unsafe);
        const bool scalar = kFlushes && (unsafe || !(absmax >= 0x1p-100f));
        if (scalar) {  // the reference's absmax, in VFP code
          absmax = 0.0f;
          for (size_t k = k0; k < k1; ++k) absmax = std::fmax(absmax, std::fabs(smoothed(xr, p.smooth, k)));
        }
        if (!(absmax > 0.0f)) {
          sr[b] = 0.0f;
          std::memset(qr + k0, p.xor_mask, k1 - k0);
          continue;
        }
        sr[b] = absmax / 127.0f;
        const float inv = 127.0f / absmax;
        if (scalar) quantize_scalar(xr, p.smooth, k0, k1, inv, p.xor_mask, qr);
        else quantize_range(xr, p.smooth, k0, k1, inv, p.xor_mask, qr);
      }
    }
    if (p.kp > p.K) std::memset(qr + p.K, p.xor_mask, p.kp - p.K);
  }
}

}  // namespace heed
