// f32-qs8-quantize, AVX-512: 16 values per step, the block remainder on
// masked loads and stores (nothing read or written outside the row's K
// values and kp bytes). Exact per step: v = x * smooth and v * inv are the
// reference's single roundings; absmax = vmaxps(|v|, acc), which like
// std::fmax keeps acc when v is NaN, and a max is exact in any order; the
// value is clamped to [-127, 127] first (vmaxps/vminps; rounding and clamping
// commute since the bounds are integers), NaN lanes are zeroed, and vcvtps2dq
// rounds half to even under the default MXCSR, as std::nearbyint does.
// Scales and reciprocals are the reference's scalar divisions. Same bytes and
// scales as heed_f32_qs8_quantize__scalar.
#include <immintrin.h>

#include <cstring>

#include "kernels/quantize/f32-qs8-quantize.h"

// GCC 12 reports the undefined source operand of its own unmasked AVX-512
// intrinsics (`__m512 __Y = __Y` in avx512fintrin.h) as maybe uninitialized.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace heed {

namespace {
inline __mmask16 first(size_t n) { return n >= 16 ? __mmask16(0xffff) : __mmask16((1u << n) - 1); }

inline __m512 load_v(const float* x, const float* smooth, size_t k, __mmask16 m) {
  const __m512 v = _mm512_maskz_loadu_ps(m, x + k);
  return smooth ? _mm512_mul_ps(v, _mm512_maskz_loadu_ps(m, smooth + k)) : v;
}

// q = clamp(round_half_even(v * inv), -127, 127) ^ mask, NaN -> 0, 16 bytes.
inline __m128i quantize16(__m512 v, __m512 inv, __m128i xor_mask) {
  __m512 t = _mm512_mul_ps(v, inv);
  const __mmask16 ordered = _mm512_cmp_ps_mask(t, t, _CMP_ORD_Q);
  t = _mm512_min_ps(_mm512_max_ps(t, _mm512_set1_ps(-127.0f)), _mm512_set1_ps(127.0f));
  t = _mm512_maskz_mov_ps(ordered, t);
  return _mm_xor_si128(_mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(t)), xor_mask);
}

inline void quantize_range(const float* xr, const float* smooth, size_t k0, size_t k1, __m512 inv,
                           __m128i xor_mask, int8_t* qr) {
  for (size_t k = k0; k < k1; k += 16) {
    const __mmask16 m = first(k1 - k);
    _mm_mask_storeu_epi8(qr + k, m, quantize16(load_v(xr, smooth, k, m), inv, xor_mask));
  }
}
}  // namespace

void heed_f32_qs8_quantize__avx512vnni(const QuantizeParams& p) {
  const size_t nb = (p.K + p.block - 1) / p.block;
  const __m128i xor_mask = _mm_set1_epi8(char(p.xor_mask));
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  for (size_t m = 0; m < p.M; ++m) {
    const float* xr = p.x + m * p.ldx;
    int8_t* qr = p.q + m * p.ldq;
    float* sr = p.scales + m * nb;
    if (p.static_scale > 0.0f) {
      const float inv = 1.0f / p.static_scale;
      quantize_range(xr, p.smooth, 0, p.K, _mm512_set1_ps(inv), xor_mask, qr);
      for (size_t b = 0; b < nb; ++b) sr[b] = p.static_scale;
    } else {
      for (size_t b = 0; b < nb; ++b) {
        const size_t k0 = b * p.block, k1 = k0 + p.block < p.K ? k0 + p.block : p.K;
        __m512 acc = _mm512_setzero_ps();
        for (size_t k = k0; k < k1; k += 16)
          acc = _mm512_max_ps(_mm512_and_ps(load_v(xr, p.smooth, k, first(k1 - k)), abs_mask), acc);
        const float absmax = _mm512_reduce_max_ps(acc);  // no NaN in acc: any order is exact
        if (!(absmax > 0.0f)) {
          sr[b] = 0.0f;
          std::memset(qr + k0, p.xor_mask, k1 - k0);
          continue;
        }
        sr[b] = absmax / 127.0f;
        const float inv = 127.0f / absmax;
        quantize_range(xr, p.smooth, k0, k1, _mm512_set1_ps(inv), xor_mask, qr);
      }
    }
    if (p.kp > p.K) std::memset(qr + p.K, p.xor_mask, p.kp - p.K);
  }
}

}  // namespace heed
