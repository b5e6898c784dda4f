// ATTENTION's resolution of a layer's pattern against a session's settings,
// shared by the op (ops/attention.cc) and `heed inspect --attention-map`
// (tools/heed/attention-map.cc), so the map draws what the op runs.
#pragma once

#include <cstddef>

#include "format/model.h"
#include "kernels/attention/attention-mask.h"
#include "kernels/attention/cached-attention.h"
#include "ops/op.h"

namespace heed {

// Decoder patterns: keys and values in the op's cache, visibility by
// window_begin (kernels/attention/cached-attention.h). The others (encoders)
// run f32-attention over the run's own keys (attention_mask).
inline bool attention_cached(const OpInfo& op) {
  return op.pattern == AttnPattern::kCausal || op.pattern == AttnPattern::kCausalWindow;
}

// The visibility of an encoder op's keys for f32-attention (dense, a
// symmetric window, global tokens, block-sparse; kernels/attention/attention-mask.h).
// Its global positions point into `op`.
inline AttentionMask attention_mask(const OpInfo& op) {
  AttentionMask m;
  m.causal = op.pattern == AttnPattern::kCausal;
  if (op.pattern == AttnPattern::kSlidingWindow) m.window = op.window;
  m.global_first = op.global_first;
  m.global_positions = op.global_positions.data();
  m.num_global_positions = op.global_positions.size();
  if (op.pattern == AttnPattern::kBlockSparse) {
    m.block = op.block_size;
    m.block_local = op.block_local;
    m.block_global = op.block_global;
    m.block_stride = op.block_stride;
    m.block_random = op.block_random;
    m.block_seed = uint32_t(op.block_seed);
  }
  return m;
}

// The window a decoder op runs with (the session's copy of the op carries
// a session override): kNoWindow for dense causal attention.
inline size_t attention_causal_window(const OpInfo& op) {
  return op.pattern == AttnPattern::kCausalWindow ? size_t(op.window) : kNoWindow;
}

// Positions the cache holds: all of the session's, or a ring of window + 64
// or more (at least 64 spare: each chunk of a long run, cap - window tokens).
constexpr size_t kAttentionRingSpare = 64;
inline size_t attention_cache_positions(size_t window, size_t max_seq) {
  const size_t all = (max_seq + kKvBlock - 1) / kKvBlock * kKvBlock;
  if (window == kNoWindow) return all;
  const size_t ring = (window + kAttentionRingSpare + kKvBlock - 1) / kKvBlock * kKvBlock;
  return ring < all ? ring : all;
}

}  // namespace heed
