// RMS_NORM: the f32-rmsnorm kernel and the op against an independent long
// double computation of LlamaRMSNorm's formula, and malformed RMS_NORM ops
// rejected at load with a message naming the op and what is wrong.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "exec/session.h"
#include "kernels/kernels.h"
#include "ops/op-test-util.h"

using namespace heed;

namespace {

std::vector<float> normal(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// y = x / sqrt(mean(x^2) + eps) * w for one row, in long double.
std::vector<long double> reference_row(const float* x, const float* w, size_t N, float eps) {
  long double ss = 0.0L;
  for (size_t k = 0; k < N; ++k) ss += (long double)x[k] * (long double)x[k];
  const long double r = 1.0L / std::sqrt(ss / (long double)N + (long double)eps);
  std::vector<long double> y(N);
  for (size_t k = 0; k < N; ++k) y[k] = (long double)x[k] * r * (long double)w[k];
  return y;
}

// Float has 24 bits; the sum of squares takes at most N/16 + 4 roundings per
// lane (f32-rmsnorm.h), the square root halves that, the products add three.
void check_row(const float* got, const std::vector<long double>& want, size_t N) {
  const double tol = (double(N) / 16.0 + 8.0) * std::ldexp(1.0, -24);
  for (size_t k = 0; k < N; ++k) {
    CAPTURE(k);
    const long double err = std::fabs((long double)got[k] - want[k]);
    CHECK(double(err) <= tol * double(std::fabs(want[k])) + 1e-37);
  }
}

// ids -> EMBEDDING (word only, no types) -> RMS_NORM -> MEAN_POOL.
conv::IrGraph rms_graph(int32_t H = 32, float eps = 1e-6f) {
  conv::IrGraph g;
  g.architecture = "probe";
  g.hidden_size = H;
  const int32_t V = 16, P = 32;
  const int32_t ids = g.add_activation("input_ids", {-1});
  g.tensors[size_t(ids)].kind = TensorKind::kInput;
  g.tensors[size_t(ids)].dtype = DType::kI32;
  g.inputs = {ids};
  g.input_roles = {InputRole::kTokenIds};
  const int32_t word = g.add_constant("word", {V, H}, normal(size_t(V * H), 11, 0.5f));
  const int32_t pos = g.add_constant("pos", {P, H}, normal(size_t(P * H), 12, 0.1f));
  const int32_t emb = g.add_activation("emb", {-1, H});
  g.add_op(OpKind::kEmbedding, "embeddings", {ids, -1, word, pos, -1}, {emb});
  const int32_t weight = g.add_constant("norm.weight", {H}, normal(size_t(H), 13, 1.0f));
  const int32_t y = g.add_activation("norm", {-1, H});
  g.add_op(OpKind::kRmsNorm, "norm", {emb, weight}, {y}).epsilon = eps;
  const int32_t out = g.add_activation("pooled", {1, H});
  g.add_op(OpKind::kMeanPool, "pool", {y}, {out});
  g.outputs = {out};
  return g;
}

struct Captured {
  size_t op = 0;
  std::vector<float> data;
  size_t rows = 0, cols = 0;
};

void capture_op(void* user, size_t op_index, const OpInfo&, const float* data, size_t rows, size_t cols) {
  auto* c = static_cast<Captured*>(user);
  if (op_index != c->op) return;
  c->data.assign(data, data + rows * cols);
  c->rows = rows;
  c->cols = cols;
}

std::string load_message(const conv::IrGraph& g) {
  const Status s = test::load_graph(g);
  return std::to_string(int(s.code())) + " " + s.message();
}

}  // namespace

TEST_SUITE("fast") {

TEST_CASE("f32-rmsnorm reference kernel equals LlamaRMSNorm's formula in long double") {
  REQUIRE(kRmsNormVariantCount >= 1);
  CHECK(kRmsNormVariants[0].isa == Isa::kScalar);
  const RmsNormFn fn = kRmsNormVariants[0].fn;
  uint32_t seed = 100;
  for (size_t N : {1, 2, 7, 15, 16, 17, 31, 33, 64, 100, 384, 1000}) {
    for (float scale : {1e-4f, 1e-2f, 1.0f, 300.0f}) {
      for (float eps : {1e-6f, 1e-5f}) {
        CAPTURE(N);
        CAPTURE(scale);
        CAPTURE(eps);
        const size_t M = 3;
        const auto x = normal(M * N, seed++, scale);
        const auto w = normal(N, seed++, 1.0f);
        std::vector<float> y(M * N);
        fn(M, N, x.data(), w.data(), eps, y.data());
        for (size_t m = 0; m < M; ++m) check_row(y.data() + m * N, reference_row(x.data() + m * N, w.data(), N, eps), N);
        // In place gives the same bits.
        auto inplace = x;
        fn(M, N, inplace.data(), w.data(), eps, inplace.data());
        CHECK(inplace == y);
      }
    }
  }
}

TEST_CASE("f32-rmsnorm: eps is inside the root, zero rows stay zero, NaN is the default NaN") {
  const RmsNormFn fn = kRmsNormVariants[0].fn;
  // x = 1e-3 everywhere: mean(x^2) = 1e-6 = eps, so y = 1e-3 / sqrt(2e-6) * w.
  std::vector<float> x(20, 1e-3f), w(20, 2.0f), y(20);
  fn(1, 20, x.data(), w.data(), 1e-6f, y.data());
  for (float v : y) CHECK(double(v) == doctest::Approx(2e-3 / std::sqrt(2e-6)).epsilon(1e-6));
  std::vector<float> z(20, 0.0f);
  fn(1, 20, z.data(), w.data(), 1e-6f, y.data());
  for (float v : y) CHECK(v == 0.0f);
  x[3] = std::numeric_limits<float>::quiet_NaN();
  fn(1, 20, x.data(), w.data(), 1e-6f, y.data());
  uint32_t bits = 0;
  std::memcpy(&bits, &y[0], 4);
  CHECK(bits == 0x7fc00000u);
}

TEST_CASE("RMS_NORM op in a graph equals the long double computation") {
  for (int32_t H : {32, 48, 7}) {
    CAPTURE(H);
    const auto g = rms_graph(H, 1e-5f);
    const auto bytes = test::serialize(g);
    test::AlignedBytes a(bytes);
    Model m;
    const Status ls = m.load_buffer(a.data(), a.size);
    CAPTURE(ls.message());
    REQUIRE(ls.ok());
    CHECK(std::string(op_kind_name(m.ops()[1].kind)) == "RMS_NORM");
    CHECK(m.ops()[1].epsilon == 1e-5f);
    Session s;
    REQUIRE(s.init(&m, SessionOptions{}, nullptr, 0).ok());
    Captured c;
    c.op = 1;
    s.set_observer(capture_op, &c);
    const std::vector<int32_t> ids = {3, 0, 15, 7, 7, 2};
    std::vector<float> out(static_cast<size_t>(H));
    size_t n = 0;
    REQUIRE(s.run(ids.data(), ids.size(), out.data(), out.size(), &n).ok());
    REQUIRE(c.rows == ids.size());
    REQUIRE(c.cols == size_t(H));
    const auto& word = g.tensors[size_t(g.ops[0].inputs[2])].f32;
    const auto& pos = g.tensors[size_t(g.ops[0].inputs[3])].f32;
    const auto& w = g.tensors[size_t(g.ops[1].inputs[1])].f32;
    for (size_t r = 0; r < ids.size(); ++r) {
      CAPTURE(r);
      // The embedding row as the EMBEDDING op computes it (one float add).
      std::vector<float> x(static_cast<size_t>(H));
      for (size_t h = 0; h < size_t(H); ++h) x[h] = word[size_t(ids[r]) * size_t(H) + h] + pos[r * size_t(H) + h];
      check_row(c.data.data() + r * size_t(H), reference_row(x.data(), w.data(), size_t(H), 1e-5f), size_t(H));
    }
  }
}

TEST_CASE("RMS_NORM gives the same bits on every ISA this CPU runs") {
  const auto bytes = test::serialize(rms_graph(40, 1e-6f));
  test::AlignedBytes a(bytes);
  Model m;
  REQUIRE(m.load_buffer(a.data(), a.size).ok());
  const std::vector<int32_t> ids = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 3};
  std::vector<float> ref;
  size_t isas = 0;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot}) {
    if (!isa_supported(isa)) continue;
    CAPTURE(isa_name(isa));
    SessionOptions o;
    o.force_isa = true;
    o.isa = isa;
    Session s;
    REQUIRE(s.init(&m, o, nullptr, 0).ok());
    CHECK(s.kernels().rmsnorm == select_variant(kRmsNormVariants, kRmsNormVariantCount, s.isa()));
    Captured c;
    c.op = 1;
    s.set_observer(capture_op, &c);
    std::vector<float> out(40);
    size_t n = 0;
    REQUIRE(s.run(ids.data(), ids.size(), out.data(), out.size(), &n).ok());
    if (ref.empty()) ref = c.data;
    CHECK(std::memcmp(c.data.data(), ref.data(), ref.size() * sizeof(float)) == 0);
    ++isas;
  }
  CHECK(isas >= 1);
}

