// f32-math: heed's own float exp, erf and tanh, so that no kernel result
// depends on a platform's libm. Each function is one fixed sequence of float
// operations (multiply, add, fused multiply-add, comparisons, selections and
// bit operations only, each correctly rounded to nearest even by IEEE 754):
// this file is the scalar form, and f32-math-avx2.h, f32-math-avx512.h and
// f32-math-neon.h repeat the same sequence lane by lane with the same
// constants, so every ISA gives the same bits (tests/kernels). Nothing here
// reads or sets the rounding mode; std::fma is the correctly rounded fused
// multiply-add (an instruction where the ISA has one, else libm's fmaf, which
// is exact by definition).
//
// Subnormals: AArch32 NEON flushes subnormal inputs and results to zero in
// hardware, so the sequences are written such that a subnormal can only
// appear where it is absorbed (an addend far below the other operand's ulp)
// or where the documented result is an explicit +-0 anyway (exp's underflow
// test, erf's and gelu's zero flushes, tanh's tiny-argument selection).
//
// Accuracy against double-precision std::exp / std::erf / std::tanh, in ulps
// of the exact result, measured over every float (x86, while writing these;
// the scalar functions give the same bits everywhere):
//   f32_exp   max 0.891 ulp (at x = -5.8487) wherever exp(x) >= 2^-126, i.e. on
//             [-87.3365, 88.7228] (+inf above); below, the result is +0
//   f32_erf   max 1.112 ulp (at x = 0.8921) on every float but subnormals (+-0)
//   f32_tanh  max 1.027 ulp (at x = 1.0037) on every float
// tests/kernels/references-test.cc ("math:") holds sweeps to these bounds. GELU
// inherits erf's accuracy except where 1 + erf(x/sqrt 2) cancels (x < -1): that
// is the formula's own loss, as with any float erf.
//
// Coefficients: weighted minimax fits made for heed (Lawson's iteratively
// reweighted least squares over 4000-6000 Chebyshev-distributed points,
// targets from mpmath at 40 digits, numpy solves), rounded to float one
// coefficient at a time from degree 0 up, refitting the remaining ones after
// each rounding. Fitted quantities and weights:
//   exp:  Q with exp(r) = 1 + r + r^2 Q(r) on |r| <= ln2/2 + 2e-5, weight r^2/exp(r)
//         (max relative error of the fit 2^-28.3)
//   erf:  R with erf(a) = a + a R(a^2) on [0, 0.875), weight a/erf(a)  (2^-26.1)
//         P with erf(a) = 1 - exp(P(a)) on [0.875, 4], weight erfc(a)  (absolute 2^-29.1)
//   tanh: T with tanh(a) = a + a^3 T(a^2) on [0, 1), weight a^3/tanh(a)  (2^-27.7)
#pragma once

#include <cmath>
#include <limits>
#include <cstdint>
#include <cstring>

