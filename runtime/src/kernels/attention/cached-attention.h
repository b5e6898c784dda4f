// cached-attention: causal attention of a decoder's new queries over the
// key/value cache of one ATTENTION op (its persistent state), for prefill
// and decode alike.
//
// Cache of cap positions (cap a multiple of 16) and KV key/value heads:
//   K  [KV][cap/16][D][16]  key j of kv head g, element d at
//                           K[((g * cap/16 + j/16) * D + d) * 16 + j % 16]
//                           (16 keys side by side: one SIMD load per d)
//   V  [KV][cap][D]         value j of kv head g at V[(g * cap + j) * D]
// either float, or int8 with one scale per position and kv head,
// ks[g * cap + j] and vs[g * cap + j] (k[d] ~ ks * K8[d], v[d] ~ vs * V8[d];
// kv_cache_write gives the quantization).
//
// Queries i = 0..S-1 sit at positions past + i; query head h reads kv head
// h / (H / KV) (multi-head, grouped-query and multi-query attention alike)
// and keys [0, past + i + 1). Query i, head h: q[i * q_stride + h * D]; its
// output row out[i * out_stride + h * D .. + D).
//
// Exact order, every variant gives these bits: f32-attention.h's block order
// (blocks of 16 keys from key 0, max16 / sum16 pairwise, f32_exp, one
// rescale per block), with k and v read from the cache:
//   a_0 = 0, a_{d+1} = fma(q[d], kf, a_d), kf = K[d][j] (float) or float(K8[d][j])
//   s[t] = a_D * scale                 (float cache)
//   s[t] = (a_D * ks[j]) * scale       (int8 cache)
//   o[d] = fma(p[t], V[j][d], o[d])    (float cache)
//   o[d] = fma(w, float(V8[j][d]), o[d]) with w = p[t] * vs[j]  (int8 cache)
// With a float cache this is exactly heed_f32_attention__scalar's causal
// result for the same keys and values (the same expression per element), so
// prefill through the cache and token-by-token decode give one run's bits.
//
// scratch: cached_attention_scratch_floats(cap, D) floats per concurrent call.
#pragma once

#include <cstddef>
#include <cstdint>

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
};

constexpr size_t kKvBlock = 16;

// Bytes of a cache for `positions` tokens (rounded up to 16) and its parts,
// each 64-byte aligned, in the order k, v, ks, vs.
size_t kv_cache_bytes(size_t positions, size_t heads, size_t D, bool int8);
// The cache view over `state` (kv_cache_bytes long).
KvCache kv_cache_view(void* state, size_t positions, size_t heads, size_t D, bool int8);

// Writes positions pos .. pos+count-1 from rows of a fused projection: row r
// has key head g at k[r * stride + g * D] and value head g at
// v[r * stride + g * D]. int8: per position and head, with amax the largest
// |x[d]|, scale = amax / 127 and q[d] = round-half-even(x[d] * (127 / amax))
// (in [-127, 127]); amax below 2^-126 stores scale 0 and zeros, a NaN or
// infinite element stores scale NaN and zeros (the scores become NaN, which
// the session reports as HEED_ERROR_NON_FINITE).
void kv_cache_write(const KvCache& c, size_t pos, size_t count, const float* k, const float* v, size_t stride);

using CachedAttentionFn = void (*)(size_t S, size_t past, size_t H, size_t h0, size_t h1, const float* q,
                                   size_t q_stride, const KvCache& c, float* out, size_t out_stride, float scale,
                                   float* scratch);

struct CachedAttentionVariant {
  const char* name;
  Isa isa;
  CachedAttentionFn fn;
};

extern const CachedAttentionVariant kCachedAttentionVariants[];
extern const size_t kCachedAttentionVariantCount;

// For each of up to 4 queries done together: its scores (cap), output
// accumulators (D rounded up to 16) and one block's weights (16).
inline size_t cached_attention_scratch_floats(size_t cap, size_t D) { return 4 * (cap + (D + 15) / 16 * 16 + 16); }

void heed_cached_attention__scalar(size_t S, size_t past, size_t H, size_t h0, size_t h1, const float* q,
                                   size_t q_stride, const KvCache& c, float* out, size_t out_stride, float scale,
                                   float* scratch);
void heed_cached_attention__avx2(size_t S, size_t past, size_t H, size_t h0, size_t h1, const float* q,
                                 size_t q_stride, const KvCache& c, float* out, size_t out_stride, float scale,
                                 float* scratch);
void heed_cached_attention__avx512vnni(size_t S, size_t past, size_t H, size_t h0, size_t h1, const float* q,
                                       size_t q_stride, const KvCache& c, float* out, size_t out_stride,
                                       float scale, float* scratch);
void heed_cached_attention__neon(size_t S, size_t past, size_t H, size_t h0, size_t h1, const float* q,
                                 size_t q_stride, const KvCache& c, float* out, size_t out_stride, float scale,
                                 float* scratch);

}  // namespace heed
