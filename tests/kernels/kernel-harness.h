// Drives any variant of a kernel family over whole matrices, as the ops do,
// and compares two variants bit for bit. Shared by the variant tests and the
// kernel benchmark. A comparison returns "" when every output bit agrees,
// else the first difference (so a test can also show that a wrong variant is
// caught).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "format/weight-layout.h"
#include "kernels/kernels.h"

namespace heed::test {

inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -2.0f, float hi = 2.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

inline std::vector<int8_t> random_i8(size_t n, uint32_t seed, int lo = -127, int hi = 127) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = int8_t(d(rng));
  return v;
}

// 64-byte aligned buffer (kernels may use aligned loads on packed weights).
template <typename T>
struct Aligned {
  std::unique_ptr<T, void (*)(void*)> p{nullptr, std::free};
  size_t n = 0;
  explicit Aligned(size_t count) : n(count) {
    p.reset(static_cast<T*>(std::aligned_alloc(64, (count * sizeof(T) + 63) / 64 * 64 + 64)));
    std::memset(p.get(), 0, (count * sizeof(T) + 63) / 64 * 64 + 64);
  }
  T* data() { return p.get(); }
  const T* data() const { return p.get(); }
};

inline std::string first_difference(const float* a, const float* b, size_t n, size_t cols) {
  for (size_t i = 0; i < n; ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "y[%zu, %zu]: %.9g vs %.9g (reference)", i / cols, i % cols, double(a[i]),
                    double(b[i]));
      return buf;
    }
  }
  return "";
}

// A qs8 GEMM problem in logical form: x int8 [M, K], W int8 [N, K], scales.
struct Qs8Problem {
  size_t M, N, K, block, nb;
  std::vector<int8_t> x, w;
  std::vector<float> xs, ws, bias;
  Qs8Problem(size_t m, size_t n, size_t k, size_t blk, uint32_t seed, bool extremes = false)
      : M(m), N(n), K(k), block(blk), nb((k + blk - 1) / blk) {
    x = extremes ? std::vector<int8_t>(M * K, -127) : random_i8(M * K, seed);
    w = extremes ? std::vector<int8_t>(N * K, -127) : random_i8(N * K, seed + 1);
    xs = random_floats(M * nb, seed + 2, 0.001f, 0.1f);
    ws = random_floats(N * nb, seed + 3, 0.001f, 0.1f);
    bias = random_floats(N, seed + 4);
  }
};

// Runs `v` over the whole problem through the op's tiling (the kernels'
// driver, as the fully connected op runs it), with packed weights, padded activations (x ^ 0x80 for
// u8 variants) and row stride ldx >= kp (odd strides catch stride bugs).
inline std::vector<float> run_qs8_gemm(const Qs8GemmVariant& v, const Qs8Problem& p, size_t extra_stride = 0,
                                       bool with_bias = true) {
  const size_t kp = padded_k(p.K), ldx = kp + extra_stride, np = panels_of(p.N);
  Aligned<int8_t> x(p.M * ldx), w(qs8_packed_bytes(p.N, p.K));
  const uint8_t mask = v.u8_activations ? 0x80 : 0;
  for (size_t m = 0; m < p.M; ++m)
    for (size_t k = 0; k < ldx; ++k)
      x.data()[m * ldx + k] = int8_t(uint8_t(k < p.K ? p.x[m * p.K + k] : 0) ^ mask);
  qs8_pack_weights(p.N, p.K, p.w.data(), w.data());
  std::vector<float> ws(np * p.nb * kPanelN);
  qs8_panel_scales(p.N, p.nb, p.ws.data(), ws.data());
  std::vector<int32_t> sums(np * p.nb * kPanelN);
  qs8_panel_sums128(p.N, p.K, p.block, w.data(), sums.data());
  std::vector<float> y(p.M * p.N, -1.0f);
  // Variants that do not read the sums get none (a read would crash).
  const Qs8Gemm g{p.M,       p.N,       p.K,         p.block,     x.data(), ldx, p.xs.data(), w.data(), ws.data(),
                  v.sums128 ? sums.data() : nullptr, with_bias ? p.bias.data() : nullptr, y.data(), p.N};
  qs8_gemm_all(v, g);
  return y;
}

inline std::string compare_qs8_gemm(const Qs8GemmVariant& v, const Qs8GemmVariant& ref, const Qs8Problem& p,
                                    size_t extra_stride = 0, bool with_bias = true) {
  const std::vector<float> a = run_qs8_gemm(v, p, extra_stride, with_bias);
  const std::vector<float> b = run_qs8_gemm(ref, p, 0, with_bias);
  return first_difference(a.data(), b.data(), a.size(), p.N);
}

struct F32Problem {
  size_t M, N, K;
  std::vector<float> x, w, bias;
  F32Problem(size_t m, size_t n, size_t k, uint32_t seed) : M(m), N(n), K(k) {
    x = random_floats(M * K, seed);
    w = random_floats(N * K, seed + 1, -0.5f, 0.5f);
    bias = random_floats(N, seed + 2);
  }
};

inline std::vector<float> run_f32_gemm(const F32GemmVariant& v, const F32Problem& p, size_t extra_stride = 0,
                                       bool with_bias = true) {
  const size_t ldx = p.K + extra_stride;
  Aligned<float> x(p.M * ldx), w(f32_packed_floats(p.N, p.K));
  for (size_t m = 0; m < p.M; ++m)
    for (size_t k = 0; k < p.K; ++k) x.data()[m * ldx + k] = p.x[m * p.K + k];
  f32_pack_weights(p.N, p.K, p.w.data(), w.data());
  std::vector<float> y(p.M * p.N, -1.0f);
  const F32Gemm g{p.M, p.N, p.K, x.data(), ldx, w.data(), with_bias ? p.bias.data() : nullptr, y.data(), p.N};
  f32_gemm_all(v, g);
  return y;
}

inline std::string compare_f32_gemm(const F32GemmVariant& v, const F32GemmVariant& ref, const F32Problem& p,
                                    size_t extra_stride = 0, bool with_bias = true) {
  const std::vector<float> a = run_f32_gemm(v, p, extra_stride, with_bias);
  const std::vector<float> b = run_f32_gemm(ref, p, 0, with_bias);
  return first_difference(a.data(), b.data(), a.size(), p.N);
}

}  // namespace heed::test
