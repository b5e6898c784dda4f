// ATTENTION: multi-head scaled dot-product attention over a fused [s, 3H]
// projection (q | k | v, heads contiguous in each), dense, causal or within
// a symmetric window; heads are split over the threads.
#include <algorithm>
#include <cmath>

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

Status run(const OpContext& ctx, const OpInfo& op) {
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
    decode, kOptions, 5, validate, scratch_bytes, nullptr, nullptr, run};

}  // namespace heed
