// Every ISA variant of every kernel family equals its scalar reference bit
// for bit, over edge-case shapes (tile remainders, K not a multiple of the
// group or block, odd row strides) and extreme values. The variants come from
// the same tables dispatch uses (kernels/*/variants.cc), so a new table line
// is covered here on every machine that runs its ISA (x86 natively, ARM under
// qemu). The fast tier runs a reduced grid; the slow tier the full one
// (M, N, K in 1..17, 31..33, 255..257).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "kernels/kernel-harness.h"

using namespace heed;
using namespace heed::test;

namespace {

const std::vector<size_t> kFullGrid = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,  12,  13,
                                       14, 15, 16, 17, 31, 32, 33, 255, 256, 257};

// Blocks to try for K: a multiple of 4 below K (the block scheme), and K (per row).
std::vector<size_t> blocks_for(size_t K) {
  std::vector<size_t> b;
  for (size_t blk : {size_t(4), size_t(32)})
    if (blk < K) b.push_back(blk);
  b.push_back(K);
  return b;
}

// The variants to check on this CPU: all but the reference itself (entry 0,
// checked against exact formulas in references-test.cc).
template <typename V>
std::vector<const V*> supported(const V* table, size_t n) {
  std::vector<const V*> out;
  for (size_t i = 1; i < n; ++i)
    if (isa_supported(table[i].isa)) out.push_back(&table[i]);
  return out;
}

bool same_bits(const float* a, const float* b, size_t n) { return std::memcmp(a, b, n * sizeof(float)) == 0; }

// Inputs that hit the corners of float kernels: zeros of both signs,
// denormals, the largest finite values, values around rounding ties.
std::vector<float> special_floats() {
  std::vector<float> v = {0.0f, -0.0f, 1e-45f, -1e-45f, 1e-38f, 3e38f, -3e38f, 0.5f, -0.5f, 1.5f, 2.5f,
                          88.0f, -88.0f, 89.0f, -104.0f, 1e-7f, 10.0f, -10.0f, 5.9f, -5.9f, 9.0f, -9.0f};
  for (int i = -200; i <= 200; ++i) v.push_back(float(i) * 0.05f);
  return v;
}

void check_qs8(const std::vector<size_t>& Ms, const std::vector<size_t>& Ns, const std::vector<size_t>& Ks) {
  const Qs8GemmVariant& ref = kQs8GemmVariants[0];
  for (const Qs8GemmVariant* v : supported(kQs8GemmVariants, kQs8GemmVariantCount)) {
    CAPTURE(v->name);
    for (size_t M : Ms)
      for (size_t N : Ns)
        for (size_t K : Ks)
          for (size_t block : blocks_for(K)) {
            CAPTURE(M);
            CAPTURE(N);
            CAPTURE(K);
            CAPTURE(block);
            const Qs8Problem p(M, N, K, block, uint32_t(M * 7919 + N * 104729 + K * 31 + block));
            REQUIRE(compare_qs8_gemm(*v, ref, p, (M + N + K) % 3) == "");
          }
  }
}

// The one-row kernels (kQs8GemvVariants) against the GEMM reference.
void check_qs8_gemv(const std::vector<size_t>& Ms, const std::vector<size_t>& Ns, const std::vector<size_t>& Ks) {
  const Qs8GemmVariant& ref = kQs8GemmVariants[0];
  for (const Qs8GemmVariant* v : supported(kQs8GemvVariants, kQs8GemvVariantCount)) {
    CAPTURE(v->name);
    REQUIRE(v->mr == 1);
    REQUIRE(!v->sums128);
    for (size_t M : Ms)
      for (size_t N : Ns)
        for (size_t K : Ks)
          for (size_t block : blocks_for(K)) {
            CAPTURE(M);
            CAPTURE(N);
            CAPTURE(K);
            CAPTURE(block);
            const Qs8Problem p(M, N, K, block, uint32_t(M * 7919 + N * 104729 + K * 31 + block + 5));
            REQUIRE(compare_qs8_gemm(*v, ref, p, (M + N + K) % 3, (N + K) % 2 == 0) == "");
          }
  }
}

// Deliberately perturbed copies of a real one-row kernel (the one in
// g_perturbed): the comparison above must reject each of them.
Qs8GemmUkernel g_perturbed = nullptr;
// Right except one ulp in the last column of a remainder tile.
void gemv_ulp_in_remainder(const Qs8GemmParams& p) {
  g_perturbed(p);
  if (p.nc % kPanelN != 0) {
    uint32_t bits;
    std::memcpy(&bits, &p.y[p.nc - 1], sizeof bits);
    bits ^= 1u;
    std::memcpy(&p.y[p.nc - 1], &bits, sizeof bits);
  }
}
// Right except that it ignores the last group of K (a K-tail bug).
void gemv_drops_last_group(const Qs8GemmParams& p) {
  Qs8GemmParams q = p;
  if (q.kp > kGroupK && (q.nb == 1 || q.kp - kGroupK > (q.nb - 1) * q.block)) q.kp -= kGroupK;
  g_perturbed(q);
}
// Right except that every block is rescaled by the last block's scale.
void gemv_last_scale(const Qs8GemmParams& p) {
  std::vector<float> xs(p.nb, p.xs[p.nb - 1]);
  Qs8GemmParams q = p;
  q.xs = xs.data();
  g_perturbed(q);
}

void check_f32(const std::vector<size_t>& Ms, const std::vector<size_t>& Ns, const std::vector<size_t>& Ks) {
  const F32GemmVariant& ref = kF32GemmVariants[0];
  for (const F32GemmVariant* v : supported(kF32GemmVariants, kF32GemmVariantCount)) {
    CAPTURE(v->name);
    for (size_t M : Ms)
      for (size_t N : Ns)
        for (size_t K : Ks) {
          CAPTURE(M);
          CAPTURE(N);
          CAPTURE(K);
          const F32Problem p(M, N, K, uint32_t(M * 7919 + N * 104729 + K * 31));
          REQUIRE(compare_f32_gemm(*v, ref, p, (M + N + K) % 3, (M + N) % 2 == 0) == "");
        }
  }
}

