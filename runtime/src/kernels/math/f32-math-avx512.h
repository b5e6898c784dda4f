// f32-math-avx512: f32_exp, f32_erf, f32_tanh and f32_gelu of f32-math.h on
// 16 lanes (AVX-512 F). Each function is the scalar one's operation sequence,
// step for step, with the same constants: vfmadd for std::fma, vmulps/vaddps/
// vsubps/vdivps for * + - /, mask compares and mask blends for the
// selections, integer lane ops for the exponent arithmetic. All of these are
// correctly rounded (or exact), so every lane gives the scalar function's
// bits. The clamps use vmaxps/vminps, which differ from the scalar ?: only for
// NaN lanes, whose result is replaced by the default NaN at the end.
// Include only from `__avx512vnni` files (compiled with AVX-512 F/BW/DQ/VL).
#pragma once

#if !defined(__AVX512F__) || !defined(__AVX512DQ__)
#error "f32-math-avx512.h needs AVX-512 F and DQ: include it only from __avx512vnni files"
#endif

#include <immintrin.h>

#include <limits>

#include "kernels/math/f32-math.h"

// GCC 12 reports its own `__m512 __Y = __Y` idiom (the undefined source
// operand of unmasked AVX-512 intrinsics such as _mm512_max_ps) as "may be
// used uninitialized" once inlined here; the operand is never read.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace heed {

static inline __m512 f32x16_default_nan() { return _mm512_castsi512_ps(_mm512_set1_epi32(int(f32math::kDefaultNaN))); }

static inline __m512 f32x16_exp(__m512 x) {
  using namespace f32math;
  const __m512 one = _mm512_set1_ps(1.0f), magic = _mm512_set1_ps(kRoundMagic);
  __m512 xc = _mm512_max_ps(x, _mm512_set1_ps(kExpLo));
  xc = _mm512_min_ps(xc, _mm512_set1_ps(kExpHi));
  const __m512 z = _mm512_fmadd_ps(xc, _mm512_set1_ps(kLog2e), magic);
  const __m512 n = _mm512_sub_ps(z, magic);
  const __m512i ni = _mm512_sub_epi32(_mm512_castps_si512(z), _mm512_castps_si512(magic));
  __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(-kLn2Hi), xc);
  r = _mm512_fmadd_ps(n, _mm512_set1_ps(-kLn2Lo), r);
  __m512 q = _mm512_set1_ps(kExpQ4);
  q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(kExpQ3));
  q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(kExpQ2));
  q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(kExpQ1));
  q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(kExpQ0));
  const __m512 p = _mm512_fmadd_ps(_mm512_fmadd_ps(q, r, one), r, one);
  const __m512i n1 = _mm512_srai_epi32(ni, 1), n2 = _mm512_sub_epi32(ni, n1);
  const __m512i bias = _mm512_set1_epi32(127);
  const __m512 s1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n1, bias), 23));
  const __m512 s2 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n2, bias), 23));
  __m512 y = _mm512_mul_ps(_mm512_mul_ps(p, s1), s2);
  const __m512i m126 = _mm512_set1_epi32(-126);
  const __mmask16 under = _mm512_cmplt_epi32_mask(ni, m126) |
                          (_mm512_cmpeq_epi32_mask(ni, m126) & _mm512_cmp_ps_mask(p, one, _CMP_LT_OQ));
  y = _mm512_mask_blend_ps(under, y, _mm512_setzero_ps());
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), y, f32x16_default_nan());
}

static inline __m512 f32x16_erf(__m512 x) {
  using namespace f32math;
  const __m512i sign_mask = _mm512_set1_epi32(int(kSignMask));
  const __m512i sign = _mm512_and_si512(_mm512_castps_si512(x), sign_mask);
  const __m512 a = _mm512_castsi512_ps(_mm512_andnot_si512(sign_mask, _mm512_castps_si512(x)));
  const __m512 u = _mm512_mul_ps(a, a);
  __m512 q = _mm512_set1_ps(kErfR5);
  q = _mm512_fmadd_ps(q, u, _mm512_set1_ps(kErfR4));
  q = _mm512_fmadd_ps(q, u, _mm512_set1_ps(kErfR3));
  q = _mm512_fmadd_ps(q, u, _mm512_set1_ps(kErfR2));
  q = _mm512_fmadd_ps(q, u, _mm512_set1_ps(kErfR1));
  q = _mm512_fmadd_ps(q, u, _mm512_set1_ps(kErfR0));
  const __m512 small = _mm512_fmadd_ps(a, q, a);
  const __m512 b = _mm512_min_ps(a, _mm512_set1_ps(kErfClamp));
  __m512 e = _mm512_set1_ps(kErfP6);
  e = _mm512_fmadd_ps(e, b, _mm512_set1_ps(kErfP5));
  e = _mm512_fmadd_ps(e, b, _mm512_set1_ps(kErfP4));
  e = _mm512_fmadd_ps(e, b, _mm512_set1_ps(kErfP3));
  e = _mm512_fmadd_ps(e, b, _mm512_set1_ps(kErfP2));
  e = _mm512_fmadd_ps(e, b, _mm512_set1_ps(kErfP1));
  e = _mm512_fmadd_ps(e, b, _mm512_set1_ps(kErfP0));
  const __m512 large = _mm512_sub_ps(_mm512_set1_ps(1.0f), f32x16_exp(e));
  __m512 y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, _mm512_set1_ps(kErfSplit), _CMP_LT_OQ), large, small);
  y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, _mm512_set1_ps(kMinNormal), _CMP_LT_OQ), y, _mm512_setzero_ps());
  y = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(y), sign));
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), y, f32x16_default_nan());
}

