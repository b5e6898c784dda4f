// cached-attention, AVX-512: the order of cached-attention.h, up to four
// queries of one kv head at a time (prefill: consecutive positions of a head;
// decode: the query heads of a group), 16 keys of a block in the lanes of one
// zmm.
//   - Scores first, for all of the queries' blocks, two blocks at a time (each
//     K row loaded once for the four queries; every lane is the reference's
//     fma chain of one query and key): acc = vfmadd(q[d], K[d][16 keys], acc),
//     the int8 cache's bytes widened and converted exactly (vpmovsxbd,
//     vcvtdq2ps), then * ks (int8) and * scale as two vmulps. Stored to
//     scratch by query and key.
//   - Then per block: lanes outside the query's keys set to -inf, max16 in the
//     header's pairwise order (low half first operand: vmaxps is a > b ? a :
//     b), c = f32_exp(m - mn) (the scalar function itself), p =
//     f32x16_exp(s - mn) (f32_exp lane by lane), l = fma(l, c, sum16(p)),
//     and for each 16 elements of d: o = o * c, then o = vfmadd(w_t, v_t, o)
//     for the block's keys in order (w = p, or p * vs for int8; D tails by
//     lane masks; each V row loaded once for the queries with keys in it, up
//     to four chunks of d at once).
// Queries never share a value: every value is the reference's. Same bits as heed_cached_attention__scalar.
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

inline __mmask16 lanes(size_t lo, size_t hi) { return __mmask16(first(hi) & ~first(lo)); }

// Scores of R queries (rows of sc, `stride` apart, key j at j - base) for the
// G blocks b .. b+G-1 (absolute; each in its ring slot): each K row feeds the
// R queries.
template <int R, int G, class T>
inline void scores(const float* const* q, const T* kb, const float* ks, const KvCache& c, size_t b, float scale,
                   float* sc, size_t stride, size_t base) {
  const size_t D = c.D, nbk = c.cap / kKvBlock;
  const T* k[G];
  for (int g = 0; g < G; ++g) k[g] = kb + ((b + size_t(g)) % nbk) * D * kKvBlock;
  __m512 acc[R][G];
  for (int r = 0; r < R; ++r)
    for (int g = 0; g < G; ++g) acc[r][g] = _mm512_setzero_ps();
  for (size_t d = 0; d < D; ++d) {
    __m512 kv[G];
    for (int g = 0; g < G; ++g) kv[g] = load_keys(k[g] + d * kKvBlock);
    for (int r = 0; r < R; ++r) {
      const __m512 qd = _mm512_set1_ps(q[r][d]);
      for (int g = 0; g < G; ++g) acc[r][g] = _mm512_fmadd_ps(qd, kv[g], acc[r][g]);
    }
  }
  const __m512 vs = _mm512_set1_ps(scale);
  for (int g = 0; g < G; ++g) {
    const size_t j0 = (b + size_t(g)) * kKvBlock;
    const __m512 kscale = ks ? _mm512_loadu_ps(ks + j0 % c.cap) : _mm512_setzero_ps();
    for (int r = 0; r < R; ++r) {
      __m512 a = acc[r][g];
      if (ks) a = _mm512_mul_ps(a, kscale);
      _mm512_storeu_ps(sc + size_t(r) * stride + (j0 - base), _mm512_mul_ps(a, vs));
    }
  }
}

// One block's output update for R queries and NC 16-element chunks of d from
// d0: o = o * c, then o = vfmadd(w_t, v_t, o) over each query's keys
// [lo, hi) of the block, each V chunk loaded once for the R queries (the
// R x NC chains interleave).
template <int R, int NC, class T>
inline void update(const T* v, size_t D, size_t d0, const size_t* lo, const size_t* hi, size_t ulo, size_t uhi,
                   const float* c, const float* w, float* o, size_t D16) {
  __mmask16 mk[NC];
  for (int x = 0; x < NC; ++x) mk[x] = first(D - d0 - size_t(x) * 16);
  __m512 od[R][NC];
  for (int r = 0; r < R; ++r)
    if (hi[r] > lo[r])
      for (int x = 0; x < NC; ++x)
        od[r][x] = _mm512_mul_ps(_mm512_loadu_ps(o + size_t(r) * D16 + d0 + size_t(x) * 16), _mm512_set1_ps(c[r]));
  v += d0 + ulo * D;
  for (size_t u = ulo; u < uhi; ++u, v += D) {
    __m512 vv[NC];
    for (int x = 0; x < NC; ++x) vv[x] = load_values(v + size_t(x) * 16, mk[x]);
    for (int r = 0; r < R; ++r) {
      if (u < lo[r] || u >= hi[r]) continue;
      const __m512 wr = _mm512_set1_ps(w[size_t(r) * kKvBlock + u]);
      for (int x = 0; x < NC; ++x) od[r][x] = _mm512_fmadd_ps(wr, vv[x], od[r][x]);
    }
  }
  for (int r = 0; r < R; ++r)
    if (hi[r] > lo[r])
      for (int x = 0; x < NC; ++x) _mm512_storeu_ps(o + size_t(r) * D16 + d0 + size_t(x) * 16, od[r][x]);
}

