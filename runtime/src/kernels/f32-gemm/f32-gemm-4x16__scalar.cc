// The reference of the family: f32-gemm.h's order, off the packed layout.
#include <cmath>

#include "format/weight-layout.h"
#include "kernels/f32-gemm/f32-gemm.h"

namespace heed {

void heed_f32_gemm_ukernel_4x16__scalar(const F32GemmParams& p) {
  for (size_t m = 0; m < p.mr; ++m) {
    const float* xr = p.x + m * p.ldx;
    for (size_t n = 0; n < p.nc; ++n) {
      const float* wc = p.w + (n / kPanelN) * p.K * kPanelN + n % kPanelN;  // W[n, k] at wc[k * 16]
      float acc = p.bias ? p.bias[n] : 0.0f;
      for (size_t k = 0; k < p.K; ++k) acc = std::fma(xr[k], wc[k * kPanelN], acc);
      p.y[m * p.ldy + n] = acc;
    }
  }
}

}  // namespace heed
