// FULLY_CONNECTED: y = x W^T + b, then the fused activation.
// int8 weights: x is quantized per row (dynamic) or with the calibrated
// per-tensor scale (static) into scratch, then the int8 GEMM runs.
#include "ops/ops.h"

namespace heed {

namespace {
void apply_activation(const KernelTable& k, Activation a, size_t n, float* y) {
  switch (a) {
    case Activation::kNone: break;
    case Activation::kGelu: k.gelu(n, y, y); break;
    case Activation::kTanh: k.tanh(n, y, y); break;
    case Activation::kRelu: k.relu(n, y, y); break;
  }
}
}  // namespace

Status op_fully_connected_run(const OpContext& ctx, const OpInfo& op) {
  const TensorInfo& w = ctx.tensor(op.inputs[1]);
  const size_t M = ctx.rows(op.inputs[0]);
  const size_t N = size_t(w.dims[0]), K = size_t(w.dims[1]);
  const float* x = ctx.data<float>(op.inputs[0]);  // [M, K]
  const float* bias = ctx.data<float>(op.inputs[2]);  // [N] or null
  float* y = ctx.data<float>(op.outputs[0]);       // [M, N]
  if (w.dtype == DType::kF32) {
    ctx.kernels->f32_gemm(M, N, K, x, K, ctx.data<float>(op.inputs[1]), bias, y, N);
  } else {
    int8_t* xq = reinterpret_cast<int8_t*>(ctx.scratch);                       // [M, K]
    float* xs = reinterpret_cast<float*>(ctx.scratch + (M * K + 63) / 64 * 64);  // [M]
    if (op.act_quant == ActQuant::kStaticPerTensor) {
      ctx.kernels->quantize_static(M, K, x, K, op.input_scale, xq, K, xs);
    } else {
      ctx.kernels->quantize_rows(M, K, x, K, xq, K, xs);
    }
    ctx.kernels->qs8_gemm(M, N, K, xq, K, xs, static_cast<const int8_t*>(ctx.tensor_data[size_t(op.inputs[1])]),
                          w.scales.data(), bias, y, N);
  }
  apply_activation(*ctx.kernels, op.activation, M * N, y);
  return Status::Ok();
}

}  // namespace heed
