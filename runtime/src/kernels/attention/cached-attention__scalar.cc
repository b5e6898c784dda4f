// cached-attention reference: the order of cached-attention.h written out one
// key, lane and element at a time (16-lane arrays stand for the SIMD
// registers), with heed's own f32_exp.
#include <cmath>

#include "kernels/attention/cached-attention.h"
#include "kernels/attention/f32-attention.h"
#include "kernels/math/f32-math.h"

namespace heed {

namespace {
inline float max_of(float a, float b) { return a > b ? a : b; }


// The blocks of one query over keys [jb, je) of cache view c (the ring or the
// sink planes), kv head g, carrying the running max m, sum l and output o.
void blocks(const float* qi, size_t jb, size_t je, const KvCache& c, size_t g, float scale, float& m, float& l,
            float* o) {
  const size_t D = c.D, nbk = c.cap / kKvBlock;
  for (size_t j0 = jb / kKvBlock * kKvBlock; j0 < je; j0 += kKvBlock) {
    const size_t t0 = j0 % c.cap;  // the block's first slot
    const size_t kt = (g * nbk + t0 / kKvBlock) * D * kKvBlock;
    float s[kKvBlock], t[kKvBlock], pr[kKvBlock];
    for (size_t u = 0; u < kKvBlock; ++u) {
      if (j0 + u >= jb && j0 + u < je) {
        float a = 0.0f;
        if (c.int8) {
          const int8_t* k8 = static_cast<const int8_t*>(c.k) + kt + u;
          for (size_t d = 0; d < D; ++d) a = std::fma(qi[d], float(k8[d * kKvBlock]), a);
          s[u] = (a * c.ks[g * c.cap + t0 + u]) * scale;
        } else {
          const float* kf = static_cast<const float*>(c.k) + kt + u;
          for (size_t d = 0; d < D; ++d) a = std::fma(qi[d], kf[d * kKvBlock], a);
          s[u] = a * scale;
        }
      } else {
        s[u] = -INFINITY;
      }
      t[u] = s[u];
    }
    for (size_t half = kKvBlock / 2; half > 0; half /= 2)
      for (size_t u = 0; u < half; ++u) t[u] = max_of(t[u], t[u + half]);
    const float mn = max_of(t[0], m);
    const float cf = f32_exp(m - mn);
    for (size_t u = 0; u < kKvBlock; ++u) pr[u] = t[u] = f32_exp(s[u] - mn);
    for (size_t half = kKvBlock / 2; half > 0; half /= 2)
      for (size_t u = 0; u < half; ++u) t[u] = t[u] + t[u + half];
    l = std::fma(l, cf, t[0]);
    for (size_t d = 0; d < D; ++d) o[d] = o[d] * cf;
    for (size_t u = 0; u < kKvBlock; ++u) {
      if (j0 + u < jb || j0 + u >= je) continue;
      const size_t vo = (g * c.cap + t0 + u) * D;
      if (c.int8) {
        const int8_t* v8 = static_cast<const int8_t*>(c.v) + vo;
        const float w = pr[u] * c.vs[g * c.cap + t0 + u];
        for (size_t d = 0; d < D; ++d) o[d] = std::fma(w, float(v8[d]), o[d]);
      } else {
        const float* vf = static_cast<const float*>(c.v) + vo;
        for (size_t d = 0; d < D; ++d) o[d] = std::fma(pr[u], vf[d], o[d]);
      }
    }
    m = mn;
  }
}
}  // namespace

void heed_cached_attention__scalar(size_t S, size_t past, size_t window, size_t H, size_t h0, size_t h1,
                                   const float* q, size_t q_stride, const float* qs, size_t qs_stride,
                                   const KvCache& c, float* out, size_t out_stride, float scale, float* scratch) {
  const size_t D = c.D, group = H / c.heads;
  const KvCache sinks = kv_cache_sinks(c);
  float* o = scratch;
  for (size_t h = h0; h < h1; ++h) {
    const size_t g = h / group;
    for (size_t i = 0; i < S; ++i) {
      const float* qi = q + i * q_stride + h * D;
      const size_t p = past + i, jb = window_begin(p, window), je = p + 1, se = sink_end(jb, c.sinks);
      float m = -INFINITY, l = 0.0f;
      for (size_t d = 0; d < D; ++d) o[d] = 0.0f;
      if (se > 0) blocks(qs + i * qs_stride + h * D, 0, se, sinks, g, scale, m, l, o);
      blocks(qi, jb, je, c, g, scale, m, l, o);
      const float inv_l = l > 0.0f ? 1.0f / l : 0.0f;
      float* y = out + i * out_stride + h * D;
      for (size_t d = 0; d < D; ++d) y[d] = attention_out(o[d], inv_l);
    }
  }
}

}  // namespace heed
