// cached-attention: causal attention of a decoder's new queries over the
// key/value cache of one ATTENTION op (its persistent state), for prefill
// and decode alike.
//
// Cache of cap slots (cap a multiple of 16) and KV key/value heads; position
// j lives in slot t = j % cap (a ring: a windowed layer keeps only its last
// cap positions):
//   K  [KV][cap/16][D][16]  key of slot t, kv head g, element d at
//                           K[((g * cap/16 + t/16) * D + d) * 16 + t % 16]
//                           (16 keys side by side: one SIMD load per d)
//   V  [KV][cap][D]         value of slot t, kv head g at V[(g * cap + t) * D]
// either float, or int8 with one scale per slot and kv head,
// ks[g * cap + t] and vs[g * cap + t] (k[d] ~ ks * K8[d], v[d] ~ vs * V8[d];
// kv_cache_write gives the quantization).
//
// Attention sinks (StreamingLLM): a cache made with sinks = k > 0 also keeps
// positions 0..k-1 in planes of their own, sink_cap = k rounded up to 16
// slots, position j in slot j, laid out as above with sink_cap for cap
// (sk, sv, sks, svs): written with the ring (a position j < k goes to both)
// and never overwritten, whatever the ring's wraps. kv_cache_sinks gives them
// as a KvCache of sink_cap slots.
//
// Queries i = 0..S-1 sit at positions p = past + i; query head h reads kv
// head h / (H / KV) (multi-head, grouped-query and multi-query attention
// alike) and keys [jb, p + 1), jb = p - min(p, window) (window = kNoWindow:
// all keys from 0; Mistral's sliding window w: keys p - w .. p), and with
// sinks k also the sink keys [0, se), se = min(k, jb), from the sink planes,
// scored with the query's sink row qs[i * qs_stride + h * D] instead of q
// (the op rotates it: ops/attention.cc; qs may be null when c.sinks = 0). The caller
// keeps those positions in the ring: p + 1 - jb <= cap for every query, and
// none of their slots rewritten before the query runs (slots of the aligned
// blocks outside [jb, p] may hold anything: their lanes are masked). Query i, head h:
// q[i * q_stride + h * D]; its output row out[i * out_stride + h * D .. + D).
//
// Exact order, every variant gives these bits: f32-attention.h's block order
// (max16 / sum16 pairwise, f32_exp, one rescale per block) over first the
// sink blocks, the aligned blocks of 16 sink slots [0, se) (lanes at or past
// se are -inf; none when se = 0), then the window's aligned blocks of 16
// positions [16 floor(jb / 16), p] (lanes outside [jb, p] are -inf, as past
// the end), one running max, sum and output over both, with k and v read
// from the sink planes and the ring respectively (q = qs for the sink blocks):
//   a_0 = 0, a_{d+1} = fma(q[d], kf, a_d), kf = K[d][j] (float) or float(K8[d][j])
//   s[t] = a_D * scale                 (float cache)
//   s[t] = (a_D * ks[j]) * scale       (int8 cache)
//   o[d] = fma(p[t], V[j][d], o[d])    (float cache)
//   o[d] = fma(w, float(V8[j][d]), o[d]) with w = p[t] * vs[j]  (int8 cache)
// Without a window and with a float cache this is exactly
// heed_f32_attention__scalar's causal result for the same keys and values
// (the same expression per element), so prefill through the cache and
// token-by-token decode give one run's bits. (f32-attention's symmetric
// windows start their blocks at jb instead: the encoder order.)
//
// scratch: cached_attention_scratch_floats(cap, D) floats per concurrent call.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/attention/f32-attention.h"  // attention_out
#include "kernels/isa.h"

