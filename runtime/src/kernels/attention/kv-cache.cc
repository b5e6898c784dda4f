// The key/value cache's layout and writes (cached-attention.h), and the
// cached-attention family's table. Plain C++: the writes are a small part of
// a token's work, and one definition keeps every ISA's cache identical.
#include <cmath>
#include <cstring>

#include "kernels/attention/cached-attention.h"

namespace heed {

namespace {
inline size_t round64(size_t n) { return (n + 63) / 64 * 64; }

// Round half to even for |x| <= 2^22: the sum's rounding is the one wanted.
inline float round_even(float x) {
  const float magic = 12582912.0f;  // 1.5 * 2^23
  const float up = (x + magic) - magic, down = (x - magic) + magic;
  return x >= 0.0f ? up : down;
}


// One head's D values as int8 (q[d * q_step]) and their scale. The largest
// |x| is found on the float bits (sign cleared; finite floats order as their
// bits, NaN and infinity have the largest), loops the compiler vectorizes.
void quantize_head(const float* x, size_t D, int8_t* q, size_t q_step, float* scale) {
  uint32_t top = 0;
  for (size_t d = 0; d < D; ++d) {
    uint32_t u;
    std::memcpy(&u, x + d, sizeof u);
    u &= 0x7fffffffu;
    top = u > top ? u : top;
  }
  const bool finite = top < 0x7f800000u;
  float amax;
  std::memcpy(&amax, &top, sizeof amax);
  if (!finite || amax < 1.17549435e-38f) {
    for (size_t d = 0; d < D; ++d) q[d * q_step] = 0;
    *scale = finite ? 0.0f : NAN;
    return;
  }
  const float inv = 127.0f / amax;
  *scale = amax / 127.0f;
  int8_t row[256];  // contiguous, then stored with the step
  for (size_t d0 = 0; d0 < D; d0 += 256) {
    const size_t n = D - d0 < 256 ? D - d0 : 256;
    for (size_t d = 0; d < n; ++d) {
      float r = round_even(x[d0 + d] * inv);
      r = r > 127.0f ? 127.0f : (r < -127.0f ? -127.0f : r);
      row[d] = int8_t(int(r));
    }
    for (size_t d = 0; d < n; ++d) q[(d0 + d) * q_step] = row[d];
  }
}
}  // namespace

namespace {
// Bytes of one set of planes (k, v, then ks, vs for int8) of `slots` slots.
size_t planes_bytes(size_t slots, size_t heads, size_t D, bool int8) {
  const size_t n = slots * heads * D;
  if (!int8) return 2 * round64(n * sizeof(float));
  return 2 * round64(n) + 2 * round64(slots * heads * sizeof(float));
}

// Points k, v, ks, vs at the planes of `slots` slots from p.
void planes_view(uint8_t* p, size_t slots, size_t heads, size_t D, bool int8, void** k, void** v, float** ks,
                 float** vs) {
  const size_t part = round64(slots * heads * D * (int8 ? 1 : sizeof(float)));
  *k = p;
  *v = p + part;
  if (int8) {
    *ks = reinterpret_cast<float*>(p + 2 * part);
    *vs = reinterpret_cast<float*>(p + 2 * part + round64(slots * heads * sizeof(float)));
  }
}

// Writes one row's key and value heads into slot j of a view's planes.
void write_slot(const KvCache& c, size_t j, const float* kr0, const float* vr0) {
  const size_t D = c.D, nbk = c.cap / kKvBlock, b = j / kKvBlock, t = j % kKvBlock;
  for (size_t g = 0; g < c.heads; ++g) {
    const float* kr = kr0 + g * D;
    const float* vr = vr0 + g * D;
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
}  // namespace

size_t kv_cache_bytes(size_t positions, size_t heads, size_t D, bool int8, size_t sinks) {
  const size_t ring = planes_bytes(kv_cache_round(positions), heads, D, int8);
  return sinks ? ring + planes_bytes(kv_cache_round(sinks), heads, D, int8) : ring;
}

KvCache kv_cache_view(void* state, size_t positions, size_t heads, size_t D, bool int8, size_t sinks) {
  KvCache c;
  c.cap = kv_cache_round(positions);
  c.heads = heads;
  c.D = D;
  c.int8 = int8;
  uint8_t* p = static_cast<uint8_t*>(state);
  planes_view(p, c.cap, heads, D, int8, &c.k, &c.v, &c.ks, &c.vs);
  if (sinks) {
    c.sinks = sinks;
    c.sink_cap = kv_cache_round(sinks);
    planes_view(p + planes_bytes(c.cap, heads, D, int8), c.sink_cap, heads, D, int8, &c.sk, &c.sv, &c.sks, &c.svs);
  }
  return c;
}

void kv_cache_write(const KvCache& c, size_t pos, size_t count, const float* k, const float* v, size_t stride) {
  const KvCache sinks = kv_cache_sinks(c);
  for (size_t r = 0; r < count; ++r) {
    write_slot(c, (pos + r) % c.cap, k + r * stride, v + r * stride);
    if (pos + r < c.sinks) write_slot(sinks, pos + r, k + r * stride, v + r * stride);
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
