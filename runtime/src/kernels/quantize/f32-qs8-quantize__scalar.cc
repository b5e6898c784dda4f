#include <cmath>

#include "kernels/kernels.h"

namespace heed {

namespace {
// Round half to even under the default rounding mode, then clamp to the
// symmetric int8 range (-128 is never produced, so negation stays exact).
inline int8_t quantize_one(float v) {
  float r = std::nearbyint(v);
  if (r > 127.0f) r = 127.0f;
  if (r < -127.0f) r = -127.0f;
  return static_cast<int8_t>(r);
}
}  // namespace

void heed_f32_qs8_quantize_rows__scalar(size_t M, size_t K, const float* x, size_t ldx,
                                        int8_t* q, size_t ldq, float* scales) {
  for (size_t m = 0; m < M; ++m) {
    const float* xr = x + m * ldx;
    int8_t* qr = q + m * ldq;
    float absmax = 0.0f;
    for (size_t k = 0; k < K; ++k) absmax = std::fmax(absmax, std::fabs(xr[k]));
    if (!(absmax > 0.0f)) {
      scales[m] = 0.0f;
      for (size_t k = 0; k < K; ++k) qr[k] = 0;
      continue;
    }
    scales[m] = absmax / 127.0f;
    const float inv = 127.0f / absmax;
    for (size_t k = 0; k < K; ++k) qr[k] = quantize_one(xr[k] * inv);
  }
}

void heed_f32_qs8_quantize_static__scalar(size_t M, size_t K, const float* x, size_t ldx,
                                          float scale, int8_t* q, size_t ldq, float* scales) {
  const float inv = 1.0f / scale;
  for (size_t m = 0; m < M; ++m) {
    const float* xr = x + m * ldx;
    int8_t* qr = q + m * ldq;
    for (size_t k = 0; k < K; ++k) qr[k] = quantize_one(xr[k] * inv);
    scales[m] = scale;
  }
}

}  // namespace heed