// Plausible mistakes: a multiply and an add where the family specifies one
// fused multiply-add. They give different bits on ordinary inputs.
void qs8_unfused(const Qs8GemmParams& p) {
  const size_t kg = p.kp / kGroupK;
  for (size_t m = 0; m < p.mr; ++m)
    for (size_t n = 0; n < p.nc; ++n) {
      const int8_t* wc = p.w + (n / kPanelN) * kg * kPanelN * kGroupK + (n % kPanelN) * kGroupK;
      float acc = 0.0f;
      for (size_t b = 0; b < p.nb; ++b) {
        const size_t k0 = b * p.block, k1 = std::min(k0 + p.block, p.kp);
        int32_t isum = 0;
        for (size_t k = k0; k < k1; ++k) isum += int32_t(p.x[m * p.ldx + k]) * wc[(k / 4) * 64 + k % 4];
        acc += float(isum) * (p.xs[m * p.nb + b] * p.ws[(n / kPanelN) * p.nb * kPanelN + b * kPanelN + n % kPanelN]);
      }
      p.y[m * p.ldy + n] = acc + (p.bias ? p.bias[n] : 0.0f);
    }
}

void f32_unfused(const F32GemmParams& p) {
  for (size_t m = 0; m < p.mr; ++m)
    for (size_t n = 0; n < p.nc; ++n) {
      float acc = p.bias ? p.bias[n] : 0.0f;
      for (size_t k = 0; k < p.K; ++k) acc += p.x[m * p.ldx + k] * p.w[(n / kPanelN) * p.K * kPanelN + k * kPanelN + n % kPanelN];
      p.y[m * p.ldy + n] = acc;
    }
}

void check_quantize(const std::vector<size_t>& Ms, const std::vector<size_t>& Ks) {
  const QuantizeVariant& ref = kQuantizeVariants[0];
  for (const QuantizeVariant* v : supported(kQuantizeVariants, kQuantizeVariantCount)) {
    CAPTURE(v->name);
    for (size_t M : Ms)
      for (size_t K : Ks)
        for (size_t block : blocks_for(K))
          for (int mode = 0; mode < 8; ++mode) {  // bit 0 smooth, bit 1 static, bit 2 xor 0x80
            CAPTURE(M);
            CAPTURE(K);
            CAPTURE(block);
            CAPTURE(mode);
            const size_t ldx = K + (M % 3), kp = padded_k(K), ldq = kp + (K % 2), nb = (K + block - 1) / block;
            std::vector<float> x = random_floats(M * ldx, uint32_t(M * 31 + K * 7 + block + mode), -4.0f, 4.0f);
            const std::vector<float> sp = special_floats();
            for (size_t i = 0; i < x.size() && i < sp.size() && M > 2; ++i) x[i] = sp[i];
            if (M > 1) std::fill(x.begin() + long(ldx), x.begin() + long(ldx + K), 0.0f);  // an all-zero row
            const std::vector<float> sm = random_floats(K, 5, 0.25f, 4.0f);
            std::vector<int8_t> q1(M * ldq, 7), q2(M * ldq, 7);
            std::vector<float> s1(M * nb, -1.0f), s2(M * nb, -1.0f);
            QuantizeParams a{M,        K,         kp, block, x.data(), ldx, (mode & 1) ? sm.data() : nullptr,
                             (mode & 2) ? 0.03f : 0.0f, q1.data(), ldq, s1.data(), uint8_t((mode & 4) ? 0x80 : 0)};
            ref.fn(a);
            a.q = q2.data();
            a.scales = s2.data();
            v->fn(a);
            REQUIRE(q1 == q2);
            REQUIRE(same_bits(s1.data(), s2.data(), s1.size()));
          }
  }
}

void check_layernorm(const std::vector<size_t>& Ms, const std::vector<size_t>& Ns) {
  const LayerNormVariant& ref = kLayerNormVariants[0];
  for (const LayerNormVariant* v : supported(kLayerNormVariants, kLayerNormVariantCount)) {
    CAPTURE(v->name);
    for (size_t M : Ms)
      for (size_t N : Ns)
        for (int mode = 0; mode < 4; ++mode) {  // bit 0 residual, bit 1 in place
          CAPTURE(M);
          CAPTURE(N);
          CAPTURE(mode);
          const std::vector<float> x = random_floats(M * N, uint32_t(M * 13 + N), -30.0f, 30.0f);
          const std::vector<float> r = random_floats(M * N, uint32_t(M * 17 + N));
          const std::vector<float> g = random_floats(N, 3, 0.5f, 1.5f), be = random_floats(N, 4);
          std::vector<float> y1 = x, y2 = x;
          const float* res = (mode & 1) ? r.data() : nullptr;
          ref.fn(M, N, (mode & 2) ? y1.data() : x.data(), res, g.data(), be.data(), 1e-12f, y1.data());
          v->fn(M, N, (mode & 2) ? y2.data() : x.data(), res, g.data(), be.data(), 1e-12f, y2.data());
          REQUIRE(same_bits(y1.data(), y2.data(), y1.size()));
        }
  }
}

void check_rmsnorm(const std::vector<size_t>& Ms, const std::vector<size_t>& Ns) {
  const RmsNormVariant& ref = kRmsNormVariants[0];
  for (const RmsNormVariant* v : supported(kRmsNormVariants, kRmsNormVariantCount)) {
    CAPTURE(v->name);
    for (size_t M : Ms)
      for (size_t N : Ns)
        for (int mode = 0; mode < 8; ++mode) {
          // bit 0 in place; bit 1 special values (NaN row, subnormal, huge); bit 2 magnitudes
          // spread over 2^-12..2^12, so that one rounding in a lane's sum of squares shows in r.
          CAPTURE(M);
          CAPTURE(N);
          CAPTURE(mode);
          std::vector<float> x = random_floats(M * N, uint32_t(M * 19 + N + 1000 * mode), -30.0f, 30.0f);
          if (mode & 4) {
            const std::vector<float> e = random_floats(M * N, uint32_t(M * 23 + N), -12.0f, 12.0f);
            for (size_t i = 0; i < x.size(); ++i) x[i] = std::ldexp(x[i], int(e[i]));
          }
          if (mode & 2) {
            const std::vector<float> sp = special_floats();
            for (size_t i = 0; i < x.size(); i += 3) x[i] = sp[(i / 3) % sp.size()];
            if (x.size() > 1) x[1] = std::numeric_limits<float>::quiet_NaN();  // a NaN row
          }
          const std::vector<float> w = random_floats(N, 5, -1.5f, 1.5f);
          std::vector<float> y1 = x, y2 = x;
          ref.fn(M, N, (mode & 1) ? y1.data() : x.data(), w.data(), 1e-6f, y1.data());
          v->fn(M, N, (mode & 1) ? y2.data() : x.data(), w.data(), 1e-6f, y2.data());
          REQUIRE(same_bits(y1.data(), y2.data(), y1.size()));
        }
  }
}

