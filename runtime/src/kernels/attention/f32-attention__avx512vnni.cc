// f32-attention, AVX-512: the block order of f32-attention.h, eight queries
// at a time so that their independent chains interleave. Per query every
// operation is the reference's, in its order; only the interleaving across
// queries (which never share a value) is new.
//   - The keys the call's queries see (attention_query_keys) of the head are
//     copied transposed into scratch (KT[d][j], 8 x 8 register transposes,
//     rows padded with zeros). A score s_ij = (a_D) * scale,
//     a_{d+1} = fma(q_i[d], k_j[d], a_d), depends only on the query and the
//     key, not on how the keys are blocked, so the scores of the group's
//     eight queries are computed for every key of the union of their visible
//     ranges (16-aligned) in 4 query x 64 key tiles: each KT load feeds four
//     queries, each lane is one reference chain over d. They are stored per
//     query by key index; each query's blocks then read their own window
//     [jb + 16b, jb + 16b + n) of that row and set lanes n.. to -inf.
//   - Per block the eight queries' max16 and sum16 run together: 512-bit
//     shuffles pair the operands of the header's pairwise order (lanes t and
//     t + 8, then t + 4, t + 2, t + 1, the lower index always the first
//     operand) for two, four, eight queries per instruction, leaving query r
//     in lane lane_of(r). m, l and c live in those lanes: mn = max(bm, m),
//     c = f32x16_exp(m - mn) (f32_exp's sequence, lane by lane), l = fma(l, c,
//     sum). p = f32x16_exp(s - mn) per query.
//   - Output: o = o * c, then o = vfmadd(p[t], v_t, o) for t in order, as 8
//     queries x 32 elements of d (16 accumulators); V rows are loaded once for
//     the eight queries when they share jb (dense, causal), per query when a
//     window shifts jb. Queries whose last block is shorter finish their own
//     keys after the common ones; a query with fewer blocks sits out the
//     blocks past its last (its m, l are kept by a lane mask).
//   - A ranged mask (global tokens, blocks) runs the AVX2 variant: one query
//     at a time over its key ranges.
// Every value is therefore the reference's. Same bits as heed_f32_attention__scalar.
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "kernels/attention/f32-attention.h"
#include "kernels/math/f32-math-avx512.h"

