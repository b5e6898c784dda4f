// heed's float GEMM against an independent implementation: XNNPACK's f32
// fully connected operator (Debian's build), on MiniLM's layer shapes.
#include <doctest/doctest.h>
#include <xnnpack.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/kernel-harness.h"

TEST_SUITE("fast") {

TEST_CASE("f32 gemm agrees with XNNPACK fully connected") {
  REQUIRE(xnn_initialize(nullptr) == xnn_status_success);
  struct Shape {
    size_t M, N, K;
  };
  for (Shape s : {Shape{1, 1, 1}, Shape{7, 33, 17}, Shape{16, 1152, 384}, Shape{9, 384, 1536}}) {
    std::mt19937 rng(uint32_t(s.M * 31 + s.N * 7 + s.K));
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> x(s.M * s.K), w(s.N * s.K), b(s.N), ours(s.M * s.N), theirs(s.M * s.N);
    for (auto& v : x) v = d(rng);
    for (auto& v : w) v = d(rng) * 0.05f;
    for (auto& v : b) v = d(rng);
    heed::test::F32Problem p(s.M, s.N, s.K, 1);
    p.x = x;
    p.w = w;
    p.bias = b;
    ours = heed::test::run_f32_gemm(heed::kF32GemmVariants[0], p);
    xnn_operator_t op = nullptr;
    REQUIRE(xnn_create_fully_connected_nc_f32(s.K, s.N, s.K, s.N, w.data(), b.data(),
                                              -std::numeric_limits<float>::infinity(),
                                              std::numeric_limits<float>::infinity(), 0, &op) == xnn_status_success);
    REQUIRE(xnn_setup_fully_connected_nc_f32(op, s.M, x.data(), theirs.data(), nullptr) == xnn_status_success);
    REQUIRE(xnn_run_operator(op, nullptr) == xnn_status_success);
    xnn_delete_operator(op);
    for (size_t i = 0; i < ours.size(); ++i) {
      // Both are float sums of K products in different orders: agree to a
      // few ulps of the sum of magnitudes (bounded by K * 1e-7 relative).
      const size_t m = i / s.N, n = i % s.N;
      double mag = std::fabs(b[n]);
      for (size_t k = 0; k < s.K; ++k) mag += std::fabs(double(x[m * s.K + k]) * w[n * s.K + k]);
      REQUIRE(std::fabs(double(ours[i]) - double(theirs[i])) <= 4e-7 * mag + 1e-6);
    }
  }
}

}  // TEST_SUITE
