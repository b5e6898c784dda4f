#include "quantize.h"

#include <cfloat>
#include <algorithm>
#include <cmath>

namespace heed::conv {

void quantize_matrix(IrTensor* t, int32_t block) {
  const size_t rows = size_t(t->shape[0]);
  const size_t cols = t->f32.size() / rows;
  const size_t bs = block > 0 ? size_t(block) : cols;
  const size_t nb = (cols + bs - 1) / bs;
  t->i8.resize(t->f32.size());
  t->scales.resize(rows * nb);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t b = 0; b < nb; ++b) {
      const float* w = t->f32.data() + r * cols;
      const size_t c0 = b * bs, c1 = std::min(cols, c0 + bs);
      float absmax = 0.0f;
      for (size_t c = c0; c < c1; ++c) absmax = std::fmax(absmax, std::fabs(w[c]));
      float scale = absmax / 127.0f;
      if (!(scale >= FLT_MIN)) scale = absmax > 0.0f ? FLT_MIN : 1.0f;
      t->scales[r * nb + b] = scale;
      for (size_t c = c0; c < c1; ++c) {
        float q = std::nearbyint(w[c] / scale);
        q = std::fmin(127.0f, std::fmax(-127.0f, q));
        t->i8[r * cols + c] = int8_t(q);
      }
    }
  }
  t->dtype = DType::kI8;
  t->quant_block = block > 0 ? block : 0;
  t->f32.clear();
  t->f32.shrink_to_fit();
}

void quantize_weights(IrGraph* g) {
  // GEMM weights first: a word table that is also a GEMM's weights (a tied
  // LM head) keeps the GEMM's blocks, which the EMBEDDING reads packed.
  for (const IrOp& op : g->ops) {
    if (op.kind != OpKind::kFullyConnected) continue;
    IrTensor& w = g->tensors[size_t(op.inputs[1])];
    if (w.dtype == DType::kF32) quantize_matrix(&w, op.act_block);
  }
  for (const IrOp& op : g->ops) {
    if (op.kind != OpKind::kEmbedding) continue;
    IrTensor& w = g->tensors[size_t(op.inputs[2])];
    if (w.dtype == DType::kF32) quantize_matrix(&w, 0);
  }
  g->precision = "int8";
}

bool used_by_another_op(const IrGraph& g, size_t op_index, int32_t tensor) {
  for (size_t i = 0; i < g.ops.size(); ++i) {
    if (i == op_index) continue;
    for (int32_t t : g.ops[i].inputs)
      if (t == tensor) return true;
  }
  return false;
}

void smooth_fully_connected(IrGraph* g, size_t op_index, const std::vector<float>& act_absmax, float alpha) {
  IrOp& op = g->ops[op_index];
  IrTensor& w = g->tensors[size_t(op.inputs[1])];
  const size_t N = size_t(w.shape[0]), K = size_t(w.shape[1]);
  std::vector<float> wmax(K, 0.0f);
  for (size_t n = 0; n < N; ++n)
    for (size_t k = 0; k < K; ++k) wmax[k] = std::fmax(wmax[k], std::fabs(w.f32[n * K + k]));
  std::vector<float> multiplier(K);
  for (size_t k = 0; k < K; ++k) {
    const double a = std::fmax(act_absmax[k], 1e-5f), b = std::fmax(wmax[k], 1e-5f);
    double s = std::pow(a, double(alpha)) / std::pow(b, 1.0 - double(alpha));
    s = std::fmin(std::fmax(s, 1e-4), 1e4);
    multiplier[k] = float(1.0 / s);
    // The runtime computes x * multiplier; weights take the exact inverse so
    // the fp32 product is unchanged up to rounding.
    const float sf = 1.0f / multiplier[k];
    for (size_t n = 0; n < N; ++n) w.f32[n * K + k] *= sf;
  }
  const int32_t t = g->add_constant(op.name + ".smooth", {int32_t(K)}, multiplier);
  op.inputs.resize(3, -1);  // x, w, bias (or -1)
  op.inputs.push_back(t);
}

}  // namespace heed::conv
