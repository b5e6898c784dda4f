// f32-gemm, NEON with fused multiply-add: tuned for armv7 NEON-VFPv4 (16 q
// registers; Cortex-A7 .. A72 in 32-bit mode); also builds for aarch64,
// where 4x16 is the tuned variant.
//
// Computes one tile y[0:mr, 0:nc], mr <= 2, nc <= 16, of f32-gemm.h:
//   acc = bias[n] (0.0f without bias); for k = 0 .. K-1: acc = fma(x[m, k], W[n, k], acc)
//   y[m, n] = acc
// Tile 2 x 16 (one PACKED_N16 panel: 16 floats per k), one k per step:
//   x      x[m, k] broadcast to 4 lanes (vld1q_dup_f32: a load, no ALU op)
//   w      the panel's 16 floats at k, 4 q registers
//   vfma.f32 acc, w, x   (vfmaq_f32) for each row and column vector
// Registers: 8 accumulators (2 rows x 4 vectors of 4 columns), 2 broadcast
// activations, 4 weight vectors: 14 of armv7's 16 q registers. K is unrolled
// by 2 so the loads of one step overlap the other's multiply-adds.
//
// Exact: each output is one chain of fused multiply-adds over k ascending
// from the bias, as in the reference: vfmaq_f32 rounds once, like std::fma,
// and lanes run over columns, so no sum is reassociated (the build has
// -ffp-contract=off; no separate multiply and add anywhere). Armv7 NEON
// flushes subnormal floats to zero; aarch64 does not (FPCR.FZ is clear).
//
// Reads: x[m, 0:K] of rows < mr (a missing row re-reads row 0), the panel's
// K x 16 floats, bias[0, nc). Writes y[0:mr, 0:nc] only. No allocation.
#include <arm_neon.h>

#include "format/weight-layout.h"
#include "kernels/f32-gemm/f32-gemm.h"

namespace heed {

namespace {

// Keeps the compiler from hoisting the next step's loads above this one's
// multiply-adds: GCC otherwise has both steps' 8 weight vectors live and
// spills an accumulator in the loop (armv7 has 16 q registers). Emits no
// instruction.
inline void load_fence() {
#if !defined(__aarch64__)
  __asm__ __volatile__("" ::: "memory");
#endif
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

void heed_f32_gemm_ukernel_2x16__neon(const F32GemmParams& p) {
  const float* x0 = p.x;
  const float* x1 = p.mr > 1 ? x0 + p.ldx : x0;
  // Accumulators a<row><quarter>: columns 4q .. 4q+3. Named, not an array:
  // GCC keeps an array of 8 vectors in memory on armv7.
  float32x4_t a00 = bias_quarter(p.bias, p.nc, 0), a01 = bias_quarter(p.bias, p.nc, 4);
  float32x4_t a02 = bias_quarter(p.bias, p.nc, 8), a03 = bias_quarter(p.bias, p.nc, 12);
  float32x4_t a10 = a00, a11 = a01, a12 = a02, a13 = a03;

  const float* w = p.w;  // W[n, k] at w[k * 16 + n]
#define HEED_STEP(k)                                                                             {                                                                                                const float32x4_t v0 = vld1q_dup_f32(x0 + (k)), v1 = vld1q_dup_f32(x1 + (k));                  const float32x4_t w0 = vld1q_f32(w), w1 = vld1q_f32(w + 4);                                    const float32x4_t w2 = vld1q_f32(w + 8), w3 = vld1q_f32(w + 12);                               a00 = vfmaq_f32(a00, w0, v0);                                                                  a10 = vfmaq_f32(a10, w0, v1);                                                                  a01 = vfmaq_f32(a01, w1, v0);                                                                  a11 = vfmaq_f32(a11, w1, v1);                                                                  a02 = vfmaq_f32(a02, w2, v0);                                                                  a12 = vfmaq_f32(a12, w2, v1);                                                                  a03 = vfmaq_f32(a03, w3, v0);                                                                  a13 = vfmaq_f32(a13, w3, v1);                                                                  w += kPanelN;                                                                                }
  size_t k = 0;
  for (; k + 2 <= p.K; k += 2) {
    HEED_STEP(k)
    load_fence();
    HEED_STEP(k + 1)
    load_fence();
  }
  if (k < p.K) HEED_STEP(k)
#undef HEED_STEP

  store_quarter(p.y, a00, p.nc, 0);
  store_quarter(p.y, a01, p.nc, 4);
  store_quarter(p.y, a02, p.nc, 8);
  store_quarter(p.y, a03, p.nc, 12);
  if (p.mr > 1) {
    float* y1 = p.y + p.ldy;
    store_quarter(y1, a10, p.nc, 0);
    store_quarter(y1, a11, p.nc, 4);
    store_quarter(y1, a12, p.nc, 8);
    store_quarter(y1, a13, p.nc, 12);
  }
}

}  // namespace heed
