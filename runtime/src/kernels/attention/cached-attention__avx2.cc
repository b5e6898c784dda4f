// cached-attention, AVX2 + FMA: the order of cached-attention.h, one query at
// a time, the 16 keys of a block in two ymm (keys 0-7, 8-15).
//   - Scores first, for all of the query's blocks, two blocks at a time (four
//     independent fma chains over d, each lane the reference's chain of one
//     key), int8 bytes widened and converted exactly (vpmovsxbd,
//     vcvtdq2ps), then * ks (int8) and * scale as two vmulps.
//   - Per block: lanes outside the query's keys set to -inf, max16 pairwise
//     (keys t and t + 8 are the same lane of the two registers, then t + 4,
//     t + 2, t + 1; vmaxps is a > b ? a : b with the lower key first),
//     c = f32_exp(m - mn), p = f32x8_exp(s - mn), l = fma(l, c, sum16(p)),
//     and per 8 elements of d: o = o * c, then o = vfmadd(w_t, v_t, o) over
//     the block's keys in order (w = p, or p * vs for int8); the D % 8 tail
//     elements take the same steps with scalar std::fma.
// Every value is the reference's. Same bits as heed_cached_attention__scalar.
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "kernels/attention/cached-attention.h"
#include "kernels/attention/f32-attention.h"
#include "kernels/math/f32-math-avx2.h"

namespace heed {

namespace {
inline float max_of(float a, float b) { return a > b ? a : b; }

inline float max16(__m256 lo, __m256 hi) {
  const __m256 m8 = _mm256_max_ps(lo, hi);
  const __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m8), _mm256_extractf128_ps(m8, 1));
  const __m128 m2 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  return _mm_cvtss_f32(_mm_max_ss(m2, _mm_movehdup_ps(m2)));
}

inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load8(const int8_t* p) {
  int64_t b;
  std::memcpy(&b, p, sizeof b);
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_cvtsi64_si128(b)));
}
inline float value(const float* p) { return *p; }
inline float value(const int8_t* p) { return float(*p); }

// Scores of the G blocks b .. b+G-1 (absolute; each in its ring slot) into
// sc[j - base].
template <int G, class T>
inline void scores(const float* q, const T* kb, const float* ks, const KvCache& c, size_t b, float scale, float* sc,
                   size_t base) {
  const size_t D = c.D, nbk = c.cap / kKvBlock;
  const T* k[G];
  for (int g = 0; g < G; ++g) k[g] = kb + ((b + size_t(g)) % nbk) * D * kKvBlock;
  __m256 acc[G][2];
  for (int g = 0; g < G; ++g) acc[g][0] = acc[g][1] = _mm256_setzero_ps();
  for (size_t d = 0; d < D; ++d) {
    const __m256 qd = _mm256_set1_ps(q[d]);
    for (int g = 0; g < G; ++g) {
      const T* kr = k[g] + d * kKvBlock;
      acc[g][0] = _mm256_fmadd_ps(qd, load8(kr), acc[g][0]);
      acc[g][1] = _mm256_fmadd_ps(qd, load8(kr + 8), acc[g][1]);
    }
  }
  const __m256 vs = _mm256_set1_ps(scale);
  for (int g = 0; g < G; ++g) {
    const size_t j0 = (b + size_t(g)) * kKvBlock;
    for (int x = 0; x < 2; ++x) {
      __m256 a = acc[g][x];
      if (ks) a = _mm256_mul_ps(a, _mm256_loadu_ps(ks + j0 % c.cap + size_t(x) * 8));
      _mm256_storeu_ps(sc + (j0 - base) + size_t(x) * 8, _mm256_mul_ps(a, vs));
    }
  }
}

