// L2_NORMALIZE: y = x / max(||x||, eps) per row (torch.nn.functional.normalize),
// the norm accumulated in double.
#include <cmath>

#include "ops/op.h"
#include "ops/ops.h"

namespace heed {

namespace {
const OpSlot kInputs[] = {{"x", kFromRuntime, kF32, 2, 0}};       // [rows, H]
const OpSlot kOutputs[] = {{"y", kFromActivation, kF32, 2, 0}};  // [rows, H]

Status decode(const fb::Op& o, OpCheck& c) {
  c.op.epsilon = o.options_as_L2NormalizeOptions()->epsilon();
  if (!is_finite_positive(c.op.epsilon)) return c.fail("epsilon %g must be positive", double(c.op.epsilon));
  return Status::Ok();
}

const OptionSpec kOptions[] = {HEED_OPTION(L2NormalizeOptions, VT_EPSILON, epsilon)};

Status validate(OpCheck& c) {
  const TensorInfo& x = *c.in(0);
  if (!OpCheck::is_rows_by(c.out(0), x.dims[0], x.dims[1])) return c.fail("output shape differs");
  return Status::Ok();
}

Status run(const OpContext& ctx, const OpInfo& op) {
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
}  // namespace

extern const OpEntry kL2NormalizeOp = {
    OpKind::kL2Normalize, "L2_NORMALIZE", 1, {kInputs, 1, 1, kOutputs, 1}, fb::OpOptions::L2NormalizeOptions,
    decode, kOptions, 1, validate, nullptr, nullptr, nullptr, run,
    /*same_state=*/nullptr, /*row_wise=*/true};

}  // namespace heed
