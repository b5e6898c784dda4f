#include <cmath>

#include "kernels/kernels.h"

namespace heed {

namespace {
// Round half to even under the default rounding mode, then clamp to the
// symmetric int8 range (-128 is never produced, so negation stays exact).
// NaN (only reachable from a weight file changed after load) becomes 0, so
// the float-to-int conversion is always defined.
inline int8_t quantize_one(float v) {
  float r = std::nearbyint(v);
  if (r > 127.0f) r = 127.0f;
  if (r < -127.0f) r = -127.0f;
  return r == r ? static_cast<int8_t>(r) : int8_t(0);
}
inline float smoothed(const float* x, const float* smooth, size_t k) { return smooth ? x[k] * smooth[k] : x[k]; }
}  // namespace

void heed_f32_qs8_quantize_blocks__scalar(size_t M, size_t K, size_t block, const float* x, size_t ldx,
                                          const float* smooth, int8_t* q, size_t ldq, float* scales) {
  const size_t nb = (K + block - 1) / block;
  for (size_t m = 0; m < M; ++m) {
    const float* xr = x + m * ldx;
    int8_t* qr = q + m * ldq;
    for (size_t b = 0; b < nb; ++b) {
      const size_t k0 = b * block, k1 = k0 + block < K ? k0 + block : K;
      float absmax = 0.0f;
      for (size_t k = k0; k < k1; ++k) absmax = std::fmax(absmax, std::fabs(smoothed(xr, smooth, k)));
      if (!(absmax > 0.0f)) {
        scales[m * nb + b] = 0.0f;
        for (size_t k = k0; k < k1; ++k) qr[k] = 0;
        continue;
      }
      scales[m * nb + b] = absmax / 127.0f;
      const float inv = 127.0f / absmax;
      for (size_t k = k0; k < k1; ++k) qr[k] = quantize_one(smoothed(xr, smooth, k) * inv);
    }
  }
}

void heed_f32_qs8_quantize_static__scalar(size_t M, size_t K, size_t block, const float* x, size_t ldx,
                                          const float* smooth, float scale, int8_t* q, size_t ldq,
                                          float* scales) {
  const float inv = 1.0f / scale;
  const size_t nb = (K + block - 1) / block;
  for (size_t m = 0; m < M; ++m) {
    const float* xr = x + m * ldx;
    int8_t* qr = q + m * ldq;
    for (size_t k = 0; k < K; ++k) qr[k] = quantize_one(smoothed(xr, smooth, k) * inv);
    for (size_t b = 0; b < nb; ++b) scales[m * nb + b] = scale;
  }
}

}  // namespace heed
