// The scalar references against straightforward double-precision (or exact
// integer) formulas. The SIMD variants are then held to the references bit
// for bit (variants-test.cc).
#include <doctest/doctest.h>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/dispatch.h"
#include "kernels/kernel-harness.h"
#include "kernels/math/f32-math.h"

using namespace heed;
using namespace heed::test;

namespace {

// Shapes that hit the edges: 1, below/at/above the 16-lane width, M not a
// multiple of 4 (the reference's row block), and the MiniLM sizes.
const size_t kM[] = {1, 2, 3, 4, 5, 7, 13};
const size_t kN[] = {1, 3, 16, 17, 33};
const size_t kK[] = {1, 7, 15, 16, 17, 31, 64, 100, 384};

const Qs8GemmVariant& qs8_ref() { return kQs8GemmVariants[0]; }
const F32GemmVariant& f32_ref() { return kF32GemmVariants[0]; }

// Dynamic (scale 0) or static quantization of x [M, K] with the reference.
void quantize_ref(size_t M, size_t K, size_t block, const float* x, const float* smooth, float static_scale, int8_t* q,
                  float* s) {
  QuantizeParams p{M, K, K, block, x, K, smooth, static_scale, q, K, s, 0};
  kQuantizeVariants[0].fn(p);
}

// Error of y in ulps of the exact value ref (the spacing of floats at |ref|;
// 2^-149 below 2^-126). Infinite ref or y: 0 if equal, else huge.
double ulp_error(float y, double ref) {
  if (std::isinf(ref) || std::isinf(y)) return double(y) == ref ? 0.0 : 1e30;
  const double a = std::fabs(ref);
  double ulp = 0x1p-149;
  if (a >= 0x1p-126) {
    int e;
    std::frexp(a, &e);  // a = f * 2^e, f in [0.5, 1)
    ulp = std::ldexp(1.0, e - 24);
  }
  return std::fabs(double(y) - ref) / ulp;
}

struct MathErrors {
  double exp = 0, erf = 0, tanh = 0;
  float exp_at = 0, erf_at = 0, tanh_at = 0;
  size_t exp_n = 0, n = 0;
};

// Every `stride`-th float bit pattern (NaNs skipped), every `fine`-th one in
// [-10, 10], and the `near` floats on either side of each branch point and
// range edge. exp is held to values whose exact result is a normal
// float (below that it returns +0 by definition, checked separately);
// erf skips subnormal x (it returns +-0 there by definition).
MathErrors math_sweep(uint32_t stride, uint32_t fine, int near) {
  MathErrors e;
  auto one = [&](float x) {
    if (x != x) return;
    const double rx = std::exp(double(x));
    if (rx >= 0x1p-126) {
      const double err = ulp_error(f32_exp(x), rx > 3.4028234663852886e38 * (1 + 0x1p-25) ? INFINITY : rx);
      if (err > e.exp) e.exp = err, e.exp_at = x;
      ++e.exp_n;
    }
    if (!(std::fabs(x) < 0x1p-126f)) {
      const double err = ulp_error(f32_erf(x), std::erf(double(x)));
      if (err > e.erf) e.erf = err, e.erf_at = x;
    }
    const double err = ulp_error(f32_tanh(x), std::tanh(double(x)));
    if (err > e.tanh) e.tanh = err, e.tanh_at = x;
    ++e.n;
  };
  for (uint64_t b = 0; b < (uint64_t(1) << 32); b += stride) one(f32_from_bits(uint32_t(b)));
  for (float c : {0.875f, 1.0f, 4.0f, 0x1p-12f, 0.3466f, -87.3365f, 88.7228f, -88.0f}) {
    float x = c, y = c;
    for (int n = 0; n < near; ++n) x = std::nextafter(x, 1e30f), y = std::nextafter(y, -1e30f), one(x), one(-x), one(y), one(-y);
  }
  for (uint32_t b = 0; b < f32_bits(10.0f); b += fine) one(f32_from_bits(b)), one(-f32_from_bits(b));
  return e;
}

// Measured over every float (x86, while writing f32-math.h): exp 0.891 ulp
// (at -5.8487, over [-87.3365, 88.7228]), erf 1.112 (at 0.8921), tanh 1.027
// (at 1.0037). The tests hold the sweeps to these maxima, rounded up.
constexpr double kExpMaxUlp = 0.9, kErfMaxUlp = 1.12, kTanhMaxUlp = 1.03;

void check_math(uint32_t stride, uint32_t fine, int near) {
  const MathErrors e = math_sweep(stride, fine, near);
  MESSAGE("max ulp over " << e.n << " floats: exp " << e.exp << " (at " << e.exp_at << "), erf " << e.erf << " (at "
                          << e.erf_at << "), tanh " << e.tanh << " (at " << e.tanh_at << ")");
  CHECK(e.exp_n > e.n / 2);
  CHECK(e.exp <= kExpMaxUlp);
  CHECK(e.erf <= kErfMaxUlp);
  CHECK(e.tanh <= kTanhMaxUlp);
}

uint32_t bits_of(float x) { return f32_bits(x); }

}  // namespace

