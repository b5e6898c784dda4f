// MEAN_POOL (sentence-transformers mean over all tokens of the single,
// unpadded sequence) and CLS_POOL (row 0, as BERT's pooler takes): two kinds
// with one signature, [-1, H] -> [1, H].
#include "ops/op.h"
#include "ops/ops.h"

namespace heed {

namespace {
const OpSlot kInputs[] = {{"x", kFromRuntime, kF32, 2, 0}};       // [s, H]
const OpSlot kOutputs[] = {{"y", kFromActivation, kF32, 2, 0}};  // [1, H]

Status validate(OpCheck& c) {
  const TensorInfo& x = *c.in(0);
  if (x.dims[0] != kSeqDim) return c.fail("input must be [-1, H]");
  if (!OpCheck::is_rows_by(c.out(0), 1, x.dims[1])) return c.fail("output must be [1, %d]", x.dims[1]);
  return Status::Ok();
}

Status run_mean(const OpContext& ctx, const OpInfo& op) {
  const float* x = ctx.data<float>(op.inputs[0]);  // [S, H]
  float* y = ctx.data<float>(op.outputs[0]);       // [1, H]
  const size_t H = size_t(ctx.tensor(op.inputs[0]).dims[1]);
  if (ctx.seq == 0) return Status::Error(HEED_ERROR_INVALID_INPUT, "pooling over an empty sequence");
  for (size_t h = 0; h < H; ++h) y[h] = 0.0f;
  for (size_t s = 0; s < ctx.seq; ++s)
    for (size_t h = 0; h < H; ++h) y[h] += x[s * H + h];
  const float inv = 1.0f / float(ctx.seq);
  for (size_t h = 0; h < H; ++h) y[h] *= inv;
  return Status::Ok();
}

Status run_cls(const OpContext& ctx, const OpInfo& op) {
  const float* x = ctx.data<float>(op.inputs[0]);  // [S, H]
  float* y = ctx.data<float>(op.outputs[0]);       // [1, H]
  const size_t H = size_t(ctx.tensor(op.inputs[0]).dims[1]);
  if (ctx.seq == 0) return Status::Error(HEED_ERROR_INVALID_INPUT, "pooling over an empty sequence");
  for (size_t h = 0; h < H; ++h) y[h] = x[h];
  return Status::Ok();
}
}  // namespace

extern const OpEntry kMeanPoolOp = {
    OpKind::kMeanPool, "MEAN_POOL", 1, {kInputs, 1, 1, kOutputs, 1}, fb::OpOptions::NONE,
    nullptr, nullptr, 0, validate, nullptr, nullptr, nullptr, run_mean};
extern const OpEntry kClsPoolOp = {
    OpKind::kClsPool, "CLS_POOL", 1, {kInputs, 1, 1, kOutputs, 1}, fb::OpOptions::NONE,
    nullptr, nullptr, 0, validate, nullptr, nullptr, nullptr, run_cls};

}  // namespace heed
