// heed_qs8_qc8w_gemm_f32_ukernel_4x16c4__avx2: one tile y[0:mr, 0:nc]
// (mr <= 4 rows, nc <= 16 columns = one PACKED_N16K4 panel) of the
// qs8-qc8w-gemm family (qs8-qc8w-gemm.h) with AVX2, signed activations.
//
// What it computes, per scale block b of the row range:
//   acc[m][n] = 0                                    (int32, 8 columns a ymm)
//   per k-group g of the block (4 inputs), per half panel (8 columns x 4
//   bytes, 32 bytes of the group's 64):
//     a = |w| as unsigned bytes (vpabsb), t = x * sign(w) per byte (vpsignb
//     of the row's 4 broadcast bytes), p = vpmaddubsw(a, t): int16 pairs
//     a0 t0 + a1 t1 = w0 x0 + w1 x1, then vpmaddwd(p, 1) adds the two pairs
//     of each column into int32 and vpaddd accumulates
//   facc[m][n] = fma(float(acc), xs[m,b] * ws[n,b], facc)  (product rounded first)
// then y = facc + bias (+ 0.0f without bias), the family's order exactly.
//
// Registers (16 ymm): 8 int32 accumulators (4 rows x 2 halves), 2 weight
// halves and their 2 absolute values, the int16 ones, and 2 temporaries
// (the row's broadcast bytes; its sign-adjusted copy, then the products);
// the 8 float accumulators live on the stack, touched once per block.
//
// Exactness: vpmaddubsw saturates its int16 pair sums, so the operands are
// chosen to keep them in range: |w| <= 128 as u8 (vpabsb of -128 is 0x80 =
// 128 unsigned, right) and x * sign(w) is exact for |x| <= 127 (the quantize
// kernels never write -128, f32-qs8-quantize.h), so a pair sum is at most
// 2 * 128 * 127 = 32512 < 32767 and never saturates, for every int8 weight.
// (Putting |x| on the unsigned side instead would get -(-128) wrong for
// weights of -128.) Each int32 lane then adds exact products, and int32 sums
// are exact in any order (the true block sum fits: K <= 65536). The float
// steps are the reference's: vcvtdq2ps rounds to nearest like float(int32),
// the scale product is its own vmulps (-ffp-contract=off), then vfmadd.
//
// Bounds: x is read 4 bytes per row and group, up to kp, and only the tile's
// mr rows; w and ws only of the tile's panel; bias and y through lane masks
// (vmaskmovps), columns below nc only. Each row remainder has its own
// instantiation.
#include <immintrin.h>

#include <array>
#include <utility>

#include "format/weight-layout.h"
#include "kernels/qs8-qc8w-gemm/qs8-qc8w-gemm.h"

