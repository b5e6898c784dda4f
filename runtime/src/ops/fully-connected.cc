// FULLY_CONNECTED: y = x W^T + b, then the fused activation.
// int8 weights: x is quantized into scratch (dynamic per row and block, or
// with the calibrated per-tensor scale), optionally after the SmoothQuant
// multiplier, then the int8 GEMM runs.
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

// One GEMM job split over output columns: each task computes y[:, n0:n0+tile).
struct GemmJob {
  const KernelTable* k;
  size_t M, N, K, block;
  const float* x;
  const float* wf;
  const int8_t* wq;
  const int8_t* xq;
  const float* xs;
  const float* ws;
  const float* bias;
  float* y;
};

void gemm_task(void* arg, size_t n0, size_t tile) {
  const GemmJob& j = *static_cast<const GemmJob*>(arg);
  const float* b = j.bias ? j.bias + n0 : nullptr;
  if (j.wf) {
    j.k->f32_gemm(j.M, tile, j.K, j.x, j.K, j.wf + n0 * j.K, b, j.y + n0, j.N);
  } else {
    const size_t nb = (j.K + j.block - 1) / j.block;
    j.k->qs8_gemm(j.M, tile, j.K, j.block, j.xq, j.K, j.xs, j.wq + n0 * j.K, j.ws + n0 * nb, b, j.y + n0, j.N);
  }
}

size_t fully_connected_scratch_bytes(const OpInfo& op, size_t rows, size_t K) {
  const size_t nb = (K + size_t(op.act_block) - 1) / size_t(op.act_block);
  // int8 rows [rows, K] (64-byte aligned) then float scales [rows, nb].
  return (rows * K + 63) / 64 * 64 + rows * nb * sizeof(float);
}

Status op_fully_connected_run(const OpContext& ctx, const OpInfo& op) {
  const TensorInfo& w = ctx.tensor(op.inputs[1]);
  const size_t M = ctx.rows(op.inputs[0]);
  const size_t N = size_t(w.dims[0]), K = size_t(w.dims[1]);
  const float* x = ctx.data<float>(op.inputs[0]);     // [M, K]
  const float* bias = ctx.data<float>(op.inputs[2]);  // [N] or null
  float* y = ctx.data<float>(op.outputs[0]);          // [M, N]
  GemmJob job{ctx.kernels, M, N, K, size_t(op.act_block), x, nullptr, nullptr, nullptr, nullptr, nullptr, bias, y};
  if (w.dtype == DType::kF32) {
    job.wf = ctx.data<float>(op.inputs[1]);
  } else {
    const size_t block = size_t(op.act_block);
    const float* smooth = op.smooth.empty() ? nullptr : op.smooth.data();
    int8_t* xq = reinterpret_cast<int8_t*>(ctx.scratch);                         // [M, K]
    float* xs = reinterpret_cast<float*>(ctx.scratch + (M * K + 63) / 64 * 64);  // [M, nb]
    if (op.act_quant == ActQuant::kStaticPerTensor) {
      ctx.kernels->quantize_static(M, K, block, x, K, smooth, op.input_scale, xq, K, xs);
    } else {
      ctx.kernels->quantize_blocks(M, K, block, x, K, smooth, xq, K, xs);
    }
    job.xq = xq;
    job.xs = xs;
    job.wq = static_cast<const int8_t*>(ctx.tensor_data[size_t(op.inputs[1])]);
    job.ws = w.scales.data();  // [N, nb]
  }
  // Column tiles of 16: enough tasks to balance threads, each a whole number
  // of SIMD-width columns. Results do not depend on the split.
  pthreadpool_parallelize_1d_tile_1d(ctx.pool, gemm_task, &job, N, 16, 0);
  apply_activation(*ctx.kernels, op.activation, M * N, y);
  return Status::Ok();
}

}  // namespace heed
