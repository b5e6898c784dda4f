// qs8-qc8w-gemm, NEON without dotprod: tuned for armv7 NEON (16 q registers;
// Cortex-A7 .. A72 in 32-bit mode); also builds for aarch64, where 2x16c4 is
// the tuned variant.
//
// Computes one tile y[0:mr, 0:nc], mr = 1, nc <= 16, of qs8-qc8w-gemm.h:
// per scale block the exact int32 sums isum[n] = sum_k x[k] * W[n, k], then
// acc = fma(float(isum), xs[b] * ws[n, b], acc), and y = acc + bias.
//
// Tile 1 x 16 (one PACKED_N16K4 panel), K two groups (8 bytes) per step:
//   a0, a1   the row's 4 bytes of group g resp. g+1, repeated (a d register)
//   w0, w1   16 bytes of group g resp. g+1: 4 columns x 4 bytes
//   vmull  a0 x w0 (low half: columns 0,1) -> 8 int16, vmlal a1 x w1 onto it:
//          each int16 lane holds x[k] * W[n, k] + x[k+4] * W[n, k+4]
//   vpadal the int16 lanes pairwise onto int32: two partial sums per column
// A block's first step writes its sums with vpaddl instead of adding them
// with vpadal (no zeroing); at the block's end vpadd joins each column's two
// partial sums and the float step runs.
// Registers (armv7, in d registers): 16 for the 8 int32 accumulators (column
// pairs, lanes [n.even-k n.odd-k n+1.even-k n+1.odd-k]), 2 activations, 4 for
// one quarter of each of the two groups, 4 for the int16 products: 26 of 32.
// The 4 float accumulators stay on the stack, touched once per block.
//
// Exact: activations are in [-127, 127] (the quantize kernels never write
// -128) and weights in [-128, 127], so one int16 lane, two products, is at
// most 2 * 127 * 128 = 32512 < 32767 in magnitude. The int32 sums are exact
// (|isum| <= 127 * 128 * K < 2^31 for K <= 65536 + 4, and integer addition is
// associative, so the order of the partial sums does not matter). The float
// part is the reference's, operation for operation: vmulq_f32 rounds xs * ws,
// vfmaq_f32 is one fused multiply-add, vaddq_f32 adds the bias (or +0.0f, as
// the reference does, which turns -0.0f into +0.0f). vcvtq_f32_s32 rounds to
// nearest like float(int32). Armv7 NEON flushes subnormal floats to zero; the
// scale products and sums of real models never are subnormal.
//
// Reads: activation bytes [0, kp) of the row, the panel's kp / 4 groups, its
// nb x 16 scales, bias[0, nc). Writes y[0, 0:nc] only. No allocation.
#include <arm_neon.h>

#include <cstring>

#include "format/weight-layout.h"
#include "kernels/qs8-qc8w-gemm/qs8-qc8w-gemm.h"

