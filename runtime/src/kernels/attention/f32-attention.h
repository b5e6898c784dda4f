// f32-attention: multi-head attention over a fused QKV activation, for the
// heads [h0, h1) (the op splits heads across threads).
//   qkv [S, 3*H*D]: row s = [q(h0..), k(h0..), v(h0..)], head h at h*D.
//   out [S, H*D]. Which keys query i sees is the mask's rule
//   (kernels/attention/attention-mask.h): dense, a symmetric window
//   (|i - j| <= window), causal, global tokens and block-sparse patterns.
//
// Exact order (every variant gives these bits; f32_exp is heed's own exp,
// kernels/math/f32-math.h; max(a, b) means a > b ? a : b):
//   for each head h and query i, with q = q_i, k_j, v_j of head h and the
//   visible keys as ranges [jb, je): one range, attention_key_range's, when
//   the mask is not ranged() (dense, window, causal); else
//   attention_key_ranges' ascending ranges, walked in order:
//     m = -inf; l = 0; o[0..D) = 0
//     for each range [jb, je), for each block of 16 keys j0 = jb, jb + 16, ... < je, with n = min(16, je - j0):
//       s[t] = (a_D) * scale for t < n, where a_0 = 0, a_{d+1} = fma(q[d], k_{j0+t}[d], a_d);
//       s[t] = -inf for n <= t < 16
//       bm = max16(s): s[t] = max(s[t], s[t+8]) for t < 8, then the same with 4, 2, 1
//       mn = max(bm, m); c = f32_exp(m - mn)                       (c = 0 on the first block)
//       p[t] = f32_exp(s[t] - mn) for t < 16                       (0 for t >= n)
//       l = fma(l, c, sum16(p)), sum16: p[t] + p[t+8] for t < 8, then the same with 4, 2, 1
//       o[d] = o[d] * c; then o[d] = fma(p[t], v_{j0+t}[d], o[d]) for t = 0 .. n-1
//       m = mn
//     out[i, h*D + d] = o[d] * (l > 0 ? 1 / l : 0), a NaN stored as the default NaN
//     0x7fc00000 (payloads would depend on operand order)
// The 16 scores of a block are 16 independent fma chains over d (SIMD lanes
// over keys, from a transposed copy of K in the variant's scratch), the
// output 16-key steps are fma chains over keys (SIMD lanes over d), and the
// softmax state moves once per block. No S x S matrix is formed.
//
// A call computes queries [q0, q1) of heads [h0, h1); the SIMD variants
// transpose only the keys those queries see (attention_query_keys). The op
// runs a windowed mask in blocks of attention_query_block queries, all heads
// of a block before the next, so the block's rows of qkv are read from
// memory once for all heads and the transposed keys stay in L2 (docs/
// decisions.md #32). scratch: scratch_floats(n, D) floats of the variant,
// n >= attention_key_span for the call's block, one scratch per concurrent
// call (the reference needs D; the SIMD variants O(n*D) for K transposed);
// ranges: attention_max_ranges(mask, S) entries, read only for a ranged mask.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/attention/attention-mask.h"
#include "kernels/isa.h"

namespace heed {

using AttentionFn = void (*)(size_t S, size_t H, size_t D, size_t h0, size_t h1, size_t q0, size_t q1,
                             const float* qkv, float* out, float scale, const AttentionMask& mask, KeyRange* ranges,
                             float* scratch);

struct AttentionVariant {
  const char* name;
  Isa isa;
  AttentionFn fn;
  size_t (*scratch_floats)(size_t S, size_t D);
};

extern const AttentionVariant kAttentionVariants[];
extern const size_t kAttentionVariantCount;

void heed_f32_attention__scalar(size_t S, size_t H, size_t D, size_t h0, size_t h1, size_t q0, size_t q1,
                                const float* qkv, float* out,
                                float scale, const AttentionMask& mask, KeyRange* ranges, float* scratch);
size_t heed_f32_attention_scratch__scalar(size_t S, size_t D);
void heed_f32_attention__avx2(size_t S, size_t H, size_t D, size_t h0, size_t h1, size_t q0, size_t q1,
                              const float* qkv, float* out,
                              float scale, const AttentionMask& mask, KeyRange* ranges, float* scratch);
size_t heed_f32_attention_scratch__avx2(size_t S, size_t D);
void heed_f32_attention__avx512vnni(size_t S, size_t H, size_t D, size_t h0, size_t h1, size_t q0, size_t q1,
                                    const float* qkv, float* out,
                                    float scale, const AttentionMask& mask, KeyRange* ranges, float* scratch);
size_t heed_f32_attention_scratch__avx512vnni(size_t S, size_t D);
void heed_f32_attention__neon(size_t S, size_t H, size_t D, size_t h0, size_t h1, size_t q0, size_t q1,
                              const float* qkv, float* out,
                              float scale, const AttentionMask& mask, KeyRange* ranges, float* scratch);
size_t heed_f32_attention_scratch__neon(size_t S, size_t D);

// Keys [*jb, *je) visible from query i under a mask that is not ranged().
inline void attention_key_range(size_t S, size_t i, const AttentionMask& m, size_t* jb, size_t* je) {
  size_t b = 0, e = m.causal ? i + 1 : S;
  if (m.window >= 0) {
    const size_t w = size_t(m.window);
    b = i > w ? i - w : 0;
    if (i + w + 1 < e) e = i + w + 1;
  }
  *jb = b;
  *je = e;
}

// Queries per call of a windowed mask that is not ranged (else all S): the
// keys of 128 queries and a window of w span 128 + 2w rows.
constexpr size_t kAttentionQueryBlock = 128;
inline size_t attention_query_block(size_t S, const AttentionMask& m) {
  return !m.ranged() && m.window >= 0 && S > kAttentionQueryBlock ? kAttentionQueryBlock : S;
}

// Keys [*kb, *ke) that queries [q0, q1) (q0 < q1) see between them, *kb
// rounded down to a multiple of 16 (the SIMD variants' score blocks start
// there): for a mask that is not ranged, from query q0's first key to query
// q1 - 1's end (both grow with the query); for a ranged mask, all of [0, S).
inline void attention_query_keys(size_t S, size_t q0, size_t q1, const AttentionMask& m, size_t* kb, size_t* ke) {
  if (m.ranged()) {
    *kb = 0;
    *ke = S;
    return;
  }
  size_t b, e;
  attention_key_range(S, q0, m, &b, &e);
  *kb = b / 16 * 16;
  attention_key_range(S, q1 - 1, m, &b, &e);
  *ke = e;
}

// The most keys attention_query_keys gives for blocks of
// attention_query_block(S, m) queries: what scratch_floats needs.
inline size_t attention_key_span(size_t S, const AttentionMask& m) {
  const size_t qb = attention_query_block(S, m);
  if (qb == S) return S;
  const size_t span = qb + 2 * size_t(m.window) + 15;  // i0 - w (rounded down) .. i0 + qb - 1 + w
  return span < S ? span : S;
}

// One output element as every variant stores it. `static`: each translation
// unit (each with its own ISA flags) keeps its own copy.
static inline float attention_out(float o, float inv_l) {
  float y = o * inv_l;
  if (y != y) {
    const uint32_t nan = 0x7fc00000u;
    std::memcpy(&y, &nan, sizeof y);
  }
  return y;
}

}  // namespace heed
