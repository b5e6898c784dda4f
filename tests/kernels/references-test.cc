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

}  // namespace

TEST_SUITE("fast") {

TEST_CASE("f32 gemm matches a double-precision reference") {
  for (size_t M : kM)
    for (size_t N : kN)
      for (size_t K : kK) {
        const F32Problem p(M, N, K, uint32_t(M * 131 + N * 17 + K));
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

TEST_CASE("qs8 x qc8w gemm: exact int32 block sums, documented float order") {
  for (size_t M : kM)
    for (size_t N : kN)
      for (size_t K : kK)
        for (size_t block : {size_t(4), size_t(16), size_t(32), K}) {
          if (block > K) continue;
          const Qs8Problem p(M, N, K, block, 11 + uint32_t(M * 3 + N * 5 + K));
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

TEST_CASE("gelu, tanh and relu match libm formulas") {
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

TEST_CASE("attention matches a materialized softmax reference (dense, causal, window)") {
  struct Case {
    size_t S, H, D;
    int window;
    bool causal;
  };
  const Case cases[] = {{1, 1, 4, -1, false}, {7, 2, 8, -1, false}, {16, 3, 32, -1, false},
                        {9, 2, 8, -1, true},  {20, 2, 8, 3, false}, {20, 1, 16, 0, false}};
  for (const Case& c : cases) {
    const size_t hid = c.H * c.D;
    auto qkv = random_floats(c.S * 3 * hid, uint32_t(c.S * 7 + c.D), -3.0f, 3.0f);
    std::vector<float> out(c.S * hid), scratch(kAttentionVariants[0].scratch_floats(c.S, c.D));
    const float scale = 1.0f / std::sqrt(float(c.D));
    kAttentionVariants[0].fn(c.S, c.H, c.D, 0, c.H, qkv.data(), out.data(), scale, c.window, c.causal, scratch.data());
    for (size_t h = 0; h < c.H; ++h)
      for (size_t i = 0; i < c.S; ++i) {
        std::vector<double> p(c.S, 0.0);
        double mx = -1e300;
        for (size_t j = 0; j < c.S; ++j) {
          const bool visible = (!c.causal || j <= i) &&
                               (c.window < 0 || (i > j ? i - j : j - i) <= size_t(c.window));
          if (!visible) {
            p[j] = -1e300;
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
  }
}

TEST_CASE("dispatch: a session's table holds variants within its ISA, the reference for scalar") {
  const KernelTable& scalar = kernel_table(Isa::kScalar);
  CHECK(scalar.qs8_gemm == &kQs8GemmVariants[0]);
  CHECK(scalar.f32_gemm == &kF32GemmVariants[0]);
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot}) {
    const KernelTable& t = kernel_table(isa);
    CHECK(t.isa == isa);
    CHECK(isa_within(t.qs8_gemm->isa, isa));
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