// R queries of one kv head in cache view c (the ring or the sink planes),
// query r over keys [jb[r], je[r]) (consecutive positions of a head in
// prefill, the heads of a group in decode): the scores of all their blocks
// first (the union of their blocks; a query never reads scores outside its
// own keys), then block by block each query's softmax step and output update,
// carrying the running maxima m, sums l and outputs o.
template <int R, class T>
void segment(const float* const* q, const size_t* jb, const size_t* je, const KvCache& c, const T* kb,
             const float* ks, const T* vb, const float* vs, float scale, float* sc, size_t stride, float* o, float* w,
             float* m, float* l) {
  const size_t D = c.D, D16 = (D + 15) / 16 * 16;
  size_t jmin = jb[0], jmax = je[0];
  for (int r = 1; r < R; ++r) jmin = jb[r] < jmin ? jb[r] : jmin, jmax = je[r] > jmax ? je[r] : jmax;
  const size_t b0 = jmin / kKvBlock, b1 = (jmax + kKvBlock - 1) / kKvBlock, base = b0 * kKvBlock;
  constexpr int G = R == 1 ? 4 : 2;  // blocks per scores call: R x G chains
  size_t b = b0;
  for (; b + G <= b1; b += G) scores<R, G>(q, kb, ks, c, b, scale, sc, stride, base);
  for (; b < b1; ++b) scores<R, 1>(q, kb, ks, c, b, scale, sc, stride, base);
  const __m512 ninf = _mm512_set1_ps(-INFINITY);
  float cr[R];
  size_t lo[R], hi[R];
  for (b = b0; b < b1; ++b) {
    const size_t j0 = b * kKvBlock, t0 = j0 % c.cap;
    size_t ulo = kKvBlock, uhi = 0;
    for (int r = 0; r < R; ++r) {
      lo[r] = jb[r] > j0 ? jb[r] - j0 : 0;
      hi[r] = je[r] > j0 ? (je[r] - j0 < kKvBlock ? je[r] - j0 : kKvBlock) : 0;
      if (lo[r] >= kKvBlock) hi[r] = lo[r] = 0;  // block before the query's first
      if (hi[r] <= lo[r]) continue;
      ulo = lo[r] < ulo ? lo[r] : ulo;
      uhi = hi[r] > uhi ? hi[r] : uhi;
      const __m512 s = _mm512_mask_loadu_ps(ninf, lanes(lo[r], hi[r]), sc + size_t(r) * stride + (j0 - base));
      const float mn = max_of(max16(s), m[r]);
      cr[r] = f32_exp(m[r] - mn);
      const __m512 p = f32x16_exp(_mm512_sub_ps(s, _mm512_set1_ps(mn)));
      l[r] = std::fma(l[r], cr[r], f32x16_sum16(p));
      _mm512_storeu_ps(w + size_t(r) * kKvBlock, vs ? _mm512_mul_ps(p, _mm512_loadu_ps(vs + t0)) : p);
      m[r] = mn;
    }
    if (uhi == 0) continue;
    const T* v = vb + t0 * D;
    for (size_t d0 = 0; d0 < D; d0 += 64) {
      switch ((D - d0 + 15) / 16) {
        case 1: update<R, 1>(v, D, d0, lo, hi, ulo, uhi, cr, w, o, D16); break;
        case 2: update<R, 2>(v, D, d0, lo, hi, ulo, uhi, cr, w, o, D16); break;
        case 3: update<R, 3>(v, D, d0, lo, hi, ulo, uhi, cr, w, o, D16); break;
        default: update<R, 4>(v, D, d0, lo, hi, ulo, uhi, cr, w, o, D16); break;
      }
    }
  }
}

constexpr int kQueries = 4;  // queries per group

