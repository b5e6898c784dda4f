#include "ops/ops.h"

namespace heed {

Status op_attention_run(const OpContext& ctx, const OpInfo& op) {
  ctx.kernels->attention(ctx.seq, size_t(op.num_heads), size_t(op.head_dim), ctx.data<float>(op.inputs[0]),
                         ctx.data<float>(op.outputs[0]), op.attn_scale, op.window, op.causal,
                         reinterpret_cast<float*>(ctx.scratch));
  return Status::Ok();
}

}  // namespace heed
