// qs8-qc8w-gemm, aarch64 NEON with the dot product extension (ARMv8.2 sdot,
// e.g. Cortex-A76 / Pi 5). Built with -march=armv8.2-a+dotprod; dispatch runs
// it only where cpuinfo reports dotprod.
//
// Computes one tile y[0:mr, 0:nc], mr <= 2, nc <= 16, of qs8-qc8w-gemm.h:
// per scale block the exact int32 sums isum[m, n] = sum_k x[m, k] * W[n, k],
// then acc = fma(float(isum), xs[m, b] * ws[n, b], acc), and y = acc + bias.
//
// Tile 2 x 16 (one PACKED_N16K4 panel), K four groups (16 bytes) per step:
//   x        16 activation bytes of a row (groups g .. g+3), one q register
//   w        16 bytes of one group: 4 columns x 4 bytes (a quarter of the
//            group's 64-byte row of the panel)
//   sdot acc, w, x.4b[j]   adds, to each of the 4 int32 lanes (columns), the
//            dot product of its column's 4 bytes with group g+j's 4 bytes
// Registers: 8 int32 accumulators (2 rows x 4 vectors of 4 columns), 8 float
// accumulators, 2 activation vectors, weights streamed (4 per group): all in
// registers across blocks (a block re-zeroes its 8 int32 sums: sdot only
// accumulates). Why 2 rows and not 4: with blocks of 32 (the
// converter's usual pick) every block ends in a float step (convert, scale,
// fused multiply-add, re-zero) that costs about 5 vector operations per 8
// sdot; at 4 rows the 16 float accumulators no longer fit beside the 16
// integer ones and go through the stack each block. llvm-mca (Neoverse N1,
// the A76's core) puts 2 rows at 32 MAC/cycle for one block and ~18 with
// blocks of 32, 4 rows at 32 and ~16 (docs/arm-kernels.md).
//
// Exact: each sdot lane adds 4 products to an int32; |isum| <= 127 * 128 * K
// < 2^31 for K <= 65536 + 4 (activations never are -128), and integer
// addition is associative, so the grouping does not matter. The float part
// is the reference's, operation for operation: vmulq_f32 rounds xs * ws,
// vfmaq_f32 is one fused multiply-add, vaddq_f32 adds the bias (or +0.0f, as
// the reference does), vcvtq_f32_s32 rounds to nearest like float(int32).
//
// Reads: activation bytes [0, kp) of rows < mr (a missing row re-reads row
// mr - 1), the panel's kp / 4 groups, its nb x 16 scales, bias[0, nc). Writes
// y[0:mr, 0:nc] only. No allocation.
#include <arm_neon.h>

#include <cstring>

#include "format/weight-layout.h"
#include "kernels/qs8-qc8w-gemm/qs8-qc8w-gemm.h"

