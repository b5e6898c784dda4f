#include "format/weight-layout.h"
#include "kernels/f32-gemm/f32-gemm.h"

namespace heed {

size_t f32_gemm_tiles(const F32GemmVariant& v, size_t N) { return (N + v.nr - 1) / v.nr; }

size_t f32_gemm_block_rows(const F32GemmVariant& v, size_t K) { return gemm_block_rows(K * sizeof(float), v.mr); }

void f32_gemm_tile(const F32GemmVariant& v, const F32Gemm& g, size_t tile, size_t m_begin, size_t m_end) {
  const size_t n0 = tile * v.nr, nc = g.N - n0 < v.nr ? g.N - n0 : v.nr;
  for (size_t m0 = m_begin; m0 < m_end; m0 += v.mr) {
    F32GemmParams p{m_end - m0 < v.mr ? m_end - m0 : v.mr,
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

void f32_gemm_all(const F32GemmVariant& v, const F32Gemm& g) {
  const size_t rows = f32_gemm_block_rows(v, g.K);
  for (size_t m0 = 0; m0 < g.M; m0 += rows)
    for (size_t t = 0; t < f32_gemm_tiles(v, g.N); ++t) f32_gemm_tile(v, g, t, m0, g.M - m0 < rows ? g.M : m0 + rows);
}

}  // namespace heed