TEST_CASE("malformed RMS_NORM ops are rejected naming the op and the problem") {
  auto g = rms_graph();
  const int32_t weight = g.ops[1].inputs[1];
  g.tensors[size_t(weight)].shape = {33};
  g.tensors[size_t(weight)].f32.push_back(1.0f);
  CHECK(load_message(g) == "3 op 1 'norm' (RMS_NORM): weight must be float [32], has 33 elements");

  g = rms_graph();
  g.tensors[size_t(weight)].shape = {1, 32};
  CHECK(load_message(g) ==
        "3 op 1 'norm' (RMS_NORM): input 1 (weight) must be a constant, float32, rank 1; "
        "'norm.weight' is a constant, float32, rank 2");

  g = rms_graph();
  g.ops[1].inputs[1] = g.ops[1].inputs[0];  // an activation as weight
  CHECK(load_message(g).find("input 1 (weight) must be a constant") != std::string::npos);

  g = rms_graph();
  g.ops[1].inputs = {g.ops[1].inputs[0]};  // weight left out
  CHECK(load_message(g) == "3 op 1 'norm' (RMS_NORM): 1 inputs / 1 outputs, expected 2..2 / 1");

  g = rms_graph();
  g.ops[1].inputs[1] = -1;
  CHECK(load_message(g) == "3 op 1 'norm' (RMS_NORM): input 1 (weight) is tensor -1, out of range (7 tensors)");

  for (float eps : {0.0f, -1e-6f, std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    CAPTURE(eps);
    g = rms_graph(32, eps);
    const std::string msg = load_message(g);
    CHECK(msg.rfind("3 op 1 'norm' (RMS_NORM): epsilon ", 0) == 0);
    CHECK(msg.find("must be positive and finite") != std::string::npos);
  }

  g = rms_graph();
  g.tensors[size_t(g.ops[1].outputs[0])].shape = {-1, 31};
  CHECK(load_message(g) == "3 op 1 'norm' (RMS_NORM): output shape differs from input");

  // The unmodified graph loads (so the cases above fail for their own reason).
  CHECK(test::load_graph(rms_graph()).ok());
}

}  // TEST_SUITE