namespace heed {

namespace {

constexpr size_t kRows = 2;

inline int32_t load4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Columns [c0, c0 + 4) of the bias; zeros past nc, and everywhere without bias.
inline float32x4_t bias_quarter(const float* bias, size_t nc, size_t c0) {
  if (!bias) return vdupq_n_f32(0.0f);
  if (c0 + 4 <= nc) return vld1q_f32(bias + c0);
  float t[4] = {};
  for (size_t c = c0; c < nc; ++c) t[c - c0] = bias[c];
  return vld1q_f32(t);
}

// Columns [c0, c0 + 4) of a y row, those below nc.
inline void store_quarter(float* y, float32x4_t v, size_t nc, size_t c0) {
  if (c0 + 4 <= nc) {
    vst1q_f32(y + c0, v);
    return;
  }
  float t[4];
  vst1q_f32(t, v);
  for (size_t c = c0; c < nc; ++c) y[c] = t[c - c0];
}

}  // namespace

void heed_qs8_qc8w_gemm_f32_ukernel_2x16c4__neondot(const Qs8GemmParams& p) {
  const size_t kg = p.kp / kGroupK;
  const int8_t* xr[kRows];
  const float* xsr[kRows];
  for (size_t r = 0; r < kRows; ++r) {
    const size_t m = r < p.mr ? r : p.mr - 1;
    xr[r] = p.x + m * p.ldx;
    xsr[r] = p.xs + m * p.nb;
  }

  // Float accumulators of rows 0 and 1, columns 4q .. 4q+3 (two arrays: GCC
  // keeps a [2][4] array on the stack and stores it every block).
  float32x4_t f0[4], f1[4];
  for (int q = 0; q < 4; ++q) f0[q] = f1[q] = vdupq_n_f32(0.0f);

  for (size_t b = 0; b < p.nb; ++b) {
    // Blocks before the last are whole groups; the last runs to kp (zero pad).
    const size_t g0 = b * p.block / kGroupK;
    const size_t g1 = b + 1 == p.nb ? kg : (b + 1) * p.block / kGroupK;
    int32x4_t s[kRows][4];
    for (size_t r = 0; r < kRows; ++r)
      for (int q = 0; q < 4; ++q) s[r][q] = vdupq_n_s32(0);
    const int8_t* w = p.w + g0 * kPanelN * kGroupK;
    size_t g = g0;
    for (; g + 4 <= g1; g += 4) {
      int8x16_t xv[kRows];
      for (size_t r = 0; r < kRows; ++r) xv[r] = vld1q_s8(xr[r] + g * kGroupK);
#define HEED_SDOT_GROUP(j)                                                              \
  for (int q = 0; q < 4; ++q) {                                                         \
    const int8x16_t wq = vld1q_s8(w + (j) * 64 + 16 * q);                               \
    for (size_t r = 0; r < kRows; ++r) s[r][q] = vdotq_laneq_s32(s[r][q], wq, xv[r], j); \
  }
      HEED_SDOT_GROUP(0)
      HEED_SDOT_GROUP(1)
      HEED_SDOT_GROUP(2)
      HEED_SDOT_GROUP(3)
#undef HEED_SDOT_GROUP
      w += 4 * kPanelN * kGroupK;
    }
    // The block's last 1 .. 3 groups: two with an 8-byte load, one with 4.
    if (g + 2 <= g1) {
      int8x8_t xv[kRows];
      for (size_t r = 0; r < kRows; ++r) xv[r] = vld1_s8(xr[r] + g * kGroupK);
#define HEED_SDOT_GROUP(j)                                                             \
  for (int q = 0; q < 4; ++q) {                                                        \
    const int8x16_t wq = vld1q_s8(w + (j) * 64 + 16 * q);                              \
    for (size_t r = 0; r < kRows; ++r) s[r][q] = vdotq_lane_s32(s[r][q], wq, xv[r], j); \
  }
      HEED_SDOT_GROUP(0)
      HEED_SDOT_GROUP(1)
#undef HEED_SDOT_GROUP
      w += 2 * kPanelN * kGroupK;
      g += 2;
    }
    if (g < g1) {
      int8x8_t xv[kRows];
      for (size_t r = 0; r < kRows; ++r) xv[r] = vreinterpret_s8_s32(vdup_n_s32(load4(xr[r] + g * kGroupK)));
      for (int q = 0; q < 4; ++q) {
        const int8x16_t wq = vld1q_s8(w + 16 * q);
        for (size_t r = 0; r < kRows; ++r) s[r][q] = vdotq_lane_s32(s[r][q], wq, xv[r], 0);
      }
    }
    // acc = fma(float(isum), xs * ws, acc), four columns per vector.
    const float* wsb = p.ws + b * kPanelN;
    const float32x4_t ws[4] = {vld1q_f32(wsb), vld1q_f32(wsb + 4), vld1q_f32(wsb + 8), vld1q_f32(wsb + 12)};
    const float32x4_t xs0 = vdupq_n_f32(xsr[0][b]), xs1 = vdupq_n_f32(xsr[1][b]);
    for (int q = 0; q < 4; ++q) {
      f0[q] = vfmaq_f32(f0[q], vcvtq_f32_s32(s[0][q]), vmulq_f32(xs0, ws[q]));
      f1[q] = vfmaq_f32(f1[q], vcvtq_f32_s32(s[1][q]), vmulq_f32(xs1, ws[q]));
    }
  }

  // y = acc + bias (+0.0f without bias), columns [0, nc) of rows [0, mr).
  for (int q = 0; q < 4; ++q) {
    const float32x4_t bq = bias_quarter(p.bias, p.nc, 4 * size_t(q));
    store_quarter(p.y, vaddq_f32(f0[q], bq), p.nc, 4 * size_t(q));
    if (p.mr > 1) store_quarter(p.y + p.ldy, vaddq_f32(f1[q], bq), p.nc, 4 * size_t(q));
  }
}

}  // namespace heed
