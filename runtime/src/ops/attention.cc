// ATTENTION: multi-head scaled dot-product attention over a fused [s, 3H]
// projection (q | k | v, heads contiguous in each), dense, causal or within
// a symmetric window; heads are split over the threads.
//
// CAUSAL ops keep a float key/value cache in their persistent state,
// [H][max_seq][D] keys then the same for values, so that a run can append
// tokens to the ones before it (ctx.past of them, Session::decode): every
// run writes its k and v rows at positions past.. past+s-1; a run with
// past = 0 attends with the family's kernel over its own rows (the cache is
// only written), a run with past > 0 attends over the cache with
// heed_f32_attention_cached__scalar, whose order is the reference's, so
// logits computed token by token have the bits of one run over all tokens.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "ops/op.h"
#include "ops/ops.h"

namespace heed {

namespace {
const OpSlot kInputs[] = {{"qkv", kFromRuntime, kF32, 2, 0}};     // [s, 3 * heads * head_dim]
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
  if (pattern < 0 || pattern > 2) return c.fail("unknown attention pattern %d", pattern);
  op.pattern = static_cast<AttnPattern>(pattern);
  op.window = 0;  // only SLIDING_WINDOW reads the field
  if (op.pattern == AttnPattern::kSlidingWindow) {
    if (ao->window() <= 0 || ao->window() > kMaxSeq) return c.fail("window %d must be 1..%d", ao->window(), kMaxSeq);
    op.window = ao->window();
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
    HEED_OPTION(AttentionOptions, VT_SCALE, attn_scale),
};

Status validate(OpCheck& c) {
  const OpInfo& op = c.op;
  const TensorInfo &x = *c.in(0), &out = c.out(0);
  const int64_t H = int64_t(op.num_heads) * op.head_dim;
  if (x.dims[0] != kSeqDim || int64_t(x.dims[1]) != 3 * H) {
    return c.fail("input must be [-1, 3*%d*%d]", op.num_heads, op.head_dim);
  }
  if (out.dims[0] != kSeqDim || int64_t(out.dims[1]) != H) return c.fail("output must be [-1, %lld]", (long long)H);
  return Status::Ok();
}

// One scratch per chunk of heads.
size_t scratch_bytes(const OpSizing& s) {
  const size_t chunks = std::min(s.threads, size_t(s.op.num_heads));
  return chunks * s.kernels.attention->scratch_floats(s.max_seq, size_t(s.op.head_dim)) * sizeof(float);
}

// The key/value cache of a CAUSAL op.
size_t state_bytes(const OpSizing& s) {
  if (s.op.pattern != AttnPattern::kCausal) return 0;
  return 2 * size_t(s.op.num_heads) * s.max_seq * size_t(s.op.head_dim) * sizeof(float);
}
// Nothing to fill: a run reads only the positions it and the runs before it
// wrote (and pages never written stay untouched).
void init_state(const OpSizing&, void*) {}

struct AttentionJob {
  const AttentionVariant* v;
  size_t S, H, D;
  const float* qkv;
  float* out;
  float scale;
  int window;
  bool causal;
  float* scratch;  // [chunks][scratch_floats]
  size_t scratch_floats;
  size_t chunks;   // heads are split into this many contiguous ranges, one scratch each
};

void attention_task(void* arg, size_t c) {
  const AttentionJob& j = *static_cast<const AttentionJob*>(arg);
  const size_t h0 = c * j.H / j.chunks, h1 = (c + 1) * j.H / j.chunks;
  j.v->fn(j.S, j.H, j.D, h0, h1, j.qkv, j.out, j.scale, j.window, j.causal, j.scratch + c * j.scratch_floats);
}

struct CachedJob {
  size_t S, past, H, D, cap;
  const float* qkv;
  const float* k;
  const float* v;
  float* out;
  float scale;
  float* scratch;  // [chunks][D]
  size_t chunks;
};

void cached_task(void* arg, size_t c) {
  const CachedJob& j = *static_cast<const CachedJob*>(arg);
  const size_t h0 = c * j.H / j.chunks, h1 = (c + 1) * j.H / j.chunks;
  heed_f32_attention_cached__scalar(j.S, j.past, j.H, j.D, h0, h1, j.qkv, j.k, j.v, j.cap, j.out, j.scale,
                                    j.scratch + c * j.D);
}

Status run(const OpContext& ctx, const OpInfo& op) {
  if (op.pattern == AttnPattern::kCausal && ctx.op_state) {
    const size_t S = ctx.seq, H = size_t(op.num_heads), D = size_t(op.head_dim), cap = ctx.max_seq;
    if (ctx.past + S > cap) {
      return Status::Error(HEED_ERROR_INVALID_INPUT, "%zu tokens after %zu exceed the session's context of %zu", S,
                           ctx.past, cap);
    }
    float* kc = static_cast<float*>(const_cast<void*>(ctx.op_state));
    float* vc = kc + H * cap * D;
    const float* qkv = ctx.data<float>(op.inputs[0]);
    for (size_t i = 0; i < S; ++i) {
      const float* row = qkv + i * 3 * H * D;
      for (size_t h = 0; h < H; ++h) {
        std::memcpy(kc + (h * cap + ctx.past + i) * D, row + (H + h) * D, D * sizeof(float));
        std::memcpy(vc + (h * cap + ctx.past + i) * D, row + (2 * H + h) * D, D * sizeof(float));
      }
    }
    if (ctx.past > 0) {
      CachedJob job{S, ctx.past, H, D, cap, qkv, kc, vc, ctx.data<float>(op.outputs[0]), op.attn_scale,
                    reinterpret_cast<float*>(ctx.scratch), std::min(ctx.threads, H)};
      pthreadpool_parallelize_1d(ctx.pool, cached_task, &job, job.chunks, 0);
      return Status::Ok();
    }
  }
  AttentionJob job{ctx.kernels->attention, ctx.seq, size_t(op.num_heads), size_t(op.head_dim),
                   ctx.data<float>(op.inputs[0]), ctx.data<float>(op.outputs[0]), op.attn_scale,
                   op.pattern == AttnPattern::kSlidingWindow ? op.window : -1, op.pattern == AttnPattern::kCausal,
                   reinterpret_cast<float*>(ctx.scratch),
                   ctx.kernels->attention->scratch_floats(ctx.seq, size_t(op.head_dim)),
                   std::min(ctx.threads, size_t(op.num_heads))};
  // Heads are independent: the split cannot change a result.
  pthreadpool_parallelize_1d(ctx.pool, attention_task, &job, job.chunks, 0);
  return Status::Ok();
}
}  // namespace

extern const OpEntry kAttentionOp = {
    OpKind::kAttention, "ATTENTION", 1, {kInputs, 1, 1, kOutputs, 1}, fb::OpOptions::AttentionOptions,
    decode, kOptions, 5, validate, scratch_bytes, state_bytes, init_state, run};

}  // namespace heed
