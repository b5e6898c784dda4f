// cached-attention, NEON (AArch64): the order of cached-attention.h, one query
// at a time, the 16 keys of a block in four q registers (keys 0-3, 4-7,
// 8-11, 12-15).
//   - Scores first, for all of the query's blocks, two at a time (eight
//     independent vfma chains over d, each lane the reference's chain of one
//     key), int8 bytes widened and converted exactly (sxtl, scvtf), then
//     * ks (int8) and * scale as two vmul.
//   - Per block: lanes outside the query's keys set to -inf, max16 pairwise
//     with the reference's a > b ? a : b (compare and select: fmax differs
//     for NaN), c = f32_exp(m - mn), p = f32x4_exp(s - mn), l = fma(l, c,
//     sum16(p)), and per 4 elements of d: o = o * c, then o = vfma(o, w_t,
//     v_t) over the block's keys in order (w = p, or p * vs for int8); the
//     D % 4 tail takes the same steps with scalar std::fma.
// AArch32 is not built here (its NEON flushes subnormals; the table gives it
// the reference). Same bits as heed_cached_attention__scalar.
#if defined(__aarch64__)
#include <arm_neon.h>

#include <cmath>

#include "kernels/attention/cached-attention.h"
#include "kernels/attention/f32-attention.h"
#include "kernels/math/f32-math-neon.h"

namespace heed {

namespace {
inline float max_of(float a, float b) { return a > b ? a : b; }
inline float32x4_t vmax_of(float32x4_t a, float32x4_t b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }

inline float max16(const float32x4_t* s) {
  const float32x4_t m4 = vmax_of(vmax_of(s[0], s[2]), vmax_of(s[1], s[3]));  // t op t+8, then t op t+4
  const float32x2_t lo = vget_low_f32(m4), hi = vget_high_f32(m4);
  const float32x2_t m2 = vbsl_f32(vcgt_f32(lo, hi), lo, hi);  // t op t+2
  return max_of(vget_lane_f32(m2, 0), vget_lane_f32(m2, 1));
}

// Keys t..t+15 of one d: four registers.
inline void load16(const float* p, float32x4_t* r) {
  for (int x = 0; x < 4; ++x) r[x] = vld1q_f32(p + 4 * x);
}
inline void load16(const int8_t* p, float32x4_t* r) {
  const int8x16_t b = vld1q_s8(p);
  const int16x8_t lo = vmovl_s8(vget_low_s8(b)), hi = vmovl_s8(vget_high_s8(b));
  r[0] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo)));
  r[1] = vcvtq_f32_s32(vmovl_s16(vget_high_s16(lo)));
  r[2] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi)));
  r[3] = vcvtq_f32_s32(vmovl_s16(vget_high_s16(hi)));
}
inline float32x4_t load4(const float* p) { return vld1q_f32(p); }
inline float32x4_t load4(const int8_t* p) {
  const int8x8_t b = vcreate_s8(uint64_t(uint8_t(p[0])) | uint64_t(uint8_t(p[1])) << 8 |
                                uint64_t(uint8_t(p[2])) << 16 | uint64_t(uint8_t(p[3])) << 24);
  return vcvtq_f32_s32(vmovl_s16(vget_low_s16(vmovl_s8(b))));
}
inline float value(const float* p) { return *p; }
inline float value(const int8_t* p) { return float(*p); }

// Scores of the G blocks b .. b+G-1 (absolute; each in its ring slot) into
// sc[j - base].
template <int G, class T>
inline void scores(const float* q, const T* kb, const float* ks, const KvCache& c, size_t b, float scale, float* sc,
                   size_t base) {
  const size_t D = c.D, nbk = c.cap / kKvBlock;
  const T* k[G];
  for (int g = 0; g < G; ++g) k[g] = kb + ((b + size_t(g)) % nbk) * D * kKvBlock;
  float32x4_t acc[G][4];
  for (int g = 0; g < G; ++g)
    for (int x = 0; x < 4; ++x) acc[g][x] = vdupq_n_f32(0.0f);
  for (size_t d = 0; d < D; ++d) {
    const float32x4_t qd = vdupq_n_f32(q[d]);
    for (int g = 0; g < G; ++g) {
      float32x4_t kv[4];
      load16(k[g] + d * kKvBlock, kv);
      for (int x = 0; x < 4; ++x) acc[g][x] = vfmaq_f32(acc[g][x], qd, kv[x]);
    }
  }
  const float32x4_t vs = vdupq_n_f32(scale);
  for (int g = 0; g < G; ++g) {
    const size_t j0 = (b + size_t(g)) * kKvBlock;
    for (int x = 0; x < 4; ++x) {
      float32x4_t a = acc[g][x];
      if (ks) a = vmulq_f32(a, vld1q_f32(ks + j0 % c.cap + size_t(x) * 4));
      vst1q_f32(sc + (j0 - base) + size_t(x) * 4, vmulq_f32(a, vs));
    }
  }
}