void check_activation(size_t repeats) {
  const ActivationVariant& ref = kActivationVariants[0];
  for (const ActivationVariant* v : supported(kActivationVariants, kActivationVariantCount)) {
    CAPTURE(v->name);
    std::vector<float> x = special_floats();
    for (size_t r = 0; r < repeats; ++r) {
      const std::vector<float> more = random_floats(4099, uint32_t(r), -12.0f, 12.0f);
      x.insert(x.end(), more.begin(), more.end());
    }
    for (size_t n : {size_t(1), size_t(7), size_t(16), size_t(17), x.size()}) {
      CAPTURE(n);
      std::vector<float> y1(n), y2(n);
      ref.gelu(n, x.data(), y1.data());
      v->gelu(n, x.data(), y2.data());
      REQUIRE(first_difference(y2.data(), y1.data(), n, n) == "");
      ref.tanh(n, x.data(), y1.data());
      v->tanh(n, x.data(), y2.data());
      REQUIRE(first_difference(y2.data(), y1.data(), n, n) == "");
      ref.gelu_tanh(n, x.data(), y1.data());
      v->gelu_tanh(n, x.data(), y2.data());
      REQUIRE(first_difference(y2.data(), y1.data(), n, n) == "");
    }
    for (size_t cols : {size_t(1), size_t(7), size_t(16), size_t(17), size_t(100)}) {
      CAPTURE(cols);
      const size_t rows = x.size() / (2 * cols);
      std::vector<float> y1(rows * cols), y2(rows * cols);
      ref.swiglu(rows, cols, x.data(), y1.data());
      v->swiglu(rows, cols, x.data(), y2.data());
      REQUIRE(first_difference(y2.data(), y1.data(), y1.size(), cols) == "");
    }
  }
}

struct AttentionCase {
  size_t S, H, D;
  int window;
  bool causal;
  int global_first = 0;
  std::vector<int32_t> globals = {};
  int block = 0, local = 0, gblocks = 0, stride = 0, random = 0;

  AttentionMask mask() const {
    AttentionMask m;
    m.window = window;
    m.causal = causal;
    m.global_first = global_first;
    m.global_positions = globals.data();
    m.num_global_positions = globals.size();
    m.block = block, m.block_local = local, m.block_global = gblocks, m.block_stride = stride;
    m.block_random = random, m.block_seed = 3;
    return m;
  }
};

void check_attention(const std::vector<AttentionCase>& cases, const AttentionVariant& ref = kAttentionVariants[0]) {
  for (const AttentionVariant* v : supported(kAttentionVariants, kAttentionVariantCount)) {
    CAPTURE(v->name);
    for (const AttentionCase& c : cases) {
      CAPTURE(c.S);
      CAPTURE(c.D);
      CAPTURE(c.window);
      CAPTURE(c.block);
      CAPTURE(c.global_first);
      const size_t hid = c.H * c.D;
      const std::vector<float> qkv = random_floats(c.S * 3 * hid, uint32_t(c.S * 7 + c.D), -3.0f, 3.0f);
      std::vector<float> o1(c.S * hid, -1.0f), o2(c.S * hid, -1.0f);
      std::vector<float> s1(ref.scratch_floats(c.S, c.D) + 1), s2(v->scratch_floats(c.S, c.D) + 1);
      const AttentionMask m = c.mask();
      std::vector<KeyRange> r(attention_max_ranges(m, c.S));
      const float scale = 1.0f / std::sqrt(float(c.D));
      ref.fn(c.S, c.H, c.D, 0, c.H, 0, c.S, qkv.data(), o1.data(), scale, m, r.data(), s1.data());
      v->fn(c.S, c.H, c.D, 0, c.H, 0, c.S, qkv.data(), o2.data(), scale, m, r.data(), s2.data());
      REQUIRE(first_difference(o2.data(), o1.data(), o1.size(), hid) == "");
      // In blocks of queries (as the op runs windowed masks), each call with
      // a scratch of exactly the size its keys need (AddressSanitizer
      // catches a variant that reads or writes past it).
      for (size_t qb : {size_t(1), size_t(5), size_t(16), size_t(37), attention_query_block(c.S, m)}) {
        if (qb >= c.S) continue;
        CAPTURE(qb);
        std::vector<float> o3(c.S * hid, -1.0f);
        for (size_t q0 = 0; q0 < c.S; q0 += qb) {
          const size_t q1 = std::min(c.S, q0 + qb);
          size_t kb, ke;
          attention_query_keys(c.S, q0, q1, m, &kb, &ke);
          std::vector<float> s3(v->scratch_floats(ke - kb, c.D));
          v->fn(c.S, c.H, c.D, 0, c.H, q0, q1, qkv.data(), o3.data(), scale, m, r.data(), s3.data());
        }
        REQUIRE(first_difference(o3.data(), o1.data(), o1.size(), hid) == "");
      }
    }
  }
}

const std::vector<AttentionCase> kAttentionCases = {
    {1, 1, 4, -1, false},  {7, 2, 8, -1, false},  {16, 3, 32, -1, false}, {17, 2, 32, -1, false},
    {33, 2, 64, -1, true}, {20, 2, 8, 3, false},  {20, 1, 16, 0, false},  {128, 2, 32, -1, false},
    {65, 1, 128, 5, true}, {31, 2, 17, -1, false},
    // Ranged masks: global tokens (first k, listed) with a window; block-sparse.
    {50, 2, 32, 4, false, 2}, {61, 1, 16, 5, false, 0, {0, 9, 10, 40}}, {45, 1, 8, 3, true, 1, {30}},
    {100, 2, 32, -1, false, 0, {}, 16, 1, 1, 0, 2}, {97, 1, 17, -1, false, 3, {50}, 8, 0, 0, 3, 1},
    {129, 1, 64, -1, false, 0, {}, 32, 1, 0, 0, 0}, {1, 1, 8, -1, false, 0, {}, 16, 1, 1, 0, 2}};

// A key/value cache of cap positions (>= T) holding rows 0..T-1 of a fused
// projection [T, (H + 2 KV) D], written by kv_cache_write.
struct CacheCase {
  size_t past, S, H, KV, D;
  size_t window = kNoWindow;
  size_t ring = 0;  // cache slots (0: T + 21, no wrap); a ring holds the last `ring` positions
  size_t sinks = 0;  // attention sinks: positions 0..sinks-1 also in the sink planes
};