TEST_SUITE("fast") {

TEST_CASE("math: f32_exp f32_erf f32_tanh within their ulp bounds of double libm (sparse sweep)") {
  check_math(65537, 4099, 4000);
}

TEST_CASE("math: special values and underflow and overflow are explicit") {
  const uint32_t nan = 0x7fc00000u;
  for (float x : {NAN, -NAN, f32_from_bits(0x7f800001u), f32_from_bits(0xffc12345u)}) {
    CHECK(bits_of(f32_exp(x)) == nan);
    CHECK(bits_of(f32_erf(x)) == nan);
    CHECK(bits_of(f32_tanh(x)) == nan);
    CHECK(bits_of(f32_gelu(x)) == nan);
  }
  CHECK(f32_exp(0.0f) == 1.0f);
  CHECK(f32_exp(-0.0f) == 1.0f);
  CHECK(f32_exp(1e-45f) == 1.0f);
  CHECK(bits_of(f32_exp(-INFINITY)) == 0u);
  CHECK(f32_exp(INFINITY) == INFINITY);
  CHECK(f32_exp(88.72283f) < INFINITY);
  CHECK(f32_exp(88.7229f) == INFINITY);
  CHECK(f32_exp(1e30f) == INFINITY);
  CHECK(bits_of(f32_exp(-1e30f)) == 0u);
  // Below 2^-126 the result is +0, never a subnormal; above, a normal float.
  for (float x = -87.5f; x < -87.0f; x = std::nextafter(x, 0.0f)) {
    const float y = f32_exp(x);
    REQUIRE((bits_of(y) == 0u || y >= 0x1p-126f));
    REQUIRE((y == 0.0f) == (std::exp(double(x)) < 0x1p-126 * (1 - 0x1p-24)));
  }
  CHECK(f32_erf(INFINITY) == 1.0f);
  CHECK(f32_erf(-INFINITY) == -1.0f);
  CHECK(f32_erf(4.5f) == 1.0f);
  CHECK(bits_of(f32_erf(-0.0f)) == 0x80000000u);
  CHECK(bits_of(f32_erf(-1e-40f)) == 0x80000000u);  // subnormal x: +-0
  CHECK(bits_of(f32_erf(1e-40f)) == 0u);
  CHECK(f32_tanh(INFINITY) == 1.0f);
  CHECK(f32_tanh(-INFINITY) == -1.0f);
  CHECK(f32_tanh(-12.0f) == -1.0f);
  CHECK(bits_of(f32_tanh(-0.0f)) == 0x80000000u);
  CHECK(f32_tanh(1e-40f) == 1e-40f);  // tiny x: x itself, subnormals kept
  CHECK(f32_tanh(-3e-4f) == -3e-4f);
  CHECK(f32_gelu(INFINITY) == INFINITY);
  CHECK(bits_of(f32_gelu(-INFINITY)) == 0x80000000u);
  CHECK(bits_of(f32_gelu(-6.0f)) == 0x80000000u);
  CHECK(bits_of(f32_gelu(-1e-45f)) == 0x80000000u);  // below 2^-126: 0 of its sign
  CHECK(bits_of(f32_gelu(2e-38f)) == 0u);
  CHECK(f32_gelu(4e-38f) == 2e-38f);
}

TEST_CASE("math: every activation variant reproduces f32_gelu and f32_tanh on a float sweep") {
  // All of f32-math-<isa>.h is reached: gelu runs erf (both branches, hence
  // exp on negative arguments) and tanh runs exp on [-inf, -2].
  std::vector<float> x;
  for (uint64_t b = 0; b < (uint64_t(1) << 32); b += 65521) x.push_back(f32_from_bits(uint32_t(b)));
  for (uint32_t b = 0; b < f32_bits(12.0f); b += 4099) x.push_back(f32_from_bits(b)), x.push_back(-f32_from_bits(b));
  for (float c : {0.875f, 1.0f, 4.0f, 0x1p-12f, 5.4f, 0x1p-126f})
    for (float v = c, n = 0; n < 300; ++n) v = std::nextafter(v, 0.0f), x.push_back(v), x.push_back(-v);
  for (float v : {INFINITY, -INFINITY, NAN, 1e-45f, -1e-45f, 3e38f, -3e38f, 0.0f, -0.0f}) x.push_back(v);
  std::vector<float> want(x.size()), got(x.size());
  for (size_t i = 0; i < x.size(); ++i) want[i] = f32_gelu(x[i]);
  for (size_t v = 0; v < kActivationVariantCount; ++v) {
    if (!isa_supported(kActivationVariants[v].isa)) continue;
    CAPTURE(kActivationVariants[v].name);
    kActivationVariants[v].gelu(x.size(), x.data(), got.data());
    REQUIRE(first_difference(got.data(), want.data(), x.size(), x.size()) == "");
  }
  for (size_t i = 0; i < x.size(); ++i) want[i] = f32_tanh(x[i]);
  for (size_t v = 0; v < kActivationVariantCount; ++v) {
    if (!isa_supported(kActivationVariants[v].isa)) continue;
    CAPTURE(kActivationVariants[v].name);
    kActivationVariants[v].tanh(x.size(), x.data(), got.data());
    REQUIRE(first_difference(got.data(), want.data(), x.size(), x.size()) == "");
  }
}

// The reference's output of p within 1e-6 relative of a double-precision sum.
void require_f32_gemm_close(const F32Problem& p) {
  const size_t M = p.M, N = p.N, K = p.K;
  const std::vector<float> y = run_f32_gemm(f32_ref(), p);
  for (size_t m = 0; m < M; ++m)
    for (size_t n = 0; n < N; ++n) {
      double ref = p.bias[n], mag = std::fabs(p.bias[n]);
      for (size_t k = 0; k < K; ++k) {
        ref += double(p.x[m * K + k]) * double(p.w[n * K + k]);
        mag += std::fabs(double(p.x[m * K + k]) * double(p.w[n * K + k]));
      }
      REQUIRE(std::fabs(y[m * N + n] - ref) <= 1e-6 * mag + 1e-6);
    }
}

TEST_CASE("f32 gemm matches a double-precision reference") {
  for (size_t M : kM)
    for (size_t N : kN)
      for (size_t K : kK) require_f32_gemm_close(F32Problem(M, N, K, uint32_t(M * 131 + N * 17 + K)));
}

TEST_CASE("f32 gemm: one fused multiply-add per k, in ascending order, from the bias") {
  const F32Problem p(3, 20, 37, 5);
  const std::vector<float> y = run_f32_gemm(f32_ref(), p);
  for (size_t m = 0; m < p.M; ++m)
    for (size_t n = 0; n < p.N; ++n) {
      float acc = p.bias[n];
      for (size_t k = 0; k < p.K; ++k) acc = std::fma(p.x[m * p.K + k], p.w[n * p.K + k], acc);
      REQUIRE(std::memcmp(&acc, &y[m * p.N + n], sizeof(float)) == 0);
    }
}

TEST_CASE("dynamic row quantization: scale, rounding half to even, zero rows") {
  const float x[8] = {-1.0f, 0.5f, 0.25f, 1.0f / 254.0f, 0.0f, 3.0f / 254.0f, -1.0f / 254.0f, 0.9f};
  int8_t q[8];
  float s;
  quantize_ref(1, 8, 8, x, nullptr, 0.0f, q, &s);
  CHECK(s == doctest::Approx(1.0f / 127.0f));
  CHECK(q[0] == -127);
  CHECK(q[1] == 64);   // 63.5 -> 64 (even)
  CHECK(q[2] == 32);   // 31.75
  CHECK(q[3] == 0);    // 0.5 -> 0 (even)
  CHECK(q[5] == 2);    // 1.5 -> 2 (even)
  CHECK(q[6] == 0);    // -0.5 -> -0 (even)
  const float zeros[4] = {0, 0, 0, 0};
  int8_t qz[4] = {1, 1, 1, 1};
  quantize_ref(1, 4, 4, zeros, nullptr, 0.0f, qz, &s);
  CHECK(s == 0.0f);
  for (int8_t v : qz) CHECK(v == 0);
}

TEST_CASE("static quantization clamps to [-127, 127]") {
  const float x[4] = {-10.0f, 10.0f, 0.26f, -0.26f};
  int8_t q[4];
  float s;
  quantize_ref(1, 4, 4, x, nullptr, 0.01f, q, &s);
  CHECK(q[0] == -127);
  CHECK(q[1] == 127);
  CHECK(q[2] == 26);
  CHECK(q[3] == -26);
  CHECK(s == 0.01f);
}

TEST_CASE("block quantization: one scale per block, smoothing multiplies first") {
  auto x = random_floats(3 * 70, 41);
  auto sm = random_floats(70, 42, 0.5f, 2.0f);
  for (size_t block : {1, 7, 32, 64, 70}) {
    const size_t nb = (70 + block - 1) / block;
    std::vector<int8_t> q(3 * 70);
    std::vector<float> s(3 * nb);
    quantize_ref(3, 70, block, x.data(), sm.data(), 0.0f, q.data(), s.data());
    for (size_t m = 0; m < 3; ++m)
      for (size_t b = 0; b < nb; ++b) {
        float absmax = 0;
        for (size_t k = b * block; k < std::min<size_t>(70, (b + 1) * block); ++k)
          absmax = std::max(absmax, std::fabs(x[m * 70 + k] * sm[k]));
        REQUIRE(s[m * nb + b] == absmax / 127.0f);
        for (size_t k = b * block; k < std::min<size_t>(70, (b + 1) * block); ++k) {
          const float v = x[m * 70 + k] * sm[k] * (127.0f / absmax);
          REQUIRE(q[m * 70 + k] == int8_t(std::nearbyint(v)));
          // Dequantized value within half a step of the smoothed input.
          REQUIRE(std::fabs(q[m * 70 + k] * s[m * nb + b] - x[m * 70 + k] * sm[k]) <= 0.5001f * s[m * nb + b]);
        }
      }
  }
}

TEST_CASE("quantize: rows are padded to whole groups of 4, and XOR 0x80 gives x + 128") {
  const float x[5] = {1.0f, -1.0f, 0.5f, 0.0f, 0.25f};
  int8_t q[16];
  float s;
  for (uint8_t mask : {uint8_t(0), uint8_t(0x80)}) {
    std::memset(q, 0x55, sizeof q);
    QuantizeParams p{1, 5, 8, 5, x, 5, nullptr, 0.0f, q, 8, &s, mask};
    kQuantizeVariants[0].fn(p);
    const int expect[8] = {127, -127, 64, 0, 32, 0, 0, 0};
    for (int k = 0; k < 8; ++k) CHECK(uint8_t(q[k]) == uint8_t(uint8_t(expect[k]) ^ mask));
    CHECK(q[8] == 0x55);  // nothing past kp
  }
}

// The reference's output of p equals the documented formula bit for bit.
void require_qs8_gemm_formula(const Qs8Problem& p) {
  const size_t M = p.M, N = p.N, K = p.K, block = p.block;
  const std::vector<float> y = run_qs8_gemm(qs8_ref(), p);
  for (size_t m = 0; m < M; ++m)
    for (size_t n = 0; n < N; ++n) {
      float acc = 0.0f;
      for (size_t bb = 0; bb < p.nb; ++bb) {
        int64_t isum = 0;
        for (size_t k = bb * block; k < std::min(K, (bb + 1) * block); ++k)
          isum += int64_t(p.x[m * K + k]) * int64_t(p.w[n * K + k]);
        acc = std::fma(float(isum), p.xs[m * p.nb + bb] * p.ws[n * p.nb + bb], acc);
      }
      const float expect = acc + p.bias[n];
      REQUIRE(std::memcmp(&expect, &y[m * N + n], sizeof(float)) == 0);
    }
}

TEST_CASE("qs8 x qc8w gemm: exact int32 block sums, documented float order") {
  for (size_t M : kM)
    for (size_t N : kN)
      for (size_t K : kK)
        for (size_t block : {size_t(4), size_t(16), size_t(32), K}) {
          if (block > K) continue;
          require_qs8_gemm_formula(Qs8Problem(M, N, K, block, 11 + uint32_t(M * 3 + N * 5 + K)));
        }
}

// The drivers' row blocks: with a long K a block holds few rows, so these
// GEMMs run in three blocks, the last one short (a driver that dropped or
// repeated a block, or mis-offset one, leaves rows unwritten or wrong).
TEST_CASE("gemm drivers: rows in several blocks equal the formula") {
  const size_t M = 75;
  const size_t qrows = qs8_gemm_block_rows(qs8_ref(), 4096), frows = f32_gemm_block_rows(f32_ref(), 1000);
  CHECK(qrows == kGemmRowBlockBytes / 4096);
  CHECK(frows == kGemmRowBlockBytes / 4000 / 4 * 4);
  REQUIRE((M + qrows - 1) / qrows == 3);
  REQUIRE((M + frows - 1) / frows == 3);
  require_qs8_gemm_formula(Qs8Problem(M, 20, 4096, 32, 5));
  require_qs8_gemm_formula(Qs8Problem(M, 33, 4096, 4096, 6));
  require_f32_gemm_close(F32Problem(M, 20, 1000, 7));
}

TEST_CASE("qs8 gemm at the int8 extremes does not overflow") {
  const size_t K = 4096;
  Qs8Problem p(1, 1, K, K, 1, true);
  p.xs = {1.0f};
  p.ws = {1.0f};
  const std::vector<float> y = run_qs8_gemm(qs8_ref(), p, 0, false);
  CHECK(y[0] == float(int64_t(127 * 127) * int64_t(K)));
}

TEST_CASE("packed weight layouts: every element lands where weight-layout.h says") {
  for (size_t N : {1, 15, 16, 17, 33})
    for (size_t K : {1, 3, 4, 5, 9, 64}) {
      const std::vector<int8_t> w = random_i8(N * K, uint32_t(N * 7 + K));
      std::vector<int8_t> packed(qs8_packed_bytes(N, K), 99);
      qs8_pack_weights(N, K, w.data(), packed.data());
      size_t nonzero_pad = 0;
      for (size_t n = 0; n < panels_of(N) * kPanelN; ++n)
        for (size_t k = 0; k < padded_k(K); ++k) {
          const int8_t v = qs8_packed_at(packed.data(), K, n, k);
          if (n < N && k < K) REQUIRE(v == w[n * K + k]);
          else nonzero_pad += v != 0;
        }
      CHECK(nonzero_pad == 0);
      const std::vector<float> f = random_floats(N * K, 3);
      std::vector<float> fp(f32_packed_floats(N, K), 9.0f);
      f32_pack_weights(N, K, f.data(), fp.data());
      for (size_t n = 0; n < N; ++n)
        for (size_t k = 0; k < K; ++k) REQUIRE(f32_packed_at(fp.data(), K, n, k) == f[n * K + k]);
    }
}

TEST_CASE("layernorm matches a double-precision reference, with and without residual") {
  for (size_t N : {1, 5, 16, 33, 384}) {
    const size_t M = 3;
    auto x = random_floats(M * N, uint32_t(N));
    auto r = random_floats(M * N, uint32_t(N) + 1);
    auto g = random_floats(N, 5, 0.5f, 1.5f);
    auto b = random_floats(N, 6);
    for (bool with_res : {false, true}) {
      std::vector<float> y(M * N);
      kLayerNormVariants[0].fn(M, N, x.data(), with_res ? r.data() : nullptr, g.data(), b.data(), 1e-5f, y.data());
      for (size_t m = 0; m < M; ++m) {
        double mean = 0, var = 0;
        std::vector<double> v(N);
        for (size_t k = 0; k < N; ++k) mean += v[k] = double(x[m * N + k]) + (with_res ? double(r[m * N + k]) : 0.0);
        mean /= double(N);
        for (size_t k = 0; k < N; ++k) var += (v[k] - mean) * (v[k] - mean);
        var /= double(N);
        for (size_t k = 0; k < N; ++k) {
          const double ref = (v[k] - mean) / std::sqrt(var + 1e-5) * g[k] + b[k];
          REQUIRE(std::fabs(y[m * N + k] - ref) <= 2e-5 * (1 + std::fabs(ref)));
        }
      }
    }
  }
}

TEST_CASE("layernorm works in place") {
  auto x = random_floats(2 * 40, 9);
  auto g = random_floats(40, 10);
  auto b = random_floats(40, 11);
  std::vector<float> out(2 * 40), inplace = x;
  kLayerNormVariants[0].fn(2, 40, x.data(), nullptr, g.data(), b.data(), 1e-12f, out.data());
  kLayerNormVariants[0].fn(2, 40, inplace.data(), nullptr, g.data(), b.data(), 1e-12f, inplace.data());
  CHECK(std::memcmp(out.data(), inplace.data(), out.size() * sizeof(float)) == 0);
}

// Subnormal corners: AArch32 NEON flushes subnormal inputs and results to
// zero, so its variants must notice where that could matter and fall back
// (see the __neon files); x86 and AArch64 must simply agree. Every variant on
// this CPU against the reference, bit for bit, on inputs full of subnormals,
// zeros, tiny normals, cancellations and huge score gaps.
TEST_CASE("variants: subnormal and zero corners agree with the reference") {
  std::mt19937 rng(77);
  auto tiny = [&](size_t n, float scale, int zero_every) {
    std::vector<float> v = random_floats(n, uint32_t(rng()), -1.0f, 1.0f);
    for (size_t i = 0; i < n; ++i) {
      v[i] *= scale * float(1u << (rng() % 24));
      if (zero_every && i % size_t(zero_every) == 0) v[i] = (i & 1) ? -0.0f : 0.0f;
    }
    return v;
  };
  {  // layernorm
    const size_t M = 6, N = 37;
    std::vector<float> x = tiny(M * N, 1e-44f, 5), r = x;
    for (size_t i = 0; i < r.size(); ++i) r[i] = (i % 3) ? -x[i] : x[i] * 3e-39f;  // exact cancellations
    std::vector<float> big = random_floats(N * 2, 9);
    std::copy(big.begin(), big.end(), x.begin() + 4 * long(N));  // two ordinary rows as well
    const std::vector<float> g = tiny(N, 1e-40f, 7), b = tiny(N, 1e-42f, 3);
    for (float eps : {1e-12f, 1e-38f, 0.0f})
      for (size_t v = 1; v < kLayerNormVariantCount; ++v) {
        if (!isa_supported(kLayerNormVariants[v].isa)) continue;
        CAPTURE(kLayerNormVariants[v].name);
        for (bool res : {false, true}) {
          std::vector<float> y1(M * N), y2(M * N);
          kLayerNormVariants[0].fn(M, N, x.data(), res ? r.data() : nullptr, g.data(), b.data(), eps, y1.data());
          kLayerNormVariants[v].fn(M, N, x.data(), res ? r.data() : nullptr, g.data(), b.data(), eps, y2.data());
          REQUIRE(first_difference(y2.data(), y1.data(), y1.size(), N) == "");
        }
      }
  }
  {  // quantize: subnormal blocks, subnormal inputs smoothed up, tiny static scales
    const size_t M = 5, K = 70, kp = padded_k(K);
    std::vector<float> x = tiny(M * K, 1e-44f, 6);
    const std::vector<float> more = random_floats(K, 10);
    std::copy(more.begin(), more.end(), x.begin() + 3 * long(K));
    std::vector<float> sm = random_floats(K, 11, 1e9f, 1e10f);
    sm[5] = 1e-40f;
    for (size_t block : {size_t(4), size_t(8), size_t(32), K})
      for (float st : {0.0f, 1e-36f, 1e-20f, 0.03f})
        for (int with_smooth = 0; with_smooth < 2; ++with_smooth)
          for (size_t v = 1; v < kQuantizeVariantCount; ++v) {
            if (!isa_supported(kQuantizeVariants[v].isa)) continue;
            CAPTURE(kQuantizeVariants[v].name);
            CAPTURE(block);
            CAPTURE(st);
            const size_t nb = (K + block - 1) / block;
            std::vector<int8_t> q1(M * kp), q2(M * kp);
            std::vector<float> s1(M * nb), s2(M * nb);
            QuantizeParams p{M, K, kp, block, x.data(), K, with_smooth ? sm.data() : nullptr, st, q1.data(), kp,
                             s1.data(), 0};
            kQuantizeVariants[0].fn(p);
            p.q = q2.data();
            p.scales = s2.data();
            kQuantizeVariants[v].fn(p);
            REQUIRE(q1 == q2);
            REQUIRE(std::memcmp(s1.data(), s2.data(), s1.size() * sizeof(float)) == 0);
          }
  }
  {  // attention: scores 100 apart (probabilities near 2^-126), tiny and zero values
    const size_t S = 40, H = 2, D = 12, hid = H * D;
    std::vector<float> qkv = random_floats(S * 3 * hid, 12, -1.0f, 1.0f);
    for (size_t j = 0; j < S; ++j)
      for (size_t d = 0; d < hid; ++d) {
        qkv[j * 3 * hid + d] *= 8.0f;                            // q
        qkv[j * 3 * hid + hid + d] *= (j % 5 == 0) ? 9.0f : 0.5f;  // k: some keys dominate
        float& v = qkv[j * 3 * hid + 2 * hid + d];
        v = (j % 5 == 0) ? (d % 2 ? 0.0f : v * 1e-30f) : v * 1e-3f;  // the dominant keys' values tiny or 0
      }
    for (size_t i = 0; i < 7; ++i) qkv[i * 3 * hid + 2 * hid + 3] = 1e-41f;  // subnormal values
    const int32_t globals[] = {3, 17};
    for (int pattern = 0; pattern < 3; ++pattern)
      for (bool causal : {false, true})
        for (size_t v = 1; v < kAttentionVariantCount; ++v) {
          const AttentionVariant& a = kAttentionVariants[v];
          if (!isa_supported(a.isa)) continue;
          CAPTURE(a.name);
          AttentionMask mask;
          mask.causal = causal;
          if (pattern == 1) mask.window = 3;
          if (pattern == 2) {  // ranged: global tokens and blocks
            mask.block = 8, mask.block_random = 1, mask.block_seed = 5;
            mask.global_positions = globals, mask.num_global_positions = 2;
          }
          std::vector<float> o1(S * hid), o2(S * hid), s1(kAttentionVariants[0].scratch_floats(S, D)),
              s2(a.scratch_floats(S, D));
          std::vector<KeyRange> r(attention_max_ranges(mask, S));
          kAttentionVariants[0].fn(S, H, D, 0, H, 0, S, qkv.data(), o1.data(), 1.0f, mask, r.data(), s1.data());
          a.fn(S, H, D, 0, H, 0, S, qkv.data(), o2.data(), 1.0f, mask, r.data(), s2.data());
          REQUIRE(first_difference(o2.data(), o1.data(), o1.size(), hid) == "");
        }
  }
}

TEST_CASE("gelu, tanh and relu match double-precision formulas") {
  auto x = random_floats(1000, 21, -8.0f, 8.0f);
  std::vector<float> y(x.size());
  kActivationVariants[0].gelu(x.size(), x.data(), y.data());
  for (size_t i = 0; i < x.size(); ++i) {
    const double ref = 0.5 * x[i] * (1.0 + std::erf(double(x[i]) / std::sqrt(2.0)));
    REQUIRE(std::fabs(y[i] - ref) <= 1e-6 * (1 + std::fabs(ref)));
  }
  kActivationVariants[0].tanh(x.size(), x.data(), y.data());
  for (size_t i = 0; i < x.size(); ++i) REQUIRE(std::fabs(y[i] - std::tanh(double(x[i]))) <= 1e-6);
  heed_f32_relu(x.size(), x.data(), y.data());
  for (size_t i = 0; i < x.size(); ++i) REQUIRE(y[i] == (x[i] > 0 ? x[i] : 0.0f));
}

// The visibility rule of kernels/attention/attention-mask.h written out pair
// by pair (not through attention_key_ranges, which the kernels use).
bool mask_visible(const AttentionMask& m, size_t S, size_t i, size_t j) {
  if (m.causal && j > i) return false;
  auto global = [&](size_t t) {
    if (t < size_t(m.global_first)) return true;
    for (size_t g = 0; g < m.num_global_positions; ++g)
      if (size_t(m.global_positions[g]) == t) return true;
    return false;
  };
  if (global(i) || global(j)) return true;
  if (m.block > 0) {
    const size_t B = size_t(m.block), qb = i / B, kb = j / B, nb = (S + B - 1) / B, dist = qb > kb ? qb - kb : kb - qb;
    if (dist <= size_t(m.block_local) || qb < size_t(m.block_global) || kb < size_t(m.block_global)) return true;
    if (m.block_stride > 0 && dist % size_t(m.block_stride) == 0) return true;
    for (size_t t = 0; t < size_t(m.block_random); ++t)
      if (attention_block_mix(m.block_seed, qb, t) % nb == kb) return true;
    return false;
  }
  return m.window < 0 || (i > j ? i - j : j - i) <= size_t(m.window);
}

TEST_CASE("attention matches a materialized softmax reference (dense, causal, window, global, block-sparse)") {
  struct Case {
    size_t S, H, D;
    int window;
    bool causal;
    int global_first = 0;
    std::vector<int32_t> globals = {};
    int block = 0, local = 0, gblocks = 0, stride = 0, random = 0;
  };
  const Case cases[] = {{1, 1, 4, -1, false},  {7, 2, 8, -1, false},  {16, 3, 32, -1, false},
                        {9, 2, 8, -1, true},   {20, 2, 8, 3, false},  {20, 1, 16, 0, false},
                        {33, 1, 16, -1, false}, {40, 2, 8, 7, true},  {50, 1, 17, 20, false},
                        {70, 1, 32, -1, true},
                        {50, 2, 8, 4, false, 2},                      // Longformer: first 2 global
                        {61, 1, 16, 5, false, 0, {0, 9, 10, 40}},     // listed global positions
                        {45, 1, 8, 3, true, 1, {30}},                 // causal with globals
                        {100, 2, 8, -1, false, 0, {}, 16, 1, 1, 0, 2},  // BigBird: local, global, random
                        {97, 1, 16, -1, false, 3, {50}, 8, 0, 0, 3, 1},  // strided + random + global tokens
                        {17, 1, 8, -1, false, 0, {}, 5, 0, 0, 0, 0}};   // block-diagonal only
  for (const Case& c : cases) {
    CAPTURE(c.S);
    CAPTURE(c.block);
    AttentionMask m;
    m.window = c.window;
    m.causal = c.causal;
    m.global_first = c.global_first;
    m.global_positions = c.globals.data();
    m.num_global_positions = c.globals.size();
    m.block = c.block, m.block_local = c.local, m.block_global = c.gblocks, m.block_stride = c.stride;
    m.block_random = c.random, m.block_seed = 11;
    const size_t hid = c.H * c.D;
    auto qkv = random_floats(c.S * 3 * hid, uint32_t(c.S * 7 + c.D), -3.0f, 3.0f);
    std::vector<float> out(c.S * hid), scratch(kAttentionVariants[0].scratch_floats(c.S, c.D));
    std::vector<KeyRange> ranges(attention_max_ranges(m, c.S));
    const float scale = 1.0f / std::sqrt(float(c.D));
    kAttentionVariants[0].fn(c.S, c.H, c.D, 0, c.H, 0, c.S, qkv.data(), out.data(), scale, m, ranges.data(),
                             scratch.data());
    size_t hidden_pairs = 0;
    for (size_t h = 0; h < c.H; ++h)
      for (size_t i = 0; i < c.S; ++i) {
        std::vector<double> p(c.S, 0.0);
        double mx = -1e300;
        for (size_t j = 0; j < c.S; ++j) {
          if (!mask_visible(m, c.S, i, j)) {
            p[j] = -1e300;
            ++hidden_pairs;
            continue;
          }
          double s = 0;
          for (size_t d = 0; d < c.D; ++d) s += double(qkv[i * 3 * hid + h * c.D + d]) * qkv[j * 3 * hid + hid + h * c.D + d];
          p[j] = s * scale;
          mx = std::max(mx, p[j]);
        }
        double sum = 0;
        for (size_t j = 0; j < c.S; ++j) sum += p[j] = p[j] <= -1e299 ? 0.0 : std::exp(p[j] - mx);
        for (size_t d = 0; d < c.D; ++d) {
          double ref = 0;
          for (size_t j = 0; j < c.S; ++j) ref += p[j] / sum * qkv[j * 3 * hid + 2 * hid + h * c.D + d];
          REQUIRE(std::fabs(out[i * hid + h * c.D + d] - ref) <= 1e-5 * (1 + std::fabs(ref)));
        }
      }
    // The sparse cases hide keys (else the comparison would not test the mask).
    if (c.block > 0 || c.window >= 0) CHECK(hidden_pairs > 0);
  }
}

TEST_CASE("attention_key_ranges: ascending, disjoint ranges holding exactly the visible keys") {
  const int32_t globals[] = {2, 3, 40, 41, 99};
  for (size_t S : {size_t(1), size_t(15), size_t(16), size_t(17), size_t(63), size_t(64), size_t(65), size_t(130)})
    for (int variant = 0; variant < 6; ++variant) {
      CAPTURE(S);
      CAPTURE(variant);
      AttentionMask m;
      if (variant == 0) m.window = 5;
      if (variant == 1) m.window = 3, m.global_first = 4;
      if (variant == 2) m.window = 0, m.global_positions = globals, m.num_global_positions = 5;
      if (variant == 3) m.block = 16, m.block_local = 1, m.block_global = 1, m.block_random = 2, m.block_seed = 9;
      if (variant == 4) m.block = 7, m.block_local = 0, m.block_stride = 3, m.global_first = 1;
      if (variant == 5) m.block = 4, m.block_local = 2, m.causal = true, m.block_random = 3;
      std::vector<KeyRange> r(attention_max_ranges(m, S));
      for (size_t i = 0; i < S; ++i) {
        const size_t n = attention_key_ranges(m, S, i, r.data());
        REQUIRE(n <= r.size());
        std::vector<bool> in(S, false);
        for (size_t k = 0; k < n; ++k) {
          REQUIRE(r[k].begin < r[k].end);
          REQUIRE(r[k].end <= S);
          if (k > 0) REQUIRE(r[k].begin > r[k - 1].end);  // disjoint and not adjacent: merged
          for (size_t j = r[k].begin; j < r[k].end; ++j) in[j] = true;
        }
        for (size_t j = 0; j < S; ++j) REQUIRE(in[j] == mask_visible(m, S, i, j));
        REQUIRE(in[i]);  // every query sees itself
      }
    }
}

TEST_CASE("dispatch: a session's table holds variants within its ISA, the reference for scalar") {
  const KernelTable& scalar = kernel_table(Isa::kScalar);
  CHECK(scalar.qs8_gemm == &kQs8GemmVariants[0]);
  CHECK(scalar.qs8_gemv == &kQs8GemvVariants[0]);
  CHECK(scalar.f32_gemm == &kF32GemmVariants[0]);
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot}) {
    const KernelTable& t = kernel_table(isa);
    CHECK(t.isa == isa);
    CHECK(isa_within(t.qs8_gemm->isa, isa));
    CHECK(isa_within(t.qs8_gemv->isa, isa));
    CHECK(isa_within(t.f32_gemm->isa, isa));
    CHECK(isa_within(t.quantize->isa, isa));
    CHECK(isa_within(t.layernorm->isa, isa));
    CHECK(isa_within(t.activation->isa, isa));
    CHECK(isa_within(t.attention->isa, isa));
  }
  CHECK(isa_within(Isa::kAvx2, Isa::kAvx512Vnni));
  CHECK_FALSE(isa_within(Isa::kAvx512Vnni, Isa::kAvx2));
  CHECK_FALSE(isa_within(Isa::kNeon, Isa::kAvx512Vnni));
  CHECK(isa_within(Isa::kNeon, Isa::kNeonDot));
}

TEST_CASE("ISA names parse and HEED_ISA-style caps are validated") {
  Isa isa;
  CHECK(isa_parse("scalar", &isa).ok());
  CHECK(isa == Isa::kScalar);
  CHECK(isa_parse("neondot", &isa).ok());
  CHECK(isa == Isa::kNeonDot);
  CHECK(isa_parse("sse9", &isa).code() == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(isa_parse(nullptr, &isa).code() == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(isa_supported(Isa::kScalar));
}

}  // TEST_SUITE

TEST_SUITE("slow") {

TEST_CASE("math: f32_exp f32_erf f32_tanh within their ulp bounds of double libm (dense sweep)") { check_math(61, 61, 100000); }

}  // TEST_SUITE("slow")
