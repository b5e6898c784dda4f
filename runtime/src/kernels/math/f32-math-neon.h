// f32-math-neon: f32_exp, f32_erf, f32_tanh and f32_gelu of f32-math.h on 4
// lanes (AArch64 NEON, or AArch32 NEON with VFPv4's fused multiply-add).
// Each function is the scalar one's operation sequence, step for step, with
// the same constants: vfma for std::fma, vmul/vadd/vsub for * + -, compares
// and bit selects for the selections, integer lane ops for the exponent
// arithmetic, so every lane gives the scalar function's bits.
//   - Division (tanh) is vdivq on AArch64; AArch32 NEON has no correctly
//     rounded vector division, so each lane is divided by the VFP unit (IEEE,
//     the scalar reference's own instruction).
//   - AArch32 NEON flushes subnormals to zero; f32-math.h's sequences only
//     produce subnormals where they are absorbed or explicitly flushed, so the
//     results still agree (see there). Its NaN results are the default NaN,
//     which is what every form returns for NaN.
//   - The clamps use vmax/vmin, which differ from the scalar ?: only for NaN
//     lanes, whose result is replaced by the default NaN at the end.
// Include only from `__neon` files.
#pragma once

#if !defined(__ARM_NEON)
#error "f32-math-neon.h needs NEON: include it only from __neon files"
#endif
#if defined(__arm__) && !defined(__ARM_FEATURE_FMA)
#error "f32-math-neon.h needs VFPv4 fused multiply-add on AArch32 (-mfpu=neon-vfpv4)"
#endif

#include <arm_neon.h>

#include "kernels/math/f32-math.h"

namespace heed {

// Correctly rounded n / d per lane.
static inline float32x4_t f32x4_div(float32x4_t n, float32x4_t d) {
#if defined(__aarch64__)
  return vdivq_f32(n, d);
#else
  float a[4], b[4];
  vst1q_f32(a, n);
  vst1q_f32(b, d);
  for (int i = 0; i < 4; ++i) a[i] = a[i] / b[i];
  return vld1q_f32(a);
#endif
}

static inline float32x4_t f32x4_default_nan() { return vreinterpretq_f32_u32(vdupq_n_u32(f32math::kDefaultNaN)); }

static inline float32x4_t f32x4_exp(float32x4_t x) {
  using namespace f32math;
  const float32x4_t one = vdupq_n_f32(1.0f), magic = vdupq_n_f32(kRoundMagic);
  float32x4_t xc = vmaxq_f32(x, vdupq_n_f32(kExpLo));
  xc = vminq_f32(xc, vdupq_n_f32(kExpHi));
  const float32x4_t z = vfmaq_f32(magic, xc, vdupq_n_f32(kLog2e));
  const float32x4_t n = vsubq_f32(z, magic);
  const int32x4_t ni = vsubq_s32(vreinterpretq_s32_f32(z), vreinterpretq_s32_f32(magic));
  float32x4_t r = vfmaq_f32(xc, n, vdupq_n_f32(-kLn2Hi));
  r = vfmaq_f32(r, n, vdupq_n_f32(-kLn2Lo));
  float32x4_t q = vdupq_n_f32(kExpQ4);
  q = vfmaq_f32(vdupq_n_f32(kExpQ3), q, r);
  q = vfmaq_f32(vdupq_n_f32(kExpQ2), q, r);
  q = vfmaq_f32(vdupq_n_f32(kExpQ1), q, r);
  q = vfmaq_f32(vdupq_n_f32(kExpQ0), q, r);
  const float32x4_t p = vfmaq_f32(one, vfmaq_f32(one, q, r), r);
  const int32x4_t n1 = vshrq_n_s32(ni, 1), n2 = vsubq_s32(ni, n1);
  const int32x4_t bias = vdupq_n_s32(127);
  const float32x4_t s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n1, bias), 23));
  const float32x4_t s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n2, bias), 23));
  float32x4_t y = vmulq_f32(vmulq_f32(p, s1), s2);
  const int32x4_t m126 = vdupq_n_s32(-126);
  const uint32x4_t under = vorrq_u32(vcltq_s32(ni, m126), vandq_u32(vceqq_s32(ni, m126), vcltq_f32(p, one)));
  y = vbslq_f32(under, vdupq_n_f32(0.0f), y);
  return vbslq_f32(vceqq_f32(x, x), y, f32x4_default_nan());
}