// Queries qs[0..R) over window keys [jb, je) and, with sinks, sink keys
// [0, se) scored with sq[0..R), outputs ys, of kv head g of the cache: the
// sink planes' blocks first, then the ring's.
template <int R, class T>
inline void run(const KvCache& c, size_t g, const float* const* qs, const float* const* sq, const size_t* jb,
                const size_t* je, const size_t* se, float* const* ys, float scale, float* scratch) {
  const size_t D16 = (c.D + 15) / 16 * 16, stride = cached_attention_score_stride(kv_cache_slots(c));
  float* sc = scratch;                // [kQueries][stride]
  float* o = sc + kQueries * stride;  // [kQueries][D16]
  float* w = o + kQueries * D16;      // [kQueries][16]
  for (size_t d = 0; d < size_t(R) * D16; d += 16) _mm512_storeu_ps(o + d, _mm512_setzero_ps());
  float m[R], l[R];
  for (int r = 0; r < R; ++r) m[r] = -INFINITY, l[r] = 0.0f;
  if (c.sinks) {
    size_t zero[R], top = 0;
    for (int r = 0; r < R; ++r) zero[r] = 0, top = se[r] > top ? se[r] : top;
    if (top > 0) {
      const KvCache s = kv_cache_sinks(c);
      const KvPlanes<T> p = kv_planes<T>(s, g);
      segment<R>(sq, zero, se, s, p.k, p.ks, p.v, p.vs, scale, sc, stride, o, w, m, l);
    }
  }
  const KvPlanes<T> p = kv_planes<T>(c, g);
  segment<R>(qs, jb, je, c, p.k, p.ks, p.v, p.vs, scale, sc, stride, o, w, m, l);
  for (int r = 0; r < R; ++r) {
    const float inv_l = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
    for (size_t d = 0; d < c.D; ++d) ys[r][d] = attention_out(o[size_t(r) * D16 + d], inv_l);
  }
}

template <class T>
void attend(size_t S, size_t past, size_t window, size_t H, size_t h0, size_t h1, const float* q, size_t q_stride,
            const float* qsink, size_t qsink_stride, const KvCache& c, float* out, size_t out_stride, float scale,
            float* scratch) {
  const size_t D = c.D, group = H / c.heads;
  const float* qs[kQueries];
  const float* sq[kQueries];
  float* ys[kQueries];
  size_t jb[kQueries], je[kQueries], se[kQueries];
  // Query i of head h into slot k of the group.
  auto put = [&](size_t k, size_t i, size_t h) {
    qs[k] = q + i * q_stride + h * D;
    sq[k] = c.sinks ? qsink + i * qsink_stride + h * D : qs[k];
    ys[k] = out + i * out_stride + h * D;
    jb[k] = window_begin(past + i, window);
    je[k] = past + i + 1;
    se[k] = sink_end(jb[k], c.sinks);
  };
  if (S < size_t(kQueries)) {
    // Decode: the heads of a group, which share their keys and values, together.
    for (size_t i = 0; i < S; ++i) {
      size_t h = h0;
      while (h < h1) {
        const size_t g = h / group, hend = (g + 1) * group < h1 ? (g + 1) * group : h1;
        const size_t r = hend - h >= 4 ? 4 : (hend - h >= 2 ? 2 : 1);
        for (size_t k = 0; k < r; ++k) put(k, i, h + k);
        if (r == 4) run<4, T>(c, g, qs, sq, jb, je, se, ys, scale, scratch);
        else if (r == 2) run<2, T>(c, g, qs, sq, jb, je, se, ys, scale, scratch);
        else run<1, T>(c, g, qs, sq, jb, je, se, ys, scale, scratch);
        h += r;
      }
    }
    return;
  }
  // Prefill: four consecutive positions of a head together.
  for (size_t h = h0; h < h1; ++h) {
    const size_t g = h / group;
    size_t i = 0;
    for (; i + kQueries <= S; i += kQueries) {
      for (int k = 0; k < kQueries; ++k) put(size_t(k), i + size_t(k), h);
      run<kQueries, T>(c, g, qs, sq, jb, je, se, ys, scale, scratch);
    }
    for (; i < S; ++i) {
      put(0, i, h);
      run<1, T>(c, g, qs, sq, jb, je, se, ys, scale, scratch);
    }
  }
}
}  // namespace

void heed_cached_attention__avx512vnni(size_t S, size_t past, size_t window, size_t H, size_t h0, size_t h1,
                                       const float* q, size_t q_stride, const float* qs, size_t qs_stride,
                                       const KvCache& c, float* out, size_t out_stride, float scale, float* scratch) {
  if (c.int8) attend<int8_t>(S, past, window, H, h0, h1, q, q_stride, qs, qs_stride, c, out, out_stride, scale, scratch);
  else attend<float>(S, past, window, H, h0, h1, q, q_stride, qs, qs_stride, c, out, out_stride, scale, scratch);
}

}  // namespace heed
