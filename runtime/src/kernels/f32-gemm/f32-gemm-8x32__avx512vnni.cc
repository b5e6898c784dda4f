// heed_f32_gemm_ukernel_8x32__avx512vnni: one tile y[0:mr, 0:nc] (mr <= 8
// rows, nc <= 32 columns = two PACKED_N16 panels) of the f32-gemm family
// (f32-gemm.h) with AVX-512 (F only; the family's ISA token for AVX-512 is
// avx512vnni).
//
// What it computes: acc[m][n] = bias[n] (0.0f without bias); for k = 0 ..
// K-1 in order, acc[m][n] = fma(x[m,k], W[n,k], acc[m][n]); y = acc. Lanes
// run over the 16 columns of a panel row (packed[(p * K + k) * 16 + c]),
// the row's x[m,k] is broadcast to every lane, so each output is the
// reference's sequential chain of fused multiply-adds, bit for bit
// (x * w = w * x exactly; one rounding per vfmadd, -ffp-contract=off leaves
// nothing else to fuse).
//
// Registers (32 zmm): 16 accumulators (8 rows x 2 panels: 16 independent
// FMA chains, enough to issue two per cycle against the FMA latency), 2
// weight rows per k, the broadcasts come from memory (embedded {1to16}).
//
// Bounds: x is read at rows < mr and columns < K only; w only of the tile's
// ceil(nc/16) panels; bias and y through lane masks, columns below nc only.
// Each (rows, panels) remainder has its own instantiation.
#include <immintrin.h>

#include <array>
#include <utility>

#include "format/weight-layout.h"
#include "kernels/f32-gemm/f32-gemm.h"

namespace heed {

namespace {

constexpr int kMr = 8;
constexpr int kPanels = 2;  // NR = 32

// Lanes below `cols` (1..16) of a panel.
inline __mmask16 column_mask(size_t cols) {
  return cols >= kPanelN ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1u);
}

// R rows (1..kMr) of x against P panels (1..kPanels) of weights.
template <int R, int P>
void tile(const F32GemmParams& p) {
  const size_t K = p.K;
  const float* xr[R];
  for (int r = 0; r < R; ++r) xr[r] = p.x + size_t(r) * p.ldx;
  __mmask16 mask[P];
  for (int j = 0; j < P; ++j) mask[j] = column_mask(p.nc - size_t(j) * kPanelN);
  __m512 acc[R][P];
  for (int j = 0; j < P; ++j) {
    const __m512 bias = p.bias ? _mm512_maskz_loadu_ps(mask[j], p.bias + j * kPanelN) : _mm512_setzero_ps();
    for (int r = 0; r < R; ++r) acc[r][j] = bias;
  }
  const float* w = p.w;  // panel 0, row k
  const size_t panel_floats = K * kPanelN;
  for (size_t k = 0; k < K; ++k, w += kPanelN) {
    __m512 wv[P];
    for (int j = 0; j < P; ++j) wv[j] = _mm512_loadu_ps(w + size_t(j) * panel_floats);
    for (int r = 0; r < R; ++r) {
      const __m512 xb = _mm512_set1_ps(xr[r][k]);
      for (int j = 0; j < P; ++j) acc[r][j] = _mm512_fmadd_ps(xb, wv[j], acc[r][j]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < P; ++j) _mm512_mask_storeu_ps(p.y + size_t(r) * p.ldy + j * kPanelN, mask[j], acc[r][j]);
}

using TileFn = void (*)(const F32GemmParams&);

template <size_t... I>
constexpr std::array<TileFn, sizeof...(I)> make_tiles(std::index_sequence<I...>) {
  return {{&tile<int(I / kPanels) + 1, int(I % kPanels) + 1>...}};
}
// Entry (rows - 1) * kPanels + (panels - 1).
constexpr std::array<TileFn, kMr * kPanels> kTiles = make_tiles(std::make_index_sequence<kMr * kPanels>());

}  // namespace

void heed_f32_gemm_ukernel_8x32__avx512vnni(const F32GemmParams& p) {
  const size_t panels = (p.nc + kPanelN - 1) / kPanelN;
  if (p.mr == kMr && panels == kPanels) tile<kMr, kPanels>(p);
  else kTiles[(p.mr - 1) * kPanels + (panels - 1)](p);
}

}  // namespace heed