struct FilledCache {
  std::vector<uint8_t> bytes;
  KvCache c;
  // ring = 0: T + 21 slots (slots past T stay as written: NaN bytes). Else
  // `ring` slots: positions 0..T-1 written in order, so the last `ring` stay.
  FilledCache(const std::vector<float>& qkv, size_t T, size_t H, size_t KV, size_t D, bool int8, size_t ring = 0,
              size_t sinks = 0) {
    const size_t cap = ring ? ring : T + 21;
    bytes.assign(kv_cache_bytes(cap, KV, D, int8, sinks) + 64, 0xff);
    void* at = bytes.data() + (64 - reinterpret_cast<uintptr_t>(bytes.data()) % 64) % 64;
    c = kv_cache_view(at, cap, KV, D, int8, sinks);
    const size_t stride = (H + 2 * KV) * D;
    kv_cache_write(c, 0, T, qkv.data() + H * D, qkv.data() + (H + KV) * D, stride);
  }
};

// Sink rows for the case's queries ([S][H * D]): random, unlike the queries,
// so a kernel scoring sinks with q is caught.
std::vector<float> sink_rows(const CacheCase& c) {
  return random_floats(c.S * c.H * c.D, uint32_t(c.past * 7 + c.S + 3), -3.0f, 3.0f);
}

// Runs `fn` over queries past..past+S-1 of the case (sink rows: sink_rows);
// heads split in two calls.
std::vector<float> run_cached(CachedAttentionFn fn, const CacheCase& c, const std::vector<float>& qkv,
                              const KvCache& cache) {
  const size_t stride = (c.H + 2 * c.KV) * c.D, hid = c.H * c.D;
  std::vector<float> out(c.S * hid, -1.0f), scratch(cached_attention_scratch_floats(kv_cache_slots(cache), c.D) + 1);
  const std::vector<float> qs = sink_rows(c);
  const float scale = 1.0f / std::sqrt(float(c.D));
  const size_t mid = c.H / 2;
  fn(c.S, c.past, c.window, c.H, 0, mid, qkv.data() + c.past * stride, stride, qs.data(), hid, cache, out.data(), hid,
     scale, scratch.data());
  fn(c.S, c.past, c.window, c.H, mid, c.H, qkv.data() + c.past * stride, stride, qs.data(), hid, cache, out.data(),
     hid, scale, scratch.data());
  return out;
}

const CacheCase kCacheCases[] = {{0, 1, 2, 2, 8},  {1, 1, 2, 1, 8},   {15, 1, 2, 2, 16}, {16, 1, 1, 1, 32},
                                 {0, 20, 4, 2, 64}, {17, 3, 4, 2, 64}, {40, 1, 3, 1, 17}, {31, 2, 2, 2, 64},
                                 {0, 33, 2, 2, 4},  {63, 2, 8, 2, 128}, {5, 70, 2, 1, 20}, {7, 1, 8, 1, 32},
                                 {100, 1, 12, 12, 64},
                                 // Windows: keys p - w .. p, blocks from the window's aligned start.
                                 {0, 40, 4, 2, 16, 5},  {33, 1, 2, 2, 32, 16}, {50, 17, 4, 1, 64, 31},
                                 {0, 70, 2, 2, 20, 0},  {200, 3, 8, 2, 32, 100},
                                 // Rings: only the last `ring` positions are in the cache.
                                 {150, 1, 4, 2, 32, 40, 112}, {300, 2, 2, 1, 64, 60, 128}, {97, 5, 3, 3, 16, 15, 32},
                                 // Sinks: keys [0, min(k, jb)) from the sink planes first, then the window.
                                 {150, 1, 4, 2, 32, 40, 112, 4}, {300, 2, 2, 1, 64, 60, 128, 16},
                                 {97, 5, 3, 3, 16, 15, 32, 3},   {0, 40, 4, 2, 16, 5, 0, 2},
                                 {200, 9, 8, 2, 32, 20, 96, 17},  {50, 17, 4, 1, 64, 31, 0, 31},
                                 {500, 1, 12, 1, 64, 30, 96, 4},  {20, 7, 2, 2, 17, 10, 80, 8},
                                 {1000, 6, 4, 4, 128, 100, 176, 33}};

// Float cache, kv heads = heads: every cached variant gives every causal
// f32-attention variant's bits for the same rows (prefill through the cache
// and token by token give one run's result).
void check_cached_equals_causal() {
  const CacheCase cases[] = {{0, 1, 2, 2, 8}, {15, 1, 2, 2, 16}, {16, 1, 1, 1, 32}, {17, 3, 2, 2, 64},
                             {40, 1, 3, 3, 17}, {0, 37, 2, 2, 64}, {31, 2, 2, 2, 64}};
  for (size_t a = 0; a < kAttentionVariantCount; ++a) {
    const AttentionVariant& f = kAttentionVariants[a];
    if (!isa_supported(f.isa)) continue;
    for (size_t b = 0; b < kCachedAttentionVariantCount; ++b) {
      const CachedAttentionVariant& v = kCachedAttentionVariants[b];
      if (!isa_supported(v.isa)) continue;
      CAPTURE(f.name);
      CAPTURE(v.name);
      for (const CacheCase& c : cases) {
        CAPTURE(c.past);
        CAPTURE(c.S);
        CAPTURE(c.D);
        const size_t T = c.past + c.S, hid = c.H * c.D;
        const std::vector<float> qkv = random_floats(T * 3 * hid, uint32_t(T * 13 + c.D), -3.0f, 3.0f);
        std::vector<float> full(T * hid), s1(f.scratch_floats(T, c.D) + 1);
        AttentionMask causal;
        causal.causal = true;
        std::vector<KeyRange> r(attention_max_ranges(causal, T));
        f.fn(T, c.H, c.D, 0, c.H, 0, T, qkv.data(), full.data(), 1.0f / std::sqrt(float(c.D)), causal, r.data(),
             s1.data());
        const FilledCache fc(qkv, T, c.H, c.KV, c.D, false);
        const std::vector<float> got = run_cached(v.fn, c, qkv, fc.c);
        REQUIRE(first_difference(got.data(), full.data() + c.past * hid, got.size(), hid) == "");
      }
    }
  }
}

