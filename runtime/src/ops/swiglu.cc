// SWIGLU: y = silu(gate) * up over x = [gate | up] [rows, 2I] -> [rows, I]
// (Llama's MLP after one fused gate/up projection; kernels/activation).
#include "ops/op.h"
#include "ops/ops.h"

namespace heed {

namespace {
const OpSlot kInputs[] = {{"x", kFromRuntime, kF32, 2, 0}};       // [rows, 2I]
const OpSlot kOutputs[] = {{"y", kFromActivation, kF32, 2, 0}};  // [rows, I]

Status validate(OpCheck& c) {
  const TensorInfo& x = *c.in(0);
  if (x.dims[1] % 2 != 0) return c.fail("input has %d columns, not an even number (gate | up)", x.dims[1]);
  if (!OpCheck::is_rows_by(c.out(0), x.dims[0], x.dims[1] / 2)) return c.fail("output must be [rows, %d]", x.dims[1] / 2);
  return Status::Ok();
}

Status run(const OpContext& ctx, const OpInfo& op) {
  const size_t rows = ctx.rows(op.inputs[0]);
  const size_t n = size_t(ctx.tensor(op.inputs[0]).dims[1]) / 2;
  ctx.kernels->activation->swiglu(rows, n, ctx.data<float>(op.inputs[0]), ctx.data<float>(op.outputs[0]));
  return Status::Ok();
}
}  // namespace

extern const OpEntry kSwigluOp = {
    OpKind::kSwiglu, "SWIGLU", 1, {kInputs, 1, 1, kOutputs, 1}, fb::OpOptions::NONE,
    nullptr, nullptr, 0, validate, nullptr, nullptr, nullptr, run,
    /*same_state=*/nullptr, /*row_wise=*/true};

}  // namespace heed
