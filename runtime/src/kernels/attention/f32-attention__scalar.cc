#include <cmath>

#include "kernels/attention/f32-attention.h"

namespace heed {

size_t heed_f32_attention_scratch__scalar(size_t, size_t D) { return D; }

void heed_f32_attention__scalar(size_t S, size_t H, size_t D, size_t h0, size_t h1, const float* qkv, float* out,
                                float scale, int window, bool causal, float* scratch) {
  const size_t hidden = H * D;
  const size_t row = 3 * hidden;  // qkv row stride
  float* acc = scratch;           // [D]
  for (size_t h = h0; h < h1; ++h) {
    for (size_t i = 0; i < S; ++i) {
      const float* q = qkv + i * row + h * D;
      size_t j_begin = 0, j_end = causal ? i + 1 : S;
      if (window >= 0) {
        const size_t w = size_t(window);
        j_begin = i > w ? i - w : 0;
        if (i + w + 1 < j_end) j_end = i + w + 1;
      }
      // Online softmax: running max m, running denominator l, rescaled acc.
      float m = -INFINITY, l = 0.0f;
      for (size_t d = 0; d < D; ++d) acc[d] = 0.0f;
      for (size_t j = j_begin; j < j_end; ++j) {
        const float* k = qkv + j * row + hidden + h * D;
        const float* v = qkv + j * row + 2 * hidden + h * D;
        float s = 0.0f;
        for (size_t d = 0; d < D; ++d) s += q[d] * k[d];
        s *= scale;
        if (s > m) {
          const float corr = std::exp(m - s);  // exp(-inf) = 0 on the first key
          for (size_t d = 0; d < D; ++d) acc[d] *= corr;
          l *= corr;
          m = s;
        }
        const float p = std::exp(s - m);
        l += p;
        for (size_t d = 0; d < D; ++d) acc[d] += p * v[d];
      }
      float* o = out + i * hidden + h * D;
      const float inv_l = l > 0.0f ? 1.0f / l : 0.0f;
      for (size_t d = 0; d < D; ++d) o[d] = acc[d] * inv_l;
    }
  }
}

}  // namespace heed