namespace heed {

namespace {
constexpr size_t kBlock = 16;
constexpr int kRows = 8;  // queries per group
inline size_t kt_stride(size_t S) { return (S + kBlock - 1 + 15) / 16 * 16; }
inline size_t o_stride(size_t D) { return (D + 15) / 16 * 16; }
inline __mmask16 first(size_t n) { return n >= 16 ? __mmask16(0xffff) : __mmask16((1u << n) - 1); }
// Lane of query r in the reduced vectors (see reduce8).
constexpr int lane_of(int r) { return (r % 4) * 4 + r / 4; }

struct MaxOp {  // max_ps(a, b) = a > b ? a : b
  static __m512 f(__m512 a, __m512 b) { return _mm512_max_ps(a, b); }
};
struct AddOp {
  static __m512 f(__m512 a, __m512 b) { return _mm512_add_ps(a, b); }
};

// x[r] = the 16 lanes of query r; reduced in the header's pairwise order
// (t op t+8, then t op t+4, t op t+2, t op t+1); query r's result in lane
// lane_of(r) (query r in chunk r % 4, lane 0 for r < 4 and 1 for r >= 4).
template <class Op>
inline __m512 reduce8(const __m512* x) {
  __m512 a[4], b[2];
  for (int k = 0; k < 4; ++k)  // [x t0-3, t4-7 | y t0-3, t4-7] op [x t8-11, t12-15 | y ...]
    a[k] = Op::f(_mm512_shuffle_f32x4(x[2 * k], x[2 * k + 1], 0x44), _mm512_shuffle_f32x4(x[2 * k], x[2 * k + 1], 0xee));
  for (int k = 0; k < 2; ++k)  // chunk j = query 4k + j: t0-3 op t4-7
    b[k] = Op::f(_mm512_shuffle_f32x4(a[2 * k], a[2 * k + 1], 0x88), _mm512_shuffle_f32x4(a[2 * k], a[2 * k + 1], 0xdd));
  // chunk j: [q_j t0, t1, q_{j+4} t0, t1] = (t0, t1) op (t2, t3)
  const __m512 c = Op::f(_mm512_shuffle_ps(b[0], b[1], 0x44), _mm512_shuffle_ps(b[0], b[1], 0xee));
  return Op::f(_mm512_shuffle_ps(c, c, 0x88), _mm512_shuffle_ps(c, c, 0xdd));  // t0 op t1
}

// KT[d][j] = k_j[d] for j < S, 0 for S <= j < W (k_j at k0 + j * row).
void transpose_k(size_t S, size_t D, const float* k0, size_t row, float* kt, size_t W) {
  size_t j = 0;
  for (; j + 8 <= S; j += 8) {
    size_t d = 0;
    for (; d + 8 <= D; d += 8) {
      __m256 r[8], t[8], u[8];
      for (int a = 0; a < 8; ++a) r[a] = _mm256_loadu_ps(k0 + (j + a) * row + d);
      for (int a = 0; a < 8; a += 2) {
        t[a] = _mm256_unpacklo_ps(r[a], r[a + 1]);
        t[a + 1] = _mm256_unpackhi_ps(r[a], r[a + 1]);
      }
      for (int a = 0; a < 8; a += 4) {
        u[a] = _mm256_shuffle_ps(t[a], t[a + 2], 0x44);
        u[a + 1] = _mm256_shuffle_ps(t[a], t[a + 2], 0xee);
        u[a + 2] = _mm256_shuffle_ps(t[a + 1], t[a + 3], 0x44);
        u[a + 3] = _mm256_shuffle_ps(t[a + 1], t[a + 3], 0xee);
      }
      for (int a = 0; a < 4; ++a) {
        _mm256_storeu_ps(kt + (d + a) * W + j, _mm256_permute2f128_ps(u[a], u[a + 4], 0x20));
        _mm256_storeu_ps(kt + (d + a + 4) * W + j, _mm256_permute2f128_ps(u[a], u[a + 4], 0x31));
      }
    }
    for (; d < D; ++d)
      for (size_t a = 0; a < 8; ++a) kt[d * W + j + a] = k0[(j + a) * row + d];
  }
  for (; j < S; ++j)
    for (size_t d = 0; d < D; ++d) kt[d * W + j] = k0[j * row + d];
  for (size_t d = 0; d < D; ++d)
    for (size_t jj = S; jj < W; ++jj) kt[d * W + jj] = 0.0f;
}

// Scores of queries q[0..4) for kt columns [j, j + 16G) into sc[r][j ..].
template <int G>
inline void scores4(const float* const* q, const float* kt, size_t W, size_t D, size_t j, float scale,
                    float* const* sc) {
  __m512 acc[4][G];
  for (int r = 0; r < 4; ++r)
    for (int g = 0; g < G; ++g) acc[r][g] = _mm512_setzero_ps();
  for (size_t d = 0; d < D; ++d) {
    const float* kr = kt + d * W + j;
    __m512 kv[G];
    for (int g = 0; g < G; ++g) kv[g] = _mm512_loadu_ps(kr + g * kBlock);
    for (int r = 0; r < 4; ++r) {
      const __m512 qd = _mm512_set1_ps(q[r][d]);
      for (int g = 0; g < G; ++g) acc[r][g] = _mm512_fmadd_ps(qd, kv[g], acc[r][g]);
    }
  }
  const __m512 vscale = _mm512_set1_ps(scale);
  for (int r = 0; r < 4; ++r)
    for (int g = 0; g < G; ++g) _mm512_storeu_ps(sc[r] + j + g * kBlock, _mm512_mul_ps(acc[r][g], vscale));
}

// A group of eight queries of one head: their visible keys and score rows.
struct Group {
  size_t jb[kRows], je[kRows], nblk[kRows], nbmax;
  const float* sc[kRows];  // scores by key index - kb
  size_t kb;               // the first key in kt and sc
  float* y[kRows];         // output rows (null: a repeat of the last query)
  bool same_jb;
  size_t W;
  float* pb;  // [8][W] p of query r, block b at pb[r * W + 16b]
  float* cb;  // [W] c of block b, query r at cb[16b + lane_of(r)]
};

// Keys of query r in block b (0 past its last block).
inline size_t keys_in(const Group& g, int r, size_t b) {
  if (b >= g.nblk[r]) return 0;
  const size_t j0 = g.jb[r] + b * kBlock;
  return g.je[r] - j0 < kBlock ? g.je[r] - j0 : kBlock;
}

// Block b of the eight queries: max16 of the scores (lanes past n set to
// -inf), mn = max(bm, m), c = exp(m - mn), p = exp(s - mn), l = fma(l, c,
// sum16(p)); m and l advance for the queries with keys in b.
inline void softmax_block(const Group& g, size_t b, __m512& m, __m512& l) {
  const __m512 ninf = _mm512_set1_ps(-INFINITY);
  __mmask16 lanes = 0;
  __m512 s[kRows];
#pragma GCC unroll 8
  for (int r = 0; r < kRows; ++r) {
    const size_t n = keys_in(g, r, b);
    if (n > 0) lanes = __mmask16(lanes | (1u << lane_of(r)));
    s[r] = n > 0 ? _mm512_mask_loadu_ps(ninf, first(n), g.sc[r] + (g.jb[r] - g.kb) + b * kBlock) : ninf;
  }
  const __m512 mn = _mm512_max_ps(reduce8<MaxOp>(s), m);
  const __m512 c = f32x16_exp(_mm512_sub_ps(m, mn));
  __m512 pv[kRows];
#pragma GCC unroll 8
  for (int r = 0; r < kRows; ++r) {
    pv[r] = f32x16_exp(_mm512_sub_ps(s[r], _mm512_permutexvar_ps(_mm512_set1_epi32(lane_of(r)), mn)));
    _mm512_storeu_ps(g.pb + r * g.W + b * kBlock, pv[r]);
  }
  const __m512 ln = _mm512_fmadd_ps(l, c, reduce8<AddOp>(pv));
  _mm512_storeu_ps(g.cb + b * kBlock, c);
  m = _mm512_mask_blend_ps(lanes, m, mn);
  l = _mm512_mask_blend_ps(lanes, l, ln);
}

// The group's output, elements [dc, dc + 16NC) of d, over all its blocks,
// with the accumulators in registers throughout: per block b and query r
// (if r has keys in b) o = o * c, then o = fma(p[t], v_t, o) for t < n_r.
// kSoftmax: also run softmax_block, block b + 1 ahead of block b's update
// (independent work for the core to overlap), else read pb and cb as left
// by an earlier call. Blocks that are full or equally long for all eight
// queries run unmasked (kShared: one V row for all, the queries' jb being
// equal); others mask each query's operations.
template <int NC, bool kShared>
inline void output8(const Group& g, size_t dc, size_t D, const float* vh, size_t row, const float* inv_l) {
  __m512 acc[kRows][NC];
  __mmask16 mk[NC];
  for (int u = 0; u < NC; ++u) mk[u] = first(D - dc - u * 16);
  for (int r = 0; r < kRows; ++r)
    for (int u = 0; u < NC; ++u) acc[r][u] = _mm512_setzero_ps();
  const size_t W = g.W;
  for (size_t b = 0; b < g.nbmax; ++b) {
    size_t n[kRows], nmin = kBlock, nmax = 0;
    for (int r = 0; r < kRows; ++r) {
      n[r] = keys_in(g, r, b);
      nmin = n[r] < nmin ? n[r] : nmin;
      nmax = n[r] > nmax ? n[r] : nmax;
    }
    const float* p = g.pb + b * kBlock;
    const float* cb = g.cb + b * kBlock;
    if (nmin == nmax) {  // every query: o * c, then n keys
      for (int r = 0; r < kRows; ++r) {
        const __m512 c = _mm512_set1_ps(cb[lane_of(r)]);
        for (int u = 0; u < NC; ++u) acc[r][u] = _mm512_mul_ps(acc[r][u], c);
      }
      if (kShared) {
        const float* v = vh + (g.jb[0] + b * kBlock) * row + dc;
        for (size_t t = 0; t < nmin; ++t, v += row) {
          __m512 vv[NC];
          for (int u = 0; u < NC; ++u) vv[u] = _mm512_maskz_loadu_ps(mk[u], v + u * 16);
          for (int r = 0; r < kRows; ++r) {
            const __m512 pt = _mm512_set1_ps(p[r * W + t]);
            for (int u = 0; u < NC; ++u) acc[r][u] = _mm512_fmadd_ps(pt, vv[u], acc[r][u]);
          }
        }
      } else {
        const float* v[kRows];
        for (int r = 0; r < kRows; ++r) v[r] = vh + (g.jb[r] + b * kBlock) * row + dc;
        for (size_t t = 0; t < nmin; ++t) {
          for (int r = 0; r < kRows; ++r) {
            const __m512 pt = _mm512_set1_ps(p[r * W + t]);
            for (int u = 0; u < NC; ++u)
              acc[r][u] = _mm512_fmadd_ps(pt, _mm512_maskz_loadu_ps(mk[u], v[r] + t * row + u * 16), acc[r][u]);
          }
        }
      }
    } else {  // queries past their last block, or with fewer keys in it: masked
      for (int r = 0; r < kRows; ++r) {
        const __m512 c = _mm512_set1_ps(cb[lane_of(r)]);
        const __mmask16 on = n[r] > 0 ? __mmask16(0xffff) : __mmask16(0);
        for (int u = 0; u < NC; ++u) acc[r][u] = _mm512_mask_mul_ps(acc[r][u], on, acc[r][u], c);
      }
      for (size_t t = 0; t < nmax; ++t) {
        for (int r = 0; r < kRows; ++r) {
          const bool on = t < n[r];
          const __mmask16 kr = on ? __mmask16(0xffff) : __mmask16(0);
          const __m512 pt = _mm512_set1_ps(p[r * W + t]);
          const float* v = vh + (on ? (g.jb[r] + b * kBlock + t) * row : 0) + dc;
          for (int u = 0; u < NC; ++u)
            acc[r][u] = _mm512_mask3_fmadd_ps(pt, _mm512_maskz_loadu_ps(mk[u] & kr, v + u * 16), acc[r][u], kr);
        }
      }
    }
  }
  const __m512 dnan = _mm512_castsi512_ps(_mm512_set1_epi32(int(f32math::kDefaultNaN)));
  for (int r = 0; r < kRows; ++r) {
    if (!g.y[r]) continue;
    const __m512 il = _mm512_set1_ps(inv_l[r]);
    for (int u = 0; u < NC; ++u) {  // attention_out
      const __m512 x = _mm512_mul_ps(acc[r][u], il);
      _mm512_mask_storeu_ps(g.y[r] + dc + u * 16, mk[u],
                            _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x, dnan));
    }
  }
}

template <bool kShared>
inline void output_all(const Group& g, size_t D, const float* vh, size_t row, const float* inv_l) {
  size_t dc = 0;
  for (; dc + 16 < D; dc += 32) output8<2, kShared>(g, dc, D, vh, row, inv_l);
  if (dc < D) output8<1, kShared>(g, dc, D, vh, row, inv_l);
}
}  // namespace