namespace heed {

namespace {

constexpr int kMr = 4;
constexpr size_t kHalf = 8;  // columns per ymm

// One row's k-group against the panel: a0 += 8 column sums of the 4
// products (columns 0..7), a1 the same for columns 8..15, from the row's 4
// bytes at x, the two weight halves w0, w1 and their absolute values u0, u1:
//   xb = broadcast(x); t = xb * sign(w) per byte (vpsignb);
//   t = vpmaddubsw(|w| as u8, t) (int16 pairs, exact); t = vpmaddwd(t, 1); a += t
// One asm statement per row: written with intrinsics, GCC 12 interleaves
// the four rows, runs out of the 16 registers and keeps half the
// accumulators in memory. Here the loop needs 8 accumulators, 4 weight
// registers, the ones and 2 temporaries; the core reorders across rows.
struct Group4 {
  int8_t b[4];
};
inline void row_group(__m256i& a0, __m256i& a1, const int8_t* x, __m256i w0, __m256i w1, __m256i u0, __m256i u1,
                      __m256i ones) {
  __m256i xb, t;
  asm("vpbroadcastd %[x], %[xb]\n\t"
      "vpsignb %[w0], %[xb], %[t]\n\t"
      "vpmaddubsw %[t], %[u0], %[t]\n\t"
      "vpmaddwd %[ones], %[t], %[t]\n\t"
      "vpaddd %[t], %[a0], %[a0]\n\t"
      "vpsignb %[w1], %[xb], %[t]\n\t"
      "vpmaddubsw %[t], %[u1], %[t]\n\t"
      "vpmaddwd %[ones], %[t], %[t]\n\t"
      "vpaddd %[t], %[a1], %[a1]"
      : [a0] "+x"(a0), [a1] "+x"(a1), [xb] "=&x"(xb), [t] "=&x"(t)
      : [x] "m"(*reinterpret_cast<const Group4*>(x)), [w0] "x"(w0), [w1] "x"(w1), [u0] "x"(u0), [u1] "x"(u1),
        [ones] "x"(ones));
}

// All-ones lanes for columns below `cols` (0..8) of a half panel.
inline __m256i column_mask(size_t cols) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(cols)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// R rows (1..kMr) of x against the tile's panel. The accumulators are named
// variables, not arrays: GCC 12 at -O3 keeps an array of more than 4 ymm in
// memory and stores it on every k-group.
template <int R>
void tile(const Qs8GemmParams& p) {
  static_assert(R >= 1 && R <= kMr, "rows");
  const size_t kg = p.kp / kGroupK, nb = p.nb;
  // Row pointers past mr repeat row 0 and are never read.
  const int8_t* x0 = p.x;
  const int8_t* x1 = R > 1 ? x0 + p.ldx : x0;
  const int8_t* x2 = R > 2 ? x1 + p.ldx : x0;
  const int8_t* x3 = R > 3 ? x2 + p.ldx : x0;
  const __m256i ones = _mm256_set1_epi16(1);
  // Float accumulators in memory, touched once per block, behind an opaque
  // pointer: as values, GCC gives them registers and spills int accumulators
  // in the group loop instead.
  alignas(32) float facc_mem[R][kPanelN] = {};
  float(*facc)[kPanelN] = facc_mem;
  asm("" : "+r"(facc) : : "memory");

  size_t off = 0;  // the group's byte offset in a row (4 g; in the panel 64 g)
  for (size_t b = 0; b < nb; ++b) {
    // Blocks before the last are whole groups (block % 4 == 0); the last
    // runs to the padded end.
    const size_t end = (b + 1 == nb ? kg : (b + 1) * p.block / kGroupK) * kGroupK;
    __m256i a00 = _mm256_setzero_si256(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00,
            a31 = a00;
    for (; off < end; off += kGroupK) {
      const int8_t* wg = p.w + off * kPanelN;
      const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wg));
      const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wg + 32));
      const __m256i u0 = _mm256_abs_epi8(w0), u1 = _mm256_abs_epi8(w1);
#define HEED_ROW(i) \
  if constexpr (R > i) row_group(a##i##0, a##i##1, x##i + off, w0, w1, u0, u1, ones);
      HEED_ROW(0) HEED_ROW(1) HEED_ROW(2) HEED_ROW(3)
#undef HEED_ROW
    }
    const __m256 ws0 = _mm256_loadu_ps(p.ws + b * kPanelN), ws1 = _mm256_loadu_ps(p.ws + b * kPanelN + kHalf);
#define HEED_BLOCK(i)                                                                       \
  if constexpr (R > i) {                                                                    \
    const __m256 xs = _mm256_set1_ps(p.xs[size_t(i) * nb + b]);                             \
    float* f = facc[i];                                                                     \
    _mm256_store_ps(f, _mm256_fmadd_ps(_mm256_cvtepi32_ps(a##i##0), _mm256_mul_ps(ws0, xs), \
                                       _mm256_load_ps(f)));                                 \
    _mm256_store_ps(f + kHalf, _mm256_fmadd_ps(_mm256_cvtepi32_ps(a##i##1), _mm256_mul_ps(ws1, xs), \
                                               _mm256_load_ps(f + kHalf)));                 \
  }
    HEED_BLOCK(0) HEED_BLOCK(1) HEED_BLOCK(2) HEED_BLOCK(3)
#undef HEED_BLOCK
  }

  const __m256i m0 = column_mask(p.nc < kHalf ? p.nc : kHalf);
  const __m256i m1 = column_mask(p.nc > kHalf ? p.nc - kHalf : 0);
  __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
  if (p.bias) {
    b0 = _mm256_maskload_ps(p.bias, m0);
    if (p.nc > kHalf) b1 = _mm256_maskload_ps(p.bias + kHalf, m1);
  }
  float* y = p.y;
#define HEED_STORE(i)                                                                               \
  if constexpr (R > i) {                                                                            \
    _mm256_maskstore_ps(y + i * p.ldy, m0, _mm256_add_ps(_mm256_load_ps(facc[i]), b0));              \
    if (p.nc > kHalf)                                                                                 \
      _mm256_maskstore_ps(y + i * p.ldy + kHalf, m1, _mm256_add_ps(_mm256_load_ps(facc[i] + kHalf), b1)); \
  }
  HEED_STORE(0) HEED_STORE(1) HEED_STORE(2) HEED_STORE(3)
#undef HEED_STORE
}

using TileFn = void (*)(const Qs8GemmParams&);

template <size_t... I>
constexpr std::array<TileFn, sizeof...(I)> make_tiles(std::index_sequence<I...>) {
  return {{&tile<int(I) + 1>...}};
}
// Entry rows - 1.
constexpr std::array<TileFn, kMr> kTiles = make_tiles(std::make_index_sequence<kMr>());

}  // namespace

void heed_qs8_qc8w_gemm_f32_ukernel_4x16c4__avx2(const Qs8GemmParams& p) {
  if (p.mr == kMr) tile<kMr>(p);
  else kTiles[p.mr - 1](p);
}

}  // namespace heed
