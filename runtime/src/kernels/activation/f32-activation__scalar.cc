// f32-activation reference: gelu and tanh element by element with heed's own
// float functions (kernels/math/f32-math.h), so the result depends on no
// platform's libm and every SIMD variant can repeat it bit for bit.
#include "kernels/activation/f32-activation.h"
#include "kernels/math/f32-math.h"

namespace heed {

void heed_f32_gelu__scalar(size_t n, const float* x, float* y) {
  for (size_t i = 0; i < n; ++i) y[i] = f32_gelu(x[i]);
}

void heed_f32_tanh__scalar(size_t n, const float* x, float* y) {
  for (size_t i = 0; i < n; ++i) y[i] = f32_tanh(x[i]);
}

void heed_f32_gelu_tanh__scalar(size_t n, const float* x, float* y) {
  for (size_t i = 0; i < n; ++i) y[i] = f32_gelu_tanh(x[i]);
}

void heed_f32_swiglu__scalar(size_t rows, size_t n, const float* x, float* y) {
  for (size_t r = 0; r < rows; ++r) {
    const float* gate = x + r * 2 * n;
    const float* up = gate + n;
    float* out = y + r * n;
    for (size_t i = 0; i < n; ++i) out[i] = f32_silu(gate[i]) * up[i];
  }
}

void heed_f32_relu(size_t n, const float* x, float* y) {
  for (size_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

}  // namespace heed
