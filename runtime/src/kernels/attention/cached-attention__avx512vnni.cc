// cached-attention, AVX-512: the order of cached-attention.h, one query at a
// time, 16 keys of a block in the lanes of one zmm.
//   - Scores first, for all of the query's blocks, four blocks at a time (four
//     independent fma chains over d; each lane is the reference's chain of one
//     key): acc = vfmadd(q[d], K[d][16 keys], acc), the int8 cache's bytes
//     widened and converted exactly (vpmovsxbd, vcvtdq2ps), then * ks
//     (int8) and * scale as two vmulps. Stored to scratch by key.
//   - Then per block: lanes past the query's keys set to -inf, max16 in the
//     header's pairwise order (low half first operand: vmaxps is a > b ? a :
//     b), c = f32_exp(m - mn) (the scalar function itself), p =
//     f32x16_exp(s - mn) (f32_exp lane by lane), l = fma(l, c, sum16(p)),
//     and for each 16 elements of d: o = o * c, then o = vfmadd(w_t, v_t, o)
//     for the block's keys in order (w = p, or p * vs for int8; D tails by
//     lane masks).
// Every value is the reference's. Same bits as heed_cached_attention__scalar.
#include <immintrin.h>

#include <cmath>

#include "kernels/attention/cached-attention.h"
#include "kernels/attention/f32-attention.h"
#include "kernels/math/f32-math-avx512.h"

namespace heed {

namespace {
inline __mmask16 first(size_t n) { return n >= 16 ? __mmask16(0xffff) : __mmask16((1u << n) - 1); }
inline float max_of(float a, float b) { return a > b ? a : b; }

// max16 in the pairwise order: t op t+8, t op t+4, t op t+2, 0 op 1.
inline float max16(__m512 v) {
  const __m256 m8 = _mm256_max_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  const __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m8), _mm256_extractf128_ps(m8, 1));
  const __m128 m2 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  return _mm_cvtss_f32(_mm_max_ss(m2, _mm_movehdup_ps(m2)));
}

inline __m512 load_keys(const float* k) { return _mm512_loadu_ps(k); }
inline __m512 load_keys(const int8_t* k) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(k))));
}
inline __m512 load_values(const float* v, __mmask16 m) { return _mm512_maskz_loadu_ps(m, v); }
inline __m512 load_values(const int8_t* v, __mmask16 m) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, v)));
}

// Scores of G consecutive blocks starting at block b into sc[16 b ..].
template <int G, class T>
inline void scores(const float* q, const T* kb, const float* ks, size_t D, size_t b, float scale, float* sc) {
  __m512 acc[G];
  for (int g = 0; g < G; ++g) acc[g] = _mm512_setzero_ps();
  const T* k = kb + b * D * kKvBlock;
  for (size_t d = 0; d < D; ++d) {
    const __m512 qd = _mm512_set1_ps(q[d]);
    for (int g = 0; g < G; ++g) acc[g] = _mm512_fmadd_ps(qd, load_keys(k + (size_t(g) * D + d) * kKvBlock), acc[g]);
  }
  const __m512 vs = _mm512_set1_ps(scale);
  for (int g = 0; g < G; ++g) {
    __m512 a = acc[g];
    if (ks) a = _mm512_mul_ps(a, _mm512_loadu_ps(ks + (b + size_t(g)) * kKvBlock));
    _mm512_storeu_ps(sc + (b + size_t(g)) * kKvBlock, _mm512_mul_ps(a, vs));
  }
}

// One query over keys [0, je) of one kv head.
template <class T>
void query(const float* q, size_t je, const T* kb, const float* ks, const T* vb, const float* vs, size_t D,
           float scale, float* sc, float* o, float* w, float* y) {
  const size_t nb = (je + kKvBlock - 1) / kKvBlock;
  size_t b = 0;
  for (; b + 4 <= nb; b += 4) scores<4>(q, kb, ks, D, b, scale, sc);
  switch (nb - b) {
    case 3: scores<3>(q, kb, ks, D, b, scale, sc); break;
    case 2: scores<2>(q, kb, ks, D, b, scale, sc); break;
    case 1: scores<1>(q, kb, ks, D, b, scale, sc); break;
    default: break;
  }
  for (size_t d = 0; d < D; d += 16) _mm512_storeu_ps(o + d, _mm512_setzero_ps());
  const __m512 ninf = _mm512_set1_ps(-INFINITY);
  float m = -INFINITY, l = 0.0f;
  for (b = 0; b < nb; ++b) {
    const size_t j0 = b * kKvBlock, n = je - j0 < kKvBlock ? je - j0 : kKvBlock;
    const __m512 s = _mm512_mask_loadu_ps(ninf, first(n), sc + j0);
    const float mn = max_of(max16(s), m);
    const float c = f32_exp(m - mn);
    const __m512 p = f32x16_exp(_mm512_sub_ps(s, _mm512_set1_ps(mn)));
    l = std::fma(l, c, f32x16_sum16(p));
    _mm512_storeu_ps(w, vs ? _mm512_mul_ps(p, _mm512_loadu_ps(vs + j0)) : p);
    const __m512 vc = _mm512_set1_ps(c);
    for (size_t d = 0; d < D; d += 16) {
      const __mmask16 mk = first(D - d);
      __m512 od = _mm512_mul_ps(_mm512_loadu_ps(o + d), vc);
      const T* v = vb + j0 * D + d;
      for (size_t u = 0; u < n; ++u, v += D) od = _mm512_fmadd_ps(_mm512_set1_ps(w[u]), load_values(v, mk), od);
      _mm512_storeu_ps(o + d, od);
    }
    m = mn;
  }
  const float inv_l = l > 0.0f ? 1.0f / l : 0.0f;
  for (size_t d = 0; d < D; ++d) y[d] = attention_out(o[d], inv_l);
}
}  // namespace

void heed_cached_attention__avx512vnni(size_t S, size_t past, size_t H, size_t h0, size_t h1, const float* q,
                                       size_t q_stride, const KvCache& c, float* out, size_t out_stride,
                                       float scale, float* scratch) {
  const size_t D = c.D, group = H / c.heads, nbk = c.cap / kKvBlock;
  float* sc = scratch;        // [cap]
  float* o = sc + c.cap;      // [D rounded up to 16]
  float* w = o + (D + 15) / 16 * 16;  // [16]
  for (size_t h = h0; h < h1; ++h) {
    const size_t g = h / group;
    for (size_t i = 0; i < S; ++i) {
      const float* qi = q + i * q_stride + h * D;
      float* y = out + i * out_stride + h * D;
      if (c.int8) {
        query(qi, past + i + 1, static_cast<const int8_t*>(c.k) + g * nbk * D * kKvBlock, c.ks + g * c.cap,
              static_cast<const int8_t*>(c.v) + g * c.cap * D, c.vs + g * c.cap, D, scale, sc, o, w, y);
      } else {
        query(qi, past + i + 1, static_cast<const float*>(c.k) + g * nbk * D * kKvBlock, nullptr,
              static_cast<const float*>(c.v) + g * c.cap * D, nullptr, D, scale, sc, o, w, y);
      }
    }
  }
}

}  // namespace heed
