// heed_f32_gemm_ukernel_6x16__avx2: one tile y[0:mr, 0:nc] (mr <= 6 rows,
// nc <= 16 columns = one PACKED_N16 panel) of the f32-gemm family
// (f32-gemm.h) with AVX2 and FMA3.
//
// What it computes: acc[m][n] = bias[n] (0.0f without bias); for k = 0 ..
// K-1 in order, acc[m][n] = fma(x[m,k], W[n,k], acc[m][n]); y = acc. Lanes
// run over the columns of the panel row (two ymm of 8), the row's x[m,k] is
// broadcast to every lane, so each output is the reference's sequential
// chain of fused multiply-adds, bit for bit (x * w = w * x exactly; one
// rounding per vfmadd, -ffp-contract=off leaves nothing else to fuse).
//
// Registers (16 ymm): 12 accumulators (6 rows x 2 halves: 12 independent
// FMA chains, enough to issue two per cycle against the FMA latency), 2
// weight halves per k, 1 broadcast of x.
//
// Bounds: x is read at rows < mr and columns < K only; w only of the tile's
// panel; bias and y through lane masks (vmaskmovps), columns below nc only.
// Each row remainder has its own instantiation.
#include <immintrin.h>

#include <array>
#include <utility>

#include "format/weight-layout.h"
#include "kernels/f32-gemm/f32-gemm.h"

namespace heed {

namespace {

constexpr int kMr = 6;
constexpr size_t kHalf = 8;  // columns per ymm

// All-ones lanes for columns below `cols` (0..8) of a half panel.
inline __m256i column_mask(size_t cols) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(cols)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// R rows (1..kMr) of x against the tile's panel. The accumulators are named
// variables, not an array: GCC 12 at -O3 does not split an array of more
// than 4 ymm into registers here and stores all of it on every k (2x slower).
template <int R>
void tile(const F32GemmParams& p) {
  static_assert(R >= 1 && R <= kMr, "rows");
  const size_t K = p.K, nc = p.nc;
  // Row pointers past mr repeat row 0 and are never read.
  const float* x0 = p.x;
  const float* x1 = R > 1 ? x0 + p.ldx : x0;
  const float* x2 = R > 2 ? x1 + p.ldx : x0;
  const float* x3 = R > 3 ? x2 + p.ldx : x0;
  const float* x4 = R > 4 ? x3 + p.ldx : x0;
  const float* x5 = R > 5 ? x4 + p.ldx : x0;
  __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
  if (p.bias) {
    b0 = _mm256_maskload_ps(p.bias, column_mask(nc < kHalf ? nc : kHalf));
    if (nc > kHalf) b1 = _mm256_maskload_ps(p.bias + kHalf, column_mask(nc - kHalf));
  }
  __m256 a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1;
  __m256 a30 = b0, a31 = b1, a40 = b0, a41 = b1, a50 = b0, a51 = b1;
  const float* w = p.w;  // row k of the panel
  for (size_t k = 0; k < K; ++k, w += kPanelN) {
    const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + kHalf);
#define HEED_ROW(i)                                      \
  if constexpr (R > i) {                                 \
    const __m256 xb = _mm256_broadcast_ss(x##i + k);     \
    a##i##0 = _mm256_fmadd_ps(xb, w0, a##i##0);          \
    a##i##1 = _mm256_fmadd_ps(xb, w1, a##i##1);          \
  }
    HEED_ROW(0) HEED_ROW(1) HEED_ROW(2) HEED_ROW(3) HEED_ROW(4) HEED_ROW(5)
#undef HEED_ROW
  }
  // The store masks come from an opaque copy of nc: GCC would otherwise
  // reuse the bias masks and keep them live across the loop, 2 of the 16
  // registers its 15 values need.
  size_t cols = nc;
  asm("" : "+r"(cols));
  const __m256i m0 = column_mask(cols < kHalf ? cols : kHalf);
  const __m256i m1 = column_mask(cols > kHalf ? cols - kHalf : 0);
  float* y = p.y;
#define HEED_STORE(i)                                                      \
  if constexpr (R > i) {                                                   \
    _mm256_maskstore_ps(y + i * p.ldy, m0, a##i##0);                       \
    if (cols > kHalf) _mm256_maskstore_ps(y + i * p.ldy + kHalf, m1, a##i##1); \
  }
  HEED_STORE(0) HEED_STORE(1) HEED_STORE(2) HEED_STORE(3) HEED_STORE(4) HEED_STORE(5)
#undef HEED_STORE
}

using TileFn = void (*)(const F32GemmParams&);

template <size_t... I>
constexpr std::array<TileFn, sizeof...(I)> make_tiles(std::index_sequence<I...>) {
  return {{&tile<int(I) + 1>...}};
}
// Entry rows - 1.
constexpr std::array<TileFn, kMr> kTiles = make_tiles(std::make_index_sequence<kMr>());

}  // namespace

void heed_f32_gemm_ukernel_6x16__avx2(const F32GemmParams& p) {
  if (p.mr == kMr) tile<kMr>(p);
  else kTiles[p.mr - 1](p);
}

}  // namespace heed
