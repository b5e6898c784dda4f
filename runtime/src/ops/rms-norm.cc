// RMS_NORM: y = x / sqrt(mean(x^2) + eps) * weight over each row, in float32
// as Llama's LlamaRMSNorm (kernels/rmsnorm/f32-rmsnorm.h).
#include "ops/op.h"
#include "ops/ops.h"

namespace heed {

namespace {
const OpSlot kInputs[] = {
    {"x", kFromRuntime, kF32, 2, 0},        // [rows, H]
    {"weight", kFromConstant, kF32, 1, 0},  // [H]
};
const OpSlot kOutputs[] = {{"y", kFromActivation, kF32, 2, 0}};  // [rows, H]

Status decode(const fb::Op& o, OpCheck& c) {
  c.op.epsilon = o.options_as_RmsNormOptions()->epsilon();
  if (!is_finite_positive(c.op.epsilon)) return c.fail("epsilon %g must be positive and finite", double(c.op.epsilon));
  return Status::Ok();
}

const OptionSpec kOptions[] = {HEED_OPTION(RmsNormOptions, VT_EPSILON, epsilon)};

Status validate(OpCheck& c) {
  const TensorInfo& x = *c.in(0);
  const int32_t H = x.dims[1];
  if (!OpCheck::is_vector(c.in(1), H)) return c.fail("weight must be float [%d], has %d elements", H, c.in(1)->dims[0]);
  if (!OpCheck::is_rows_by(c.out(0), x.dims[0], H)) return c.fail("output shape differs from input");
  return Status::Ok();
}

Status run(const OpContext& ctx, const OpInfo& op) {
  const size_t rows = ctx.rows(op.inputs[0]);
  const size_t H = size_t(ctx.tensor(op.inputs[0]).dims[1]);
  ctx.kernels->rmsnorm->fn(rows, H, ctx.data<float>(op.inputs[0]), ctx.data<float>(op.inputs[1]), op.epsilon,
                           ctx.data<float>(op.outputs[0]));
  return Status::Ok();
}
}  // namespace

extern const OpEntry kRmsNormOp = {
    OpKind::kRmsNorm, "RMS_NORM", 1, {kInputs, 2, 2, kOutputs, 1}, fb::OpOptions::RmsNormOptions,
    decode, kOptions, 1, validate, nullptr, nullptr, nullptr, run,
    /*same_state=*/nullptr, /*row_wise=*/true};

}  // namespace heed