// A causal window is the same key set as f32-attention's causal + symmetric
// window (|i - j| <= w, j <= i); blocks start elsewhere (aligned vs at i - w),
// so the two agree to rounding, not bits.
void check_cached_window_against_f32() {
  for (const CacheCase c : {CacheCase{0, 70, 2, 2, 32, 5}, CacheCase{0, 100, 4, 4, 64, 31},
                            CacheCase{0, 64, 1, 1, 16, 0}, CacheCase{0, 90, 3, 3, 20, 16}}) {
    CAPTURE(c.window);
    const size_t T = c.S, hid = c.H * c.D;
    const std::vector<float> qkv = random_floats(T * 3 * hid, uint32_t(T + c.window), -3.0f, 3.0f);
    std::vector<float> want(T * hid), s1(kAttentionVariants[0].scratch_floats(T, c.D) + 1);
    AttentionMask m;
    m.window = int(c.window);
    m.causal = true;
    std::vector<KeyRange> r(attention_max_ranges(m, T));
    heed_f32_attention__scalar(T, c.H, c.D, 0, c.H, 0, T, qkv.data(), want.data(), 1.0f / std::sqrt(float(c.D)), m,
                               r.data(), s1.data());
    const FilledCache fc(qkv, T, c.H, c.KV, c.D, false);
    const std::vector<float> got = run_cached(heed_cached_attention__scalar, c, qkv, fc.c);
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, double(std::fabs(got[i] - want[i])));
    CHECK(worst < 1e-5);
    // And a window one shorter is a different result.
    CacheCase narrower = c;
    narrower.window = c.window + 1;
    const std::vector<float> other = run_cached(heed_cached_attention__scalar, narrower, qkv, fc.c);
    double diff = 0;
    for (size_t i = 0; i < got.size(); ++i) diff = std::max(diff, double(std::fabs(other[i] - got[i])));
    CHECK(diff > 1e-3);
  }
}

// Every cached variant equals the cached reference, float and int8 caches,
// grouped-query and multi-query heads.
void check_cached_variants() {
  const CachedAttentionVariant& ref = kCachedAttentionVariants[0];
  for (const CachedAttentionVariant* v : supported(kCachedAttentionVariants, kCachedAttentionVariantCount)) {
    CAPTURE(v->name);
    for (bool int8 : {false, true}) {
      for (const CacheCase& c : kCacheCases) {
        CAPTURE(int8);
        CAPTURE(c.past);
        CAPTURE(c.S);
        CAPTURE(c.H);
        CAPTURE(c.KV);
        CAPTURE(c.D);
        CAPTURE(c.window);
        CAPTURE(c.ring);
        CAPTURE(c.sinks);
        const size_t T = c.past + c.S;
        const std::vector<float> qkv =
            random_floats(T * (c.H + 2 * c.KV) * c.D, uint32_t(T * 31 + c.D + c.KV), -3.0f, 3.0f);
        const FilledCache fc(qkv, T, c.H, c.KV, c.D, int8, c.ring, c.sinks);
        const std::vector<float> want = run_cached(ref.fn, c, qkv, fc.c);
        if (c.ring) {  // the same keys from a cache that holds every position: the same bits
          const FilledCache all(qkv, T, c.H, c.KV, c.D, int8, 0, c.sinks);
          const std::vector<float> flat = run_cached(ref.fn, c, qkv, all.c);
          REQUIRE(first_difference(want.data(), flat.data(), want.size(), c.H * c.D) == "");
        }
        const std::vector<float> got = run_cached(v->fn, c, qkv, fc.c);
        REQUIRE(first_difference(got.data(), want.data(), got.size(), c.H * c.D) == "");
      }
    }
  }
}

// Attention sinks against their definition: query p (position past + i)
// attends to sink keys [0, min(k, jb)) with its sink row and to window keys
// [jb, p] with its query, one softmax over both, in double from the rows
// themselves; the reference (float cache) within rounding, float and int8.
void check_cached_sinks_against_definition() {
  const CacheCase cases[] = {{150, 1, 4, 2, 32, 40, 112, 4}, {0, 40, 4, 2, 16, 5, 0, 2},
                             {200, 9, 8, 2, 32, 20, 96, 17}, {97, 5, 3, 3, 16, 15, 32, 3}};
  for (const CacheCase& c : cases) {
    CAPTURE(c.past);
    CAPTURE(c.sinks);
    const size_t T = c.past + c.S, stride = (c.H + 2 * c.KV) * c.D, hid = c.H * c.D, group = c.H / c.KV;
    const std::vector<float> qkv = random_floats(T * stride, uint32_t(T * 31 + c.D + c.KV), -3.0f, 3.0f);
    const std::vector<float> qs = sink_rows(c);
    const FilledCache fc(qkv, T, c.H, c.KV, c.D, false, c.ring, c.sinks);
    const std::vector<float> got = run_cached(heed_cached_attention__scalar, c, qkv, fc.c);
    const double scale = 1.0 / std::sqrt(double(float(c.D)));
    double worst = 0.0;
    for (size_t i = 0; i < c.S; ++i)
      for (size_t h = 0; h < c.H; ++h) {
        const size_t p = c.past + i, jb = window_begin(p, c.window), se = std::min(jb, c.sinks), g = h / group;
        std::vector<size_t> keys;
        std::vector<double> sc;
        for (size_t j = 0; j < se; ++j) keys.push_back(j);
        for (size_t j = jb; j <= p; ++j) keys.push_back(j);
        double mx = -1e300;
        for (size_t n = 0; n < keys.size(); ++n) {
          const float* qv = n < se ? qs.data() + i * hid + h * c.D : qkv.data() + p * stride + h * c.D;
          const float* kv = qkv.data() + keys[n] * stride + (c.H + g) * c.D;
          double a = 0.0;
          for (size_t d = 0; d < c.D; ++d) a += double(qv[d]) * double(kv[d]);
          sc.push_back(a * scale);
          mx = std::max(mx, sc.back());
        }
        double sum = 0.0;
        for (double& x : sc) sum += (x = std::exp(x - mx));
        for (size_t d = 0; d < c.D; ++d) {
          double o = 0.0;
          for (size_t n = 0; n < keys.size(); ++n) o += sc[n] * double(qkv[keys[n] * stride + (c.H + c.KV + g) * c.D + d]);
          worst = std::max(worst, std::fabs(o / sum - double(got[i * hid + h * c.D + d])));
        }
      }
    CHECK(worst < 2e-5);
  }
}

}  // namespace

