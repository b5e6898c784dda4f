// f32-attention, AVX2 + FMA: the block order of f32-attention.h with the 16
// keys of a block in two ymm (lanes 0-7, 8-15) for the scores and one lane
// per element of d for the output.
//   - The keys the call's queries see (attention_query_keys) of the head are
//     copied transposed into scratch (KT[d][j], rows padded with zeros), so
//     the 16 scores of a block are lanes of fma chains over d: acc =
//     vfmadd(q[d], KT[d][j0..], acc), exactly the reference's a_{d+1} =
//     fma(q[d], k_j[d], a_d) per lane; four blocks are computed together
//     (eight independent chains), then scaled, and lanes past the visible
//     keys set to -inf.
//   - Per block: max16 and sum16 in the header's pairwise order (lanes 0-7 with
//     8-15, 128-bit halves, lanes 0+2 / 1+3, lanes 0+1), c with the scalar
//     f32_exp, p with f32x8_exp (the same operation sequence), l = fma(l, c,
//     sum), and o = o * c then o = vfmadd(p[t], v_t, o) for t in order
//     (masked loads and stores for D % 8).
//   - A ranged mask (global tokens, blocks) walks the query's key ranges in
//     order with the same state.
// Every value is therefore the reference's. Same bits as heed_f32_attention__scalar.
#include <immintrin.h>

#include <cmath>

#include "kernels/attention/f32-attention.h"
#include "kernels/math/f32-math-avx2.h"

