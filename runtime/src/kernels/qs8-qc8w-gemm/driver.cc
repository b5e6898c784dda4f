#include "format/weight-layout.h"
#include "kernels/qs8-qc8w-gemm/qs8-qc8w-gemm.h"

namespace heed {

size_t qs8_gemm_tiles(const Qs8GemmVariant& v, size_t N) { return (N + v.nr - 1) / v.nr; }

size_t qs8_gemm_block_rows(const Qs8GemmVariant& v, size_t K) { return gemm_block_rows(padded_k(K), v.mr); }

void qs8_gemm_tile(const Qs8GemmVariant& v, const Qs8Gemm& g, size_t tile, size_t m_begin, size_t m_end) {
  const size_t kp = padded_k(g.K), nb = (g.K + g.block - 1) / g.block;
  const size_t n0 = tile * v.nr, nc = g.N - n0 < v.nr ? g.N - n0 : v.nr, panel = n0 / kPanelN;
  for (size_t m0 = m_begin; m0 < m_end; m0 += v.mr) {
    Qs8GemmParams p;
    p.mr = m_end - m0 < v.mr ? m_end - m0 : v.mr;
    p.nc = nc;
    p.kp = kp;
    p.block = g.block;
    p.nb = nb;
    p.x = g.x + m0 * g.ldx;
    p.ldx = g.ldx;
    p.xs = g.xs + m0 * nb;
    p.w = g.w + panel * (kp / kGroupK) * kPanelN * kGroupK;
    p.ws = g.ws + panel * nb * kPanelN;
    p.ws_sum128 = g.ws_sum128 ? g.ws_sum128 + panel * nb * kPanelN : nullptr;
    p.bias = g.bias ? g.bias + n0 : nullptr;
    p.y = g.y + m0 * g.ldy + n0;
    p.ldy = g.ldy;
    v.fn(p);
  }
}

void qs8_gemm_all(const Qs8GemmVariant& v, const Qs8Gemm& g) {
  const size_t rows = qs8_gemm_block_rows(v, g.K);
  for (size_t m0 = 0; m0 < g.M; m0 += rows)
    for (size_t t = 0; t < qs8_gemm_tiles(v, g.N); ++t) qs8_gemm_tile(v, g, t, m0, g.M - m0 < rows ? g.M : m0 + rows);
}

}  // namespace heed
