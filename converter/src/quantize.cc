#include "quantize.h"

#include <cfloat>
#include <cmath>

namespace heed::conv {

void quantize_per_channel(IrTensor* t) {
  const size_t rows = size_t(t->shape[0]);
  const size_t cols = t->f32.size() / rows;
  t->i8.resize(t->f32.size());
  t->scales.resize(rows);
  for (size_t r = 0; r < rows; ++r) {
    const float* w = t->f32.data() + r * cols;
    float absmax = 0.0f;
    for (size_t c = 0; c < cols; ++c) absmax = std::fmax(absmax, std::fabs(w[c]));
    // The runtime rejects scales that are not positive normal floats.
    float scale = absmax / 127.0f;
    if (!(scale >= FLT_MIN)) scale = absmax > 0.0f ? FLT_MIN : 1.0f;
    t->scales[r] = scale;
    for (size_t c = 0; c < cols; ++c) {
      float q = std::nearbyint(w[c] / scale);
      q = std::fmin(127.0f, std::fmax(-127.0f, q));
      t->i8[r * cols + c] = int8_t(q);
    }
  }
  t->dtype = DType::kI8;
  t->f32.clear();
  t->f32.shrink_to_fit();
}

void quantize_weights(IrGraph* g) {
  for (const IrOp& op : g->ops) {
    if (op.kind == OpKind::kFullyConnected) quantize_per_channel(&g->tensors[size_t(op.inputs[1])]);
    if (op.kind == OpKind::kEmbedding) quantize_per_channel(&g->tensors[size_t(op.inputs[2])]);
  }
  g->precision = "int8";
}

}  // namespace heed::conv
