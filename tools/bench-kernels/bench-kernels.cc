// heed-bench-kernels: single-thread speed of every GEMM variant in the kernel
// tables (the same tables dispatch and the tests use) on all-MiniLM-L6-v2's
// shapes, beside this machine's measured int8 and float peaks and Debian's
// XNNPACK on the same shapes, in the same run.
//
//   heed-bench-kernels [--reps N] [--json]
//   heed-bench-kernels --decode [--mib N] [--reps N] [--json]
//
// Each number is the median of N timed repetitions (after one warm-up) of one
// whole GEMM through the kernels' driver; GOPS = 2*M*N*K / time. XNNPACK int8
// is its per-channel GEMM (a 1x1 qc8 convolution with batch M, as heed's
// per-channel scheme; it requantizes to int8, heed writes float), XNNPACK
// float its f32 fully connected operator.
//
// --decode: one activation row (M = 1, a decode step) against GPT-2 small's
// fully connected shapes, through every variant of both tables (the GEMM
// table's at one row, as before the one-row kernels, and the one-row table),
// each shape with enough copies of its weights, scales and sums (separate
// buffers) that one pass reads at least --mib MiB (default 512): the weights
// stream from memory as in decode, not from cache. Prints time per product,
// the bytes a kernel reads per weight (weights, scales, and the sums where
// it reads them) and GB/s of those bytes.
//
// Internal headers: the tool times microkernels and the driver directly.
#include <xnnpack.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "format/weight-layout.h"
#include "kernels/kernels.h"
#include "peak.h"

using namespace heed;

