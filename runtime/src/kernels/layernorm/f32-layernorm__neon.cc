// f32-layernorm, NEON: the reference's operations in the reference's order.
// lane_sum's 16 lanes are four q accumulators (lanes 0-3, 4-7, 8-11, 12-15),
// each step one vadd of the next 16 values, exactly lane[l] += value(k + l);
// the lanes are then added pairwise as the header says ((0-3 + 8-11) and
// (4-7 + 12-15), their sum, low + high half, lane 0 + lane 1) and the
// remaining k in order. Output and residual passes are elementwise
// (multiply, multiply, add; no FMA). Same bits as heed_f32_layernorm__scalar.
//
// AArch32 NEON flushes subnormal inputs and results to zero, IEEE scalar code
// does not. A flush can only change a result where some input is subnormal
// or some operation's exact result is (the flushed value is then +-0), so on
// AArch32 the variant watches every vector input and result for a zero or
// subnormal magnitude (one unsigned min of the magnitude bits each): a
// residual or output vector that shows one is recomputed lane by lane with
// VFP (IEEE) scalar code before it is stored, and a row whose sums show one
// is handed to the reference. Exact zeros (rare in real rows) only take the
// slower path; on AArch64 (no flush) the checks compile away.
#include <arm_neon.h>

#include <cmath>

#include "kernels/layernorm/f32-layernorm.h"
#include "kernels/math/f32-math-neon.h"

namespace heed {

namespace {
#if defined(__arm__)
constexpr bool kFlushes = true;
#else
constexpr bool kFlushes = false;
#endif

// Smallest magnitude (as bits) seen, for the flush checks.
struct Lowest {
  uint32x4_t lo = vdupq_n_u32(0xffffffffu);
  void see(float32x4_t v) {
    if (kFlushes) lo = vminq_u32(lo, vandq_u32(vreinterpretq_u32_f32(v), vdupq_n_u32(0x7fffffffu)));
  }
  // Every value seen is normal, infinite or NaN (none is zero or subnormal).
  bool normal() const {
    if (!kFlushes) return true;
    uint32x2_t m = vpmin_u32(vget_low_u32(lo), vget_high_u32(lo));
    m = vpmin_u32(m, m);
    return vget_lane_u32(m, 0) >= 0x00800000u;
  }
};

}  // namespace

void heed_f32_layernorm__neon(size_t M, size_t N, const float* x, const float* residual, const float* gamma,
                              const float* beta, float eps, float* y) {
  const float inv_n = 1.0f / float(N);
  const size_t n16 = N / 16 * 16;
  for (size_t m = 0; m < M; ++m) {
    const float* xr = x + m * N;
    const float* rr = residual ? residual + m * N : nullptr;
    float* yr = y + m * N;
    if (rr) {
      size_t k = 0;
      for (; k + 4 <= N; k += 4) {
        const float32x4_t a = vld1q_f32(xr + k), b = vld1q_f32(rr + k), v = vaddq_f32(a, b);
        Lowest low;
        low.see(a);
        low.see(b);
        low.see(v);
        if (low.normal()) {
          vst1q_f32(yr + k, v);
        } else {
          for (size_t l = k; l < k + 4; ++l) yr[l] = xr[l] + rr[l];
        }
      }
      for (; k < N; ++k) yr[k] = xr[k] + rr[k];
      xr = yr;
    }
    Lowest low;
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    size_t k = 0;
    for (; k < n16; k += 16) {
      const float32x4_t v0 = vld1q_f32(xr + k), v1 = vld1q_f32(xr + k + 4);
      const float32x4_t v2 = vld1q_f32(xr + k + 8), v3 = vld1q_f32(xr + k + 12);
      a0 = vaddq_f32(a0, v0);
      a1 = vaddq_f32(a1, v1);
      a2 = vaddq_f32(a2, v2);
      a3 = vaddq_f32(a3, v3);
      low.see(v0), low.see(v1), low.see(v2), low.see(v3);
      low.see(a0), low.see(a1), low.see(a2), low.see(a3);
    }
    float sum = f32x4x4_sum16(a0, a1, a2, a3);
    for (; k < N; ++k) sum += xr[k];
    const float mean = sum * inv_n;
    if (kFlushes && mean != 0.0f && std::fabs(mean) < 0x1p-126f) low.see(vdupq_n_f32(0.0f));  // vector ops would see 0
    const float32x4_t vmean = vdupq_n_f32(mean);
    a0 = a1 = a2 = a3 = vdupq_n_f32(0.0f);
    for (k = 0; k < n16; k += 16) {
      const float32x4_t d0 = vsubq_f32(vld1q_f32(xr + k), vmean), d1 = vsubq_f32(vld1q_f32(xr + k + 4), vmean);
      const float32x4_t d2 = vsubq_f32(vld1q_f32(xr + k + 8), vmean), d3 = vsubq_f32(vld1q_f32(xr + k + 12), vmean);
      const float32x4_t e0 = vmulq_f32(d0, d0), e1 = vmulq_f32(d1, d1), e2 = vmulq_f32(d2, d2), e3 = vmulq_f32(d3, d3);
      a0 = vaddq_f32(a0, e0);
      a1 = vaddq_f32(a1, e1);
      a2 = vaddq_f32(a2, e2);
      a3 = vaddq_f32(a3, e3);
      low.see(e0), low.see(e1), low.see(e2), low.see(e3);  // d is zero or subnormal iff d*d is
      low.see(a0), low.see(a1), low.see(a2), low.see(a3);
    }
    if (!low.normal()) {  // a flush may have changed the sums: the reference does this row
      heed_f32_layernorm__scalar(1, N, xr, nullptr, gamma, beta, eps, yr);
      continue;
    }
    float ss = f32x4x4_sum16(a0, a1, a2, a3);
    for (; k < N; ++k) {
      const float d = xr[k] - mean;
      ss += d * d;
    }
    const float var = ss * inv_n;
    const float rstd = 1.0f / std::sqrt(var + eps);
    const float32x4_t vrstd = vdupq_n_f32(rstd);
    const float32x4_t nan = vreinterpretq_f32_u32(vdupq_n_u32(0x7fc00000u));
    for (k = 0; k + 4 <= N; k += 4) {
      const float32x4_t v = vld1q_f32(xr + k), g = vld1q_f32(gamma + k), b = vld1q_f32(beta + k);
      const float32x4_t t = vmulq_f32(vsubq_f32(v, vmean), vrstd);
      const float32x4_t tg = vmulq_f32(t, g);
      const float32x4_t out = vaddq_f32(tg, b);
      Lowest lane;
      lane.see(v), lane.see(g), lane.see(b), lane.see(t), lane.see(tg), lane.see(out);
      if (lane.normal()) {
        vst1q_f32(yr + k, vbslq_f32(vceqq_f32(out, out), out, nan));
      } else {
        for (size_t l = k; l < k + 4; ++l) yr[l] = layernorm_out(xr[l], mean, rstd, gamma[l], beta[l]);
      }
    }
    for (; k < N; ++k) yr[k] = layernorm_out(xr[k], mean, rstd, gamma[k], beta[k]);
  }
}

}  // namespace heed
