// f32-qs8-quantize reference: the semantics of f32-qs8-quantize.h written out
// one value at a time (qs8_quantize_one is the rounding and clamping rule).
#include <cmath>

#include "kernels/quantize/f32-qs8-quantize.h"

namespace heed {

namespace {
inline float smoothed(const float* x, const float* smooth, size_t k) { return smooth ? x[k] * smooth[k] : x[k]; }
}  // namespace

void heed_f32_qs8_quantize__scalar(const QuantizeParams& p) {
  const size_t nb = (p.K + p.block - 1) / p.block;
  for (size_t m = 0; m < p.M; ++m) {
    const float* xr = p.x + m * p.ldx;
    int8_t* qr = p.q + m * p.ldq;
    float* sr = p.scales + m * nb;
    if (p.static_scale > 0.0f) {
      const float inv = 1.0f / p.static_scale;
      for (size_t k = 0; k < p.K; ++k) qr[k] = qs8_masked(qs8_quantize_one(smoothed(xr, p.smooth, k) * inv), p.xor_mask);
      for (size_t b = 0; b < nb; ++b) sr[b] = p.static_scale;
    } else {
      for (size_t b = 0; b < nb; ++b) {
        const size_t k0 = b * p.block, k1 = k0 + p.block < p.K ? k0 + p.block : p.K;
        float absmax = 0.0f;
        for (size_t k = k0; k < k1; ++k) absmax = std::fmax(absmax, std::fabs(smoothed(xr, p.smooth, k)));
        if (!(absmax > 0.0f)) {
          sr[b] = 0.0f;
          for (size_t k = k0; k < k1; ++k) qr[k] = qs8_masked(0, p.xor_mask);
          continue;
        }
        sr[b] = absmax / 127.0f;
        const float inv = 127.0f / absmax;
        for (size_t k = k0; k < k1; ++k) qr[k] = qs8_masked(qs8_quantize_one(smoothed(xr, p.smooth, k) * inv), p.xor_mask);
      }
    }
    for (size_t k = p.K; k < p.kp; ++k) qr[k] = qs8_masked(0, p.xor_mask);
  }
}

}  // namespace heed