namespace heed {

namespace {
constexpr size_t kBlock = 16;
inline size_t kt_stride(size_t S) { return (S + kBlock - 1 + 15) / 16 * 16; }
inline float max_of(float a, float b) { return a > b ? a : b; }

inline float max16(__m256 lo, __m256 hi) {  // max_ps(a, b) = a > b ? a : b
  const __m256 s8 = _mm256_max_ps(lo, hi);
  const __m128 s4 = _mm_max_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  const __m128 s2 = _mm_max_ps(s4, _mm_movehl_ps(s4, s4));
  return _mm_cvtss_f32(_mm_max_ss(s2, _mm_movehdup_ps(s2)));
}
// Lanes l < n set.
inline __m256i first(size_t n) {
  const int k = n >= 8 ? 8 : int(n);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Scores of G consecutive blocks starting at kt column j0 into sc (columns
// from je on set to -inf).
// (always_inline: GCC 12 left scores and update out of line once the
// function grew, at 1.25x the kernel's time.)
template <int G>
[[gnu::always_inline]] inline void scores(const float* q, const float* kt, size_t W, size_t D, size_t j0, size_t je,
                                          float scale, float* sc) {
  __m256 acc[2 * G];
  for (int g = 0; g < 2 * G; ++g) acc[g] = _mm256_setzero_ps();
  for (size_t d = 0; d < D; ++d) {
    const __m256 qd = _mm256_set1_ps(q[d]);
    const float* row = kt + d * W + j0;
    for (int g = 0; g < 2 * G; ++g) acc[g] = _mm256_fmadd_ps(qd, _mm256_loadu_ps(row + g * 8), acc[g]);
  }
  const __m256 vscale = _mm256_set1_ps(scale), ninf = _mm256_set1_ps(-INFINITY);
  for (int g = 0; g < 2 * G; ++g) {
    const size_t jg = j0 + g * 8;
    const __m256 s = _mm256_mul_ps(acc[g], vscale);
    const __m256 keep = jg < je ? _mm256_castsi256_ps(first(je - jg)) : _mm256_setzero_ps();
    _mm256_storeu_ps(sc + g * 8, _mm256_blendv_ps(ninf, s, keep));
  }
}

// o[dc .. dc + NC*8) = o * c, then += p[t] * v_t for t < n, in order.
template <int NC>
[[gnu::always_inline]] inline void update(float* o, size_t dc, size_t D, float c, const float* p, size_t n,
                                          const float* v0, size_t row) {
  __m256 acc[NC];
  __m256i mk[NC];
  const __m256 vc = _mm256_set1_ps(c);
  for (int u = 0; u < NC; ++u) {
    mk[u] = first(D - dc - u * 8);
    acc[u] = _mm256_mul_ps(_mm256_maskload_ps(o + dc + u * 8, mk[u]), vc);
  }
  for (size_t t = 0; t < n; ++t) {
    const __m256 pt = _mm256_set1_ps(p[t]);
    const float* v = v0 + t * row + dc;
    for (int u = 0; u < NC; ++u) acc[u] = _mm256_fmadd_ps(pt, _mm256_maskload_ps(v + u * 8, mk[u]), acc[u]);
  }
  for (int u = 0; u < NC; ++u) _mm256_maskstore_ps(o + dc + u * 8, mk[u], acc[u]);
}
}  // namespace

size_t heed_f32_attention_scratch__avx2(size_t S, size_t D) {
  const size_t W = kt_stride(S);
  return D * W + W + D + kBlock;
}

void heed_f32_attention__avx2(size_t S, size_t H, size_t D, size_t h0, size_t h1, size_t q0, size_t q1,
                              const float* qkv, float* out, float scale, const AttentionMask& mask, KeyRange* ranges,
                              float* scratch) {
  size_t kb, ke;  // the keys the queries see: kt column c is key kb + c
  attention_query_keys(S, q0, q1, mask, &kb, &ke);
  const size_t hidden = H * D, row = 3 * hidden, nk = ke - kb, W = kt_stride(nk);
  float* kt = scratch;      // [D][W]
  float* sc = kt + D * W;   // [W] scores of the current range, block by block
  float* o = sc + W;        // [D]
  float* p = o + D;         // [16]
  for (size_t h = h0; h < h1; ++h) {
    for (size_t j = 0; j < nk; ++j) {
      const float* k = qkv + (kb + j) * row + hidden + h * D;
      for (size_t d = 0; d < D; ++d) kt[d * W + j] = k[d];
    }
    for (size_t d = 0; d < D; ++d)
      for (size_t j = nk; j < W; ++j) kt[d * W + j] = 0.0f;
    const float* vh = qkv + 2 * hidden + h * D;
    for (size_t i = q0; i < q1; ++i) {
      const float* q = qkv + i * row + h * D;
      size_t nr = 1;
      if (mask.ranged()) {
        nr = attention_key_ranges(mask, S, i, ranges);
      } else {
        size_t jb, je;
        attention_key_range(S, i, mask, &jb, &je);
        ranges[0] = KeyRange{uint32_t(jb), uint32_t(je)};
      }
      float m = -INFINITY, l = 0.0f;
      for (size_t d = 0; d < D; ++d) o[d] = 0.0f;
      for (size_t r = 0; r < nr; ++r) {
        const size_t jb = ranges[r].begin, je = ranges[r].end;
        const size_t nblk = (je - jb + kBlock - 1) / kBlock;
        const size_t cb = jb - kb, ce = je - kb;  // the range's kt columns
        size_t b = 0;
        for (; b + 4 <= nblk; b += 4) scores<4>(q, kt, W, D, cb + b * kBlock, ce, scale, sc + b * kBlock);
        if (b + 2 <= nblk) scores<2>(q, kt, W, D, cb + b * kBlock, ce, scale, sc + b * kBlock), b += 2;
        if (b < nblk) scores<1>(q, kt, W, D, cb + b * kBlock, ce, scale, sc + b * kBlock);
        for (b = 0; b < nblk; ++b) {
          const size_t j0 = jb + b * kBlock, n = je - j0 < kBlock ? je - j0 : kBlock;
          const __m256 s0 = _mm256_loadu_ps(sc + b * kBlock), s1 = _mm256_loadu_ps(sc + b * kBlock + 8);
          const float mn = max_of(max16(s0, s1), m);
          const float c = f32_exp(m - mn);
          const __m256 vmn = _mm256_set1_ps(mn);
          const __m256 p0 = f32x8_exp(_mm256_sub_ps(s0, vmn)), p1 = f32x8_exp(_mm256_sub_ps(s1, vmn));
          _mm256_storeu_ps(p, p0);
          _mm256_storeu_ps(p + 8, p1);
          l = std::fma(l, c, f32x8x2_sum16(p0, p1));
          const float* v0 = vh + j0 * row;
          size_t dc = 0;
          for (; dc + 32 <= D; dc += 32) update<4>(o, dc, D, c, p, n, v0, row);
          switch ((D - dc + 7) / 8) {
            case 3: update<3>(o, dc, D, c, p, n, v0, row); break;
            case 2: update<2>(o, dc, D, c, p, n, v0, row); break;
            case 1: update<1>(o, dc, D, c, p, n, v0, row); break;
            default: break;
          }
          m = mn;
        }
      }
      float* y = out + i * hidden + h * D;
      const float inv_l = l > 0.0f ? 1.0f / l : 0.0f;
      for (size_t d = 0; d < D; ++d) y[d] = attention_out(o[d], inv_l);
    }
  }
}

}  // namespace heed
