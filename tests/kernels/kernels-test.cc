// Kernel tests: the scalar references against straightforward double-precision
// (or exact integer) formulas, and every ISA variant in the dispatch table
// against the scalar reference bit for bit.
#include <doctest/doctest.h>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/dispatch.h"
#include "kernels/kernels.h"

using namespace heed;

namespace {

std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -2.0f, float hi = 2.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::vector<int8_t> random_i8(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(-127, 127);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = int8_t(d(rng));
  return v;
}

// Shapes that hit the edges: 1, below/at/above the 16-lane width, M not a
// multiple of 4 (the GEMM row block), and the MiniLM sizes.
const size_t kM[] = {1, 2, 3, 4, 5, 7, 13};
const size_t kN[] = {1, 3, 16, 17, 33};
const size_t kK[] = {1, 7, 15, 16, 17, 31, 64, 100, 384};

}  // namespace

TEST_SUITE("fast") {

TEST_CASE("f32 gemm matches a double-precision reference") {
  for (size_t M : kM)
    for (size_t N : kN)
      for (size_t K : kK) {
        auto x = random_floats(M * K, 1 + uint32_t(M * 131 + N * 17 + K));
        auto w = random_floats(N * K, 2 + uint32_t(M + N * 7 + K));
        auto b = random_floats(N, 3);
        std::vector<float> y(M * N);
        heed_f32_gemm_ukernel__scalar(M, N, K, x.data(), K, w.data(), b.data(), y.data(), N);
        for (size_t m = 0; m < M; ++m)
          for (size_t n = 0; n < N; ++n) {
            double ref = b[n], mag = std::fabs(b[n]);
            for (size_t k = 0; k < K; ++k) {
              ref += double(x[m * K + k]) * double(w[n * K + k]);
              mag += std::fabs(double(x[m * K + k]) * double(w[n * K + k]));
            }
            REQUIRE(std::fabs(y[m * N + n] - ref) <= 1e-6 * mag + 1e-6);
          }
      }
}

TEST_CASE("dynamic row quantization: scale, rounding half to even, zero rows") {
  const float x[8] = {-1.0f, 0.5f, 0.25f, 1.0f / 254.0f, 0.0f, 3.0f / 254.0f, -1.0f / 254.0f, 0.9f};
  int8_t q[8];
  float s;
  heed_f32_qs8_quantize_blocks__scalar(1, 8, 8, x, 8, nullptr, q, 8, &s);
  CHECK(s == doctest::Approx(1.0f / 127.0f));
  CHECK(q[0] == -127);
  CHECK(q[1] == 64);   // 63.5 -> 64 (even)
  CHECK(q[2] == 32);   // 31.75
  CHECK(q[3] == 0);    // 0.5 -> 0 (even)
  CHECK(q[5] == 2);    // 1.5 -> 2 (even)
  CHECK(q[6] == 0);    // -0.5 -> -0 (even)
  const float zeros[4] = {0, 0, 0, 0};
  int8_t qz[4] = {1, 1, 1, 1};
  heed_f32_qs8_quantize_blocks__scalar(1, 4, 4, zeros, 4, nullptr, qz, 4, &s);
  CHECK(s == 0.0f);
  for (int8_t v : qz) CHECK(v == 0);
}

TEST_CASE("static quantization clamps to [-127, 127]") {
  const float x[4] = {-10.0f, 10.0f, 0.26f, -0.26f};
  int8_t q[4];
  float s;
  heed_f32_qs8_quantize_static__scalar(1, 4, 4, x, 4, nullptr, 0.01f, q, 4, &s);
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
    heed_f32_qs8_quantize_blocks__scalar(3, 70, block, x.data(), 70, sm.data(), q.data(), 70, s.data());
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

TEST_CASE("qs8 x qc8w gemm: exact int32 block sums, documented float order") {
  for (size_t M : kM)
    for (size_t N : kN)
      for (size_t K : kK)
        for (size_t block : {size_t(1), size_t(16), size_t(32), K}) {
          if (block > K) continue;
          const size_t nb = (K + block - 1) / block;
          auto xq = random_i8(M * K, 11 + uint32_t(M * 3 + N * 5 + K));
          auto w = random_i8(N * K, 12 + uint32_t(M + N + K * 3));
          auto xs = random_floats(M * nb, 13, 0.001f, 0.1f);
          auto ws = random_floats(N * nb, 14, 0.001f, 0.1f);
          auto b = random_floats(N, 15);
          std::vector<float> y(M * N);
          heed_qs8_qc8w_gemm_f32_ukernel__scalar(M, N, K, block, xq.data(), K, xs.data(), w.data(), ws.data(),
                                                 b.data(), y.data(), N);
          for (size_t m = 0; m < M; ++m)
            for (size_t n = 0; n < N; ++n) {
              float acc = 0.0f;
              for (size_t bb = 0; bb < nb; ++bb) {
                int64_t isum = 0;
                for (size_t k = bb * block; k < std::min(K, (bb + 1) * block); ++k)
                  isum += int64_t(xq[m * K + k]) * int64_t(w[n * K + k]);
                const float sc = xs[m * nb + bb] * ws[n * nb + bb];
                const float t = float(isum) * sc;
                acc += t;
              }
              const float expect = acc + b[n];
              REQUIRE(std::memcmp(&expect, &y[m * N + n], sizeof(float)) == 0);
            }
        }
}

TEST_CASE("qs8 gemm at the int8 extremes does not overflow") {
  const size_t K = 4096;
  std::vector<int8_t> x(K, -127), w(K, -127);
  const float one = 1.0f;
  float y = 0;
  heed_qs8_qc8w_gemm_f32_ukernel__scalar(1, 1, K, K, x.data(), K, &one, w.data(), &one, nullptr, &y, 1);
  CHECK(y == float(int64_t(127 * 127) * int64_t(K)));
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
      heed_f32_layernorm__scalar(M, N, x.data(), with_res ? r.data() : nullptr, g.data(), b.data(), 1e-5f, y.data());
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
  heed_f32_layernorm__scalar(2, 40, x.data(), nullptr, g.data(), b.data(), 1e-12f, out.data());
  heed_f32_layernorm__scalar(2, 40, inplace.data(), nullptr, g.data(), b.data(), 1e-12f, inplace.data());
  CHECK(std::memcmp(out.data(), inplace.data(), out.size() * sizeof(float)) == 0);
}

TEST_CASE("gelu, tanh and relu match libm formulas") {
  auto x = random_floats(1000, 21, -8.0f, 8.0f);
  std::vector<float> y(x.size());
  heed_f32_gelu__scalar(x.size(), x.data(), y.data());
  for (size_t i = 0; i < x.size(); ++i) {
    const double ref = 0.5 * x[i] * (1.0 + std::erf(double(x[i]) / std::sqrt(2.0)));
    REQUIRE(std::fabs(y[i] - ref) <= 1e-6 * (1 + std::fabs(ref)));
  }
  heed_f32_tanh__scalar(x.size(), x.data(), y.data());
  for (size_t i = 0; i < x.size(); ++i) REQUIRE(std::fabs(y[i] - std::tanh(double(x[i]))) <= 1e-6);
  heed_f32_relu__scalar(x.size(), x.data(), y.data());
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
    std::vector<float> out(c.S * hid), scratch(c.D);
    const float scale = 1.0f / std::sqrt(float(c.D));
    heed_f32_attention__scalar(c.S, c.H, c.D, qkv.data(), out.data(), scale, c.window, c.causal, scratch.data());
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

TEST_CASE("every ISA variant equals the scalar reference bit for bit") {
  const KernelTable& ref = kernel_table(Isa::kScalar);
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot}) {
    if (!isa_supported(isa)) continue;
    CAPTURE(isa_name(isa));
    const KernelTable& t = kernel_table(isa);
    for (size_t M : {1, 5}) {
      for (size_t K : {1, 17, 384}) {
        const size_t N = 33;
        auto x = random_floats(M * K, 31);
        std::vector<int8_t> q1(M * K), q2(M * K);
        std::vector<float> s1(M), s2(M);
        ref.quantize_blocks(M, K, K, x.data(), K, nullptr, q1.data(), K, s1.data());
        t.quantize_blocks(M, K, K, x.data(), K, nullptr, q2.data(), K, s2.data());
        REQUIRE(q1 == q2);
        REQUIRE(std::memcmp(s1.data(), s2.data(), M * sizeof(float)) == 0);
        auto w = random_i8(N * K, 32);
        auto ws = random_floats(N, 33, 0.001f, 0.01f);
        std::vector<float> y1(M * N), y2(M * N);
        ref.qs8_gemm(M, N, K, K, q1.data(), K, s1.data(), w.data(), ws.data(), nullptr, y1.data(), N);
        t.qs8_gemm(M, N, K, K, q1.data(), K, s1.data(), w.data(), ws.data(), nullptr, y2.data(), N);
        REQUIRE(std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)) == 0);
      }
    }
  }
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
