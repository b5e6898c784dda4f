// f32-attention: multi-head attention over a fused QKV activation, for the
// heads [h0, h1) (the op splits heads across threads).
//   qkv [S, 3*H*D]: row s = [q(h0..), k(h0..), v(h0..)], head h at h*D.
//   out [S, H*D]. Dense when window < 0; otherwise key j is visible from
//   query i iff |i - j| <= window. causal: additionally j <= i.
//
// Exact order (every variant gives these bits; f32_exp is heed's own exp,
// kernels/math/f32-math.h; max(a, b) means a > b ? a : b):
//   for each head h and query i, with q = q_i, k_j, v_j of head h and the
//   visible keys [jb, je) (jb = max(0, i - window) or 0, je = min(causal ?
//   i + 1 : S, i + window + 1) or S):
//     m = -inf; l = 0; o[0..D) = 0
//     for each block of 16 keys j0 = jb, jb + 16, ... < je, with n = min(16, je - j0):
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
// softmax state moves once per block. No S x S matrix is formed. scratch:
// scratch_floats(S, D) floats of the variant, one scratch per concurrent call
// (the reference needs D; the SIMD variants O(S*D) for K transposed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/isa.h"

namespace heed {

using AttentionFn = void (*)(size_t S, size_t H, size_t D, size_t h0, size_t h1, const float* qkv, float* out,
                             float scale, int window, bool causal, float* scratch);

struct AttentionVariant {
  const char* name;
  Isa isa;
  AttentionFn fn;
  size_t (*scratch_floats)(size_t S, size_t D);
};

extern const AttentionVariant kAttentionVariants[];
extern const size_t kAttentionVariantCount;

void heed_f32_attention__scalar(size_t S, size_t H, size_t D, size_t h0, size_t h1, const float* qkv, float* out,
                                float scale, int window, bool causal, float* scratch);
size_t heed_f32_attention_scratch__scalar(size_t S, size_t D);
void heed_f32_attention__avx2(size_t S, size_t H, size_t D, size_t h0, size_t h1, const float* qkv, float* out,
                              float scale, int window, bool causal, float* scratch);
size_t heed_f32_attention_scratch__avx2(size_t S, size_t D);
void heed_f32_attention__avx512vnni(size_t S, size_t H, size_t D, size_t h0, size_t h1, const float* qkv, float* out,
                                    float scale, int window, bool causal, float* scratch);
size_t heed_f32_attention_scratch__avx512vnni(size_t S, size_t D);
void heed_f32_attention__neon(size_t S, size_t H, size_t D, size_t h0, size_t h1, const float* qkv, float* out,
                              float scale, int window, bool causal, float* scratch);
size_t heed_f32_attention_scratch__neon(size_t S, size_t D);

// Keys [*jb, *je) visible from query i (see above).
inline void attention_key_range(size_t S, size_t i, int window, bool causal, size_t* jb, size_t* je) {
  size_t b = 0, e = causal ? i + 1 : S;
  if (window >= 0) {
    const size_t w = size_t(window);
    b = i > w ? i - w : 0;
    if (i + w + 1 < e) e = i + w + 1;
  }
  *jb = b;
  *je = e;
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
