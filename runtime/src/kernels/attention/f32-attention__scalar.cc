// f32-attention reference: the block order of f32-attention.h written out
// one key, lane and element at a time (16-lane arrays stand for the SIMD
// registers), with heed's own f32_exp, so it depends on no libm and each
// SIMD variant can repeat it bit for bit.
#include <cmath>

#include "kernels/attention/f32-attention.h"
#include "kernels/math/f32-math.h"

namespace heed {

namespace {
constexpr size_t kBlock = 16;
inline float max_of(float a, float b) { return a > b ? a : b; }
}  // namespace

size_t heed_f32_attention_scratch__scalar(size_t, size_t D) { return D; }

namespace {
// The softmax state of one query: running max m, sum l, output o[D].
struct State {
  float m, l;
  float* o;
};

// Adds keys [jb, je) of one query q to its state: key j at kp + j * ks,
// value at vp + j * vs.
void attend(size_t D, const float* q, const float* kp, size_t ks, const float* vp, size_t vs, size_t jb, size_t je,
            float scale, State& st) {
  float* o = st.o;
  for (size_t j0 = jb; j0 < je; j0 += kBlock) {
    const size_t n = je - j0 < kBlock ? je - j0 : kBlock;
    float s[kBlock], t[kBlock], p[kBlock];
    for (size_t u = 0; u < kBlock; ++u) {
      if (u < n) {
        const float* k = kp + (j0 + u) * ks;
        float a = 0.0f;
        for (size_t d = 0; d < D; ++d) a = std::fma(q[d], k[d], a);
        s[u] = a * scale;
      } else {
        s[u] = -INFINITY;
      }
      t[u] = s[u];
    }
    for (size_t half = kBlock / 2; half > 0; half /= 2)
      for (size_t u = 0; u < half; ++u) t[u] = max_of(t[u], t[u + half]);
    const float mn = max_of(t[0], st.m);
    const float c = f32_exp(st.m - mn);
    for (size_t u = 0; u < kBlock; ++u) p[u] = t[u] = f32_exp(s[u] - mn);
    for (size_t half = kBlock / 2; half > 0; half /= 2)
      for (size_t u = 0; u < half; ++u) t[u] = t[u] + t[u + half];
    st.l = std::fma(st.l, c, t[0]);
    for (size_t d = 0; d < D; ++d) o[d] = o[d] * c;
    for (size_t u = 0; u < n; ++u) {
      const float* vv = vp + (j0 + u) * vs;
      for (size_t d = 0; d < D; ++d) o[d] = std::fma(p[u], vv[d], o[d]);
    }
    st.m = mn;
  }
}
}  // namespace

void heed_f32_attention__scalar(size_t S, size_t H, size_t D, size_t h0, size_t h1, size_t q0, size_t q1,
                                const float* qkv, float* out, float scale, const AttentionMask& mask, KeyRange* ranges,
                                float* scratch) {
  const size_t hidden = H * D;
  const size_t row = 3 * hidden;  // qkv row stride
  for (size_t h = h0; h < h1; ++h) {
    for (size_t i = q0; i < q1; ++i) {
      const float* q = qkv + i * row + h * D;
      // Not ranged: the one range attention_key_range gives (the same keys).
      const size_t nr = attention_key_ranges(mask, S, i, ranges);
      State st{-INFINITY, 0.0f, scratch};
      for (size_t d = 0; d < D; ++d) st.o[d] = 0.0f;
      for (size_t r = 0; r < nr; ++r) {
        attend(D, q, qkv + hidden + h * D, row, qkv + 2 * hidden + h * D, row, ranges[r].begin, ranges[r].end, scale,
               st);
      }
      const float inv_l = st.l > 0.0f ? 1.0f / st.l : 0.0f;
      float* y = out + i * hidden + h * D;
      for (size_t d = 0; d < D; ++d) y[d] = attention_out(st.o[d], inv_l);
    }
  }
}

}  // namespace heed
