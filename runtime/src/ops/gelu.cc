// GELU: y = gelu(x) elementwise (erf form; kernels/activation). Graphs
// normally fuse it into FULLY_CONNECTED; kept for graphs that do not.
#include "ops/op.h"
#include "ops/ops.h"

namespace heed {

namespace {
const OpSlot kInputs[] = {{"x", kFromRuntime, kF32, 2, 0}};       // [rows, H]
const OpSlot kOutputs[] = {{"y", kFromActivation, kF32, 2, 0}};  // [rows, H]

Status validate(OpCheck& c) {
  const TensorInfo& x = *c.in(0);
  if (!OpCheck::is_rows_by(c.out(0), x.dims[0], x.dims[1])) return c.fail("output shape differs");
  return Status::Ok();
}

Status run(const OpContext& ctx, const OpInfo& op) {
  const size_t n = ctx.rows(op.inputs[0]) * size_t(ctx.tensor(op.inputs[0]).dims[1]);
  ctx.kernels->activation->gelu(n, ctx.data<float>(op.inputs[0]), ctx.data<float>(op.outputs[0]));
  return Status::Ok();
}
}  // namespace

extern const OpEntry kGeluOp = {
    OpKind::kGelu, "GELU", 1, {kInputs, 1, 1, kOutputs, 1}, fb::OpOptions::NONE,
    nullptr, nullptr, 0, validate, nullptr, nullptr, nullptr, run,
    /*same_state=*/nullptr, /*row_wise=*/true};

}  // namespace heed
