// FULLY_CONNECTED: y = x W^T + b, then the fused activation (per block of
// rows of each output tile).
// int8 weights: x is quantized into scratch (dynamic per row and block, or
// with the calibrated per-tensor scale), optionally after the SmoothQuant
// multiplier, then the int8 GEMM microkernel runs over the output tiles: the
// session's one-row kernel (qs8_gemv) when x has one row (decode), its GEMM
// kernel otherwise. Both give the reference's bits.
#include "format/weight-layout.h"
#include "ops/op.h"
#include "ops/ops.h"

namespace heed {

namespace {
const OpSlot kInputs[] = {
    {"x", kFromRuntime, kF32, 2, 0},                     // [rows, K]
    {"w", kFromConstant, kF32 | kI8, 2, kGemmWeights},   // [N, K]
    {"bias", kFromConstant, kF32, 1, kOptional},         // [N]
    {"smooth", kFromConstant, kF32, 1, kOptional},       // [K]
};
const OpSlot kOutputs[] = {{"y", kFromActivation, kF32, 2, 0}};  // [rows, N]

Status decode(const fb::Op& o, OpCheck& c) {
  const fb::FullyConnectedOptions* fo = o.options_as_FullyConnectedOptions();
  OpInfo& op = c.op;
  const int act = int(fo->activation());
  if (act < 0 || act > 4) return c.fail("unknown activation %d", act);
  op.activation = static_cast<Activation>(act);
  const int aq = int(fo->act_quant());
  if (aq < 0 || aq > 1) return c.fail("unknown activation quantization %d", aq);
  op.act_quant = static_cast<ActQuant>(aq);
  op.input_scale = fo->input_scale();
  op.act_block = fo->act_block();
  if (op.act_block < 0) return c.fail("act_block %d is negative", op.act_block);
  if (op.act_quant == ActQuant::kStaticPerTensor && !is_positive_normal(op.input_scale)) {
    return c.fail("static input scale %g is not a positive normal float", double(op.input_scale));
  }
  return Status::Ok();
}

const OptionSpec kOptions[] = {
    HEED_OPTION(FullyConnectedOptions, VT_ACTIVATION, activation),
    HEED_OPTION(FullyConnectedOptions, VT_ACT_QUANT, act_quant),
    HEED_OPTION(FullyConnectedOptions, VT_INPUT_SCALE, input_scale),
    HEED_OPTION(FullyConnectedOptions, VT_ACT_BLOCK, act_block),
};

Status validate(OpCheck& c) {
  OpInfo& op = c.op;
  const TensorInfo &x = *c.in(0), &w = *c.in(1), &out = c.out(0);
  const int32_t N = w.dims[0], K = w.dims[1];
  if (x.dims[1] != K) return c.fail("input has %d columns, weights expect %d", x.dims[1], K);
  if (K > kMaxGemmK) return c.fail("K = %d exceeds the int32 accumulator bound", K);
  if (c.in(2) && !OpCheck::is_vector(c.in(2), N)) return c.fail("bias must be float [%d]", N);
  if (!OpCheck::is_rows_by(out, x.dims[0], N)) return c.fail("output must be [rows, %d]", N);
  if (w.dtype == DType::kF32 && (op.act_quant == ActQuant::kStaticPerTensor || op.act_block != 0 || c.in(3))) {
    return c.fail("activation quantization options need int8 weights");
  }
  if (op.act_block > K) return c.fail("act_block %d exceeds K = %d", op.act_block, K);
  // The int8 kernels read K in groups of 4 that never straddle two blocks.
  if (op.act_block != 0 && op.act_block < K && op.act_block % int32_t(kGroupK) != 0) {
    return c.fail("act_block %d must be a multiple of %zu (or K)", op.act_block, kGroupK);
  }
  if (w.dtype == DType::kI8 && (op.act_block == 0 ? K : op.act_block) != w.quant_block) {
    return c.fail("act_block %d differs from the weights' block %d", op.act_block, w.quant_block);
  }
  if (const TensorInfo* sm = c.in(3)) {
    if (!OpCheck::is_vector(sm, K)) return c.fail("smooth must be float [%d]", K);
    const float* v = reinterpret_cast<const float*>(sm->data);
    for (int32_t k = 0; k < K; ++k) {
      if (!is_positive_normal(v[k])) return c.fail("smooth[%d] = %g is not a positive normal float", k, double(v[k]));
    }
    op.smooth.assign(v, v + K);
  }
  if (op.act_block == 0) op.act_block = K;
  return Status::Ok();
}

void apply_activation(const KernelTable& k, Activation a, size_t n, float* y) {
  switch (a) {
    case Activation::kNone: break;
    case Activation::kGelu: k.activation->gelu(n, y, y); break;
    case Activation::kTanh: k.activation->tanh(n, y, y); break;
    case Activation::kRelu: heed_f32_relu(n, y, y); break;
    case Activation::kGeluTanh: k.activation->gelu_tanh(n, y, y); break;
  }
}

// One GEMM; a task is one block of rows of one tile of NR output columns
// (the kernels' drivers), then the activation on that block's part of the
// tile's columns while it is in cache (an elementwise function: the same
// bits as applying it to all of y after).
struct GemmJob {
  const F32GemmVariant* f32;
  const Qs8GemmVariant* qs8;
  F32Gemm f;
  Qs8Gemm q;
  const KernelTable* kernels;
  Activation activation;
  size_t M, N, nr, block_rows;
  float* y;
};

void gemm_task(void* arg, size_t block, size_t tile) {
  const GemmJob& j = *static_cast<const GemmJob*>(arg);
  const size_t m0 = block * j.block_rows, m1 = j.M - m0 < j.block_rows ? j.M : m0 + j.block_rows;
  if (j.f32) f32_gemm_tile(*j.f32, j.f, tile, m0, m1);
  else qs8_gemm_tile(*j.qs8, j.q, tile, m0, m1);
  if (j.activation == Activation::kNone) return;
  const size_t n0 = tile * j.nr, n = j.N - n0 < j.nr ? j.N - n0 : j.nr;
  for (size_t m = m0; m < m1; ++m) apply_activation(*j.kernels, j.activation, n, j.y + m * j.N + n0);
}

// int8 weights: the quantized input rows [rows, padded_k(K)] (64-byte
// aligned) then their float scales [rows, nb]. Float weights: none.
size_t scratch_bytes(const OpSizing& s) {
  const TensorInfo& w = s.input(1);
  if (w.dtype != DType::kI8) return 0;
  const size_t rows = s.rows(0), K = size_t(w.dims[1]);
  const size_t nb = (K + size_t(s.op.act_block) - 1) / size_t(s.op.act_block);
  return (rows * padded_k(K) + 63) / 64 * 64 + rows * nb * sizeof(float);
}

// GEMM kernels that read 128 x the weight sums per panel and block get them
// here (the one-row kernels never read them).
size_t state_bytes(const OpSizing& s) {
  const TensorInfo& w = s.input(1);
  if (w.dtype != DType::kI8 || !s.kernels.qs8_gemm->sums128) return 0;
  const size_t nb = (size_t(w.dims[1]) + size_t(s.op.act_block) - 1) / size_t(s.op.act_block);
  return panels_of(size_t(w.dims[0])) * nb * kPanelN * sizeof(int32_t);
}

void init_state(const OpSizing& s, void* state) {
  const TensorInfo& w = s.input(1);
  qs8_panel_sums128(size_t(w.dims[0]), size_t(w.dims[1]), size_t(s.op.act_block),
                    reinterpret_cast<const int8_t*>(w.data), static_cast<int32_t*>(state));
}

Status run(const OpContext& ctx, const OpInfo& op) {
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
    job.block_rows = f32_gemm_block_rows(*job.f32, K);
  } else {
    job.qs8 = M == 1 ? ctx.kernels->qs8_gemv : ctx.kernels->qs8_gemm;
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
    job.block_rows = qs8_gemm_block_rows(*job.qs8, K);
  }
  // Results do not depend on how the tasks are spread over threads.
  const size_t blocks = (M + job.block_rows - 1) / job.block_rows;
  pthreadpool_parallelize_2d(ctx.pool, gemm_task, &job, blocks, tiles, 0);
  return Status::Ok();
}
}  // namespace

extern const OpEntry kFullyConnectedOp = {
    OpKind::kFullyConnected, "FULLY_CONNECTED", 1, {kInputs, 4, 3, kOutputs, 1}, fb::OpOptions::FullyConnectedOptions,
    decode, kOptions, 4, validate, scratch_bytes, state_bytes, init_state, run,
    /*same_state=*/nullptr, /*row_wise=*/true};

}  // namespace heed
