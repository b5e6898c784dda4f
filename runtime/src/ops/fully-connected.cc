// FULLY_CONNECTED: y = x W^T + b, then the fused activation.
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

// One GEMM: a task is one tile of NR output columns over all M rows (the
// weight panels stay in cache while the activations stream by).
struct GemmJob {
  size_t M, N, K, kp, block, nb, mr, nr;
  const F32GemmVariant* f32;
  const Qs8GemmVariant* qs8;
  const float* x;      // [M, K] float input
  const float* wf;     // PACKED_N16
  const int8_t* xq;    // [M, kp] quantized input
  const float* xs;     // [M, nb]
  const int8_t* wq;    // PACKED_N16K4
  const float* ws;     // panel scales
  const int32_t* wsum;  // panel sums x 128 (u8 variants)
  const float* bias;
  float* y;
};

void gemm_task(void* arg, size_t tile) {
  const GemmJob& j = *static_cast<const GemmJob*>(arg);
  const size_t n0 = tile * j.nr, nc = j.N - n0 < j.nr ? j.N - n0 : j.nr, panel = n0 / kPanelN;
  const float* bias = j.bias ? j.bias + n0 : nullptr;
  for (size_t m0 = 0; m0 < j.M; m0 += j.mr) {
    const size_t mr = j.M - m0 < j.mr ? j.M - m0 : j.mr;
    if (j.f32) {
      F32GemmParams p{mr, nc, j.K, j.x + m0 * j.K, j.K, j.wf + panel * j.K * kPanelN, bias, j.y + m0 * j.N + n0, j.N};
      j.f32->fn(p);
    } else {
      Qs8GemmParams p{mr,
                      nc,
                      j.kp,
                      j.block,
                      j.nb,
                      j.xq + m0 * j.kp,
                      j.kp,
                      j.xs + m0 * j.nb,
                      j.wq + panel * (j.kp / kGroupK) * kPanelN * kGroupK,
                      j.ws + panel * j.nb * kPanelN,
                      j.wsum ? j.wsum + panel * j.nb * kPanelN : nullptr,
                      bias,
                      j.y + m0 * j.N + n0,
                      j.N};
      j.qs8->fn(p);
    }
  }
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
  GemmJob job{};
  job.M = M;
  job.N = N;
  job.K = K;
  job.x = ctx.data<float>(op.inputs[0]);     // [M, K]
  job.bias = ctx.data<float>(op.inputs[2]);  // [N] or null
  job.y = ctx.data<float>(op.outputs[0]);    // [M, N]
  if (w.dtype == DType::kF32) {
    job.f32 = ctx.kernels->f32_gemm;
    job.mr = job.f32->mr;
    job.nr = job.f32->nr;
    job.wf = ctx.data<float>(op.inputs[1]);
  } else {
    job.qs8 = ctx.kernels->qs8_gemm;
    job.mr = job.qs8->mr;
    job.nr = job.qs8->nr;
    job.kp = padded_k(K);
    job.block = size_t(op.act_block);
    job.nb = (K + job.block - 1) / job.block;
    int8_t* xq = reinterpret_cast<int8_t*>(ctx.scratch);                               // [M, kp]
    float* xs = reinterpret_cast<float*>(ctx.scratch + (M * job.kp + 63) / 64 * 64);  // [M, nb]
    QuantizeParams q{M,
                     K,
                     job.kp,
                     job.block,
                     job.x,
                     K,
                     op.smooth.empty() ? nullptr : op.smooth.data(),
                     op.act_quant == ActQuant::kStaticPerTensor ? op.input_scale : 0.0f,
                     xq,
                     job.kp,
                     xs,
                     uint8_t(job.qs8->u8_activations ? 0x80 : 0)};
    ctx.kernels->quantize->fn(q);
    job.xq = xq;
    job.xs = xs;
    job.wq = ctx.data<const int8_t>(op.inputs[1]);
    job.ws = w.panel_scales.data();
    job.wsum = static_cast<const int32_t*>(ctx.op_state);
  }
  // Results do not depend on how the tiles are spread over threads.
  pthreadpool_parallelize_1d(ctx.pool, gemm_task, &job, (N + job.nr - 1) / job.nr, 0);
  apply_activation(*ctx.kernels, op.activation, M * N, job.y);
  return Status::Ok();
}

}  // namespace heed
