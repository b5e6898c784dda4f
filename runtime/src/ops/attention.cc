#include <algorithm>

#include "ops/ops.h"

namespace heed {

namespace {
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
}  // namespace

size_t attention_scratch_bytes(const KernelTable& k, const OpInfo& op, size_t max_seq, size_t threads) {
  const size_t chunks = std::min(threads, size_t(op.num_heads));
  return chunks * k.attention->scratch_floats(max_seq, size_t(op.head_dim)) * sizeof(float);
}

Status op_attention_run(const OpContext& ctx, const OpInfo& op) {
  AttentionJob job{ctx.kernels->attention, ctx.seq, size_t(op.num_heads), size_t(op.head_dim),
                   ctx.data<float>(op.inputs[0]), ctx.data<float>(op.outputs[0]), op.attn_scale, op.window,
                   op.causal, reinterpret_cast<float*>(ctx.scratch),
                   ctx.kernels->attention->scratch_floats(ctx.seq, size_t(op.head_dim)),
                   std::min(ctx.threads, size_t(op.num_heads))};
  // Heads are independent: the split cannot change a result.
  pthreadpool_parallelize_1d(ctx.pool, attention_task, &job, job.chunks, 0);
  return Status::Ok();
}

}  // namespace heed
