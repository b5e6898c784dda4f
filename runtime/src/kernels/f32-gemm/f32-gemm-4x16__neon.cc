// f32-gemm, NEON with fused multiply-add: tuned for aarch64 (Cortex-A72 /
// A76); also builds for armv7 NEON-VFPv4, where 2x16 is the tuned variant.
//
// Computes one tile y[0:mr, 0:nc], mr <= 4, nc <= 16, of f32-gemm.h:
//   acc = bias[n] (0.0f without bias); for k = 0 .. K-1: acc = fma(x[m, k], W[n, k], acc)
//   y[m, n] = acc
// Tile 4 x 16 (one PACKED_N16 panel: 16 floats per k), K four per step:
//   x      4 floats of a row (k .. k+3), one q register per row
//   w      the panel's 16 floats at k + j, 4 q registers
//   fmla acc, w, x.s[j]   (vfmaq_laneq_f32) for each row and column vector
// Registers (aarch64): 16 accumulators (4 rows x 4 vectors of 4 columns),
// 4 activation vectors, 4 weight vectors. Armv7 has no by-lane fused
// multiply-add: there each x[m, k] is broadcast (vld1q_dup_f32) and vfmaq_f32
// takes the vector.
//
// Exact: each output is one chain of fused multiply-adds over k ascending
// from the bias, as in the reference: vfmaq(_laneq)_f32 rounds once, like
// std::fma, and lanes run over columns, so no sum is reassociated (the build
// has -ffp-contract=off; no separate multiply and add anywhere). Armv7 NEON
// flushes subnormal floats to zero; aarch64 does not (FPCR.FZ is clear).
//
// Reads: x[m, 0:K] of rows < mr (missing rows re-read row mr - 1), the
// panel's K x 16 floats, bias[0, nc). Writes y[0:mr, 0:nc] only. No allocation.
#include <arm_neon.h>

#include "format/weight-layout.h"
#include "kernels/f32-gemm/f32-gemm.h"

namespace heed {

namespace {

// acc + w * x[j], one rounding.
#if defined(__aarch64__)
#define HEED_FMA_LANE(acc, w, x, j) vfmaq_laneq_f32(acc, w, x, j)
#else
#define HEED_FMA_LANE(acc, w, x, j) vfmaq_f32(acc, w, vdupq_n_f32(vgetq_lane_f32(x, j)))
#endif

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

void heed_f32_gemm_ukernel_4x16__neon(const F32GemmParams& p) {
  const float* x0 = p.x;
  const float* x1 = p.mr > 1 ? x0 + p.ldx : x0;
  const float* x2 = p.mr > 2 ? x1 + p.ldx : x1;
  const float* x3 = p.mr > 3 ? x2 + p.ldx : x2;
  // Accumulators a<row><quarter>: columns 4q .. 4q+3. Named, not arrays: GCC
  // stores an array of 16 vectors back to the stack on every iteration.
  float32x4_t a00 = bias_quarter(p.bias, p.nc, 0), a01 = bias_quarter(p.bias, p.nc, 4);
  float32x4_t a02 = bias_quarter(p.bias, p.nc, 8), a03 = bias_quarter(p.bias, p.nc, 12);
  float32x4_t a10 = a00, a11 = a01, a12 = a02, a13 = a03;
  float32x4_t a20 = a00, a21 = a01, a22 = a02, a23 = a03;
  float32x4_t a30 = a00, a31 = a01, a32 = a02, a33 = a03;

  const float* w = p.w;  // W[n, k] at w[k * 16 + n]
  // One k: the panel's 16 floats at k times x[m, k] (lane j of v<m>).
#define HEED_STEP(FMA, v0, v1, v2, v3, j)                                         \
  {                                                                               \
    const float32x4_t w0 = vld1q_f32(w), w1 = vld1q_f32(w + 4);                   \
    const float32x4_t w2 = vld1q_f32(w + 8), w3 = vld1q_f32(w + 12);              \
    a00 = FMA(a00, w0, v0, j), a01 = FMA(a01, w1, v0, j);                         \
    a02 = FMA(a02, w2, v0, j), a03 = FMA(a03, w3, v0, j);                         \
    a10 = FMA(a10, w0, v1, j), a11 = FMA(a11, w1, v1, j);                         \
    a12 = FMA(a12, w2, v1, j), a13 = FMA(a13, w3, v1, j);                         \
    a20 = FMA(a20, w0, v2, j), a21 = FMA(a21, w1, v2, j);                         \
    a22 = FMA(a22, w2, v2, j), a23 = FMA(a23, w3, v2, j);                         \
    a30 = FMA(a30, w0, v3, j), a31 = FMA(a31, w1, v3, j);                         \
    a32 = FMA(a32, w2, v3, j), a33 = FMA(a33, w3, v3, j);                         \
    w += kPanelN;                                                                 \
  }
#define HEED_FMA_DUP(acc, w, v, j) vfmaq_f32(acc, w, v)
  size_t k = 0;
  for (; k + 4 <= p.K; k += 4) {
    const float32x4_t v0 = vld1q_f32(x0 + k), v1 = vld1q_f32(x1 + k);
    const float32x4_t v2 = vld1q_f32(x2 + k), v3 = vld1q_f32(x3 + k);
    HEED_STEP(HEED_FMA_LANE, v0, v1, v2, v3, 0)
    HEED_STEP(HEED_FMA_LANE, v0, v1, v2, v3, 1)
    HEED_STEP(HEED_FMA_LANE, v0, v1, v2, v3, 2)
    HEED_STEP(HEED_FMA_LANE, v0, v1, v2, v3, 3)
  }
  for (; k < p.K; ++k) {
    const float32x4_t v0 = vld1q_dup_f32(x0 + k), v1 = vld1q_dup_f32(x1 + k);
    const float32x4_t v2 = vld1q_dup_f32(x2 + k), v3 = vld1q_dup_f32(x3 + k);
    HEED_STEP(HEED_FMA_DUP, v0, v1, v2, v3, 0)
  }
#undef HEED_FMA_DUP
#undef HEED_STEP

  store_quarter(p.y, a00, p.nc, 0);
  store_quarter(p.y, a01, p.nc, 4);
  store_quarter(p.y, a02, p.nc, 8);
  store_quarter(p.y, a03, p.nc, 12);
  if (p.mr > 1) {
    float* y = p.y + p.ldy;
    store_quarter(y, a10, p.nc, 0);
    store_quarter(y, a11, p.nc, 4);
    store_quarter(y, a12, p.nc, 8);
    store_quarter(y, a13, p.nc, 12);
  }
  if (p.mr > 2) {
    float* y = p.y + 2 * p.ldy;
    store_quarter(y, a20, p.nc, 0);
    store_quarter(y, a21, p.nc, 4);
    store_quarter(y, a22, p.nc, 8);
    store_quarter(y, a23, p.nc, 12);
  }
  if (p.mr > 3) {
    float* y = p.y + 3 * p.ldy;
    store_quarter(y, a30, p.nc, 0);
    store_quarter(y, a31, p.nc, 4);
    store_quarter(y, a32, p.nc, 8);
    store_quarter(y, a33, p.nc, 12);
  }
}

}  // namespace heed
