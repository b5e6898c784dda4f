// f32-attention: multi-head attention over a fused QKV activation, for the
// heads [h0, h1) (the op splits heads across threads).
//   qkv [S, 3*H*D]: row s = [q(h0..), k(h0..), v(h0..)], head h at h*D.
//   out [S, H*D]. Dense when window < 0; otherwise key j is visible from
//   query i iff |i - j| <= window. causal: additionally j <= i.
// Softmax is computed online (running max and sum, flash style), in float;
// no S x S matrix is formed. scratch: scratch_floats(S, D) floats, one
// scratch per concurrent call.
#pragma once

#include <cstddef>

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

}  // namespace heed
