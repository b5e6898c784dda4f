// heed_qs8_qc8w_gemv_f32_ukernel_1x64c4__avx512vnni: one row of the
// qs8-qc8w-gemm family (qs8-qc8w-gemm.h), y[0, 0:nc] with nc <= 64 columns =
// four PACKED_N16K4 panels, for M = 1 (decode). AVX-512 VNNI,
// u8_activations, and it does not read ws_sum128.
//
// What it computes, per scale block b:
//   acc[n] = 0, corr[n] = 0                          (int32, 16 columns a zmm)
//   per k-group g of the block: broadcast the row's 4 activation bytes
//   u = x + 128 to all 16 lanes, load each panel's 64-byte weight row once,
//   and two vpdpbusd per panel on that register:
//     acc  += sum_j u[4g+j] * W[n,4g+j]
//     corr += sum_j 128 * W[n,4g+j]                  (0x80 bytes against W)
//   facc[n] = fma(float(acc - corr), xs[b] * ws[n,b], facc)  (product rounded first)
// then y = facc + bias (+ 0.0f without bias), the family's order exactly.
//
// Why: at one row the GEMM tiles stream the weights once per token and are
// bound by memory, not by vpdpbusd. The 8x32 GEMM reads 128 * sum(w) per
// block and column (ws_sum128, 4 bytes per 32 weights: 10 % of what a
// token reads); here the second vpdpbusd recomputes it from the weight
// register already loaded, at no memory cost. Four panels per call: four
// weight streams in flight (measured against two, docs/decisions.md).
//
// Exactness: over a block sum u * w = sum x * w + 128 * sum w, and corr is
// 128 * sum w of the block, so acc - corr is the reference's integer sum
// (int32 arithmetic modulo 2^32; the true sum fits, K <= 65536). Pad bytes
// past K are u = 128 against zero weights: they add 0 to both. The float
// steps are the reference's with the same roundings: vcvtdq2ps rounds to
// nearest like float(int32), the scale product is its own vmulps
// (-ffp-contract=off), then vfmadd.
//
// Bounds: x is read 4 bytes per group up to kp; w and ws only of the tile's
// ceil(nc/16) panels; bias and y through lane masks, columns below nc only.
// No software prefetch: prefetcht0 1-4 KB ahead in each weight stream
// measured within noise of none, prefetchnta twice as slow (the hardware
// prefetchers already follow the four sequential streams).
#include <immintrin.h>

#include <array>
#include <cstring>
#include <utility>

#include "format/weight-layout.h"
#include "kernels/qs8-qc8w-gemm/qs8-qc8w-gemm.h"

namespace heed {

namespace {

constexpr int kPanels = 4;  // NR = 64

inline __m512i broadcast_group(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return _mm512_set1_epi32(v);
}

// acc += per lane, the dot product of 4 unsigned bytes of u8 with 4 signed
// bytes of s8 (vpdpbusd), in place ("+v": GCC 12 otherwise moves the
// accumulators between registers, as in the 8x32 GEMM).
inline __m512i dpbusd(__m512i acc, __m512i u8, __m512i s8) {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u8), "v"(s8));
  return acc;
}

inline __m512 to_float(__m512i v) { return _mm512_maskz_cvtepi32_ps(__mmask16(0xFFFF), v); }

inline __mmask16 column_mask(size_t cols) {
  return cols >= kPanelN ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1u);
}

// One row against P panels (1..kPanels).
template <int P>
void gemv(const Qs8GemmParams& p) {
  const size_t kg = p.kp / kGroupK, nb = p.nb;
  const size_t panel_bytes = kg * kPanelN * kGroupK;
  const int8_t* x = p.x;
  const __m512i k80 = _mm512_set1_epi8(char(0x80));
  __m512 facc[P];
  for (int j = 0; j < P; ++j) facc[j] = _mm512_setzero_ps();

  size_t off = 0;  // the group's byte offset in the row (4 g; in a panel 64 g)
  for (size_t b = 0; b < nb; ++b) {
    // Blocks before the last are whole groups (block % 4 == 0); the last
    // runs to the padded end.
    const size_t end = (b + 1 == nb ? kg : (b + 1) * p.block / kGroupK) * kGroupK;
    __m512i acc[P], corr[P];
    for (int j = 0; j < P; ++j) acc[j] = corr[j] = _mm512_setzero_si512();
    for (; off < end; off += kGroupK) {
      const __m512i xb = broadcast_group(x + off);
      for (int j = 0; j < P; ++j) {
        const int8_t* wr = p.w + off * kPanelN + size_t(j) * panel_bytes;
        const __m512i wv = _mm512_loadu_si512(wr);
        acc[j] = dpbusd(acc[j], xb, wv);
        corr[j] = dpbusd(corr[j], k80, wv);
      }
    }
    const __m512 xs = _mm512_set1_ps(p.xs[b]);
    for (int j = 0; j < P; ++j) {
      const __m512 wsv = _mm512_loadu_ps(p.ws + (size_t(j) * nb + b) * kPanelN);
      facc[j] = _mm512_fmadd_ps(to_float(_mm512_sub_epi32(acc[j], corr[j])), _mm512_mul_ps(wsv, xs), facc[j]);
    }
  }

  for (int j = 0; j < P; ++j) {
    const __mmask16 m = column_mask(p.nc - size_t(j) * kPanelN);
    const __m512 bias = p.bias ? _mm512_maskz_loadu_ps(m, p.bias + j * kPanelN) : _mm512_setzero_ps();
    _mm512_mask_storeu_ps(p.y + j * kPanelN, m, _mm512_add_ps(facc[j], bias));
  }
}

using TileFn = void (*)(const Qs8GemmParams&);

template <size_t... I>
constexpr std::array<TileFn, sizeof...(I)> make_tiles(std::index_sequence<I...>) {
  return {{&gemv<int(I) + 1>...}};
}
// Entry panels - 1.
constexpr std::array<TileFn, kPanels> kTiles = make_tiles(std::make_index_sequence<kPanels>());

}  // namespace

void heed_qs8_qc8w_gemv_f32_ukernel_1x64c4__avx512vnni(const Qs8GemmParams& p) {
  const size_t panels = (p.nc + kPanelN - 1) / kPanelN;
  if (panels == kPanels) gemv<kPanels>(p);
  else kTiles[panels - 1](p);
}

}  // namespace heed
