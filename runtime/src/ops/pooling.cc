// MEAN_POOL (sentence-transformers mean over all tokens of the single,
// unpadded sequence) and CLS_POOL (row 0, as BERT's pooler takes).
#include "ops/ops.h"

namespace heed {

Status op_pool_run(const OpContext& ctx, const OpInfo& op) {
  const float* x = ctx.data<float>(op.inputs[0]);  // [S, H]
  float* y = ctx.data<float>(op.outputs[0]);       // [1, H]
  const size_t H = size_t(ctx.tensor(op.inputs[0]).dims[1]);
  if (ctx.seq == 0) return Status::Error(HEED_ERROR_INVALID_INPUT, "pooling over an empty sequence");
  if (op.kind == OpKind::kClsPool) {
    for (size_t h = 0; h < H; ++h) y[h] = x[h];
    return Status::Ok();
  }
  for (size_t h = 0; h < H; ++h) y[h] = 0.0f;
  for (size_t s = 0; s < ctx.seq; ++s)
    for (size_t h = 0; h < H; ++h) y[h] += x[s * H + h];
  const float inv = 1.0f / float(ctx.seq);
  for (size_t h = 0; h < H; ++h) y[h] *= inv;
  return Status::Ok();
}

}  // namespace heed
