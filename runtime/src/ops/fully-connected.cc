// FULLY_CONNECTED: y = x W^T + b, then the fused activation (per output tile).
// int8 weights: x is quantized into scratch (dynamic per row and block, or
// with the calibrated per-tensor scale), optionally after the SmoothQuant
// multiplier, then the int8 GEMM microkernel runs over the output tiles.
#include "ops/ops.h"

#include "format/weight-layout.h"

namespace heed {

namespace {
void apply_activation(const KernelTable& k, Activation a, size_t n, float* y) {
  switch (a) {
    case Activation::kNone: break;
    case Activation::kGelu: k.activation->gelu(n, y, y); break;
    case Activation::kTanh: k.activation->tanh(n, y, y); break;
    case Activation::kRelu: heed_f32_relu(n, y, y); break;
  }
}

// One GEMM; a task is one tile of NR output columns (kernels' driver), then
// the activation on that tile's columns while they are in cache (an
// elementwise function: the same bits as applying it to all of y after).
struct GemmJob {
  const F32GemmVariant* f32;
  const Qs8GemmVariant* qs8;
  F32Gemm f;
  Qs8Gemm q;
  const KernelTable* kernels;
  Activation activation;
  size_t M, N, nr;
  float* y;
};

void gemm_task(void* arg, size_t tile) {
  const GemmJob& j = *static_cast<const GemmJob*>(arg);
  if (j.f32) f32_gemm_tile(*j.f32, j.f, tile);
  else qs8_gemm_tile(*j.qs8, j.q, tile);
  if (j.activation == Activation::kNone) return;
  const size_t n0 = tile * j.nr, n = j.N - n0 < j.nr ? j.N - n0 : j.nr;
  for (size_t m = 0; m < j.M; ++m) apply_activation(*j.kernels, j.activation, n, j.y + m * j.N + n0);
}
}  // namespace

size_t fully_connected_scratch_bytes(const OpInfo& op, size_t rows, size_t K) {
  const size_t nb = (K + size_t(op.act_block) - 1) / size_t(op.act_block);
  // int8 rows [rows, padded_k(K)] (64-byte aligned) then float scales [rows, nb].
  return (rows * padded_k(K) + 63) / 64 * 64 + rows * nb * sizeof(float);
}

size_t fully_connected_state_bytes(const KernelTable& k, const Model& model, const OpInfo& op) {
  const TensorInfo& w = model.tensors()[size_t(op.inputs[1])];
  if (w.dtype != DType::kI8 || !k.qs8_gemm->u8_activations) return 0;
  const size_t nb = (size_t(w.dims[1]) + size_t(op.act_block) - 1) / size_t(op.act_block);
  return panels_of(size_t(w.dims[0])) * nb * kPanelN * sizeof(int32_t);
}

void fully_connected_init_state(const Model& model, const OpInfo& op, void* state) {
  const TensorInfo& w = model.tensors()[size_t(op.inputs[1])];
  qs8_panel_sums128(size_t(w.dims[0]), size_t(w.dims[1]), size_t(op.act_block), reinterpret_cast<const int8_t*>(w.data),
                    static_cast<int32_t*>(state));
}

Status op_fully_connected_run(const OpContext& ctx, const OpInfo& op) {
  const TensorInfo& w = ctx.tensor(op.inputs[1]);
  const size_t M = ctx.rows(op.inputs[0]);
  const size_t N = size_t(w.dims[0]), K = size_t(w.dims[1]);
  const float* x = ctx.data<float>(op.inputs[0]);     // [M, K]
  const float* bias = ctx.data<float>(op.inputs[2]);  // [N] or null
  float* y = ctx.data<float>(op.outputs[0]);          // [M, N]
  GemmJob job{};
  job.kernels = ctx.kernels;
  job.activation = op.activation;
  job.M = M;
  job.N = N;
  job.y = y;
  size_t tiles = 0;
  if (w.dtype == DType::kF32) {
    job.f32 = ctx.kernels->f32_gemm;
    job.f = F32Gemm{M, N, K, x, K, ctx.data<const float>(op.inputs[1]), bias, y, N};
    tiles = f32_gemm_tiles(*job.f32, N);
    job.nr = job.f32->nr;
  } else {
    job.qs8 = ctx.kernels->qs8_gemm;
    const size_t kp = padded_k(K), block = size_t(op.act_block);
    int8_t* xq = reinterpret_cast<int8_t*>(ctx.scratch);                         // [M, kp]
    float* xs = reinterpret_cast<float*>(ctx.scratch + (M * kp + 63) / 64 * 64);  // [M, nb]
    QuantizeParams q{M,
                     K,
                     kp,
                     block,
                     x,
                     K,
                     op.smooth.empty() ? nullptr : op.smooth.data(),
                     op.act_quant == ActQuant::kStaticPerTensor ? op.input_scale : 0.0f,
                     xq,
                     kp,
                     xs,
                     uint8_t(job.qs8->u8_activations ? 0x80 : 0)};
    ctx.kernels->quantize->fn(q);
    job.q = Qs8Gemm{M,
                    N,
                    K,
                    block,
                    xq,
                    kp,
                    xs,
                    ctx.data<const int8_t>(op.inputs[1]),
                    w.panel_scales.data(),
                    static_cast<const int32_t*>(ctx.op_state),
                    bias,
                    y,
                    N};
    tiles = qs8_gemm_tiles(*job.qs8, N);
    job.nr = job.qs8->nr;
  }
  // Results do not depend on how the tiles are spread over threads.
  pthreadpool_parallelize_1d(ctx.pool, gemm_task, &job, tiles, 0);
  return Status::Ok();
}

}  // namespace heed
