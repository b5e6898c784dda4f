// The decoder ops ROPE, SWIGLU and ADD and the GELU_TANH activation against
// independent long double computations of their formulas (transformers'
// Llama rotate-half RoPE with grouped kv heads, SiLU-gated MLP, GPT-2's
// gelu_new), and malformed ops rejected at load naming the op and the
// problem. The models themselves are checked against transformers in
// tests/e2e/test_decoder.py.
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

std::string load_message(const conv::IrGraph& g) {
  const Status s = test::load_graph(g);
  return std::to_string(int(s.code())) + " " + s.message();
}

int32_t add_input(conv::IrGraph& g, const char* name, InputRole role) {
  const int32_t t = g.add_activation(name, {-1});
  g.tensors[size_t(t)].kind = TensorKind::kInput;
  g.tensors[size_t(t)].dtype = DType::kI32;
  g.inputs.push_back(t);
  g.input_roles.push_back(role);
  return t;
}

struct RopeCase {
  int32_t H, KV, D;
  RopeScaling scaling;
  float factor;
  int32_t orig;
  bool with_positions;
  bool repeat = false;  // output [S, 3 H D] (kv heads repeated, schema 1.2) instead of [S, (H + 2 KV) D]
};

// ids -> EMBEDDING (rows of C = (H + 2 KV) D random values) -> ROPE: the
// output [S, C] (or [S, 3 H D] with repeat) is the graph's.
conv::IrGraph rope_graph(const RopeCase& c, int32_t V = 32) {
  conv::IrGraph g;
  g.architecture = "probe";
  const int32_t C = (c.H + 2 * c.KV) * c.D;
  g.hidden_size = C;
  const int32_t ids = add_input(g, "input_ids", InputRole::kTokenIds);
  const int32_t pos = c.with_positions ? add_input(g, "position_ids", InputRole::kPositions) : -1;
  const int32_t word = g.add_constant("word", {V, C}, normal(size_t(V * C), 21, 1.0f));
  const int32_t emb = g.add_activation("emb", {-1, C});
  g.add_op(OpKind::kEmbedding, "embeddings", {ids, -1, word, -1, -1}, {emb});
  const int32_t out = g.add_activation("rope", {-1, c.repeat ? 3 * c.H * c.D : C});
  conv::IrOp& op = g.add_op(OpKind::kRope, "rope", {emb, pos}, {out});
  op.num_heads = c.H;
  op.num_kv_heads = c.KV;
  op.head_dim = c.D;
  op.rope_theta = 10000.0f;
  op.rope_scaling = c.scaling;
  op.rope_factor = c.factor;
  op.rope_original_max = c.orig;
  g.outputs = {out};
  return g;
}

// The documented formula (ops/rope.cc) with cos, sin and the rotation in
// long double.
std::vector<long double> rope_reference(const RopeCase& c, const std::vector<float>& word,
                                        const std::vector<int32_t>& ids) {
  const size_t S = ids.size(), D = size_t(c.D), half = D / 2, H = size_t(c.H), KV = size_t(c.KV);
  const size_t C = (H + 2 * KV) * D;
  float theta = 10000.0f;
  if (c.scaling == RopeScaling::kDynamic && int32_t(S) > c.orig) {
    const float r = (c.factor * float(S)) / float(c.orig) - (c.factor - 1.0f);
    theta = theta * float(std::pow((long double)r, (long double)D / (long double)(D - 2)));
  }
  const size_t out_kv = c.repeat ? H : KV, row = (H + 2 * out_kv) * D;
  std::vector<long double> y(S * row);
  for (size_t t = 0; t < S; ++t) {
    const float* x = word.data() + size_t(ids[t]) * C;
    float p = float(t);
    if (c.scaling == RopeScaling::kLinear) p = p / c.factor;
    for (size_t h = 0; h < H; ++h) {
      const size_t g = h / (H / KV), kh = c.repeat ? h : g;  // output k/v head
      const float* src[3] = {x + h * D, x + H * D + g * D, x + (H + KV) * D + g * D};
      long double* dst[3] = {&y[t * row + h * D], &y[t * row + (H + kh) * D], &y[t * row + (H + out_kv + kh) * D]};
      for (size_t i = 0; i < half; ++i) {
        const float inv = 1.0f / float(std::pow((long double)theta, (long double)(float(2 * i) / float(D))));
        const long double a = (long double)(inv * p);
        const long double cs = std::cos(a), sn = std::sin(a);
        for (int k = 0; k < 2; ++k) {
          dst[k][i] = src[k][i] * cs - src[k][i + half] * sn;
          dst[k][i + half] = src[k][i + half] * cs + src[k][i] * sn;
        }
        dst[2][i] = src[2][i];
        dst[2][i + half] = src[2][i + half];
      }
    }
  }
  return y;
}