// One query over keys [jb, je) of one kv head in cache view c (the ring or
// the sink planes), carrying the running max m, sum l and output o.
template <class T>
void segment(const float* q, size_t jb, size_t je, const KvCache& c, const KvPlanes<T>& pl, float scale, float* sc,
             float* o, float* w, float& m, float& l) {
  const size_t D = c.D;
  const T* kb = pl.k;
  const T* vb = pl.v;
  const float* ks = pl.ks;
  const float* vs = pl.vs;
  const size_t b0 = jb / kKvBlock, b1 = (je + kKvBlock - 1) / kKvBlock, base = b0 * kKvBlock;
  size_t b = b0;
  for (; b + 2 <= b1; b += 2) scores<2>(q, kb, ks, c, b, scale, sc, base);
  if (b < b1) scores<1>(q, kb, ks, c, b, scale, sc, base);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256 ninf = _mm256_set1_ps(-INFINITY);
  const size_t D8 = D / 8 * 8;
  for (b = b0; b < b1; ++b) {
    const size_t j0 = b * kKvBlock, t0 = j0 % c.cap;
    const size_t lo = jb > j0 ? jb - j0 : 0, hi = je - j0 < kKvBlock ? je - j0 : kKvBlock;
    // Lanes lo <= t < hi keep their score, the others -inf.
    const __m256i vlo = _mm256_set1_epi32(int(lo) - 1), vhi = _mm256_set1_epi32(int(hi));
    const __m256i l8 = _mm256_add_epi32(lane, _mm256_set1_epi32(8));
    const __m256 in_lo = _mm256_castsi256_ps(_mm256_and_si256(_mm256_cmpgt_epi32(vhi, lane), _mm256_cmpgt_epi32(lane, vlo)));
    const __m256 in_hi = _mm256_castsi256_ps(_mm256_and_si256(_mm256_cmpgt_epi32(vhi, l8), _mm256_cmpgt_epi32(l8, vlo)));
    const __m256 s_lo = _mm256_blendv_ps(ninf, _mm256_loadu_ps(sc + (j0 - base)), in_lo);
    const __m256 s_hi = _mm256_blendv_ps(ninf, _mm256_loadu_ps(sc + (j0 - base) + 8), in_hi);
    const float mn = max_of(max16(s_lo, s_hi), m);
    const float cf = f32_exp(m - mn);
    const __m256 vmn = _mm256_set1_ps(mn);
    const __m256 p_lo = f32x8_exp(_mm256_sub_ps(s_lo, vmn)), p_hi = f32x8_exp(_mm256_sub_ps(s_hi, vmn));
    l = std::fma(l, cf, f32x8x2_sum16(p_lo, p_hi));
    _mm256_storeu_ps(w, vs ? _mm256_mul_ps(p_lo, _mm256_loadu_ps(vs + t0)) : p_lo);
    _mm256_storeu_ps(w + 8, vs ? _mm256_mul_ps(p_hi, _mm256_loadu_ps(vs + t0 + 8)) : p_hi);
    const __m256 vc = _mm256_set1_ps(cf);
    for (size_t d = 0; d < D8; d += 8) {
      __m256 od = _mm256_mul_ps(_mm256_loadu_ps(o + d), vc);
      const T* v = vb + (t0 + lo) * D + d;
      for (size_t u = lo; u < hi; ++u, v += D) od = _mm256_fmadd_ps(_mm256_set1_ps(w[u]), load8(v), od);
      _mm256_storeu_ps(o + d, od);
    }
    for (size_t d = D8; d < D; ++d) {
      float od = o[d] * cf;
      const T* v = vb + (t0 + lo) * D + d;
      for (size_t u = lo; u < hi; ++u, v += D) od = std::fma(w[u], value(v), od);
      o[d] = od;
    }
    m = mn;
  }
}
}  // namespace

void heed_cached_attention__avx2(size_t S, size_t past, size_t window, size_t H, size_t h0, size_t h1,
                                 const float* q, size_t q_stride, const float* qs, size_t qs_stride, const KvCache& c,
                                 float* out, size_t out_stride, float scale, float* scratch) {
  float* sc = scratch;
  float* o = sc + cached_attention_score_stride(kv_cache_slots(c));
  float* w = o + (c.D + 15) / 16 * 16;
  cached_attention_each_query(S, past, window, H, h0, h1, q, q_stride, qs, qs_stride, c, out, out_stride, o,
                              [&](const float* qq, size_t jb, size_t je, const KvCache& view, const auto& planes,
                                  float& m, float& l) { segment(qq, jb, je, view, planes, scale, sc, o, w, m, l); });
}

}  // namespace heed
