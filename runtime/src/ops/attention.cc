// ATTENTION: multi-head scaled dot-product attention over a fused
// projection (q | k | v, heads contiguous in each), dense, causal, within a
// symmetric window, with global tokens or block-sparse (encoders:
// kernels/attention/attention-mask.h), or causal within a left window
// (decoders); heads are split over the threads.
//
// CAUSAL and CAUSAL_WINDOW ops (decoders) may have fewer key/value heads than
// query heads (num_kv_heads: grouped-query and multi-query attention, input
// [s, (H + 2 KV) D]) and keep a key/value cache in their persistent state,
// float or int8 (SessionOptions::kv_cache; layout and quantization in
// kernels/attention/cached-attention.h): CAUSAL for the session's max_seq
// positions, CAUSAL_WINDOW for min(max_seq, window + 64) rounded up to 16, a
// ring; a session's attention patterns (SessionOptions::attention) replace
// the file's on its copy of the op (configure). Every run writes its k and v rows at positions past .. past+s-1 and
// attends over the cache with the cached-attention kernels, prefill and
// decode alike, so logits computed token by token have the bits of one run
// over all tokens (with a float cache and no window these are also the bits
// of the f32-attention kernels). A windowed run longer than the ring's spare
// room goes in chunks of cap - window tokens: each chunk's keys are written
// before its queries and after the queries of the chunks before.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/attention/cached-attention.h"
#include "ops/attention.h"
#include "ops/rope.h"
#include "ops/op.h"
#include "ops/ops.h"