std::vector<float> run_graph(const conv::IrGraph& g, const std::vector<int32_t>& ids, Model* m, Session* s,
                             test::AlignedBytes* keep) {
  const Status ls = m->load_buffer(keep->data(), keep->size);
  CAPTURE(ls.message());
  REQUIRE(ls.ok());
  REQUIRE(s->init(m, SessionOptions{}, nullptr, 0).ok());
  REQUIRE(m->output_per_token());
  std::vector<float> out(ids.size() * m->output_size());
  size_t n = 0;
  const Status rs = s->run(ids.data(), ids.size(), out.data(), out.size(), &n);
  CAPTURE(rs.message());
  REQUIRE(rs.ok());
  REQUIRE(n == out.size());
  (void)g;
  return out;
}

}  // namespace

TEST_SUITE("fast") {

TEST_CASE("ROPE equals the rotate-half formula in long double (GQA, MQA, MHA; linear and dynamic scaling)") {
  const RopeCase cases[] = {
      {4, 2, 8, RopeScaling::kNone, 1.0f, 0, true},    {4, 1, 16, RopeScaling::kNone, 1.0f, 0, false},
      {2, 2, 4, RopeScaling::kLinear, 2.0f, 0, true},  {4, 2, 8, RopeScaling::kDynamic, 2.0f, 8, true},
      {4, 2, 8, RopeScaling::kDynamic, 2.0f, 64, true},  // below the original length: plain theta
      {4, 2, 8, RopeScaling::kNone, 1.0f, 0, true, true},  {4, 1, 16, RopeScaling::kLinear, 2.0f, 0, false, true},
  };
  for (const RopeCase& c : cases) {
    CAPTURE(c.H);
    CAPTURE(c.KV);
    CAPTURE(c.D);
    CAPTURE(int(c.scaling));
    CAPTURE(c.repeat);
    const auto g = rope_graph(c);
    std::vector<int32_t> ids;
    for (int32_t t = 0; t < 40; ++t) ids.push_back((t * 7 + 3) % 32);
    const auto bytes = test::serialize(g);
    test::AlignedBytes a(bytes);
    Model m;
    Session s;
    const std::vector<float> got = run_graph(g, ids, &m, &s, &a);
    const auto want = rope_reference(c, g.tensors[size_t(g.ops[0].inputs[2])].f32, ids);
    REQUIRE(got.size() == want.size());
    size_t bad = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      // Two products and a sum of values of size ~|x| <= 5, with cos/sin rounded to float.
      if (std::fabs((long double)got[i] - want[i]) > 8 * std::ldexp(1.0, -24) * 5.0) ++bad;
    }
    CHECK(bad == 0);
  }
}

TEST_CASE("ROPE: positions from the graph input equal 0..S-1 without one; max_positions bounds the model") {
  RopeCase c{4, 2, 8, RopeScaling::kNone, 1.0f, 0, true};
  const std::vector<int32_t> ids = {1, 5, 9, 2, 2, 31};
  auto g1 = rope_graph(c);
  c.with_positions = false;
  auto g2 = rope_graph(c);
  test::AlignedBytes a1(test::serialize(g1)), a2(test::serialize(g2));
  Model m1, m2;
  Session s1, s2;
  const auto y1 = run_graph(g1, ids, &m1, &s1, &a1);
  const auto y2 = run_graph(g2, ids, &m2, &s2, &a2);
  CHECK(std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)) == 0);
  // Rotation changes q and k beyond position 0, and v is copied.
  CHECK(y1[3 * 16 + 0] != g1.tensors[size_t(g1.ops[0].inputs[2])].f32[5 * 64 + 0]);

  // Every RopeOptions field is written and read back (non-default values).
  g1.ops[1].rope_max_positions = 12;
  g1.ops[1].rope_theta = 500000.0f;
  g1.ops[1].rope_scaling = RopeScaling::kDynamic;
  g1.ops[1].rope_factor = 3.5f;
  g1.ops[1].rope_original_max = 6;
  test::AlignedBytes a3(test::serialize(g1));
  Model m3;
  REQUIRE(m3.load_buffer(a3.data(), a3.size).ok());
  CHECK(m3.max_seq() == 12);
  const OpInfo& r = m3.ops()[1];
  CHECK(r.num_heads == 4);
  CHECK(r.num_kv_heads == 2);
  CHECK(r.head_dim == 8);
  CHECK(r.rope_theta == 500000.0f);
  CHECK(r.rope_scaling == RopeScaling::kDynamic);
  CHECK(r.rope_factor == 3.5f);
  CHECK(r.rope_original_max == 6);
  CHECK(r.rope_max_positions == 12);
}