namespace {

struct Shape {
  size_t M, N, K;
};
// MiniLM at 128 tokens: fused QKV, attention output, FFN up, FFN down.
const Shape kShapes[] = {{128, 1152, 384}, {128, 384, 384}, {128, 1536, 384}, {128, 384, 1536}};

template <typename F>
double median_ms(size_t reps, F&& run) {
  run();  // warm-up
  std::vector<double> t;
  for (size_t r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    run();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

double gops(const Shape& s, double ms) { return 2.0 * double(s.M) * double(s.N) * double(s.K) / (ms * 1e6); }

void* aligned(size_t bytes) {
  void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
  std::memset(p, 0, (bytes + 63) / 64 * 64 + 64);
  return p;
}

struct Row {
  std::string kernel;
  Shape shape;
  double ms, gops, peak_gops;
};

double qs8_variant_ms(const Qs8GemmVariant& v, const Shape& s, size_t reps) {
  std::mt19937 rng(1);
  std::uniform_int_distribution<int> d(-127, 127);
  const size_t block = 32, nb = (s.K + block - 1) / block, kp = padded_k(s.K);
  std::vector<int8_t> w(s.N * s.K);
  for (auto& v8 : w) v8 = int8_t(d(rng));
  auto* x = static_cast<int8_t*>(aligned(s.M * kp));
  for (size_t i = 0; i < s.M * kp; ++i) x[i] = int8_t(d(rng));
  auto* wp = static_cast<int8_t*>(aligned(qs8_packed_bytes(s.N, s.K)));
  qs8_pack_weights(s.N, s.K, w.data(), wp);
  std::vector<float> xs(s.M * nb, 0.01f), scales(s.N * nb, 0.02f), ws(panels_of(s.N) * nb * kPanelN), bias(s.N, 0.5f);
  qs8_panel_scales(s.N, nb, scales.data(), ws.data());
  std::vector<int32_t> sums(panels_of(s.N) * nb * kPanelN);
  qs8_panel_sums128(s.N, s.K, block, wp, sums.data());
  std::vector<float> y(s.M * s.N);
  const Qs8Gemm g{s.M, s.N, s.K, block, x, kp, xs.data(), wp, ws.data(), sums.data(), bias.data(), y.data(), s.N};
  const double ms = median_ms(reps, [&] {
    qs8_gemm_all(v, g);
  });
  std::free(x);
  std::free(wp);
  return ms;
}

double f32_variant_ms(const F32GemmVariant& v, const Shape& s, size_t reps) {
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> w(s.N * s.K), bias(s.N, 0.5f), y(s.M * s.N);
  for (auto& f : w) f = d(rng);
  auto* x = static_cast<float*>(aligned(s.M * s.K * sizeof(float)));
  for (size_t i = 0; i < s.M * s.K; ++i) x[i] = d(rng);
  auto* wp = static_cast<float*>(aligned(f32_packed_floats(s.N, s.K) * sizeof(float)));
  f32_pack_weights(s.N, s.K, w.data(), wp);
  const F32Gemm g{s.M, s.N, s.K, x, s.K, wp, bias.data(), y.data(), s.N};
  const double ms = median_ms(reps, [&] {
    f32_gemm_all(v, g);
  });
  std::free(x);
  std::free(wp);
  return ms;
}

double xnn_qc8_ms(const Shape& s, size_t reps) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> d(-127, 127);
  std::vector<int8_t> w(s.N * s.K), x(s.M * s.K + 16), y(s.M * s.N);
  for (auto& v8 : w) v8 = int8_t(d(rng));
  for (auto& v8 : x) v8 = int8_t(d(rng));
  std::vector<float> ks(s.N, 0.02f);
  std::vector<int32_t> bias(s.N, 0);
  xnn_operator_t op = nullptr;
  if (xnn_create_convolution2d_nhwc_qc8(0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, s.K, s.N, s.K, s.N, 0, 0.01f, ks.data(),
                                        w.data(), bias.data(), 0, 1.0f, -127, 127, 0, &op) != xnn_status_success ||
      xnn_setup_convolution2d_nhwc_qc8(op, 1, s.M, 1, x.data(), y.data(), nullptr) != xnn_status_success) {
    return -1;
  }
  const double ms = median_ms(reps, [&] { xnn_run_operator(op, nullptr); });
  xnn_delete_operator(op);
  return ms;
}

double xnn_f32_ms(const Shape& s, size_t reps) {
  std::vector<float> w(s.N * s.K, 0.01f), b(s.N, 0.0f), x(s.M * s.K + 16, 0.5f), y(s.M * s.N);
  xnn_operator_t op = nullptr;
  if (xnn_create_fully_connected_nc_f32(s.K, s.N, s.K, s.N, w.data(), b.data(), -std::numeric_limits<float>::infinity(),
                                        std::numeric_limits<float>::infinity(), 0, &op) != xnn_status_success ||
      xnn_setup_fully_connected_nc_f32(op, s.M, x.data(), y.data(), nullptr) != xnn_status_success) {
    return -1;
  }
  const double ms = median_ms(reps, [&] { xnn_run_operator(op, nullptr); });
  xnn_delete_operator(op);
  return ms;
}

template <typename F>
double peak_gops(size_t reps, F&& loop) {
  const size_t iters = 20'000'000;
  uint64_t macs = 0;
  const double ms = median_ms(reps, [&] { macs = loop(iters); });
  return 2.0 * double(macs) / (ms * 1e6);
}

// GPT-2 small, N x K: qkv, attention output, FFN up, FFN down, lm head.
struct DecodeShape {
  size_t N, K;
};
const DecodeShape kDecodeShapes[] = {{2304, 768}, {768, 768}, {3072, 768}, {768, 3072}, {50257, 768}};

struct DecodeRow {
  std::string kernel;
  DecodeShape shape;
  double us, bytes_per_weight, gbs;
};

// Copies of one shape's operands; row x in both forms (signed, and u8 = x ^ 0x80).
struct DecodeOperands {
  size_t nb, copies, wbytes, sbytes;
  std::vector<int8_t*> w;
  std::vector<float*> ws;
  std::vector<int32_t*> sums;
  int8_t *x, *xu;
  std::vector<float> xs, bias, y;
  DecodeOperands(const DecodeShape& s, size_t mib) : nb((s.K + 31) / 32) {
    std::mt19937 rng(4);
    std::uniform_int_distribution<int> d(-127, 127);
    std::vector<int8_t> w0(s.N * s.K);
    for (auto& v8 : w0) v8 = int8_t(d(rng));
    wbytes = qs8_packed_bytes(s.N, s.K);
    sbytes = panels_of(s.N) * nb * kPanelN * sizeof(float);  // scales; sums the same
    copies = std::max<size_t>(1, (mib << 20) / (wbytes + 2 * sbytes) + 1);
    std::vector<float> scales(s.N * nb, 0.02f);
    for (size_t c = 0; c < copies; ++c) {
      w.push_back(static_cast<int8_t*>(aligned(wbytes)));
      ws.push_back(static_cast<float*>(aligned(sbytes)));
      sums.push_back(static_cast<int32_t*>(aligned(sbytes)));
      qs8_pack_weights(s.N, s.K, w0.data(), w.back());
      qs8_panel_scales(s.N, nb, scales.data(), ws.back());
      qs8_panel_sums128(s.N, s.K, 32, w.back(), sums.back());
    }
    const size_t kp = padded_k(s.K);
    x = static_cast<int8_t*>(aligned(kp));
    xu = static_cast<int8_t*>(aligned(kp));
    for (size_t k = 0; k < kp; ++k) {
      x[k] = k < s.K ? int8_t(d(rng)) : 0;
      xu[k] = int8_t(uint8_t(x[k]) ^ 0x80);
    }
    xs.assign(nb, 0.01f);
    bias.assign(s.N, 0.5f);
    y.assign(s.N, 0.0f);
  }
  ~DecodeOperands() {
    for (size_t c = 0; c < copies; ++c) {
      std::free(w[c]);
      std::free(ws[c]);
      std::free(sums[c]);
    }
    std::free(x);
    std::free(xu);
  }
};

// One pass over every copy: one GEMV per copy, as a decode step runs them.
double decode_pass_ms(const Qs8GemmVariant& v, const DecodeShape& s, DecodeOperands& o) {
  const auto t0 = std::chrono::steady_clock::now();
  for (size_t c = 0; c < o.copies; ++c) {
    const Qs8Gemm g{1,        s.N,         s.K,         32, v.u8_activations ? o.xu : o.x, padded_k(s.K),
                    o.xs.data(), o.w[c], o.ws[c], o.sums[c], o.bias.data(), o.y.data(), s.N};
    qs8_gemm_all(v, g);
  }
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

int decode_main(size_t reps, size_t mib, bool json) {
  // The variants of a shape take turns within each repetition, so that a
  // change of machine load hits all of them alike; median per variant.
  std::vector<DecodeRow> rows;
  for (const DecodeShape& s : kDecodeShapes) {
    DecodeOperands o(s, mib);
    std::vector<const Qs8GemmVariant*> vs;
    for (const auto& [table, count] : {std::pair<const Qs8GemmVariant*, size_t>{kQs8GemmVariants, kQs8GemmVariantCount},
                                       {kQs8GemvVariants, kQs8GemvVariantCount}})
      for (size_t i = 0; i < count; ++i)
        if (isa_supported(table[i].isa) && (table != kQs8GemvVariants || i > 0))  // gemv[0] is gemm[0]
          vs.push_back(&table[i]);
    std::vector<std::vector<double>> t(vs.size());
    for (size_t r = 0; r <= reps; ++r)  // the first round warms up
      for (size_t i = 0; i < vs.size(); ++i) {
        const double ms = decode_pass_ms(*vs[i], s, o) / double(o.copies);
        if (r > 0) t[i].push_back(ms);
      }
    for (size_t i = 0; i < vs.size(); ++i) {
      std::sort(t[i].begin(), t[i].end());
      const double ms = t[i][t[i].size() / 2];
      const double bytes = double(o.wbytes + o.sbytes + (vs[i]->sums128 ? o.sbytes : 0));
      rows.push_back({vs[i]->name, s, ms * 1e3, bytes / double(s.N * s.K), bytes / (ms * 1e6)});
    }
  }
  if (json) {
    std::printf("{\"decode_rows\": [");
    for (size_t i = 0; i < rows.size(); ++i) {
      const DecodeRow& r = rows[i];
      std::printf("%s{\"kernel\": \"%s\", \"M\": 1, \"N\": %zu, \"K\": %zu, \"us\": %.2f, \"bytes_per_weight\": "
                  "%.4f, \"gbs\": %.2f}",
                  i ? ", " : "", r.kernel.c_str(), r.shape.N, r.shape.K, r.us, r.bytes_per_weight, r.gbs);
    }
    std::printf("]}\n");
    return 0;
  }
  std::printf("decode: M = 1, weights streamed from >= %zu MiB of copies; GB/s of the bytes each kernel reads\n", mib);
  std::printf("%-48s %14s %10s %8s %8s\n", "kernel", "K x N", "us", "B/w", "GB/s");
  for (const DecodeRow& r : rows) {
    char shape[32];
    std::snprintf(shape, sizeof shape, "%zux%zu", r.shape.K, r.shape.N);
    std::printf("%-48s %14s %10.1f %8.3f %8.2f\n", r.kernel.c_str(), shape, r.us, r.bytes_per_weight, r.gbs);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  size_t reps = 7, mib = 512;
  bool json = false, decode = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--json")) json = true;
    else if (!std::strcmp(argv[i], "--decode")) decode = true;
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = size_t(std::max(1, std::atoi(argv[++i])));
    else if (!std::strcmp(argv[i], "--mib") && i + 1 < argc) mib = size_t(std::max(1, std::atoi(argv[++i])));
    else {
      std::fprintf(stderr, "usage: heed-bench-kernels [--reps N] [--json] | --decode [--mib N] [--reps N] [--json]\n");
      return 2;
    }
  }
  if (decode) return decode_main(reps, mib, json);
  if (xnn_initialize(nullptr) != xnn_status_success) {
    std::fprintf(stderr, "heed-bench-kernels: xnn_initialize failed\n");
    return 1;
  }
  double peak_int8 = 0, peak_int8_avx2 = 0, peak_f32 = 0, peak_f32_avx2 = 0;
#if defined(__x86_64__) || defined(__i386__)
  if (isa_supported(Isa::kAvx512Vnni)) {
    peak_int8 = peak_gops(reps, bench::peak_vpdpbusd_zmm);
    peak_f32 = peak_gops(reps, bench::peak_vfmadd_zmm);
  }
  if (isa_supported(Isa::kAvx2)) {
    peak_int8_avx2 = peak_gops(reps, bench::peak_vpmaddubsw_ymm);
    peak_f32_avx2 = peak_gops(reps, bench::peak_vfmadd_ymm);
  }
#endif
  std::vector<Row> rows;
  for (const Shape& s : kShapes) {
    for (size_t i = 0; i < kQs8GemmVariantCount; ++i) {
      const Qs8GemmVariant& v = kQs8GemmVariants[i];
      if (!isa_supported(v.isa)) continue;
      const double ms = qs8_variant_ms(v, s, reps);
      rows.push_back({v.name, s, ms, gops(s, ms), v.isa == Isa::kAvx2 ? peak_int8_avx2 : peak_int8});
    }
    const double xq = xnn_qc8_ms(s, reps);
    if (xq > 0) rows.push_back({"xnnpack qc8 gemm (1x1 conv)", s, xq, gops(s, xq), peak_int8});
    for (size_t i = 0; i < kF32GemmVariantCount; ++i) {
      const F32GemmVariant& v = kF32GemmVariants[i];
      if (!isa_supported(v.isa)) continue;
      const double ms = f32_variant_ms(v, s, reps);
      rows.push_back({v.name, s, ms, gops(s, ms), v.isa == Isa::kAvx2 ? peak_f32_avx2 : peak_f32});
    }
    const double xf = xnn_f32_ms(s, reps);
    if (xf > 0) rows.push_back({"xnnpack f32 fully connected", s, xf, gops(s, xf), peak_f32});
  }
  if (json) {
    std::printf("{\"peak_gops\": {\"int8_vpdpbusd_zmm\": %.1f, \"int8_vpmaddubsw_ymm\": %.1f, \"f32_fma_zmm\": %.1f, "
                "\"f32_fma_ymm\": %.1f}, \"rows\": [",
                peak_int8, peak_int8_avx2, peak_f32, peak_f32_avx2);
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      std::printf("%s{\"kernel\": \"%s\", \"M\": %zu, \"N\": %zu, \"K\": %zu, \"ms\": %.4f, \"gops\": %.1f}", i ? ", " : "",
                  r.kernel.c_str(), r.shape.M, r.shape.N, r.shape.K, r.ms, r.gops);
    }
    std::printf("]}\n");
    return 0;
  }
  std::printf("measured peaks (GOPS, one thread): int8 vpdpbusd zmm %.1f, int8 vpmaddubsw ymm %.1f, f32 fma zmm %.1f, "
              "f32 fma ymm %.1f\n",
              peak_int8, peak_int8_avx2, peak_f32, peak_f32_avx2);
  std::printf("%-48s %16s %9s %8s %7s\n", "kernel", "M x N x K", "ms", "GOPS", "% peak");
  for (const Row& r : rows) {
    char shape[32];
    std::snprintf(shape, sizeof shape, "%zux%zux%zu", r.shape.M, r.shape.N, r.shape.K);
    std::printf("%-48s %16s %9.3f %8.1f %6.1f%%\n", r.kernel.c_str(), shape, r.ms, r.gops,
                r.peak_gops > 0 ? 100.0 * r.gops / r.peak_gops : 0.0);
  }
  return 0;
}