static inline __m512 f32x16_tanh(__m512 x) {
  using namespace f32math;
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512i sign_mask = _mm512_set1_epi32(int(kSignMask));
  const __m512i sign = _mm512_and_si512(_mm512_castps_si512(x), sign_mask);
  const __m512 a = _mm512_castsi512_ps(_mm512_andnot_si512(sign_mask, _mm512_castps_si512(x)));
  const __m512 u = _mm512_mul_ps(a, a);
  __m512 t = _mm512_set1_ps(kTanhT6);
  t = _mm512_fmadd_ps(t, u, _mm512_set1_ps(kTanhT5));
  t = _mm512_fmadd_ps(t, u, _mm512_set1_ps(kTanhT4));
  t = _mm512_fmadd_ps(t, u, _mm512_set1_ps(kTanhT3));
  t = _mm512_fmadd_ps(t, u, _mm512_set1_ps(kTanhT2));
  t = _mm512_fmadd_ps(t, u, _mm512_set1_ps(kTanhT1));
  t = _mm512_fmadd_ps(t, u, _mm512_set1_ps(kTanhT0));
  const __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(u, a), t, a);
  const __m512 e = f32x16_exp(_mm512_mul_ps(a, _mm512_set1_ps(-2.0f)));
  const __m512 large = _mm512_fmadd_ps(_mm512_set1_ps(-2.0f), _mm512_div_ps(e, _mm512_add_ps(one, e)), one);
  __m512 y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, _mm512_set1_ps(kTanhSplit), _CMP_LT_OQ), large, small);
  y = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(y), sign));
  y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, _mm512_set1_ps(kTanhTiny), _CMP_LT_OQ), y, x);
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), y, f32x16_default_nan());
}

static inline __m512 f32x16_gelu(__m512 x) {
  using namespace f32math;
  const __m512i sign_mask = _mm512_set1_epi32(int(kSignMask));
  const __m512 t = _mm512_add_ps(_mm512_set1_ps(1.0f), f32x16_erf(_mm512_mul_ps(x, _mm512_set1_ps(kInvSqrt2))));
  __m512 y = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), t);
  y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(t, _mm512_setzero_ps(), _CMP_EQ_OQ), y, _mm512_castsi512_ps(sign_mask));
  const __m512i sign = _mm512_and_si512(_mm512_castps_si512(y), sign_mask);
  const __m512 ay = _mm512_castsi512_ps(_mm512_andnot_si512(sign_mask, _mm512_castps_si512(y)));
  y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ay, _mm512_set1_ps(kMinNormal), _CMP_LT_OQ), y, _mm512_castsi512_ps(sign));
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), y, f32x16_default_nan());
}

// f32_silu and f32_gelu_tanh of f32-math.h, lane by lane.
static inline __m512 f32x16_silu(__m512 x) {
  using namespace f32math;
  const __m512 neg = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x), _mm512_set1_epi32(int(kSignMask))));
  const __m512 d = _mm512_add_ps(_mm512_set1_ps(1.0f), f32x16_exp(neg));
  __m512 y = _mm512_div_ps(x, d);
  const __m512 inf = _mm512_set1_ps(std::numeric_limits<float>::infinity());
  y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(d, inf, _CMP_EQ_OQ), y, _mm512_castsi512_ps(_mm512_set1_epi32(int(kSignMask))));
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), y, f32x16_default_nan());
}

static inline __m512 f32x16_gelu_tanh(__m512 x) {
  using namespace f32math;
  const __m512i sign_mask = _mm512_set1_epi32(int(kSignMask));
  const __m512 c = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
  const __m512 u = _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), c, x);
  const __m512 t = _mm512_add_ps(_mm512_set1_ps(1.0f), f32x16_tanh(_mm512_mul_ps(_mm512_set1_ps(0.7978845608028654f), u)));
  __m512 y = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), t);
  y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(t, _mm512_setzero_ps(), _CMP_EQ_OQ), y, _mm512_castsi512_ps(sign_mask));
  const __m512i sign = _mm512_and_si512(_mm512_castps_si512(y), sign_mask);
  const __m512 ay = _mm512_castsi512_ps(_mm512_andnot_si512(sign_mask, _mm512_castps_si512(y)));
  y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ay, _mm512_set1_ps(kMinNormal), _CMP_LT_OQ), y, _mm512_castsi512_ps(sign));
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), y, f32x16_default_nan());
}

// Sum of 16 lanes in the families' pairwise order (lane l + l+8, then l + l+4,
// l + l+2, 0 + 1), as layernorm, rmsnorm and attention's references add.
static inline float f32x16_sum16(__m512 v) {
  const __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));  // l + l+8
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));     // l + l+4
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));                                     // l + l+2
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));                                    // 0 + 1
}

}  // namespace heed