namespace heed {

struct KvCache {
  size_t cap = 0;    // positions, a multiple of 16
  size_t heads = 0;  // KV
  size_t D = 0;
  bool int8 = false;
  void* k = nullptr;     // float or int8, layouts above
  void* v = nullptr;
  float* ks = nullptr;   // int8 only: [heads][cap]
  float* vs = nullptr;
  size_t sinks = 0;      // attention sinks k: positions 0..k-1 also in the planes below
  size_t sink_cap = 0;   // k rounded up to 16
  void* sk = nullptr;    // [heads][sink_cap/16][D][16], as k
  void* sv = nullptr;    // [heads][sink_cap][D], as v
  float* sks = nullptr;  // int8 only: [heads][sink_cap]
  float* svs = nullptr;
};

constexpr size_t kKvBlock = 16;
// Slots for `positions` positions: rounded up to whole blocks of 16.
inline size_t kv_cache_round(size_t positions) { return (positions + kKvBlock - 1) / kKvBlock * kKvBlock; }
constexpr size_t kNoWindow = SIZE_MAX;

// First key of the query at position p.
inline size_t window_begin(size_t p, size_t window) { return p - (p < window ? p : window); }
// End of the sink keys [0, se) the query with first window key jb reads.
inline size_t sink_end(size_t jb, size_t sinks) { return jb < sinks ? jb : sinks; }

// Bytes of a cache for `positions` tokens (rounded up to 16) and `sinks`
// sink positions (rounded up to 16), its parts each 64-byte aligned, in the
// order k, v, ks, vs, then the sinks' sk, sv, sks, svs.
size_t kv_cache_bytes(size_t positions, size_t heads, size_t D, bool int8, size_t sinks = 0);
// The cache view over `state` (kv_cache_bytes long).
KvCache kv_cache_view(void* state, size_t positions, size_t heads, size_t D, bool int8, size_t sinks = 0);
// The sink planes as a cache of sink_cap slots (no sinks of their own).
inline KvCache kv_cache_sinks(const KvCache& c) {
  KvCache s;
  s.cap = c.sink_cap;
  s.heads = c.heads;
  s.D = c.D;
  s.int8 = c.int8;
  s.k = c.sk;
  s.v = c.sv;
  s.ks = c.sks;
  s.vs = c.svs;
  return s;
}

// Writes positions pos .. pos+count-1 (slots pos % cap .., and positions
// below c.sinks also their sink slot) from rows of a fused projection: row r
// has key head g at k[r * stride + g * D] and value head g at
// v[r * stride + g * D]. int8: per position and head, with amax the largest
// |x[d]|, scale = amax / 127 and q[d] = round-half-even(x[d] * (127 / amax))
// (in [-127, 127]); amax below 2^-126 stores scale 0 and zeros, a NaN or
// infinite element stores scale NaN and zeros (the scores become NaN, which
// the session reports as HEED_ERROR_NON_FINITE).
void kv_cache_write(const KvCache& c, size_t pos, size_t count, const float* k, const float* v, size_t stride);

using CachedAttentionFn = void (*)(size_t S, size_t past, size_t window, size_t H, size_t h0, size_t h1,
                                   const float* q, size_t q_stride, const float* qs, size_t qs_stride,
                                   const KvCache& c, float* out, size_t out_stride, float scale, float* scratch);

struct CachedAttentionVariant {
  const char* name;
  Isa isa;
  CachedAttentionFn fn;
};

extern const CachedAttentionVariant kCachedAttentionVariants[];
extern const size_t kCachedAttentionVariantCount;

// For each of up to 4 queries done together: scores (cap + 64: the blocks of
// four consecutive queries; the sink blocks take at most sink_cap of them,
// scored before the window's), output accumulators (D rounded up to 16) and
// one block's weights (16). cap here is kv_cache_slots: ring and sink slots.
inline size_t kv_cache_slots(const KvCache& c) { return c.cap + c.sink_cap; }
inline size_t cached_attention_score_stride(size_t cap) { return cap + 64; }
inline size_t cached_attention_scratch_floats(size_t cap, size_t D) {
  return 4 * (cached_attention_score_stride(cap) + (D + 15) / 16 * 16 + 16);
}

// The loop of the variants that take one query at a time: for each head h
// in [h0, h1) and query i, with o the output accumulators (D floats) zeroed
// and a running max m = -inf and sum l = 0, seg(qs_i, 0, se, sinks, sink, m,
// l) over its sink keys [0, se) when se > 0, then seg(q_i, jb, je, c, ring,
// m, l) over its window keys [jb, je), then its output row y[d] =
// attention_out(o[d], 1 / l). q_i and qs_i are the query's and its sink
// row's; sinks is kv_cache_sinks(c); ring and sink its kv head's planes in
// the ring and the sink planes (KvPlanes<float> or KvPlanes<int8_t>; ks and
// vs null for a float cache). `static`: each ISA's translation unit keeps its
// own copy.
template <class T>
struct KvPlanes {
  const T* k;
  const float* ks;
  const T* v;
  const float* vs;
};
template <class T>
static inline KvPlanes<T> kv_planes(const KvCache& c, size_t g) {
  const size_t nbk = c.cap / kKvBlock;
  return {static_cast<const T*>(c.k) + g * nbk * c.D * kKvBlock, c.int8 ? c.ks + g * c.cap : nullptr,
          static_cast<const T*>(c.v) + g * c.cap * c.D, c.int8 ? c.vs + g * c.cap : nullptr};
}
template <class Seg>
static inline void cached_attention_each_query(size_t S, size_t past, size_t window, size_t H, size_t h0, size_t h1,
                                               const float* q, size_t q_stride, const float* qs, size_t qs_stride,
                                               const KvCache& c, float* out, size_t out_stride, float* o, Seg&& seg) {
  const size_t D = c.D, group = H / c.heads;
  const KvCache sc = kv_cache_sinks(c);
  for (size_t h = h0; h < h1; ++h) {
    const size_t g = h / group;
    for (size_t i = 0; i < S; ++i) {
      const float* qi = q + i * q_stride + h * D;
      const float* qsi = c.sinks ? qs + i * qs_stride + h * D : qi;
      float* y = out + i * out_stride + h * D;
      const size_t jb = window_begin(past + i, window), je = past + i + 1, se = sink_end(jb, c.sinks);
      for (size_t d = 0; d < D; ++d) o[d] = 0.0f;
      float m = -INFINITY, l = 0.0f;
      if (c.int8) {
        if (se > 0) seg(qsi, size_t(0), se, sc, kv_planes<int8_t>(sc, g), m, l);
        seg(qi, jb, je, c, kv_planes<int8_t>(c, g), m, l);
      } else {
        if (se > 0) seg(qsi, size_t(0), se, sc, kv_planes<float>(sc, g), m, l);
        seg(qi, jb, je, c, kv_planes<float>(c, g), m, l);
      }
      const float inv_l = l > 0.0f ? 1.0f / l : 0.0f;
      for (size_t d = 0; d < D; ++d) y[d] = attention_out(o[d], inv_l);
    }
  }
}

void heed_cached_attention__scalar(size_t S, size_t past, size_t window, size_t H, size_t h0, size_t h1, const float* q,
                                   size_t q_stride, const float* qs, size_t qs_stride, const KvCache& c, float* out, size_t out_stride, float scale,
                                   float* scratch);
void heed_cached_attention__avx2(size_t S, size_t past, size_t window, size_t H, size_t h0, size_t h1, const float* q,
                                 size_t q_stride, const float* qs, size_t qs_stride, const KvCache& c, float* out, size_t out_stride, float scale,
                                 float* scratch);
void heed_cached_attention__avx512vnni(size_t S, size_t past, size_t window, size_t H, size_t h0, size_t h1, const float* q,
                                       size_t q_stride, const float* qs, size_t qs_stride, const KvCache& c, float* out, size_t out_stride,
                                       float scale, float* scratch);
void heed_cached_attention__neon(size_t S, size_t past, size_t window, size_t H, size_t h0, size_t h1, const float* q,
                                 size_t q_stride, const float* qs, size_t qs_stride, const KvCache& c, float* out, size_t out_stride, float scale,
                                 float* scratch);

}  // namespace heed
