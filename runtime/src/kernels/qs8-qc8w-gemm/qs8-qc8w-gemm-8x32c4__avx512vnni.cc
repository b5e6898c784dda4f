// heed_qs8_qc8w_gemm_f32_ukernel_8x32c4__avx512vnni: one tile y[0:mr, 0:nc]
// (mr <= 8 rows, nc <= 32 columns = two PACKED_N16K4 panels) of the
// qs8-qc8w-gemm family (qs8-qc8w-gemm.h) with AVX-512 VNNI, u8_activations.
//
// What it computes, per scale block b of the row range:
//   acc[m][n] = -ws_sum128[n,b]                      (int32, 16 columns a zmm)
//   per k-group g of the block (4 inputs): load each panel's 64-byte weight
//   row once (16 columns x 4 signed bytes), broadcast row m's 4 activation
//   bytes to all 16 lanes, and one vpdpbusd per (row, panel) adds the four
//   u8 x s8 products of every column: acc += sum_j u[m,4g+j] * W[n,4g+j]
//   facc[m][n] = fma(float(acc), xs[m,b] * ws[n,b], facc)  (product rounded first)
// then y = facc + bias (+ 0.0f without bias), the family's order exactly.
//
// Registers (32 zmm): 16 int32 accumulators (8 rows x 2 panels, 16
// independent vpdpbusd chains: enough to issue two per cycle against the
// instruction's latency), 2 weight rows, 1 broadcast activation group; the
// 16 float accumulators take the rest and the compiler keeps a few of them on
// the stack, touched once per block. Measured on Zen 5: 8x32, 6x32 and 4x64
// run within noise of each other; 8x16, 12x16 and 16x16 are 7-13 % slower.
//
// Exactness: activations arrive as u = x + 128 (x ^ 0x80), so over a block
// sum u * w = sum x * w + 128 * sum w, and ws_sum128 is 128 * sum w of the
// block: acc ends at the reference's integer sum. int32 arithmetic is exact
// modulo 2^32 and the true sum fits (|x| <= 127, |w| <= 128, K <= 65536,
// format/model.h), so the order of the integer additions does not matter.
// Pad bytes past K are u = 128 against zero weights and add nothing. The
// float steps are the reference's, one fma per block in ascending order with
// the same roundings: vcvtdq2ps rounds to nearest like float(int32), the
// scale product is its own vmulps (-ffp-contract=off), then vfmadd.
//
// Bounds: x is read 4 bytes per row and group, up to kp, and only the tile's
// mr rows; w, ws and ws_sum128 only of the tile's ceil(nc/16) panels; bias
// and y through lane masks, columns below nc only. Each (rows, panels)
// remainder has its own instantiation.
#include <immintrin.h>

#include <array>
#include <cstring>
#include <utility>

#include "format/weight-layout.h"
#include "kernels/qs8-qc8w-gemm/qs8-qc8w-gemm.h"

namespace heed {

namespace {

constexpr int kMr = 8;
constexpr int kPanels = 2;  // NR = 32

// The 4 activation bytes of one k-group in every 32-bit lane (vpbroadcastd).
inline __m512i broadcast_group(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return _mm512_set1_epi32(v);
}

// acc += per lane, the dot product of 4 unsigned bytes of u8 with 4 signed
// bytes of s8 (vpdpbusd). An in-place asm statement: with the intrinsic,
// GCC 12 rotates the loop's accumulators through other registers (one zmm
// move per vpdpbusd, 27 % slower); "+v" keeps each accumulator in place.
inline __m512i dpbusd(__m512i acc, __m512i u8, __m512i s8) {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u8), "v"(s8));
  return acc;
}

// float(v) per lane, rounded to nearest as the reference's conversion. The
// zero-masking form with every lane selected is plain vcvtdq2ps; it avoids
// GCC 12's false -Wmaybe-uninitialized on the unmasked intrinsic.
inline __m512 to_float(__m512i v) { return _mm512_maskz_cvtepi32_ps(__mmask16(0xFFFF), v); }

// Lanes below `cols` (1..16) of a panel.
inline __mmask16 column_mask(size_t cols) {
  return cols >= kPanelN ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1u);
}

