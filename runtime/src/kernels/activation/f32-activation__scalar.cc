#include <cmath>

#include "kernels/activation/f32-activation.h"

namespace heed {

void heed_f32_gelu__scalar(size_t n, const float* x, float* y) {
  const float inv_sqrt2 = 0.70710678118654752440f;
  for (size_t i = 0; i < n; ++i) {
    const float v = x[i];
    y[i] = 0.5f * v * (1.0f + std::erf(v * inv_sqrt2));
  }
}

void heed_f32_tanh__scalar(size_t n, const float* x, float* y) {
  for (size_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}

void heed_f32_relu(size_t n, const float* x, float* y) {
  for (size_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

}  // namespace heed