namespace heed {

namespace {
const OpSlot kInputs[] = {{"qkv", kFromRuntime, kF32, 2, 0}};     // [s, (heads + 2 kv_heads) * head_dim]
const OpSlot kOutputs[] = {{"out", kFromActivation, kF32, 2, 0}};  // [s, heads * head_dim]


Status decode(const fb::Op& o, OpCheck& c) {
  const fb::AttentionOptions* ao = o.options_as_AttentionOptions();
  OpInfo& op = c.op;
  op.num_heads = ao->num_heads();
  op.head_dim = ao->head_dim();
  if (op.num_heads <= 0 || op.head_dim <= 0 || op.num_heads > kMaxHeads || op.head_dim > kMaxHeadDim) {
    return c.fail("heads %d x head_dim %d invalid", op.num_heads, op.head_dim);
  }
  const int pattern = int(ao->pattern());
  if (pattern < 0 || pattern > 4) return c.fail("unknown attention pattern %d", pattern);
  op.pattern = static_cast<AttnPattern>(pattern);
  op.window = ao->window();
  op.global_first = ao->global_first();
  op.global_positions.clear();
  if (const auto* g = ao->global_positions()) {
    if (g->size() > uint32_t(kMaxAttentionGlobalPositions)) {
      return c.fail("%u global positions exceed %d", g->size(), kMaxAttentionGlobalPositions);
    }
    op.global_positions.assign(g->begin(), g->end());
  }
  op.block_size = ao->block_size();
  op.block_local = ao->block_local();
  op.block_global = ao->block_global();
  op.block_stride = ao->block_stride();
  op.block_random = ao->block_random();
  op.block_seed = ao->block_seed();
  op.sinks = ao->sinks();
  // Only the window patterns read the window.
  if (op.pattern != AttnPattern::kSlidingWindow && op.pattern != AttnPattern::kCausalWindow) op.window = 0;
  Status ps = check_attention_pattern(op);
  if (!ps.ok()) return c.fail("%s", ps.message());
  op.num_kv_heads = ao->num_kv_heads() == 0 ? op.num_heads : ao->num_kv_heads();
  if (op.num_kv_heads <= 0 || op.num_kv_heads > op.num_heads || op.num_heads % op.num_kv_heads != 0) {
    return c.fail("%d key/value heads do not divide %d query heads", ao->num_kv_heads(), op.num_heads);
  }
  if (op.num_kv_heads != op.num_heads && !attention_cached(op)) {
    return c.fail("%d key/value heads for %d query heads need a causal pattern", op.num_kv_heads, op.num_heads);
  }
  op.attn_scale = ao->scale();
  if (op.attn_scale == 0.0f) op.attn_scale = 1.0f / std::sqrt(float(op.head_dim));
  if (!std::isfinite(op.attn_scale) || op.attn_scale <= 0.0f) {
    return c.fail("attention scale %g invalid", double(op.attn_scale));
  }
  return Status::Ok();
}

const OptionSpec kOptions[] = {
    HEED_OPTION(AttentionOptions, VT_NUM_HEADS, num_heads), HEED_OPTION(AttentionOptions, VT_HEAD_DIM, head_dim),
    HEED_OPTION(AttentionOptions, VT_PATTERN, pattern),     HEED_OPTION(AttentionOptions, VT_WINDOW, window),
    HEED_OPTION(AttentionOptions, VT_SCALE, attn_scale),   HEED_OPTION(AttentionOptions, VT_NUM_KV_HEADS, num_kv_heads),
    HEED_OPTION(AttentionOptions, VT_GLOBAL_FIRST, global_first),
    HEED_OPTION(AttentionOptions, VT_GLOBAL_POSITIONS, global_positions),
    HEED_OPTION(AttentionOptions, VT_BLOCK_SIZE, block_size), HEED_OPTION(AttentionOptions, VT_BLOCK_LOCAL, block_local),
    HEED_OPTION(AttentionOptions, VT_BLOCK_GLOBAL, block_global),
    HEED_OPTION(AttentionOptions, VT_BLOCK_STRIDE, block_stride),
    HEED_OPTION(AttentionOptions, VT_BLOCK_RANDOM, block_random), HEED_OPTION(AttentionOptions, VT_BLOCK_SEED, block_seed),
    HEED_OPTION(AttentionOptions, VT_SINKS, sinks),
};

Status validate(OpCheck& c) {
  const OpInfo& op = c.op;
  const TensorInfo &x = *c.in(0), &out = c.out(0);
  const int64_t H = int64_t(op.num_heads) * op.head_dim, KV = int64_t(op.num_kv_heads) * op.head_dim;
  if (x.dims[0] != kSeqDim || int64_t(x.dims[1]) != H + 2 * KV) {
    return c.fail("input must be [-1, (%d + 2*%d)*%d]", op.num_heads, op.num_kv_heads, op.head_dim);
  }
  if (out.dims[0] != kSeqDim || int64_t(out.dims[1]) != H) return c.fail("output must be [-1, %lld]", (long long)H);
  return Status::Ok();
}

// Positions a decoder op's cache's ring holds in this session.
size_t cache_positions(const OpSizing& s) {
  return attention_cache_positions(attention_causal_window(s.op), s.max_seq, size_t(s.op.sinks));
}

// Queries per chunk of a cached run of S tokens (cap: the ring's slots): all
// of them unless the cache is a ring, which would overwrite keys a query of
// the same chunk still reads.
size_t chunk_tokens(const OpInfo& op, size_t cap, size_t max_seq, size_t S) {
  if (!attention_ring(op, max_seq)) return S;
  return cap - attention_causal_window(op) - 1;
}

// Floats of the sink rows of one chunk (each query's heads, rotated).
size_t sink_row_floats(const OpInfo& op, size_t cap, size_t max_seq) {
  if (op.sinks == 0) return 0;
  return std::min(max_seq, chunk_tokens(op, cap, max_seq, max_seq)) * size_t(op.num_heads) * size_t(op.head_dim);
}

// Floats of one chunk's key ranges (encoders).
size_t range_floats(const OpInfo& op, size_t S) {
  return (attention_max_ranges(attention_mask(op), S) * sizeof(KeyRange) + sizeof(float) - 1) / sizeof(float);
}

// One scratch per chunk of heads: the kernel's, then (encoders) its key ranges.
size_t scratch_bytes(const OpSizing& s) {
  const size_t chunks = std::min(s.threads, size_t(s.op.num_heads)), D = size_t(s.op.head_dim);
  if (attention_cached(s.op)) {
    const size_t cap = cache_positions(s), slots = cap + kv_cache_round(size_t(s.op.sinks));
    return (chunks * cached_attention_scratch_floats(slots, D) + sink_row_floats(s.op, cap, s.max_seq)) * sizeof(float);
  }
  const size_t span = attention_key_span(s.max_seq, attention_mask(s.op));
  const size_t floats = s.kernels.attention->scratch_floats(span, D) + range_floats(s.op, s.max_seq);
  return chunks * floats * sizeof(float);
}

// The session's patterns (ops/attention-spec.h) on its copy of the op.
Status configure(const AttentionOverride& o, OpInfo* op) {
  return apply_attention_override(o, attention_cached(*op), op);
}

// The key/value cache of a decoder op.
size_t state_bytes(const OpSizing& s) {
  if (!attention_cached(s.op)) return 0;
  return kv_cache_bytes(cache_positions(s), size_t(s.op.num_kv_heads), size_t(s.op.head_dim), s.decoder.kv_int8,
                        size_t(s.op.sinks));
}
// Nothing to fill: a run reads only the positions it and the runs before it
// wrote (and pages never written stay untouched).
void init_state(const OpSizing&, void*) {}

struct AttentionJob {
  const AttentionVariant* v;
  size_t S, H, D;
  size_t q0, q1;  // the queries of this call
  const float* qkv;
  float* out;
  float scale;
  AttentionMask mask;
  float* scratch;  // [chunks][kernel floats + range floats]
  size_t kernel_floats, scratch_floats;
  size_t chunks;   // heads are split into this many contiguous ranges, one scratch each
};

void attention_task(void* arg, size_t c) {
  const AttentionJob& j = *static_cast<const AttentionJob*>(arg);
  const size_t h0 = c * j.H / j.chunks, h1 = (c + 1) * j.H / j.chunks;
  float* scratch = j.scratch + c * j.scratch_floats;
  j.v->fn(j.S, j.H, j.D, h0, h1, j.q0, j.q1, j.qkv, j.out, j.scale, j.mask,
          reinterpret_cast<KeyRange*>(scratch + j.kernel_floats), scratch);
}

struct CachedJob {
  const CachedAttentionVariant* v;
  size_t S, past, window, H;
  const float* q;
  size_t q_stride;
  const float* qs;  // sink rows [S][H * D], or null without sinks
  KvCache cache;
  float* out;
  float scale;
  float* scratch;  // [chunks][scratch_floats]
  size_t scratch_floats;
  size_t chunks;
};

void cached_task(void* arg, size_t c) {
  const CachedJob& j = *static_cast<const CachedJob*>(arg);
  const size_t h0 = c * j.H / j.chunks, h1 = (c + 1) * j.H / j.chunks;
  j.v->fn(j.S, j.past, j.window, j.H, h0, h1, j.q, j.q_stride, j.qs, j.H * j.cache.D, j.cache, j.out,
          j.H * j.cache.D, j.scale, j.scratch + c * j.scratch_floats);
}

// The sink rows of n queries from position p0: each head of query i rotated
// back by delta = attention_sink_shift(p0 + i) positions with the layer's
// RoPE (ops/rope.h: its frequencies, the angle in double, rope_rotate with
// -sin), or copied when delta = 0.
void sink_queries(const OpInfo& op, size_t window, size_t p0, size_t n, const float* q, size_t q_stride, float* qs) {
  const size_t H = size_t(op.num_heads), D = size_t(op.head_dim), half = D / 2;
  float inv[kMaxHeadDim / 2], cs[kMaxHeadDim / 2], sn[kMaxHeadDim / 2];
  rope_inverse_frequencies(op, op.rope_theta, inv);
  for (size_t r = 0; r < n; ++r) {
    const float* x = q + r * q_stride;
    float* y = qs + r * H * D;
    const size_t delta = attention_sink_shift(p0 + r, window, size_t(op.sinks));
    if (delta == 0) {
      std::memcpy(y, x, H * D * sizeof(float));
      continue;
    }
    rope_far_angles(op, inv, double(delta), cs, sn);
    for (size_t i = 0; i < half; ++i) sn[i] = -sn[i];
    for (size_t h = 0; h < H; ++h) rope_rotate(half, x + h * D, cs, sn, y + h * D);
  }
}

Status run(const OpContext& ctx, const OpInfo& op) {
  if (attention_cached(op)) {
    const size_t S = ctx.seq, H = size_t(op.num_heads), KV = size_t(op.num_kv_heads), D = size_t(op.head_dim);
    // A ring (and the sink slots) is all a context needs: it may run past
    // max_seq (each run still at most max_seq tokens).
    if (!attention_ring(op, ctx.max_seq) && ctx.past + S > ctx.max_seq) {
      return Status::Error(HEED_ERROR_INVALID_INPUT, "%zu tokens after %zu exceed the session's context of %zu", S,
                           ctx.past, ctx.max_seq);
    }
    const size_t window = attention_causal_window(op), sinks = size_t(op.sinks);
    const size_t cap = attention_cache_positions(window, ctx.max_seq, sinks);
    const KvCache cache = kv_cache_view(const_cast<void*>(ctx.op_state), cap, KV, D, ctx.decoder.kv_int8, sinks);
    const size_t chunk = chunk_tokens(op, cap, ctx.max_seq, S);
    const size_t chunks = std::min(ctx.threads, H), kernel_floats = cached_attention_scratch_floats(kv_cache_slots(cache), D);
    float* scratch = reinterpret_cast<float*>(ctx.scratch);
    float* qs = sinks ? scratch + chunks * kernel_floats : nullptr;  // [chunk][H * D]
    const float* qkv = ctx.data<float>(op.inputs[0]);
    float* out = ctx.data<float>(op.outputs[0]);
    const size_t stride = (H + 2 * KV) * D;
    for (size_t i0 = 0; i0 < S; i0 += chunk) {
      const size_t n = std::min(chunk, S - i0);
      const float* rows = qkv + i0 * stride;
      kv_cache_write(cache, ctx.past + i0, n, rows + H * D, rows + (H + KV) * D, stride);
      if (qs) sink_queries(op, window, ctx.past + i0, n, rows, stride, qs);
      CachedJob job{ctx.kernels->cached_attention, n, ctx.past + i0, window, H, rows, stride, qs, cache,
                    out + i0 * H * D, op.attn_scale, scratch, kernel_floats, chunks};
      pthreadpool_parallelize_1d(ctx.pool, cached_task, &job, job.chunks, 0);
    }
    return Status::Ok();
  }
  const AttentionMask mask = attention_mask(op);
  const size_t span = attention_key_span(ctx.seq, mask);
  const size_t kernel_floats = ctx.kernels->attention->scratch_floats(span, size_t(op.head_dim));
  AttentionJob job{ctx.kernels->attention, ctx.seq, size_t(op.num_heads), size_t(op.head_dim), 0, 0,
                   ctx.data<float>(op.inputs[0]), ctx.data<float>(op.outputs[0]), op.attn_scale,
                   mask, reinterpret_cast<float*>(ctx.scratch), kernel_floats,
                   kernel_floats + range_floats(op, ctx.seq), std::min(ctx.threads, size_t(op.num_heads))};
  // Query blocks, all heads of one before the next (f32-attention.h). Heads
  // and queries are independent: neither split can change a result.
  const size_t block = attention_query_block(ctx.seq, mask);
  for (job.q0 = 0; job.q0 < ctx.seq; job.q0 = job.q1) {
    job.q1 = std::min(ctx.seq, job.q0 + block);
    pthreadpool_parallelize_1d(ctx.pool, attention_task, &job, job.chunks, 0);
  }
  return Status::Ok();
}
}  // namespace

const OpInfo* attention_rope(const std::vector<OpInfo>& ops, size_t index) {
  const int32_t input = ops[index].inputs[0];
  for (size_t i = 0; i < index; ++i) {
    const OpInfo& r = ops[i];
    if (r.num_outputs >= 1 && r.outputs[0] == input) return r.kind == OpKind::kRope ? &r : nullptr;
  }
  return nullptr;
}

Status attention_bind_rope(const std::vector<OpInfo>& ops, size_t index, OpInfo* op) {
  if (op->sinks <= 0) return Status::Ok();
  const OpInfo* r = attention_rope(ops, index);
  if (!r) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT,
                         "attention sinks need rotary positions (a ROPE op making this layer's input): learned "
                         "position embeddings cannot go past the context");
  }
  if (r->head_dim != op->head_dim) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "attention sinks: the ROPE before has head_dim %d, not %d",
                         r->head_dim, op->head_dim);
  }
  if (r->rope_scaling == RopeScaling::kDynamic) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT,
                         "attention sinks need fixed RoPE frequencies: this layer's ROPE has DYNAMIC scaling");
  }
  op->rope_theta = r->rope_theta;
  op->rope_scaling = r->rope_scaling;
  op->rope_factor = r->rope_factor;
  return Status::Ok();
}

extern const OpEntry kAttentionOp = {
    OpKind::kAttention, "ATTENTION", 1, {kInputs, 1, 1, kOutputs, 1}, fb::OpOptions::AttentionOptions,
    decode, kOptions, sizeof kOptions / sizeof kOptions[0], validate, scratch_bytes, state_bytes, init_state, run,
    /*same_state=*/nullptr, /*row_wise=*/false, configure};

}  // namespace heed