namespace heed {

namespace {

// One group's 4 activation bytes, repeated: as wide as the widening
// multiplies want them (aarch64 smull2 takes the high half of a q register;
// armv7 vmull takes d registers).
#if defined(__aarch64__)
using Act = int8x16_t;
inline Act act_bytes(int32_t v) { return vreinterpretq_s8_s32(vdupq_n_s32(v)); }
// Columns 0, 1 of a 4-column weight vector, and columns 2, 3.
inline int16x8_t mul_lo(Act a, int8x16_t w) { return vmull_s8(vget_low_s8(a), vget_low_s8(w)); }
inline int16x8_t mul_hi(Act a, int8x16_t w) { return vmull_high_s8(a, w); }
inline int16x8_t mla_lo(int16x8_t s, Act a, int8x16_t w) { return vmlal_s8(s, vget_low_s8(a), vget_low_s8(w)); }
inline int16x8_t mla_hi(int16x8_t s, Act a, int8x16_t w) { return vmlal_high_s8(s, a, w); }
// [a0+a1, a2+a3, b0+b1, b2+b3]
inline int32x4_t pair_sums(int32x4_t a, int32x4_t b) { return vpaddq_s32(a, b); }
#else
using Act = int8x8_t;
inline Act act_lane0(int8x8_t x) { return vreinterpret_s8_s32(vdup_lane_s32(vreinterpret_s32_s8(x), 0)); }
inline Act act_lane1(int8x8_t x) { return vreinterpret_s8_s32(vdup_lane_s32(vreinterpret_s32_s8(x), 1)); }
inline Act act_bytes(int32_t v) { return vreinterpret_s8_s32(vdup_n_s32(v)); }
inline int16x8_t mul_lo(Act a, int8x16_t w) { return vmull_s8(a, vget_low_s8(w)); }
inline int16x8_t mul_hi(Act a, int8x16_t w) { return vmull_s8(a, vget_high_s8(w)); }
inline int16x8_t mla_lo(int16x8_t s, Act a, int8x16_t w) { return vmlal_s8(s, a, vget_low_s8(w)); }
inline int16x8_t mla_hi(int16x8_t s, Act a, int8x16_t w) { return vmlal_s8(s, a, vget_high_s8(w)); }
inline int32x4_t pair_sums(int32x4_t a, int32x4_t b) {
  return vcombine_s32(vpadd_s32(vget_low_s32(a), vget_high_s32(a)), vpadd_s32(vget_low_s32(b), vget_high_s32(b)));
}
#endif

// Keeps the compiler from hoisting the next quarter's weight loads above
// this one's arithmetic: with all 8 weight vectors live, armv7's 16 q
// registers no longer hold the 8 accumulators (GCC then spills two of them in
// the loop). Emits no instruction. Not needed with aarch64's 32 registers.
inline void load_fence() {
#if !defined(__aarch64__)
  __asm__ __volatile__("" ::: "memory");
#endif
}

inline int32_t load4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The activations of groups g and g+1 (8 bytes at p), each repeated. On
// aarch64 two ld1r (load and broadcast in one instruction; GCC makes
// vdupq_n_s32 of a loaded word an ldr s + dup, and vld1q_dup_s32 would read
// an int32_t from a byte address that need not be aligned). On armv7 one
// 8-byte load and two vdup lanes.
inline void act_pair(const int8_t* p, Act* a0, Act* a1) {
#if defined(__aarch64__)
  int32x4_t v0, v1;
  __asm__("ld1r {%0.4s}, [%1]" : "=w"(v0) : "r"(p), "m"(*reinterpret_cast<const int8_t(*)[4]>(p)));
  __asm__("ld1r {%0.4s}, [%1]" : "=w"(v1) : "r"(p + 4), "m"(*reinterpret_cast<const int8_t(*)[4]>(p + 4)));
  *a0 = vreinterpretq_s8_s32(v0);
  *a1 = vreinterpretq_s8_s32(v1);
#else
  const int8x8_t x = vld1_s8(p);
  *a0 = act_lane0(x);
  *a1 = act_lane1(x);
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

// s = s + the pairwise sums of the int16 lanes of p; kFirst: s = those sums
// (the first step of a block starts the sums: no zeroing).
template <bool kFirst>
inline void add_pairs(int32x4_t& s, int16x8_t p) {
  if constexpr (kFirst) {
    s = vpaddlq_s16(p);
  } else {
    s = vpadalq_s16(s, p);
  }
}

// Groups g, g+1 (activations at x, weights at w) into the sums.
template <bool kFirst>
inline void two_groups(const int8_t* x, const int8_t* w, int32x4_t (&s0)[8]) {
  Act a0, a1;
  act_pair(x, &a0, &a1);
#pragma GCC unroll 4
  for (int q = 0; q < 4; ++q) {
    const int8x16_t wa = vld1q_s8(w + 16 * q), wb = vld1q_s8(w + 64 + 16 * q);
    add_pairs<kFirst>(s0[2 * q], mla_lo(mul_lo(a0, wa), a1, wb));
    add_pairs<kFirst>(s0[2 * q + 1], mla_hi(mul_hi(a0, wa), a1, wb));
    load_fence();
  }
}

// Group g alone.
template <bool kFirst>
inline void one_group(const int8_t* x, const int8_t* w, int32x4_t (&s0)[8]) {
  const Act a0 = act_bytes(load4(x));
#pragma GCC unroll 4
  for (int q = 0; q < 4; ++q) {
    const int8x16_t wa = vld1q_s8(w + 16 * q);
    add_pairs<kFirst>(s0[2 * q], mul_lo(a0, wa));
    add_pairs<kFirst>(s0[2 * q + 1], mul_hi(a0, wa));
  }
}

}  // namespace

void heed_qs8_qc8w_gemm_f32_ukernel_1x16c4__neon(const Qs8GemmParams& p) {
  const size_t kg = p.kp / kGroupK;
  const int8_t* x0 = p.x;

  // Float accumulators, in memory while the integer loop runs (registers
  // go to the int32 sums).
  float acc[kPanelN] = {};

  for (size_t b = 0; b < p.nb; ++b) {
    // Blocks before the last are whole groups; the last runs to kp (zero pad).
    const size_t g0 = b * p.block / kGroupK;
    const size_t g1 = b + 1 == p.nb ? kg : (b + 1) * p.block / kGroupK;
    int32x4_t s0[8];  // [column pair]: two partial sums per column
    const int8_t* w = p.w + g0 * kPanelN * kGroupK;
    size_t g = g0;
    if (g + 2 <= g1) {
      two_groups<true>(x0 + g * kGroupK, w, s0);
      g += 2;
      w += 2 * kPanelN * kGroupK;
    } else {  // a block of one group (block 4, or the last one)
      one_group<true>(x0 + g * kGroupK, w, s0);
      g += 1;
      w += kPanelN * kGroupK;
    }
    for (; g + 2 <= g1; g += 2) {
      two_groups<false>(x0 + g * kGroupK, w, s0);
      w += 2 * kPanelN * kGroupK;
    }
    if (g < g1) one_group<false>(x0 + g * kGroupK, w, s0);  // one group left
    // acc = fma(float(isum), xs * ws, acc), four columns per vector.
    const float32x4_t xsv0 = vdupq_n_f32(p.xs[b]);
    const float* wsb = p.ws + b * kPanelN;
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) {
      const float32x4_t wsq = vld1q_f32(wsb + 4 * q);
      const float32x4_t isum = vcvtq_f32_s32(pair_sums(s0[2 * q], s0[2 * q + 1]));
      vst1q_f32(acc + 4 * q, vfmaq_f32(vld1q_f32(acc + 4 * q), isum, vmulq_f32(xsv0, wsq)));
    }
  }

  // y = acc + bias (+0.0f without bias), columns [0, nc).
  for (size_t c0 = 0; c0 < kPanelN; c0 += 4)
    store_quarter(p.y, vaddq_f32(vld1q_f32(acc + c0), bias_quarter(p.bias, p.nc, c0)), p.nc, c0);
}

}  // namespace heed
