// The reference of the family: the order of operations in qs8-qc8w-gemm.h,
// read off the packed layout. Up to 4 rows share each group of weights, with
// 16 integer column sums per row held while a block runs (plain loops the
// compiler may vectorize: integer sums are exact in any order).
#include <cmath>

#include "format/weight-layout.h"
#include "kernels/qs8-qc8w-gemm/qs8-qc8w-gemm.h"

namespace heed {

void heed_qs8_qc8w_gemm_f32_ukernel_4x16c4__scalar(const Qs8GemmParams& p) {
  const size_t kg = p.kp / kGroupK;
  const size_t panels = (p.nc + kPanelN - 1) / kPanelN;
  for (size_t panel = 0; panel < panels; ++panel) {
    const int8_t* wp = p.w + panel * kg * kPanelN * kGroupK;  // [kg][16][4]
    const float* wsp = p.ws + panel * p.nb * kPanelN;          // [nb][16]
    float acc[4][kPanelN] = {};
    for (size_t b = 0; b < p.nb; ++b) {
      // Blocks before the last are whole groups (block % 4 == 0); the last
      // runs to the padded end (its pad bytes are zero).
      const size_t g0 = b * p.block / kGroupK;
      const size_t g1 = b + 1 == p.nb ? kg : (b + 1) * p.block / kGroupK;
      int32_t isum[4][kPanelN] = {};
      for (size_t g = g0; g < g1; ++g) {
        const int8_t* wg = wp + g * kPanelN * kGroupK;
        for (size_t m = 0; m < p.mr; ++m) {
          const int8_t* xg = p.x + m * p.ldx + g * kGroupK;
          for (size_t c = 0; c < kPanelN; ++c) {
            int32_t s = 0;
            for (size_t j = 0; j < kGroupK; ++j) s += int32_t(xg[j]) * int32_t(wg[c * kGroupK + j]);
            isum[m][c] += s;
          }
        }
      }
      for (size_t m = 0; m < p.mr; ++m) {
        const float xs = p.xs[m * p.nb + b];
        for (size_t c = 0; c < kPanelN; ++c) acc[m][c] = std::fma(float(isum[m][c]), xs * wsp[b * kPanelN + c], acc[m][c]);
      }
    }
    const size_t n0 = panel * kPanelN, cols = p.nc - n0 < kPanelN ? p.nc - n0 : kPanelN;
    for (size_t m = 0; m < p.mr; ++m)
      for (size_t c = 0; c < cols; ++c) p.y[m * p.ldy + n0 + c] = acc[m][c] + (p.bias ? p.bias[n0 + c] : 0.0f);
  }
}

}  // namespace heed
