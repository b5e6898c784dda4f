// f32-math-avx2: f32_exp, f32_erf, f32_tanh and f32_gelu of f32-math.h on 8
// lanes (AVX2 + FMA). Each function is the scalar one's operation sequence,
// step for step, with the same constants: vfmadd for std::fma, vmulps/vaddps/
// vsubps/vdivps for * + - /, compares and blends for the selections, integer
// lane ops for the exponent arithmetic. All of these are correctly rounded
// (or exact), so every lane gives the scalar function's bits. The clamps use
// vmaxps/vminps, which differ from the scalar ?: only for NaN lanes, whose
// result is replaced by the default NaN at the end in both forms.
// Include only from `__avx2` / `__avx512vnni` files (compiled with -mavx2 -mfma).
#pragma once

#if !defined(__AVX2__) || !defined(__FMA__)
#error "f32-math-avx2.h needs AVX2 and FMA: include it only from __avx2 or __avx512vnni files"
#endif

#include <immintrin.h>

#include <limits>

#include "kernels/math/f32-math.h"

namespace heed {

static inline __m256 f32x8_exp(__m256 x) {
  using namespace f32math;
  const __m256 one = _mm256_set1_ps(1.0f), magic = _mm256_set1_ps(kRoundMagic);
  __m256 xc = _mm256_max_ps(x, _mm256_set1_ps(kExpLo));
  xc = _mm256_min_ps(xc, _mm256_set1_ps(kExpHi));
  const __m256 z = _mm256_fmadd_ps(xc, _mm256_set1_ps(kLog2e), magic);
  const __m256 n = _mm256_sub_ps(z, magic);
  const __m256i ni = _mm256_sub_epi32(_mm256_castps_si256(z), _mm256_castps_si256(magic));
  __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-kLn2Hi), xc);
  r = _mm256_fmadd_ps(n, _mm256_set1_ps(-kLn2Lo), r);
  __m256 q = _mm256_set1_ps(kExpQ4);
  q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(kExpQ3));
  q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(kExpQ2));
  q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(kExpQ1));
  q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(kExpQ0));
  const __m256 p = _mm256_fmadd_ps(_mm256_fmadd_ps(q, r, one), r, one);
  const __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
  const __m256i m126 = _mm256_set1_epi32(-126);
  const __m256i under = _mm256_or_si256(
      _mm256_cmpgt_epi32(m126, ni),
      _mm256_and_si256(_mm256_cmpeq_epi32(ni, m126), _mm256_castps_si256(_mm256_cmp_ps(p, one, _CMP_LT_OQ))));
  y = _mm256_andnot_ps(_mm256_castsi256_ps(under), y);
  return _mm256_blendv_ps(y, _mm256_castsi256_ps(_mm256_set1_epi32(int(kDefaultNaN))), _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

static inline __m256 f32x8_erf(__m256 x) {
  using namespace f32math;
  const __m256 sign_mask = _mm256_castsi256_ps(_mm256_set1_epi32(int(kSignMask)));
  const __m256 sign = _mm256_and_ps(x, sign_mask);
  const __m256 a = _mm256_andnot_ps(sign_mask, x);
  const __m256 u = _mm256_mul_ps(a, a);
  __m256 q = _mm256_set1_ps(kErfR5);
  q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(kErfR4));
  q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(kErfR3));
  q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(kErfR2));
  q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(kErfR1));
  q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(kErfR0));
  const __m256 small = _mm256_fmadd_ps(a, q, a);
  const __m256 b = _mm256_min_ps(a, _mm256_set1_ps(kErfClamp));
  __m256 e = _mm256_set1_ps(kErfP6);
  e = _mm256_fmadd_ps(e, b, _mm256_set1_ps(kErfP5));
  e = _mm256_fmadd_ps(e, b, _mm256_set1_ps(kErfP4));
  e = _mm256_fmadd_ps(e, b, _mm256_set1_ps(kErfP3));
  e = _mm256_fmadd_ps(e, b, _mm256_set1_ps(kErfP2));
  e = _mm256_fmadd_ps(e, b, _mm256_set1_ps(kErfP1));
  e = _mm256_fmadd_ps(e, b, _mm256_set1_ps(kErfP0));
  const __m256 large = _mm256_sub_ps(_mm256_set1_ps(1.0f), f32x8_exp(e));
  __m256 y = _mm256_blendv_ps(large, small, _mm256_cmp_ps(a, _mm256_set1_ps(kErfSplit), _CMP_LT_OQ));
  y = _mm256_andnot_ps(_mm256_cmp_ps(a, _mm256_set1_ps(kMinNormal), _CMP_LT_OQ), y);
  y = _mm256_or_ps(y, sign);
  return _mm256_blendv_ps(y, _mm256_castsi256_ps(_mm256_set1_epi32(int(kDefaultNaN))), _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

static inline __m256 f32x8_tanh(__m256 x) {
  using namespace f32math;
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 sign_mask = _mm256_castsi256_ps(_mm256_set1_epi32(int(kSignMask)));
  const __m256 sign = _mm256_and_ps(x, sign_mask);
  const __m256 a = _mm256_andnot_ps(sign_mask, x);
  const __m256 u = _mm256_mul_ps(a, a);
  __m256 t = _mm256_set1_ps(kTanhT6);
  t = _mm256_fmadd_ps(t, u, _mm256_set1_ps(kTanhT5));
  t = _mm256_fmadd_ps(t, u, _mm256_set1_ps(kTanhT4));
  t = _mm256_fmadd_ps(t, u, _mm256_set1_ps(kTanhT3));
  t = _mm256_fmadd_ps(t, u, _mm256_set1_ps(kTanhT2));
  t = _mm256_fmadd_ps(t, u, _mm256_set1_ps(kTanhT1));
  t = _mm256_fmadd_ps(t, u, _mm256_set1_ps(kTanhT0));
  const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(u, a), t, a);
  const __m256 e = f32x8_exp(_mm256_mul_ps(a, _mm256_set1_ps(-2.0f)));
  const __m256 large = _mm256_fmadd_ps(_mm256_set1_ps(-2.0f), _mm256_div_ps(e, _mm256_add_ps(one, e)), one);
  __m256 y = _mm256_blendv_ps(large, small, _mm256_cmp_ps(a, _mm256_set1_ps(kTanhSplit), _CMP_LT_OQ));
  y = _mm256_or_ps(y, sign);
  y = _mm256_blendv_ps(y, x, _mm256_cmp_ps(a, _mm256_set1_ps(kTanhTiny), _CMP_LT_OQ));
  return _mm256_blendv_ps(y, _mm256_castsi256_ps(_mm256_set1_epi32(int(kDefaultNaN))), _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

static inline __m256 f32x8_gelu(__m256 x) {
  using namespace f32math;
  const __m256 sign_mask = _mm256_castsi256_ps(_mm256_set1_epi32(int(kSignMask)));
  const __m256 t = _mm256_add_ps(_mm256_set1_ps(1.0f), f32x8_erf(_mm256_mul_ps(x, _mm256_set1_ps(kInvSqrt2))));
  __m256 y = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), t);
  y = _mm256_blendv_ps(y, sign_mask, _mm256_cmp_ps(t, _mm256_setzero_ps(), _CMP_EQ_OQ));  // -0
  const __m256 tiny = _mm256_cmp_ps(_mm256_andnot_ps(sign_mask, y), _mm256_set1_ps(kMinNormal), _CMP_LT_OQ);
  y = _mm256_blendv_ps(y, _mm256_and_ps(y, sign_mask), tiny);
  return _mm256_blendv_ps(y, _mm256_castsi256_ps(_mm256_set1_epi32(int(kDefaultNaN))), _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

// f32_silu and f32_gelu_tanh of f32-math.h, lane by lane.
static inline __m256 f32x8_silu(__m256 x) {
  using namespace f32math;
  const __m256 neg = _mm256_xor_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(int(kSignMask))));
  const __m256 d = _mm256_add_ps(_mm256_set1_ps(1.0f), f32x8_exp(neg));
  __m256 y = _mm256_div_ps(x, d);
  const __m256 inf = _mm256_set1_ps(std::numeric_limits<float>::infinity());
  y = _mm256_blendv_ps(y, _mm256_castsi256_ps(_mm256_set1_epi32(int(kSignMask))), _mm256_cmp_ps(d, inf, _CMP_EQ_OQ));
  return _mm256_blendv_ps(y, _mm256_castsi256_ps(_mm256_set1_epi32(int(kDefaultNaN))), _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

static inline __m256 f32x8_gelu_tanh(__m256 x) {
  using namespace f32math;
  const __m256 sign_mask = _mm256_castsi256_ps(_mm256_set1_epi32(int(kSignMask)));
  const __m256 c = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
  const __m256 u = _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), c, x);
  const __m256 t = _mm256_add_ps(_mm256_set1_ps(1.0f), f32x8_tanh(_mm256_mul_ps(_mm256_set1_ps(0.7978845608028654f), u)));
  __m256 y = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), t);
  y = _mm256_blendv_ps(y, sign_mask, _mm256_cmp_ps(t, _mm256_setzero_ps(), _CMP_EQ_OQ));  // -0
  const __m256 tiny = _mm256_cmp_ps(_mm256_andnot_ps(sign_mask, y), _mm256_set1_ps(kMinNormal), _CMP_LT_OQ);
  y = _mm256_blendv_ps(y, _mm256_and_ps(y, sign_mask), tiny);
  return _mm256_blendv_ps(y, _mm256_castsi256_ps(_mm256_set1_epi32(int(kDefaultNaN))), _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

// Sum of 16 lanes (lo = lanes 0..7, hi = 8..15) in the families' pairwise
// order (l + l+8, then l + l+4, l + l+2, 0 + 1), as layernorm, rmsnorm and
// attention's references add.
static inline float f32x8x2_sum16(__m256 lo, __m256 hi) {
  const __m256 s8 = _mm256_add_ps(lo, hi);                                                  // l + l+8
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));  // l + l+4
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));                                  // l + l+2
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));                                 // 0 + 1
}

}  // namespace heed
