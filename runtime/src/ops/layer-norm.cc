#include "ops/ops.h"

namespace heed {

Status op_layer_norm_run(const OpContext& ctx, const OpInfo& op) {
  const size_t rows = ctx.rows(op.inputs[0]);
  const size_t H = size_t(ctx.tensor(op.inputs[0]).dims[1]);
  ctx.kernels->layernorm->fn(rows, H, ctx.data<float>(op.inputs[0]), ctx.data<float>(op.inputs[3]),
                         ctx.data<float>(op.inputs[1]), ctx.data<float>(op.inputs[2]), op.epsilon,
                         ctx.data<float>(op.outputs[0]));
  return Status::Ok();
}

}  // namespace heed