TEST_CASE("malformed ROPE ops are rejected naming the op and the problem") {
  const RopeCase c{4, 2, 8, RopeScaling::kNone, 1.0f, 0, true};
  CHECK(test::load_graph(rope_graph(c)).ok());
  auto g = rope_graph(c);
  g.ops[1].head_dim = 7;
  CHECK(load_message(g) == "3 op 1 'rope' (ROPE): head_dim 7 must be even and at least 4");
  g = rope_graph(c);
  g.ops[1].num_kv_heads = 3;
  CHECK(load_message(g) == "3 op 1 'rope' (ROPE): 3 key/value heads do not divide 4 query heads");
  g = rope_graph(c);
  g.ops[1].num_kv_heads = 0;
  CHECK(load_message(g) == "3 op 1 'rope' (ROPE): 0 key/value heads do not divide 4 query heads");
  g = rope_graph(c);
  g.ops[1].num_heads = 0;
  CHECK(load_message(g) == "3 op 1 'rope' (ROPE): heads 0 x head_dim 8 invalid");
  for (float theta : {1.0f, 0.0f, -5.0f, std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    CAPTURE(theta);
    g = rope_graph(c);
    g.ops[1].rope_theta = theta;
    CHECK(load_message(g).rfind("3 op 1 'rope' (ROPE): theta ", 0) == 0);
  }
  for (float f : {0.5f, std::numeric_limits<float>::quiet_NaN(), 1e7f}) {
    CAPTURE(f);
    g = rope_graph(c);
    g.ops[1].rope_factor = f;
    CHECK(load_message(g).rfind("3 op 1 'rope' (ROPE): factor ", 0) == 0);
  }
  g = rope_graph(c);
  g.ops[1].rope_scaling = static_cast<RopeScaling>(3);
  CHECK(load_message(g) == "4 op 1 'rope' (ROPE): unknown rope scaling 3");
  g = rope_graph(c);
  g.ops[1].rope_scaling = RopeScaling::kDynamic;
  g.ops[1].rope_original_max = 0;
  CHECK(load_message(g) == "3 op 1 'rope' (ROPE): original_max_positions 0 must be 1..65536");
  g = rope_graph(c);
  g.ops[1].rope_max_positions = 1;
  CHECK(load_message(g) == "3 op 1 'rope' (ROPE): max_positions 1 must be 0 or at least 2");
  g = rope_graph(c);
  g.tensors[size_t(g.ops[1].outputs[0])].shape = {-1, 95};
  CHECK(load_message(g) == "3 op 1 'rope' (ROPE): output must be [-1, 64] or [-1, 96]");
  g = rope_graph(c);
  g.ops[1].num_kv_heads = 4;  // the input then has the wrong width
  CHECK(load_message(g) == "3 op 1 'rope' (ROPE): input must be [-1, (4 + 2*4)*8]");
  g = rope_graph(c);
  g.ops[1].inputs[1] = g.ops[0].inputs[2];  // a constant as positions
  CHECK(load_message(g).find("input 1 (positions) must be a graph input") != std::string::npos);
}

TEST_CASE("SWIGLU equals silu(gate) * up in long double; ADD is the float sum; malformed ones are rejected") {
  const ActivationVariant& k = kActivationVariants[0];
  const size_t rows = 3, n = 37;
  const auto x = normal(rows * 2 * n, 31, 4.0f);
  std::vector<float> y(rows * n);
  k.swiglu(rows, n, x.data(), y.data());
  for (size_t r = 0; r < rows; ++r)
    for (size_t i = 0; i < n; ++i) {
      const long double gte = x[r * 2 * n + i], up = x[r * 2 * n + n + i];
      const long double want = gte / (1.0L + std::exp(-gte)) * up;
      CHECK(std::fabs((long double)y[r * n + i] - want) <= 6 * std::ldexp(1.0, -24) * std::fabs(want) + 1e-30L);
    }
  float special[] = {-std::numeric_limits<float>::infinity(), std::numeric_limits<float>::infinity(), -100.0f, 0.0f,
                     2.0f, 2.0f, 2.0f, 3.0f, 3.0f, 3.0f};
  float ys[5];
  k.swiglu(1, 5, special, ys);
  CHECK(ys[0] == 0.0f);                                        // silu(-inf) * 2 = -0 * 2
  CHECK(ys[1] == std::numeric_limits<float>::infinity());      // silu(+inf) * 2
  CHECK(std::fabs(ys[2]) < 1e-40f);
  CHECK(ys[3] == 0.0f);

  // A graph: EMBEDDING [S, 2I] -> SWIGLU [S, I] -> ADD with a second SWIGLU of the same input.
  conv::IrGraph g;
  g.architecture = "probe";
  const int32_t ids = add_input(g, "input_ids", InputRole::kTokenIds);
  const int32_t word = g.add_constant("word", {8, 20}, normal(160, 5, 2.0f));
  const int32_t emb = g.add_activation("emb", {-1, 20});
  g.add_op(OpKind::kEmbedding, "embeddings", {ids, -1, word, -1, -1}, {emb});
  const int32_t sw = g.add_activation("sw", {-1, 10});
  g.add_op(OpKind::kSwiglu, "swiglu", {emb}, {sw});
  const int32_t sum = g.add_activation("sum", {-1, 10});
  g.add_op(OpKind::kAdd, "add", {sw, sw}, {sum});
  g.outputs = {sum};
  const std::vector<int32_t> tok = {3, 1, 7};
  test::AlignedBytes a(test::serialize(g));
  Model m;
  Session s;
  const auto out = run_graph(g, tok, &m, &s, &a);
  const auto& w = g.tensors[size_t(word)].f32;
  std::vector<float> ref(10);
  for (size_t t = 0; t < tok.size(); ++t) {
    k.swiglu(1, 10, w.data() + size_t(tok[t]) * 20, ref.data());
    for (size_t i = 0; i < 10; ++i) CHECK(out[t * 10 + i] == ref[i] + ref[i]);
  }

  auto bad = g;
  bad.tensors[size_t(emb)].shape = {-1, 21};
  bad.tensors[size_t(word)].shape = {8, 21};
  bad.tensors[size_t(word)].f32.resize(8 * 21);
  CHECK(load_message(bad) == "3 op 1 'swiglu' (SWIGLU): input has 21 columns, not an even number (gate | up)");
  bad = g;
  bad.tensors[size_t(sw)].shape = {-1, 20};
  CHECK(load_message(bad) == "3 op 1 'swiglu' (SWIGLU): output must be [rows, 10]");
  bad = g;
  bad.ops[2].inputs = {sw, emb};
  CHECK(load_message(bad) == "3 op 2 'add' (ADD): inputs differ in shape");
  bad = g;
  bad.tensors[size_t(sum)].shape = {-1, 11};
  CHECK(load_message(bad) == "3 op 2 'add' (ADD): output shape differs from the inputs");
}

TEST_CASE("f32 gelu_tanh equals GPT-2's gelu_new in long double") {
  const ActivationVariant& k = kActivationVariants[0];
  std::vector<float> x = normal(5000, 41, 4.0f);
  for (float v : {0.0f, -0.0f, 1e-30f, -12.0f, 12.0f, 1e20f, -1e20f}) x.push_back(v);
  std::vector<float> y(x.size());
  k.gelu_tanh(x.size(), x.data(), y.data());
  for (size_t i = 0; i < x.size(); ++i) {
    CAPTURE(x[i]);
    const long double v = x[i];
    const long double want = 0.5L * v * (1.0L + std::tanh(0.7978845608028654L * (v + 0.044715L * v * v * v)));
    CHECK(std::fabs((long double)y[i] - want) <= 8 * std::ldexp(1.0, -24) * std::fabs(want) + std::ldexp(1.0, -22) * std::fabs(v) + 1e-37L);
  }
  const float inf = std::numeric_limits<float>::infinity();
  float sp[3] = {inf, -inf, std::numeric_limits<float>::quiet_NaN()}, ys[3];
  k.gelu_tanh(3, sp, ys);
  CHECK(ys[0] == inf);
  CHECK(ys[1] == 0.0f);
  CHECK(std::isnan(ys[2]));
}

}  // TEST_SUITE
