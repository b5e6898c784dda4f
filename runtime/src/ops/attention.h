// ATTENTION's resolution of a layer's pattern against a session's settings,
// shared by the op (ops/attention.cc) and `heed inspect --attention-map`
// (tools/heed/attention-map.cc), so the map draws what the op runs.
#pragma once

#include <cstddef>

#include "format/model.h"
#include "kernels/attention/cached-attention.h"
#include "ops/op.h"

namespace heed {

// Decoder patterns: keys and values in the op's cache, visibility by
// window_begin (kernels/attention/cached-attention.h). The others (encoders)
// run f32-attention over the run's own keys (attention_key_range).
inline bool attention_cached(const OpInfo& op) {
  return op.pattern == AttnPattern::kCausal || op.pattern == AttnPattern::kCausalWindow;
}

// f32-attention's window argument of an encoder op (attention_key_range):
// SLIDING_WINDOW's tokens on each side, -1 for dense.
inline int attention_encoder_window(const OpInfo& op) {
  return op.pattern == AttnPattern::kSlidingWindow ? op.window : -1;
}

// The window a decoder op runs with: the session's override (DecoderSettings)
// or its own pattern's; kNoWindow for dense causal attention.
inline size_t attention_causal_window(const OpInfo& op, const DecoderSettings& d) {
  if (d.window > 0) return size_t(d.window);
  if (d.window < 0) return kNoWindow;
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
