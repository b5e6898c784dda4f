#include "format/weight-layout.h"
#include "kernels/f32-gemm/f32-gemm.h"

namespace heed {

size_t f32_gemm_tiles(const F32GemmVariant& v, size_t N) { return (N + v.nr - 1) / v.nr; }

void f32_gemm_tile(const F32GemmVariant& v, const F32Gemm& g, size_t tile) {
  const size_t n0 = tile * v.nr, nc = g.N - n0 < v.nr ? g.N - n0 : v.nr;
  for (size_t m0 = 0; m0 < g.M; m0 += v.mr) {
    F32GemmParams p{g.M - m0 < v.mr ? g.M - m0 : v.mr,
                    nc,
                    g.K,
                    g.x + m0 * g.ldx,
                    g.ldx,
                    g.w + (n0 / kPanelN) * g.K * kPanelN,
                    g.bias ? g.bias + n0 : nullptr,
                    g.y + m0 * g.ldy + n0,
                    g.ldy};
    v.fn(p);
  }
}

}  // namespace heed