// One k-group at byte offset `off` of the rows: R x P vpdpbusd.
template <int R, int P>
inline void group(const int8_t* const* xr, const int8_t* w, size_t panel_bytes, size_t off,
                  __m512i (&acc)[R][P]) {
  __m512i wv[P];
  for (int j = 0; j < P; ++j) wv[j] = _mm512_loadu_si512(w + off * kPanelN + size_t(j) * panel_bytes);
  for (int r = 0; r < R; ++r) {
    const __m512i xb = broadcast_group(xr[r] + off);
    for (int j = 0; j < P; ++j) acc[r][j] = dpbusd(acc[r][j], xb, wv[j]);
  }
}

// R rows (1..kMr) of x against P panels (1..kPanels) of weights.
template <int R, int P>
void tile(const Qs8GemmParams& p) {
  const size_t kg = p.kp / kGroupK, nb = p.nb;
  const size_t panel_bytes = kg * kPanelN * kGroupK;
  const int8_t* xr[R];
  for (int r = 0; r < R; ++r) xr[r] = p.x + size_t(r) * p.ldx;
  __m512 facc[R][P];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < P; ++j) facc[r][j] = _mm512_setzero_ps();

  size_t off = 0;  // the group's byte offset in a row (4 g; in a panel 64 g)
  for (size_t b = 0; b < nb; ++b) {
    // Blocks before the last are whole groups (block % 4 == 0); the last
    // runs to the padded end.
    const size_t end = (b + 1 == nb ? kg : (b + 1) * p.block / kGroupK) * kGroupK;
    __m512i acc[R][P];
    for (int j = 0; j < P; ++j) {
      const __m512i sums = _mm512_loadu_si512(p.ws_sum128 + (size_t(j) * nb + b) * kPanelN);
      const __m512i neg = _mm512_sub_epi32(_mm512_setzero_si512(), sums);
      for (int r = 0; r < R; ++r) acc[r][j] = neg;
    }
    for (; off < end; off += kGroupK) group<R, P>(xr, p.w, panel_bytes, off, acc);
    __m512 wsv[P];
    for (int j = 0; j < P; ++j) wsv[j] = _mm512_loadu_ps(p.ws + (size_t(j) * nb + b) * kPanelN);
    for (int r = 0; r < R; ++r) {
      const __m512 xs = _mm512_set1_ps(p.xs[size_t(r) * nb + b]);
      for (int j = 0; j < P; ++j)
        facc[r][j] = _mm512_fmadd_ps(to_float(acc[r][j]), _mm512_mul_ps(wsv[j], xs), facc[r][j]);
    }
  }

  for (int j = 0; j < P; ++j) {
    const __mmask16 m = column_mask(p.nc - size_t(j) * kPanelN);
    const __m512 bias = p.bias ? _mm512_maskz_loadu_ps(m, p.bias + j * kPanelN) : _mm512_setzero_ps();
    for (int r = 0; r < R; ++r)
      _mm512_mask_storeu_ps(p.y + size_t(r) * p.ldy + j * kPanelN, m, _mm512_add_ps(facc[r][j], bias));
  }
}

using TileFn = void (*)(const Qs8GemmParams&);

template <size_t... I>
constexpr std::array<TileFn, sizeof...(I)> make_tiles(std::index_sequence<I...>) {
  return {{&tile<int(I / kPanels) + 1, int(I % kPanels) + 1>...}};
}
// Entry (rows - 1) * kPanels + (panels - 1).
constexpr std::array<TileFn, kMr * kPanels> kTiles = make_tiles(std::make_index_sequence<kMr * kPanels>());

}  // namespace

void heed_qs8_qc8w_gemm_f32_ukernel_8x32c4__avx512vnni(const Qs8GemmParams& p) {
  const size_t panels = (p.nc + kPanelN - 1) / kPanelN;
  if (p.mr == kMr && panels == kPanels) tile<kMr, kPanels>(p);
  else kTiles[(p.mr - 1) * kPanels + (panels - 1)](p);
}

}  // namespace heed
