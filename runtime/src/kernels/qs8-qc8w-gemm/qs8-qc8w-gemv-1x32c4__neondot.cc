// heed_qs8_qc8w_gemv_f32_ukernel_1x32c4__neondot: one row of the
// qs8-qc8w-gemm family (qs8-qc8w-gemm.h), y[0, 0:nc] with nc <= 32 columns =
// two PACKED_N16K4 panels, for M = 1 (decode). aarch64 NEON with the dot
// product extension (ARMv8.2 sdot), built with -march=armv8.2-a+dotprod;
// dispatch runs it only where cpuinfo reports dotprod.
//
// What it computes, per scale block b:
//   per step of four groups (16 activation bytes, one q register x):
//   for each panel and group j, the group's 64 bytes as 4 vectors of 4
//   columns x 4 bytes, and sdot s[panel][q], w, x.4b[j]: each int32 lane
//   (column) adds the dot product of its 4 bytes with group j's 4 bytes
//   facc = fma(float(s), xs[b] * ws[n,b], facc)  (product rounded first)
// then y = facc + bias (+ 0.0f without bias), the family's order exactly.
//
// Why a kernel of its own: the 2x16 GEMM at one row computes its second row
// on a copy of the first and reads one panel per call; here every sdot
// serves the row and two weight streams are in flight. Registers: 8 int32
// accumulators, 8 float accumulators, the activations, weights streamed.
//
// Exact: each sdot lane adds 4 products to an int32; |isum| <= 127 * 128 * K
// < 2^31 for K <= 65536 + 4 (activations never are -128), and integer
// addition is associative. The float part is the reference's, operation for
// operation: vmulq_f32 rounds xs * ws, vfmaq_f32 is one fused multiply-add,
// vaddq_f32 adds the bias (or +0.0f), vcvtq_f32_s32 rounds to nearest like
// float(int32).
//
// Reads: activation bytes [0, kp), the tile's panels' kp / 4 groups, their
// nb x 16 scales, bias[0, nc). Writes y[0, 0:nc] only. No allocation.
#include <arm_neon.h>

#include <cstring>

#include "format/weight-layout.h"
#include "kernels/qs8-qc8w-gemm/qs8-qc8w-gemm.h"

namespace heed {

namespace {

constexpr int kPanels = 2;

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

// Columns [c0, c0 + 4) of the y row, those below nc.
inline void store_quarter(float* y, float32x4_t v, size_t nc, size_t c0) {
  if (c0 + 4 <= nc) {
    vst1q_f32(y + c0, v);
    return;
  }
  float t[4];
  vst1q_f32(t, v);
  for (size_t c = c0; c < nc; ++c) y[c] = t[c - c0];
}

// One row against P panels (1 or 2).
template <int P>
void gemv(const Qs8GemmParams& p) {
  const size_t kg = p.kp / kGroupK, nb = p.nb;
  const size_t panel_bytes = kg * kPanelN * kGroupK;
  float32x4_t f[P][4];
  for (int j = 0; j < P; ++j)
    for (int q = 0; q < 4; ++q) f[j][q] = vdupq_n_f32(0.0f);

  for (size_t b = 0; b < nb; ++b) {
    // Blocks before the last are whole groups; the last runs to kp (zero pad).
    const size_t g0 = b * p.block / kGroupK;
    const size_t g1 = b + 1 == nb ? kg : (b + 1) * p.block / kGroupK;
    int32x4_t s[P][4];
    for (int j = 0; j < P; ++j)
      for (int q = 0; q < 4; ++q) s[j][q] = vdupq_n_s32(0);
    const int8_t* w = p.w + g0 * kPanelN * kGroupK;
    size_t g = g0;
    for (; g + 4 <= g1; g += 4) {
      const int8x16_t xv = vld1q_s8(p.x + g * kGroupK);
#define HEED_SDOT_GROUP(j)                                                       \
  for (int pn = 0; pn < P; ++pn)                                                 \
    for (int q = 0; q < 4; ++q) {                                                \
      const int8x16_t wq = vld1q_s8(w + size_t(pn) * panel_bytes + (j) * 64 + 16 * q); \
      s[pn][q] = vdotq_laneq_s32(s[pn][q], wq, xv, j);                           \
    }
      HEED_SDOT_GROUP(0)
      HEED_SDOT_GROUP(1)
      HEED_SDOT_GROUP(2)
      HEED_SDOT_GROUP(3)
#undef HEED_SDOT_GROUP
      w += 4 * kPanelN * kGroupK;
    }
    // The block's last 1 .. 3 groups, one at a time.
    for (; g < g1; ++g) {
      const int8x8_t xv = vreinterpret_s8_s32(vdup_n_s32(load4(p.x + g * kGroupK)));
      for (int pn = 0; pn < P; ++pn)
        for (int q = 0; q < 4; ++q) {
          const int8x16_t wq = vld1q_s8(w + size_t(pn) * panel_bytes + 16 * q);
          s[pn][q] = vdotq_lane_s32(s[pn][q], wq, xv, 0);
        }
      w += kPanelN * kGroupK;
    }
    // acc = fma(float(isum), xs * ws, acc), four columns per vector.
    const float32x4_t xs = vdupq_n_f32(p.xs[b]);
    for (int pn = 0; pn < P; ++pn) {
      const float* wsb = p.ws + (size_t(pn) * nb + b) * kPanelN;
      for (int q = 0; q < 4; ++q)
        f[pn][q] = vfmaq_f32(f[pn][q], vcvtq_f32_s32(s[pn][q]), vmulq_f32(xs, vld1q_f32(wsb + 4 * q)));
    }
  }

  // y = acc + bias (+0.0f without bias), columns [0, nc).
  for (int pn = 0; pn < P; ++pn)
    for (int q = 0; q < 4; ++q) {
      const size_t c0 = size_t(pn) * kPanelN + 4 * size_t(q);
      if (c0 >= p.nc) return;
      store_quarter(p.y, vaddq_f32(f[pn][q], bias_quarter(p.bias, p.nc, c0)), p.nc, c0);
    }
}

}  // namespace

void heed_qs8_qc8w_gemv_f32_ukernel_1x32c4__neondot(const Qs8GemmParams& p) {
  if (p.nc > kPanelN) gemv<kPanels>(p);
  else gemv<1>(p);
}

}  // namespace heed
