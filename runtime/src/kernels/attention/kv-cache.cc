// The key/value cache's layout and writes (cached-attention.h), and the
// cached-attention family's table. Plain C++: the writes are a small part of
// a token's work, and one definition keeps every ISA's cache identical.
#include <cmath>
#include <cstring>

#include "kernels/attention/cached-attention.h"

namespace heed {

namespace {
inline size_t round64(size_t n) { return (n + 63) / 64 * 64; }
inline size_t rounded_cap(size_t positions) { return (positions + kKvBlock - 1) / kKvBlock * kKvBlock; }

// Round half to even for |x| <= 2^22: the sum's rounding is the one wanted.
inline float round_even(float x) {
  const float magic = 12582912.0f;  // 1.5 * 2^23
  return x >= 0.0f ? (x + magic) - magic : (x - magic) + magic;
}

// One head's D values as int8 and their scale.
void quantize_head(const float* x, size_t D, int8_t* q, size_t q_step, float* scale) {
  float amax = 0.0f;
  bool finite = true;
  for (size_t d = 0; d < D; ++d) {
    const float a = std::fabs(x[d]);
    if (!(a <= 3.402823466e38f)) finite = false;  // NaN or infinity
    if (a > amax) amax = a;
  }
  if (!finite || amax < 1.17549435e-38f) {
    for (size_t d = 0; d < D; ++d) q[d * q_step] = 0;
    *scale = finite ? 0.0f : NAN;
    return;
  }
  const float inv = 127.0f / amax;
  *scale = amax / 127.0f;
  for (size_t d = 0; d < D; ++d) {
    float r = round_even(x[d] * inv);
    r = r > 127.0f ? 127.0f : (r < -127.0f ? -127.0f : r);
    q[d * q_step] = int8_t(int(r));
  }
}
}  // namespace

size_t kv_cache_bytes(size_t positions, size_t heads, size_t D, bool int8) {
  const size_t n = rounded_cap(positions) * heads * D;
  if (!int8) return 2 * round64(n * sizeof(float));
  return 2 * round64(n) + 2 * round64(rounded_cap(positions) * heads * sizeof(float));
}

KvCache kv_cache_view(void* state, size_t positions, size_t heads, size_t D, bool int8) {
  KvCache c;
  c.cap = rounded_cap(positions);
  c.heads = heads;
  c.D = D;
  c.int8 = int8;
  uint8_t* p = static_cast<uint8_t*>(state);
  const size_t n = c.cap * heads * D;
  const size_t part = round64(n * (int8 ? 1 : sizeof(float)));
  c.k = p;
  c.v = p + part;
  if (int8) {
    c.ks = reinterpret_cast<float*>(p + 2 * part);
    c.vs = reinterpret_cast<float*>(p + 2 * part + round64(c.cap * heads * sizeof(float)));
  }
  return c;
}

void kv_cache_write(const KvCache& c, size_t pos, size_t count, const float* k, const float* v, size_t stride) {
  const size_t D = c.D, nbk = c.cap / kKvBlock;
  for (size_t r = 0; r < count; ++r) {
    const size_t j = (pos + r) % c.cap, b = j / kKvBlock, t = j % kKvBlock;  // slot
    for (size_t g = 0; g < c.heads; ++g) {
      const float* kr = k + r * stride + g * D;
      const float* vr = v + r * stride + g * D;
      const size_t kt = ((g * nbk + b) * D) * kKvBlock + t;  // element d at kt + d * 16
      const size_t vo = (g * c.cap + j) * D;
      if (c.int8) {
        quantize_head(kr, D, static_cast<int8_t*>(c.k) + kt, kKvBlock, c.ks + g * c.cap + j);
        quantize_head(vr, D, static_cast<int8_t*>(c.v) + vo, 1, c.vs + g * c.cap + j);
      } else {
        float* kf = static_cast<float*>(c.k) + kt;
        for (size_t d = 0; d < D; ++d) kf[d * kKvBlock] = kr[d];
        std::memcpy(static_cast<float*>(c.v) + vo, vr, D * sizeof(float));
      }
    }
  }
}

const CachedAttentionVariant kCachedAttentionVariants[] = {
    {"cached_attention__scalar", Isa::kScalar, heed_cached_attention__scalar},
#if defined(__x86_64__) || defined(__i386__)
    {"cached_attention__avx2", Isa::kAvx2, heed_cached_attention__avx2},
    {"cached_attention__avx512vnni", Isa::kAvx512Vnni, heed_cached_attention__avx512vnni},
#endif
#if defined(__aarch64__)
    {"cached_attention__neon", Isa::kNeon, heed_cached_attention__neon},
#endif
};
const size_t kCachedAttentionVariantCount = sizeof(kCachedAttentionVariants) / sizeof(kCachedAttentionVariants[0]);

}  // namespace heed
