#include <cmath>

#include "ops/ops.h"

namespace heed {

Status op_gelu_run(const OpContext& ctx, const OpInfo& op) {
  const size_t n = ctx.rows(op.inputs[0]) * size_t(ctx.tensor(op.inputs[0]).dims[1]);
  ctx.kernels->activation->gelu(n, ctx.data<float>(op.inputs[0]), ctx.data<float>(op.outputs[0]));
  return Status::Ok();
}

// y = x / max(||x||, eps), per row (torch.nn.functional.normalize).
Status op_l2_normalize_run(const OpContext& ctx, const OpInfo& op) {
  const size_t rows = ctx.rows(op.inputs[0]);
  const size_t H = size_t(ctx.tensor(op.inputs[0]).dims[1]);
  const float* x = ctx.data<float>(op.inputs[0]);
  float* y = ctx.data<float>(op.outputs[0]);
  for (size_t r = 0; r < rows; ++r) {
    double ss = 0.0;
    for (size_t h = 0; h < H; ++h) ss += double(x[r * H + h]) * double(x[r * H + h]);
    const float norm = std::fmax(float(std::sqrt(ss)), op.epsilon);
    for (size_t h = 0; h < H; ++h) y[r * H + h] = x[r * H + h] / norm;
  }
  return Status::Ok();
}

}  // namespace heed