TEST_SUITE("fast") {

TEST_CASE("variants: cached attention over a float cache gives every causal attention variant's bits") {
  check_cached_equals_causal();
}

TEST_CASE("variants: cached attention equals the scalar reference bit for bit (float and int8 caches, GQA, MQA)") {
  check_cached_variants();
}

TEST_CASE("cached attention: a causal window equals f32-attention's causal window to rounding") {
  check_cached_window_against_f32();
}

TEST_CASE("variants: the cached comparison catches a wrong cache or variant") {
  const CacheCase c{17, 3, 4, 2, 64};
  const size_t T = c.past + c.S;
  const std::vector<float> qkv = random_floats(T * (c.H + 2 * c.KV) * c.D, 7, -3.0f, 3.0f);
  FilledCache fc(qkv, T, c.H, c.KV, c.D, true);
  const CachedAttentionFn ref = kCachedAttentionVariants[0].fn;
  const std::vector<float> want = run_cached(ref, c, qkv, fc.c);
  // One key scale one ulp up changes the output.
  fc.c.ks[3] = std::nextafter(fc.c.ks[3], 1.0f);
  CHECK(first_difference(run_cached(ref, c, qkv, fc.c).data(), want.data(), want.size(), c.H * c.D) != "");
  fc.c.ks[3] = std::nextafter(fc.c.ks[3], 0.0f);
  CHECK(first_difference(run_cached(ref, c, qkv, fc.c).data(), want.data(), want.size(), c.H * c.D) == "");
  // A variant whose value weights are off by about one ulp is caught.
  const CachedAttentionFn no_vs = [](size_t S, size_t past, size_t window, size_t H, size_t h0, size_t h1,
                                     const float* q, size_t qs, const float* sq, size_t sqs, const KvCache& k,
                                     float* out, size_t os, float scale, float* sc) {
    KvCache k2 = k;
    for (size_t i = 0; i < k.heads * k.cap; ++i) k2.vs[i] = k.vs[i] * 1.0000001f;
    heed_cached_attention__scalar(S, past, window, H, h0, h1, q, qs, sq, sqs, k2, out, os, scale, sc);
  };
  FilledCache fresh(qkv, T, c.H, c.KV, c.D, true);
  CHECK(first_difference(run_cached(no_vs, c, qkv, fresh.c).data(), want.data(), want.size(), c.H * c.D) != "");
}

TEST_CASE("cached attention: sinks see [0, k) with the sink rows and the window with the queries") {
  check_cached_sinks_against_definition();
}

TEST_CASE("variants: the cached comparison catches a variant scoring sinks with the query") {
  const CacheCase c{150, 3, 4, 2, 32, 40, 112, 4};
  const size_t T = c.past + c.S;
  const std::vector<float> qkv = random_floats(T * (c.H + 2 * c.KV) * c.D, 9, -3.0f, 3.0f);
  const FilledCache fc(qkv, T, c.H, c.KV, c.D, false, c.ring, c.sinks);
  const std::vector<float> want = run_cached(kCachedAttentionVariants[0].fn, c, qkv, fc.c);
  const CachedAttentionFn q_for_sinks = [](size_t S, size_t past, size_t window, size_t H, size_t h0, size_t h1,
                                           const float* q, size_t qs, const float*, size_t, const KvCache& k,
                                           float* out, size_t os, float scale, float* sc) {
    heed_cached_attention__scalar(S, past, window, H, h0, h1, q, qs, q, qs, k, out, os, scale, sc);
  };
  CHECK(first_difference(run_cached(q_for_sinks, c, qkv, fc.c).data(), want.data(), want.size(), c.H * c.D) != "");
  // And one sink key changed in the sink planes alone changes the output.
  FilledCache moved(qkv, T, c.H, c.KV, c.D, false, c.ring, c.sinks);
  static_cast<float*>(moved.c.sk)[5 * 16 + 2] += 0.5f;  // kv head 0, element 5, sink 2
  CHECK(first_difference(run_cached(kCachedAttentionVariants[0].fn, c, qkv, moved.c).data(), want.data(), want.size(),
                         c.H * c.D) != "");
}

TEST_CASE("kv cache: sink slots keep positions 0..k-1 while the ring wraps; sizes and layout") {
  const size_t H = 2, KV = 1, D = 8, T = 100, ring = 32, sinks = 5;
  const size_t stride = (H + 2 * KV) * D;
  const std::vector<float> qkv = random_floats(T * stride, 5, -2.0f, 2.0f);
  for (bool int8 : {false, true}) {
    CAPTURE(int8);
    CHECK(kv_cache_bytes(ring, KV, D, int8, sinks) == kv_cache_bytes(ring, KV, D, int8) + kv_cache_bytes(16, KV, D, int8));
    CHECK(kv_cache_bytes(ring, KV, D, int8, 17) == kv_cache_bytes(ring, KV, D, int8) + kv_cache_bytes(32, KV, D, int8));
    const FilledCache fc(qkv, T, H, KV, D, int8, ring, sinks);
    const KvCache& c = fc.c;
    CHECK(c.cap == ring);
    CHECK(c.sinks == sinks);
    CHECK(c.sink_cap == 16);
    CHECK(kv_cache_slots(c) == 48);
    const KvCache s = kv_cache_sinks(c);
    for (size_t j = 0; j < sinks; ++j)
      for (size_t d = 0; d < D; ++d) {
        CAPTURE(j);
        const float want_k = qkv[j * stride + H * D + d], want_v = qkv[j * stride + (H + KV) * D + d];
        if (int8) {
          const float k = float(static_cast<const int8_t*>(s.k)[d * 16 + j]) * s.ks[j];
          const float v = float(static_cast<const int8_t*>(s.v)[j * D + d]) * s.vs[j];
          CHECK(std::fabs(k - want_k) <= 0.5f * s.ks[j] * 1.0001f);
          CHECK(std::fabs(v - want_v) <= 0.5f * s.vs[j] * 1.0001f);
        } else {
          CHECK(static_cast<const float*>(s.k)[d * 16 + j] == want_k);
          CHECK(static_cast<const float*>(s.v)[j * D + d] == want_v);
        }
      }
    // The ring's slot of position 0 now holds position 96 (100 positions, 32 slots).
    if (!int8) CHECK(static_cast<const float*>(c.k)[0] == qkv[96 * stride + H * D]);
  }
}

TEST_CASE("kv cache: int8 rows dequantize within half a step; zeros and non-finite heads are marked") {
  const size_t D = 24, KV = 2, H = 2;
  std::vector<float> qkv = random_floats(3 * (H + 2 * KV) * D, 11, -5.0f, 5.0f);
  const size_t stride = (H + 2 * KV) * D;
  for (size_t d = 0; d < D; ++d) qkv[1 * stride + H * D + d] = 0.0f;  // row 1, key head 0: zeros
  qkv[2 * stride + (H + KV) * D + D + 5] = NAN;                        // row 2, value head 1: a NaN
  FilledCache fc(qkv, 3, H, KV, D, true);
  const KvCache& c = fc.c;
  const int8_t* k8 = static_cast<const int8_t*>(c.k);
  for (size_t j = 0; j < 3; ++j)
    for (size_t g = 0; g < KV; ++g) {
      CAPTURE(j);
      CAPTURE(g);
      const float* x = qkv.data() + j * stride + (H + g) * D;
      const float s = c.ks[g * c.cap + j];
      if (j == 1 && g == 0) {
        CHECK(s == 0.0f);
        continue;
      }
      int amax = 0;
      for (size_t d = 0; d < D; ++d) {
        const int q = k8[((g * (c.cap / 16) + j / 16) * D + d) * 16 + j % 16];
        amax = std::max(amax, std::abs(q));
        CHECK(std::fabs(float(q) * s - x[d]) <= 0.5f * s * 1.0001f);
      }
      CHECK(amax == 127);
    }
  CHECK(std::isnan(c.vs[1 * c.cap + 2]));
  CHECK(c.vs[0 * c.cap + 2] > 0.0f);
}

TEST_CASE("variants: quantize equals the scalar reference bit for bit (reduced grid)") {
  check_quantize({1, 3, 8}, {1, 3, 4, 5, 17, 31, 32, 33, 100, 384});
}

TEST_CASE("variants: layernorm equals the scalar reference bit for bit") {
  check_layernorm({1, 3, 8}, {1, 5, 15, 16, 17, 31, 32, 33, 100, 384});
}

TEST_CASE("variants: rmsnorm equals the scalar reference bit for bit") {
  check_rmsnorm({1, 3, 8, 64}, {1, 5, 15, 16, 17, 31, 32, 33, 100, 384});
}

TEST_CASE("variants: gelu, tanh, gelu_tanh and swiglu equal the scalar reference bit for bit") { check_activation(1); }

TEST_CASE("variants: attention equals the scalar reference bit for bit") { check_attention(kAttentionCases); }

// The op sizes its scratch by attention_key_span: no block of
// attention_query_block queries may see more keys.
TEST_CASE("attention: the key span bounds every query block's keys") {
  for (size_t S : {1, 2, 127, 128, 129, 300, 1000, 4097}) {
    for (int32_t w : {-1, 0, 1, 15, 16, 64, 256, 5000}) {
      for (bool causal : {false, true}) {
        CAPTURE(S);
        CAPTURE(w);
        CAPTURE(causal);
        AttentionMask m;
        m.window = w;
        m.causal = causal;
        const size_t qb = attention_query_block(S, m), span = attention_key_span(S, m);
        CHECK(span <= S);
        CHECK(qb == (w >= 0 && S > kAttentionQueryBlock ? kAttentionQueryBlock : S));
        size_t most = 0;
        for (size_t q0 = 0; q0 < S; q0 += qb) {
          size_t kb, ke;
          attention_query_keys(S, q0, std::min(S, q0 + qb), m, &kb, &ke);
          REQUIRE(kb % 16 == 0);
          // Every key a query of the block sees is inside [kb, ke).
          for (size_t i = q0; i < std::min(S, q0 + qb); ++i) {
            size_t jb, je;
            attention_key_range(S, i, m, &jb, &je);
            REQUIRE(kb <= jb);
            REQUIRE(je <= ke);
          }
          most = std::max(most, ke - kb);
        }
        CHECK(most <= span);
      }
    }
  }
}


TEST_CASE("variants: every variant table starts with its scalar reference") {
  CHECK(kQs8GemmVariants[0].isa == Isa::kScalar);
  CHECK(kF32GemmVariants[0].isa == Isa::kScalar);
  CHECK(kQuantizeVariants[0].isa == Isa::kScalar);
  CHECK(kLayerNormVariants[0].isa == Isa::kScalar);
  CHECK(kActivationVariants[0].isa == Isa::kScalar);
  CHECK(kAttentionVariants[0].isa == Isa::kScalar);
  CHECK(kCachedAttentionVariants[0].isa == Isa::kScalar);
  for (size_t i = 0; i < kQs8GemmVariantCount; ++i) CHECK(kQs8GemmVariants[i].nr % kPanelN == 0);
  CHECK((kQs8GemvVariants[0].fn == kQs8GemmVariants[0].fn));
  for (size_t i = 0; i < kQs8GemvVariantCount; ++i) CHECK(kQs8GemvVariants[i].nr % kPanelN == 0);
  for (size_t i = 0; i < kF32GemmVariantCount; ++i) CHECK(kF32GemmVariants[i].nr % kPanelN == 0);
}

TEST_CASE("variants: qs8 gemm equals the scalar reference bit for bit (reduced grid)") {
  check_qs8({1, 3, 4, 5, 8, 9, 17}, {1, 15, 16, 17, 33, 64, 65}, {1, 3, 4, 5, 31, 32, 33, 100, 384});
}

TEST_CASE("variants: qs8 gemv (M = 1) equals the scalar reference bit for bit") {
  check_qs8_gemv({1, 2}, {1, 15, 16, 17, 31, 33, 48, 63, 64, 65, 100, 129},
                 {1, 3, 4, 5, 31, 32, 33, 36, 100, 384, 772});
}

TEST_CASE("variants: qs8 gemv on the fully connected shapes of GPT-2 small") {
  // K x N: 768 x 2304 (qkv), 768 x 768, 768 x 3072, 3072 x 768, 768 x 50257 (lm head).
  for (const Qs8GemmVariant* v : supported(kQs8GemvVariants, kQs8GemvVariantCount)) {
    CAPTURE(v->name);
    for (auto [N, K] : {std::pair<size_t, size_t>{2304, 768}, {768, 768}, {3072, 768}, {768, 3072}, {50257, 768}}) {
      CAPTURE(N);
      CAPTURE(K);
      REQUIRE(compare_qs8_gemm(*v, kQs8GemmVariants[0], Qs8Problem(1, N, K, 32, uint32_t(N + K))) == "");
    }
  }
}

TEST_CASE("variants: qs8 gemv at the int8 extremes") {
  for (const Qs8GemmVariant* v : supported(kQs8GemvVariants, kQs8GemvVariantCount)) {
    CAPTURE(v->name);
    for (size_t K : {size_t(4096), size_t(65536)}) {
      const Qs8Problem p(1, 33, K, K, 7, true);
      REQUIRE(compare_qs8_gemm(*v, kQs8GemmVariants[0], p) == "");
      const std::vector<float> y = run_qs8_gemm(*v, p, 0, false);
      REQUIRE(y[0] == float(int32_t(127 * 127) * int32_t(K)) * (p.xs[0] * p.ws[0]));
    }
  }
}

TEST_CASE("variants: the gemv comparison catches perturbed copies of every gemv kernel") {
  // Each real one-row kernel passes above; wrapped so that it is wrong in one
  // place, the same comparison fails on an odd shape (N = 33, K = 101).
  for (const Qs8GemmVariant* v : supported(kQs8GemvVariants, kQs8GemvVariantCount)) {
    CAPTURE(v->name);
    g_perturbed = v->fn;
    const Qs8Problem p(1, 33, 101, 32, 17);
    REQUIRE(compare_qs8_gemm(*v, kQs8GemmVariants[0], p) == "");
    for (Qs8GemmUkernel wrong : {gemv_ulp_in_remainder, gemv_drops_last_group, gemv_last_scale}) {
      Qs8GemmVariant w = *v;
      w.fn = wrong;
      CHECK(compare_qs8_gemm(w, kQs8GemmVariants[0], p) != "");
    }
  }
  g_perturbed = nullptr;
}

TEST_CASE("variants: qs8 gemm at the int8 extremes (K = 65536 would overflow int16, not int32)") {
  for (const Qs8GemmVariant* v : supported(kQs8GemmVariants, kQs8GemmVariantCount)) {
    CAPTURE(v->name);
    for (size_t K : {size_t(4096), size_t(65536)}) {
      const Qs8Problem p(3, 17, K, K, 7, true);
      REQUIRE(compare_qs8_gemm(*v, kQs8GemmVariants[0], p) == "");
      const std::vector<float> y = run_qs8_gemm(*v, p, 0, false);
      REQUIRE(y[0] == float(int32_t(127 * 127) * int32_t(K)) * (p.xs[0] * p.ws[0]));
    }
  }
}

TEST_CASE("variants: f32 gemm equals the scalar reference bit for bit (reduced grid)") {
  check_f32({1, 3, 4, 5, 8, 9, 17}, {1, 15, 16, 17, 33, 64, 65}, {1, 3, 4, 5, 17, 100, 384});
}

// Long K: the drivers' row blocks hold 32 rows, so 75 rows run in three.
TEST_CASE("variants: gemms over several row blocks equal the scalar reference") {
  check_qs8({75}, {33}, {4096});
  check_f32({75}, {33}, {1000});
}

TEST_CASE("variants: the comparison catches a wrong variant") {
  // The same check that passes every shipped variant fails these, on a plain
  // shape: so a pass above means bit-identical, not "close".
  const Qs8GemmVariant wrong_qs8 = {"qs8 unfused (wrong on purpose)", Isa::kScalar, 4, 16, false, false, qs8_unfused};
  const Qs8Problem p(5, 33, 384, 32, 99);
  CHECK(compare_qs8_gemm(wrong_qs8, kQs8GemmVariants[0], p) != "");
  const F32GemmVariant wrong_f32 = {"f32 unfused (wrong on purpose)", Isa::kScalar, 4, 16, f32_unfused};
  const F32Problem f(5, 33, 384, 99);
  CHECK(compare_f32_gemm(wrong_f32, kF32GemmVariants[0], f) != "");
  // And a variant that is right except for its last tile's remainder.
  const Qs8GemmVariant truncating = {"drops the last column", Isa::kScalar, 4, 16, false, false, [](const Qs8GemmParams& a) {
                                       Qs8GemmParams b = a;
                                       if (b.nc > 1) b.nc -= 1;
                                       heed_qs8_qc8w_gemm_f32_ukernel_4x16c4__scalar(b);
                                     }};
  CHECK(compare_qs8_gemm(truncating, kQs8GemmVariants[0], Qs8Problem(3, 17, 64, 32, 5)) != "");
  // An attention variant that ignores a ranged mask's global tokens.
  const AttentionCase c{61, 1, 16, 5, false, 0, {0, 9, 10, 40}};
  const std::vector<float> qkv = random_floats(c.S * 3 * c.D, 4, -3.0f, 3.0f);
  std::vector<float> o1(c.S * c.D), o2(c.S * c.D), scratch(c.D);
  const AttentionMask m = c.mask();
  AttentionMask no_globals = m;
  no_globals.num_global_positions = 0;
  std::vector<KeyRange> r(attention_max_ranges(m, c.S));
  kAttentionVariants[0].fn(c.S, 1, c.D, 0, 1, 0, c.S, qkv.data(), o1.data(), 0.25f, m, r.data(), scratch.data());
  kAttentionVariants[0].fn(c.S, 1, c.D, 0, 1, 0, c.S, qkv.data(), o2.data(), 0.25f, no_globals, r.data(),
                           scratch.data());
  CHECK(first_difference(o2.data(), o1.data(), o1.size(), c.D) != "");
}

}  // TEST_SUITE("fast")

TEST_SUITE("slow") {

TEST_CASE("variants: qs8 gemm, full grid") { check_qs8(kFullGrid, kFullGrid, kFullGrid); }

TEST_CASE("variants: f32 gemm, full grid") { check_f32(kFullGrid, kFullGrid, kFullGrid); }

TEST_CASE("variants: quantize, full grid") { check_quantize(kFullGrid, kFullGrid); }

TEST_CASE("variants: layernorm, full grid") { check_layernorm(kFullGrid, kFullGrid); }

TEST_CASE("variants: rmsnorm, full grid") { check_rmsnorm(kFullGrid, kFullGrid); }

TEST_CASE("variants: gelu and tanh, a million values") { check_activation(250); }

TEST_CASE("variants: attention, long sequences and windows") {
  check_attention({{257, 2, 64, -1, false}, {300, 1, 32, 31, true}, {513, 1, 32, 64, false},
                   {1025, 2, 64, 128, false, 4}, {2049, 1, 32, -1, false, 2, {1000, 1500}, 64, 1, 1, 0, 3},
                   {1000, 1, 64, -1, false, 0, {}, 63, 1, 0, 4, 2}});
}

}  // TEST_SUITE("slow")
