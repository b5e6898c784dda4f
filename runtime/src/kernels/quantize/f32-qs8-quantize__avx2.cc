// f32-qs8-quantize, AVX2: 8 values per step, the block remainder in scalar
// code identical to the reference (nothing read or written outside the row's
// K values and kp bytes). Exact per step: v = x * smooth and v * inv are the
// reference's single roundings; absmax = vmaxps(|v|, acc), which like
// std::fmax keeps acc when v is NaN, and a max is exact in any order; the
// value is clamped to [-127, 127] first (vmaxps/vminps; rounding and clamping
// commute since the bounds are integers), NaN lanes are zeroed, and vcvtps2dq
// rounds half to even under the default MXCSR, as std::nearbyint does.
// Scales and reciprocals are the reference's scalar divisions. Same bytes and
// scales as heed_f32_qs8_quantize__scalar.
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "kernels/quantize/f32-qs8-quantize.h"

namespace heed {

namespace {
inline float smoothed(const float* x, const float* smooth, size_t k) { return smooth ? x[k] * smooth[k] : x[k]; }

inline __m256 load_v(const float* x, const float* smooth, size_t k) {
  const __m256 v = _mm256_loadu_ps(x + k);
  return smooth ? _mm256_mul_ps(v, _mm256_loadu_ps(smooth + k)) : v;
}

// q = clamp(round_half_even(v * inv), -127, 127) ^ mask, NaN -> 0: 8 bytes to q.
inline void quantize8(__m256 v, __m256 inv, __m128i xor_mask, int8_t* q) {
  __m256 t = _mm256_mul_ps(v, inv);
  const __m256 ordered = _mm256_cmp_ps(t, t, _CMP_ORD_Q);
  t = _mm256_min_ps(_mm256_max_ps(t, _mm256_set1_ps(-127.0f)), _mm256_set1_ps(127.0f));
  t = _mm256_and_ps(t, ordered);
  const __m256i i32 = _mm256_cvtps_epi32(t);
  const __m128i i16 = _mm_packs_epi32(_mm256_castsi256_si128(i32), _mm256_extracti128_si256(i32, 1));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(q), _mm_xor_si128(_mm_packs_epi16(i16, i16), xor_mask));
}

inline void quantize_range(const float* xr, const float* smooth, size_t k0, size_t k1, float inv, uint8_t mask,
                           int8_t* qr) {
  const __m256 vinv = _mm256_set1_ps(inv);
  const __m128i xor_mask = _mm_set1_epi8(char(mask));
  size_t k = k0;
  for (; k + 8 <= k1; k += 8) quantize8(load_v(xr, smooth, k), vinv, xor_mask, qr + k);
  for (; k < k1; ++k) qr[k] = qs8_masked(qs8_quantize_one(smoothed(xr, smooth, k) * inv), mask);
}
}  // namespace

void heed_f32_qs8_quantize__avx2(const QuantizeParams& p) {
  const size_t nb = (p.K + p.block - 1) / p.block;
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  for (size_t m = 0; m < p.M; ++m) {
    const float* xr = p.x + m * p.ldx;
    int8_t* qr = p.q + m * p.ldq;
    float* sr = p.scales + m * nb;
    if (p.static_scale > 0.0f) {
      quantize_range(xr, p.smooth, 0, p.K, 1.0f / p.static_scale, p.xor_mask, qr);
      for (size_t b = 0; b < nb; ++b) sr[b] = p.static_scale;
    } else {
      for (size_t b = 0; b < nb; ++b) {
        const size_t k0 = b * p.block, k1 = k0 + p.block < p.K ? k0 + p.block : p.K;
        __m256 acc = _mm256_setzero_ps();
        size_t k = k0;
        for (; k + 8 <= k1; k += 8) acc = _mm256_max_ps(_mm256_and_ps(load_v(xr, p.smooth, k), abs_mask), acc);
        __m128 a4 = _mm_max_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
        a4 = _mm_max_ps(a4, _mm_movehl_ps(a4, a4));
        float absmax = _mm_cvtss_f32(_mm_max_ss(a4, _mm_movehdup_ps(a4)));  // no NaN: any order is exact
        for (; k < k1; ++k) absmax = std::fmax(absmax, std::fabs(smoothed(xr, p.smooth, k)));
        if (!(absmax > 0.0f)) {
          sr[b] = 0.0f;
          std::memset(qr + k0, p.xor_mask, k1 - k0);
          continue;
        }
        sr[b] = absmax / 127.0f;
        quantize_range(xr, p.smooth, k0, k1, 127.0f / absmax, p.xor_mask, qr);
      }
    }
    if (p.kp > p.K) std::memset(qr + p.K, p.xor_mask, p.kp - p.K);
  }
}

}  // namespace heed
