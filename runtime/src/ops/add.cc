// ADD: y = a + b elementwise over [rows, H] (residual connections). One IEEE
// float addition per element: the same bits whatever the compiler vectorizes.
#include "ops/op.h"
#include "ops/ops.h"

namespace heed {

namespace {
const OpSlot kInputs[] = {
    {"a", kFromRuntime, kF32, 2, 0},  // [rows, H]
    {"b", kFromRuntime, kF32, 2, 0},  // [rows, H]
};
const OpSlot kOutputs[] = {{"y", kFromActivation, kF32, 2, 0}};  // [rows, H]

Status validate(OpCheck& c) {
  const TensorInfo &a = *c.in(0), &b = *c.in(1);
  if (!OpCheck::is_rows_by(b, a.dims[0], a.dims[1])) return c.fail("inputs differ in shape");
  if (!OpCheck::is_rows_by(c.out(0), a.dims[0], a.dims[1])) return c.fail("output shape differs from the inputs");
  return Status::Ok();
}

Status run(const OpContext& ctx, const OpInfo& op) {
  const size_t n = ctx.rows(op.inputs[0]) * size_t(ctx.tensor(op.inputs[0]).dims[1]);
  const float* a = ctx.data<float>(op.inputs[0]);
  const float* b = ctx.data<float>(op.inputs[1]);
  float* y = ctx.data<float>(op.outputs[0]);
  for (size_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
  return Status::Ok();
}
}  // namespace

extern const OpEntry kAddOp = {
    OpKind::kAdd, "ADD", 1, {kInputs, 2, 2, kOutputs, 1}, fb::OpOptions::NONE,
    nullptr, nullptr, 0, validate, nullptr, nullptr, nullptr, run,
    /*same_state=*/nullptr, /*row_wise=*/true};

}  // namespace heed
