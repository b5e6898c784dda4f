// ATTENTION's resolution of a layer's pattern against a session's settings,
// shared by the op (ops/attention.cc) and `heed inspect --attention-map`
// (tools/heed/attention-map.cc), so the map draws what the op runs.
#pragma once

#include <cstddef>
#include <vector>

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

// Positions the cache's ring holds: all of the session's, or a ring of
// window + 64 or more (at least 64 spare: each chunk of a long run, cap -
// window tokens). With attention sinks the ring is window + 64 whatever
// max_seq (the context may run past it: the session streams), and the sinks'
// own slots come beside it (kv_cache_bytes' `sinks`).
constexpr size_t kAttentionRingSpare = 64;
inline size_t attention_cache_positions(size_t window, size_t max_seq, size_t sinks = 0) {
  const size_t all = kv_cache_round(max_seq);
  if (window == kNoWindow) return all;
  const size_t ring = kv_cache_round(window + kAttentionRingSpare);
  return ring < all || sinks > 0 ? ring : all;
}

// The cache is a ring whose slots are reused as the positions pass (a
// window with sinks, or a window whose ring is smaller than max_seq), not one
// slot per position: a context may then run past max_seq (ArenaLayout::streams).
inline bool attention_ring(const OpInfo& op, size_t max_seq) {
  const size_t window = attention_causal_window(op);
  if (window == kNoWindow) return false;
  return op.sinks > 0 || attention_cache_positions(window, max_seq) < kv_cache_round(max_seq);
}

// Attention sinks (StreamingLLM, CAUSAL_WINDOW with sinks k > 0): the query at
// position p scores window keys with its rotated q and the k sink keys with q
// rotated back by sink_shift(p) = max(0, p - (k + window)) positions, so the
// sinks sit right before the window whatever p: a sink j at distance
// k + window - j once p > k + window, as in a cache whose positions are its
// slots (sinks at 0..k-1, the window's w + 1 keys at k..k+w). That rotation
// needs the RoPE that made q: a session copies the theta, scaling and factor
// of the ROPE op producing the ATTENTION's input into the op (rope_theta,
// rope_scaling, rope_factor) with attention_bind_rope, which fails
// (HEED_ERROR_INVALID_ARGUMENT) when the input does not come from a ROPE
// (learned positions cannot go past the context) or its scaling is DYNAMIC
// (its frequencies change with the length).
inline size_t attention_sink_shift(size_t p, size_t window, size_t sinks) {
  return p > sinks + window ? p - (sinks + window) : 0;
}
// The ROPE op making ops[index]'s input, or null when another kind of op makes it.
const OpInfo* attention_rope(const std::vector<OpInfo>& ops, size_t index);
Status attention_bind_rope(const std::vector<OpInfo>& ops, size_t index, OpInfo* op);

}  // namespace heed