namespace heed {
namespace f32math {

// exp
constexpr float kExpLo = -104.0f;                 // exp(x) for x < -104 underflows anyway: clamp
constexpr float kExpHi = 89.0f;                   // exp(x) for x > 89 overflows anyway: clamp
constexpr float kLog2e = 0x1.715476p+0f;          // float(1/ln 2)
constexpr float kRoundMagic = 0x1.8p23f;          // 1.5 * 2^23: adding it rounds to an integer (RNE)
constexpr float kLn2Hi = 0x1.62e43p-1f;           // float(ln 2)
constexpr float kLn2Lo = -0x1.05c61p-29f;         // float(ln 2 - kLn2Hi)
constexpr float kExpQ0 = 0x1.fffffcp-2f;
constexpr float kExpQ1 = 0x1.555492p-3f;
constexpr float kExpQ2 = 0x1.5558aap-5f;
constexpr float kExpQ3 = 0x1.12396cp-7f;
constexpr float kExpQ4 = 0x1.6a523ap-10f;
// erf
constexpr float kErfSplit = 0.875f;
constexpr float kErfClamp = 4.0f;                 // erf(a) rounds to 1 for a >= 3.9193
constexpr float kErfR0 = 0x1.06eba6p-3f;
constexpr float kErfR1 = -0x1.8126eep-2f;
constexpr float kErfR2 = 0x1.ce1beep-4f;
constexpr float kErfR3 = -0x1.b6a216p-6f;
constexpr float kErfR4 = 0x1.47c52ap-8f;
constexpr float kErfR5 = -0x1.3c566ap-11f;
constexpr float kErfP0 = -0x1.2e6f5cp-13f;
constexpr float kErfP1 = -0x1.20bd5cp+0f;
constexpr float kErfP2 = -0x1.460d5ap-1f;
constexpr float kErfP3 = -0x1.ab025p-4f;
constexpr float kErfP4 = 0x1.6eb0fcp-6f;
constexpr float kErfP5 = -0x1.93f6fep-9f;
constexpr float kErfP6 = 0x1.a33a04p-13f;
// tanh
constexpr float kTanhTiny = 0x1p-12f;             // tanh(a) rounds to a below this
constexpr float kTanhSplit = 1.0f;
constexpr float kTanhT0 = -0x1.55553cp-2f;
constexpr float kTanhT1 = 0x1.110be4p-3f;
constexpr float kTanhT2 = -0x1.b9623cp-5f;
constexpr float kTanhT3 = 0x1.6009cp-6f;
constexpr float kTanhT4 = -0x1.04606ap-7f;
constexpr float kTanhT5 = 0x1.2da1ep-9f;
constexpr float kTanhT6 = -0x1.77d222p-12f;
// gelu
constexpr float kInvSqrt2 = 0x1.6a09e6p-1f;       // float(1/sqrt 2)
// common
constexpr float kMinNormal = 0x1p-126f;
constexpr uint32_t kSignMask = 0x80000000u;
constexpr uint32_t kAbsMask = 0x7fffffffu;
constexpr uint32_t kDefaultNaN = 0x7fc00000u;     // every NaN result is this quiet NaN

}  // namespace f32math

static inline uint32_t f32_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}
static inline float f32_from_bits(uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// exp(x), in this order:
//   xc = min(max(x, -104), 89)
//   z = fma(xc, log2e, 1.5*2^23); n = z - 1.5*2^23   (n = xc*log2e rounded to nearest even)
//   ni = bits(z) - bits(1.5*2^23)                     (n as an integer, -150..128)
//   r = fma(n, -ln2_hi, xc); r = fma(n, -ln2_lo, r)
//   q = Q4; q = fma(q, r, Q3); ...; q = fma(q, r, Q0)
//   p = fma(fma(q, r, 1), r, 1)                      (p = 1 + r + r^2 q, in [0.70, 1.42])
//   y = (p * 2^(ni >> 1)) * 2^(ni - (ni >> 1))       (the first product is exact; the
//                                                      second overflows to +inf as IEEE says)
//   y = +0 where p * 2^ni < 2^-126, i.e. ni < -126 or (ni == -126 and p < 1)
//   y = default NaN where x is NaN
// exp(-inf) = +0, exp(+inf) = +inf, exp(+-0) = 1 exactly.
static inline float f32_exp(float x) {
  using namespace f32math;
  float xc = x < kExpLo ? kExpLo : x;
  xc = xc > kExpHi ? kExpHi : xc;
  const float z = std::fma(xc, kLog2e, kRoundMagic);
  const float n = z - kRoundMagic;
  const int32_t ni = int32_t(f32_bits(z) - f32_bits(kRoundMagic));
  float r = std::fma(n, -kLn2Hi, xc);
  r = std::fma(n, -kLn2Lo, r);
  float q = kExpQ4;
  q = std::fma(q, r, kExpQ3);
  q = std::fma(q, r, kExpQ2);
  q = std::fma(q, r, kExpQ1);
  q = std::fma(q, r, kExpQ0);
  const float p = std::fma(std::fma(q, r, 1.0f), r, 1.0f);
  const int32_t n1 = ni >> 1, n2 = ni - n1;
  const float s1 = f32_from_bits(uint32_t(n1 + 127) << 23);
  const float s2 = f32_from_bits(uint32_t(n2 + 127) << 23);
  float y = (p * s1) * s2;
  if (ni < -126 || (ni == -126 && p < 1.0f)) y = 0.0f;
  if (x != x) y = f32_from_bits(kDefaultNaN);
  return y;
}

// erf(x), on a = |x|, in this order:
//   small (a < 0.875): u = a*a; q = R5; q = fma(q, u, R4); ...; q = fma(q, u, R0);
//                      y = fma(a, q, a)
//   large (a >= 0.875): b = min(a, 4); e = P6; e = fma(e, b, P5); ...; e = fma(e, b, P0);
//                      y = 1 - f32_exp(e)
//   y = 0 where a < 2^-126 (subnormal x); y |= sign(x); default NaN where x is NaN.
// erf(+-inf) = +-1, erf(+-0) = +-0.
static inline float f32_erf(float x) {
  using namespace f32math;
  const uint32_t sign = f32_bits(x) & kSignMask;
  const float a = f32_from_bits(f32_bits(x) & kAbsMask);
  float y;
  if (a < kErfSplit) {
    const float u = a * a;
    float q = kErfR5;
    q = std::fma(q, u, kErfR4);
    q = std::fma(q, u, kErfR3);
    q = std::fma(q, u, kErfR2);
    q = std::fma(q, u, kErfR1);
    q = std::fma(q, u, kErfR0);
    y = std::fma(a, q, a);
  } else {
    const float b = a > kErfClamp ? kErfClamp : a;
    float e = kErfP6;
    e = std::fma(e, b, kErfP5);
    e = std::fma(e, b, kErfP4);
    e = std::fma(e, b, kErfP3);
    e = std::fma(e, b, kErfP2);
    e = std::fma(e, b, kErfP1);
    e = std::fma(e, b, kErfP0);
    y = 1.0f - f32_exp(e);
  }
  if (a < kMinNormal) y = 0.0f;
  y = f32_from_bits(f32_bits(y) | sign);
  if (x != x) y = f32_from_bits(kDefaultNaN);
  return y;
}

// tanh(x), on a = |x|, in this order:
//   small (a < 1): u = a*a; t = T6; t = fma(t, u, T5); ...; t = fma(t, u, T0);
//                  y = fma(u * a, t, a)
//   large (a >= 1): e = f32_exp(a * -2); y = fma(-2, e / (1 + e), 1)   (= 1 - 2e/(1+e))
//   y |= sign(x); y = x where a < 2^-12 (tanh(x) rounds to x there; this also keeps
//   subnormals); default NaN where x is NaN.
// tanh(+-inf) = +-1 (e = +0), tanh(+-0) = +-0.
static inline float f32_tanh(float x) {
  using namespace f32math;
  const uint32_t sign = f32_bits(x) & kSignMask;
  const float a = f32_from_bits(f32_bits(x) & kAbsMask);
  float y;
  if (a < kTanhSplit) {
    const float u = a * a;
    float t = kTanhT6;
    t = std::fma(t, u, kTanhT5);
    t = std::fma(t, u, kTanhT4);
    t = std::fma(t, u, kTanhT3);
    t = std::fma(t, u, kTanhT2);
    t = std::fma(t, u, kTanhT1);
    t = std::fma(t, u, kTanhT0);
    y = std::fma(u * a, t, a);
  } else {
    const float e = f32_exp(a * -2.0f);
    y = std::fma(-2.0f, e / (1.0f + e), 1.0f);
  }
  y = f32_from_bits(f32_bits(y) | sign);
  if (a < kTanhTiny) y = x;
  if (x != x) y = f32_from_bits(kDefaultNaN);
  return y;
}

// GELU, erf form: y = (0.5 * x) * (1 + f32_erf(x * float(1/sqrt 2))), left to right;
// then y = -0 where 1 + erf(...) == 0 (x <= -5.41, including -inf, which would
// otherwise give NaN), results below 2^-126 in magnitude become 0 of their sign,
// and NaN x gives the default NaN.
static inline float f32_gelu(float x) {
  using namespace f32math;
  const float t = 1.0f + f32_erf(x * kInvSqrt2);
  float y = (0.5f * x) * t;
  if (t == 0.0f) y = -0.0f;
  if (f32_from_bits(f32_bits(y) & kAbsMask) < kMinNormal) y = f32_from_bits(f32_bits(y) & kSignMask);
  if (x != x) y = f32_from_bits(kDefaultNaN);
  return y;
}

// SiLU: y = x / (1 + f32_exp(-x)), left to right; y = -0 where the
// denominator is +inf (x <= -88.7, where x / inf is -0 anyway, and -inf,
// where it would be NaN); default NaN where x is NaN. silu(+inf) = +inf.
static inline float f32_silu(float x) {
  using namespace f32math;
  const float d = 1.0f + f32_exp(-x);
  float y = x / d;
  if (d == std::numeric_limits<float>::infinity()) y = -0.0f;
  if (x != x) y = f32_from_bits(kDefaultNaN);
  return y;
}

// GELU, tanh form (GPT-2's gelu_new):
//   c = (x * x) * x; u = fma(0.044715, c, x); t = 1 + f32_tanh(float(sqrt(2/pi)) * u);
//   y = (0.5 * x) * t
// then y = -0 where t == 0 (x <= -9.2 or so, and -inf), results below 2^-126 in
// magnitude become 0 of their sign, and NaN x gives the default NaN. Where
// x^3 overflows, u is +-inf and t is 2 or 0 exactly.
static inline float f32_gelu_tanh(float x) {
  using namespace f32math;
  const float c = (x * x) * x;
  const float u = std::fma(0.044715f, c, x);
  const float t = 1.0f + f32_tanh(0.7978845608028654f * u);
  float y = (0.5f * x) * t;
  if (t == 0.0f) y = -0.0f;
  if (f32_from_bits(f32_bits(y) & kAbsMask) < kMinNormal) y = f32_from_bits(f32_bits(y) & kSignMask);
  if (x != x) y = f32_from_bits(kDefaultNaN);
  return y;
}

}  // namespace heed
