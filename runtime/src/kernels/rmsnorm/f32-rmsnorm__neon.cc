// f32-rmsnorm, NEON: the reference's operations in the reference's order.
// The 16 lanes of the sum of squares are four q accumulators (lanes 0-3, 4-7,
// 8-11, 12-15), each step one vmul and one vadd of the next 16 values,
// exactly lane[l] += x[k + l] * x[k + l]; the lanes are then added pairwise
// as the header says ((0-3 + 8-11) and (4-7 + 12-15), their sum, low + high
// half, lane 0 + lane 1) and the remaining k in order. The output pass is
// elementwise (two multiplies, no FMA). Same bits as heed_f32_rmsnorm__scalar.
//
// AArch32 NEON flushes subnormal inputs and results to zero, IEEE scalar code
// does not (decisions 13). As in f32-layernorm__neon.cc, on AArch32 every
// square, accumulator and output-pass value is watched for a zero or
// subnormal magnitude: a row whose sums show one is handed to the reference
// (x is zero or subnormal only if x * x is zero), an output vector that shows
// one is recomputed lane by lane with VFP (IEEE) scalar code. On AArch64 (no
// flush) the checks compile away.
#include <arm_neon.h>

#include <cmath>

#include "kernels/rmsnorm/f32-rmsnorm.h"
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

void heed_f32_rmsnorm__neon(size_t M, size_t N, const float* x, const float* w, float eps, float* y) {
  const size_t n16 = N / 16 * 16;
  const float32x4_t nan = vreinterpretq_f32_u32(vdupq_n_u32(0x7fc00000u));
  for (size_t m = 0; m < M; ++m) {
    const float* xr = x + m * N;
    float* yr = y + m * N;
    Lowest low;
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    size_t k = 0;
    for (; k < n16; k += 16) {
      const float32x4_t v0 = vld1q_f32(xr + k), v1 = vld1q_f32(xr + k + 4);
      const float32x4_t v2 = vld1q_f32(xr + k + 8), v3 = vld1q_f32(xr + k + 12);
      const float32x4_t e0 = vmulq_f32(v0, v0), e1 = vmulq_f32(v1, v1), e2 = vmulq_f32(v2, v2), e3 = vmulq_f32(v3, v3);
      a0 = vaddq_f32(a0, e0);
      a1 = vaddq_f32(a1, e1);
      a2 = vaddq_f32(a2, e2);
      a3 = vaddq_f32(a3, e3);
      low.see(e0), low.see(e1), low.see(e2), low.see(e3);
      low.see(a0), low.see(a1), low.see(a2), low.see(a3);
    }
    if (!low.normal()) {  // a flush may have changed the sums: the reference does this row
      heed_f32_rmsnorm__scalar(1, N, xr, w, eps, yr);
      continue;
    }
    float ss = f32x4x4_sum16(a0, a1, a2, a3);
    for (; k < N; ++k) ss += xr[k] * xr[k];
    const float ms = ss / float(N);
    const float r = 1.0f / std::sqrt(ms + eps);
    const float32x4_t vr = vdupq_n_f32(r);
    for (k = 0; k + 4 <= N; k += 4) {
      const float32x4_t v = vld1q_f32(xr + k), wv = vld1q_f32(w + k);
      const float32x4_t t = vmulq_f32(v, vr);
      const float32x4_t out = vmulq_f32(wv, t);
      Lowest lane;
      lane.see(v), lane.see(wv), lane.see(vr), lane.see(t), lane.see(out);
      if (lane.normal()) {
        vst1q_f32(yr + k, vbslq_f32(vceqq_f32(out, out), out, nan));
      } else {
        for (size_t l = k; l < k + 4; ++l) yr[l] = rmsnorm_out(xr[l], r, w[l]);
      }
    }
    for (; k < N; ++k) yr[k] = rmsnorm_out(xr[k], r, w[k]);
  }
}

}  // namespace heed
