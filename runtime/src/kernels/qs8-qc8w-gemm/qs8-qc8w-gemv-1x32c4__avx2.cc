// heed_qs8_qc8w_gemv_f32_ukernel_1x32c4__avx2: one row of the qs8-qc8w-gemm
// family (qs8-qc8w-gemm.h), y[0, 0:nc] with nc <= 32 columns = two
// PACKED_N16K4 panels, for M = 1 (decode). AVX2, signed activations.
//
// What it computes, per scale block b:
//   acc[n] = 0                                       (int32, 8 columns a ymm)
//   per k-group g of the block: broadcast the row's 4 bytes once, then per
//   half panel (8 columns x 4 bytes, 32 of the group's 64 bytes) of each of
//   the two panels, as the 4x16 GEMM does per row:
//     t = x * sign(w) per byte (vpsignb), t = vpmaddubsw(|w|, t) (int16
//     pairs, exact), t = vpmaddwd(t, 1) (int32 per column), acc += t
//   facc[n] = fma(float(acc), xs[b] * ws[n,b], facc)  (product rounded first)
// then y = facc + bias (+ 0.0f without bias), the family's order exactly.
//
// Why a kernel of its own: the 4x16 GEMM at one row reads one panel per
// call; here two weight streams are in flight per call and every register
// serves the one row (4 accumulators, 4 float accumulators, the ones, the
// broadcast bytes and temporaries: 16 ymm).
//
// Exactness: as the 4x16 GEMM: |w| <= 128 as u8 and x * sign(w) exact for
// |x| <= 127 (the quantize kernels never write -128), so a pair sum is at
// most 2 * 128 * 127 < 32767 and vpmaddubsw never saturates; int32 sums are
// exact in any order (K <= 65536). vcvtdq2ps rounds to nearest like
// float(int32), the scale product is its own vmulps (-ffp-contract=off),
// then vfmadd.
//
// Bounds: x is read 4 bytes per group up to kp; w and ws only of the tile's
// ceil(nc/16) panels; bias and y through lane masks (vmaskmovps), columns
// below nc only. No software prefetch (measured no better on AVX-512, same
// streams).
#include <immintrin.h>

#include <cstring>

#include "format/weight-layout.h"
#include "kernels/qs8-qc8w-gemm/qs8-qc8w-gemm.h"

namespace heed {

namespace {

constexpr size_t kHalf = 8;  // columns per ymm

// All-ones lanes for columns below `cols` (0..8) of a half panel.
inline __m256i column_mask(size_t cols) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(cols)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// acc += the 8 column sums of one half panel's group (32 bytes at w)
// against the broadcast activation bytes xb.
inline __m256i half_group(__m256i acc, __m256i xb, const int8_t* w, __m256i ones) {
  const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
  const __m256i t = _mm256_maddubs_epi16(_mm256_abs_epi8(wv), _mm256_sign_epi8(xb, wv));
  return _mm256_add_epi32(acc, _mm256_madd_epi16(t, ones));
}

// One row against P panels (1 or 2).
template <int P>
void gemv(const Qs8GemmParams& p) {
  const size_t kg = p.kp / kGroupK, nb = p.nb;
  const size_t panel_bytes = kg * kPanelN * kGroupK;
  const int8_t* w1 = p.w + (P > 1 ? panel_bytes : 0);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 f00 = _mm256_setzero_ps(), f01 = f00, f10 = f00, f11 = f00;

  size_t off = 0;  // the group's byte offset in the row (4 g; in a panel 64 g)
  for (size_t b = 0; b < nb; ++b) {
    const size_t end = (b + 1 == nb ? kg : (b + 1) * p.block / kGroupK) * kGroupK;
    __m256i a00 = _mm256_setzero_si256(), a01 = a00, a10 = a00, a11 = a00;
    for (; off < end; off += kGroupK) {
      int32_t xv;
      std::memcpy(&xv, p.x + off, sizeof xv);
      const __m256i xb = _mm256_set1_epi32(xv);
      const int8_t* r0 = p.w + off * kPanelN;
      a00 = half_group(a00, xb, r0, ones);
      a01 = half_group(a01, xb, r0 + 32, ones);
      if constexpr (P > 1) {
        const int8_t* r1 = w1 + off * kPanelN;
        a10 = half_group(a10, xb, r1, ones);
        a11 = half_group(a11, xb, r1 + 32, ones);
      }
    }
    const __m256 xs = _mm256_set1_ps(p.xs[b]);
    const float* ws0 = p.ws + b * kPanelN;
    f00 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(a00), _mm256_mul_ps(_mm256_loadu_ps(ws0), xs), f00);
    f01 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(a01), _mm256_mul_ps(_mm256_loadu_ps(ws0 + kHalf), xs), f01);
    if constexpr (P > 1) {
      const float* ws1 = ws0 + nb * kPanelN;
      f10 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(a10), _mm256_mul_ps(_mm256_loadu_ps(ws1), xs), f10);
      f11 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(a11), _mm256_mul_ps(_mm256_loadu_ps(ws1 + kHalf), xs), f11);
    }
  }

  // y = facc + bias, the columns below nc of each half panel.
  const __m256 f[4] = {f00, f01, f10, f11};
  for (size_t h = 0; h < 2 * size_t(P); ++h) {
    const size_t c0 = h * kHalf;
    if (c0 >= p.nc) break;
    const __m256i m = column_mask(p.nc - c0 < kHalf ? p.nc - c0 : kHalf);
    const __m256 bias = p.bias ? _mm256_maskload_ps(p.bias + c0, m) : _mm256_setzero_ps();
    _mm256_maskstore_ps(p.y + c0, m, _mm256_add_ps(f[h], bias));
  }
}

}  // namespace

void heed_qs8_qc8w_gemv_f32_ukernel_1x32c4__avx2(const Qs8GemmParams& p) {
  if (p.nc > kPanelN) gemv<2>(p);
  else gemv<1>(p);
}

}  // namespace heed