// One query over keys [jb, je) of one kv head in cache view c (the ring or
// the sink planes), carrying the running max m, sum l and output o.
template <class T>
void segment(const float* q, size_t jb, size_t je, const KvCache& c, const KvPlanes<T>& pl, float scale, float* sc,
             float* o, float* w, float& m, float& l) {
  const size_t D = c.D;
  const T* kb = pl.k;
  const T* vb = pl.v;
  const float* ks = pl.ks;
  const float* vs = pl.vs;
  const size_t b0 = jb / kKvBlock, b1 = (je + kKvBlock - 1) / kKvBlock, base = b0 * kKvBlock;
  size_t b = b0;
  for (; b + 2 <= b1; b += 2) scores<2>(q, kb, ks, c, b, scale, sc, base);
  if (b < b1) scores<1>(q, kb, ks, c, b, scale, sc, base);
  const size_t D4 = D / 4 * 4;
  for (b = b0; b < b1; ++b) {
    const size_t j0 = b * kKvBlock, t0 = j0 % c.cap;
    const size_t lo = jb > j0 ? jb - j0 : 0, hi = je - j0 < kKvBlock ? je - j0 : kKvBlock;
    float* sb = sc + (j0 - base);
    for (size_t t = 0; t < lo; ++t) sb[t] = -INFINITY;  // this query's scores only
    for (size_t t = hi; t < kKvBlock; ++t) sb[t] = -INFINITY;
    float32x4_t s[4];
    load16(sb, s);
    const float mn = max_of(max16(s), m);
    const float cf = f32_exp(m - mn);
    const float32x4_t vmn = vdupq_n_f32(mn);
    float32x4_t p[4];
    for (int x = 0; x < 4; ++x) p[x] = f32x4_exp(vsubq_f32(s[x], vmn));
    l = std::fma(l, cf, f32x4x4_sum16(p[0], p[1], p[2], p[3]));
    for (int x = 0; x < 4; ++x) vst1q_f32(w + 4 * x, vs ? vmulq_f32(p[x], vld1q_f32(vs + t0 + 4 * x)) : p[x]);
    const float32x4_t vc = vdupq_n_f32(cf);
    for (size_t d = 0; d < D4; d += 4) {
      float32x4_t od = vmulq_f32(vld1q_f32(o + d), vc);
      const T* v = vb + (t0 + lo) * D + d;
      for (size_t u = lo; u < hi; ++u, v += D) od = vfmaq_f32(od, vdupq_n_f32(w[u]), load4(v));
      vst1q_f32(o + d, od);
    }
    for (size_t d = D4; d < D; ++d) {
      float od = o[d] * cf;
      const T* v = vb + (t0 + lo) * D + d;
      for (size_t u = lo; u < hi; ++u, v += D) od = std::fma(w[u], value(v), od);
      o[d] = od;
    }
    m = mn;
  }
}
}  // namespace

void heed_cached_attention__neon(size_t S, size_t past, size_t window, size_t H, size_t h0, size_t h1,
                                 const float* q, size_t q_stride, const float* qs, size_t qs_stride, const KvCache& c,
                                 float* out, size_t out_stride, float scale, float* scratch) {
  float* sc = scratch;
  float* o = sc + cached_attention_score_stride(kv_cache_slots(c));
  float* w = o + (c.D + 15) / 16 * 16;
  cached_attention_each_query(S, past, window, H, h0, h1, q, q_stride, qs, qs_stride, c, out, out_stride, o,
                              [&](const float* qq, size_t jb, size_t je, const KvCache& view, const auto& planes,
                                  float& m, float& l) { segment(qq, jb, je, view, planes, scale, sc, o, w, m, l); });
}

}  // namespace heed
#endif  // __aarch64__