// KT [D][W], scores [8][W], p [8][W], c [W] (16 lanes per block).
// (At least the AVX2 variant's, which runs the ranged masks.)
size_t heed_f32_attention_scratch__avx512vnni(size_t S, size_t D) {
  const size_t W = kt_stride(S), own = D * W + 2 * kRows * W + W, avx2 = heed_f32_attention_scratch__avx2(S, D);
  return own > avx2 ? own : avx2;
}

void heed_f32_attention__avx512vnni(size_t S, size_t H, size_t D, size_t h0, size_t h1, size_t q0, size_t q1,
                                    const float* qkv, float* out, float scale, const AttentionMask& mask,
                                    KeyRange* ranges, float* scratch) {
  if (mask.ranged()) {  // one query at a time over its ranges
    heed_f32_attention__avx2(S, H, D, h0, h1, q0, q1, qkv, out, scale, mask, ranges, scratch);
    return;
  }
  size_t kb, ke;  // the keys the queries see: kt column c is key kb + c
  attention_query_keys(S, q0, q1, mask, &kb, &ke);
  const size_t hidden = H * D, row = 3 * hidden, nk = ke - kb, W = kt_stride(nk);
  float* kt = scratch;         // [D][W]
  float* sc = kt + D * W;      // [8][W] scores of the group's queries by key index
  Group g;
  g.W = W;
  g.kb = kb;
  g.pb = sc + kRows * W;
  g.cb = g.pb + kRows * W;
  for (size_t h = h0; h < h1; ++h) {
    transpose_k(nk, D, qkv + kb * row + hidden + h * D, row, kt, W);
    const float* vh = qkv + 2 * hidden + h * D;
    for (size_t i0 = q0; i0 < q1; i0 += kRows) {
      // Query r of the group is i0 + r (the last query again past q1: computed, not stored).
      const float* q[kRows];
      float* scr[kRows];
      size_t jlo = S, jhi = 0;
      g.nbmax = 0;
      g.same_jb = true;
      for (int r = 0; r < kRows; ++r) {
        const size_t i = i0 + r < q1 ? i0 + r : q1 - 1;
        attention_key_range(S, i, mask, &g.jb[r], &g.je[r]);
        g.nblk[r] = (g.je[r] - g.jb[r] + kBlock - 1) / kBlock;
        q[r] = qkv + i * row + h * D;
        g.sc[r] = scr[r] = sc + r * W;
        g.y[r] = i0 + r < q1 ? out + i * hidden + h * D : nullptr;
        jlo = g.jb[r] < jlo ? g.jb[r] : jlo;
        jhi = g.je[r] > jhi ? g.je[r] : jhi;
        g.nbmax = g.nblk[r] > g.nbmax ? g.nblk[r] : g.nbmax;
        g.same_jb = g.same_jb && g.jb[r] == g.jb[0];
      }
      // kt columns (kb is a multiple of 16)
      const size_t J0 = jlo / kBlock * kBlock - kb, J1 = (jhi + kBlock - 1) / kBlock * kBlock - kb;
      for (int rq = 0; rq < kRows; rq += 4) {
        size_t j = J0;
        for (; j + 4 * kBlock <= J1; j += 4 * kBlock) scores4<4>(q + rq, kt, W, D, j, scale, scr + rq);
        switch ((J1 - j) / kBlock) {
          case 3: scores4<3>(q + rq, kt, W, D, j, scale, scr + rq); break;
          case 2: scores4<2>(q + rq, kt, W, D, j, scale, scr + rq); break;
          case 1: scores4<1>(q + rq, kt, W, D, j, scale, scr + rq); break;
          default: break;
        }
      }
      __m512 m = _mm512_set1_ps(-INFINITY), l = _mm512_setzero_ps();
      for (size_t b = 0; b < g.nbmax; ++b) softmax_block(g, b, m, l);
      alignas(64) float lb[16];
      _mm512_store_ps(lb, l);
      float inv_l[kRows];
      for (int r = 0; r < kRows; ++r) {
        const float lr = lb[lane_of(r)];
        inv_l[r] = lr > 0.0f ? 1.0f / lr : 0.0f;
      }
      if (g.same_jb)
        output_all<true>(g, D, vh, row, inv_l);
      else
        output_all<false>(g, D, vh, row, inv_l);
    }
  }
}

}  // namespace heed
