// LAYER_NORM: y = LayerNorm(x + residual) * gamma + beta over each row
// (kernels/layernorm/f32-layernorm.h); the residual is optional.
#include "ops/op.h"
#include "ops/ops.h"

namespace heed {

namespace {
const OpSlot kInputs[] = {
    {"x", kFromRuntime, kF32, 2, 0},               // [rows, H]
    {"gamma", kFromConstant, kF32, 1, 0},          // [H]
    {"beta", kFromConstant, kF32, 1, 0},           // [H]
    {"residual", kFromRuntime, kF32, 2, kOptional},  // [rows, H]
};
const OpSlot kOutputs[] = {{"y", kFromActivation, kF32, 2, 0}};  // [rows, H]

Status decode(const fb::Op& o, OpCheck& c) {
  c.op.epsilon = o.options_as_LayerNormOptions()->epsilon();
  if (!is_finite_positive(c.op.epsilon)) return c.fail("epsilon %g must be positive", double(c.op.epsilon));
  return Status::Ok();
}

const OptionSpec kOptions[] = {HEED_OPTION(LayerNormOptions, VT_EPSILON, epsilon)};

Status validate(OpCheck& c) {
  const TensorInfo &x = *c.in(0), *res = c.in(3);
  const int32_t H = x.dims[1];
  if (!OpCheck::is_vector(c.in(1), H) || !OpCheck::is_vector(c.in(2), H)) {
    return c.fail("gamma and beta must be float [%d]", H);
  }
  if (res && !OpCheck::is_rows_by(*res, x.dims[0], H)) return c.fail("residual shape differs from input");
  if (!OpCheck::is_rows_by(c.out(0), x.dims[0], H)) return c.fail("output shape differs from input");
  return Status::Ok();
}

Status run(const OpContext& ctx, const OpInfo& op) {
  const size_t rows = ctx.rows(op.inputs[0]);
  const size_t H = size_t(ctx.tensor(op.inputs[0]).dims[1]);
  ctx.kernels->layernorm->fn(rows, H, ctx.data<float>(op.inputs[0]), ctx.data<float>(op.inputs[3]),
                             ctx.data<float>(op.inputs[1]), ctx.data<float>(op.inputs[2]), op.epsilon,
                             ctx.data<float>(op.outputs[0]));
  return Status::Ok();
}
}  // namespace

extern const OpEntry kLayerNormOp = {
    OpKind::kLayerNorm, "LAYER_NORM", 1, {kInputs, 4, 3, kOutputs, 1}, fb::OpOptions::LayerNormOptions,
    decode, kOptions, 1, validate, nullptr, nullptr, nullptr, run,
    /*same_state=*/nullptr, /*row_wise=*/true};

}  // namespace heed