static inline float32x4_t f32x4_erf(float32x4_t x) {
  using namespace f32math;
  const uint32x4_t sign_mask = vdupq_n_u32(kSignMask);
  const uint32x4_t sign = vandq_u32(vreinterpretq_u32_f32(x), sign_mask);
  const float32x4_t a = vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(x), sign_mask));
  const float32x4_t u = vmulq_f32(a, a);
  float32x4_t q = vdupq_n_f32(kErfR5);
  q = vfmaq_f32(vdupq_n_f32(kErfR4), q, u);
  q = vfmaq_f32(vdupq_n_f32(kErfR3), q, u);
  q = vfmaq_f32(vdupq_n_f32(kErfR2), q, u);
  q = vfmaq_f32(vdupq_n_f32(kErfR1), q, u);
  q = vfmaq_f32(vdupq_n_f32(kErfR0), q, u);
  const float32x4_t small = vfmaq_f32(a, a, q);
  const float32x4_t b = vminq_f32(a, vdupq_n_f32(kErfClamp));
  float32x4_t e = vdupq_n_f32(kErfP6);
  e = vfmaq_f32(vdupq_n_f32(kErfP5), e, b);
  e = vfmaq_f32(vdupq_n_f32(kErfP4), e, b);
  e = vfmaq_f32(vdupq_n_f32(kErfP3), e, b);
  e = vfmaq_f32(vdupq_n_f32(kErfP2), e, b);
  e = vfmaq_f32(vdupq_n_f32(kErfP1), e, b);
  e = vfmaq_f32(vdupq_n_f32(kErfP0), e, b);
  const float32x4_t large = vsubq_f32(vdupq_n_f32(1.0f), f32x4_exp(e));
  float32x4_t y = vbslq_f32(vcltq_f32(a, vdupq_n_f32(kErfSplit)), small, large);
  y = vbslq_f32(vcltq_f32(a, vdupq_n_f32(kMinNormal)), vdupq_n_f32(0.0f), y);
  y = vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(y), sign));
  return vbslq_f32(vceqq_f32(x, x), y, f32x4_default_nan());
}

static inline float32x4_t f32x4_tanh(float32x4_t x) {
  using namespace f32math;
  const float32x4_t one = vdupq_n_f32(1.0f);
  const uint32x4_t sign_mask = vdupq_n_u32(kSignMask);
  const uint32x4_t sign = vandq_u32(vreinterpretq_u32_f32(x), sign_mask);
  const float32x4_t a = vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(x), sign_mask));
  const float32x4_t u = vmulq_f32(a, a);
  float32x4_t t = vdupq_n_f32(kTanhT6);
  t = vfmaq_f32(vdupq_n_f32(kTanhT5), t, u);
  t = vfmaq_f32(vdupq_n_f32(kTanhT4), t, u);
  t = vfmaq_f32(vdupq_n_f32(kTanhT3), t, u);
  t = vfmaq_f32(vdupq_n_f32(kTanhT2), t, u);
  t = vfmaq_f32(vdupq_n_f32(kTanhT1), t, u);
  t = vfmaq_f32(vdupq_n_f32(kTanhT0), t, u);
  const float32x4_t small = vfmaq_f32(a, vmulq_f32(u, a), t);
  const float32x4_t e = f32x4_exp(vmulq_f32(a, vdupq_n_f32(-2.0f)));
  const float32x4_t large = vfmaq_f32(one, vdupq_n_f32(-2.0f), f32x4_div(e, vaddq_f32(one, e)));
  float32x4_t y = vbslq_f32(vcltq_f32(a, vdupq_n_f32(kTanhSplit)), small, large);
  y = vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(y), sign));
  y = vbslq_f32(vcltq_f32(a, vdupq_n_f32(kTanhTiny)), x, y);
  return vbslq_f32(vceqq_f32(x, x), y, f32x4_default_nan());
}

static inline float32x4_t f32x4_gelu(float32x4_t x) {
  using namespace f32math;
  const uint32x4_t sign_mask = vdupq_n_u32(kSignMask);
  const float32x4_t t = vaddq_f32(vdupq_n_f32(1.0f), f32x4_erf(vmulq_f32(x, vdupq_n_f32(kInvSqrt2))));
  float32x4_t y = vmulq_f32(vmulq_f32(vdupq_n_f32(0.5f), x), t);
  y = vbslq_f32(vceqq_f32(t, vdupq_n_f32(0.0f)), vreinterpretq_f32_u32(sign_mask), y);
  const uint32x4_t yb = vreinterpretq_u32_f32(y);
  const float32x4_t ay = vreinterpretq_f32_u32(vbicq_u32(yb, sign_mask));
  y = vbslq_f32(vcltq_f32(ay, vdupq_n_f32(kMinNormal)), vreinterpretq_f32_u32(vandq_u32(yb, sign_mask)), y);
  return vbslq_f32(vceqq_f32(x, x), y, f32x4_default_nan());
}

// Sum of 16 lanes (a0 = lanes 0..3, ..., a3 = 12..15) in the families'
// pairwise order (l + l+8, then l + l+4, l + l+2, 0 + 1), as layernorm,
// rmsnorm and attention's references add.
static inline float f32x4x4_sum16(float32x4_t a0, float32x4_t a1, float32x4_t a2, float32x4_t a3) {
  const float32x4_t s4 = vaddq_f32(vaddq_f32(a0, a2), vaddq_f32(a1, a3));  // l + l+8, then l + l+4
  const float32x2_t s2 = vadd_f32(vget_low_f32(s4), vget_high_f32(s4));    // l + l+2
  return vget_lane_f32(s2, 0) + vget_lane_f32(s2, 1);                      // 0 + 1
}

}  // namespace heed
