// Graph inputs with roles (schema 1.2): files written before roles existed
// still load and give the same bits; the session fills every role; malformed
// role lists are rejected with a message naming the input.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "format/model.h"
#include "format/schema.h"
#include "ops/op-test-util.h"

using namespace heed;

namespace {

// A graph that embeds the INPUT of `role` as if it were token ids, then mean
// pools: out = mean_s(word[v[s]] + pos[s]), so the output shows what the
// session wrote into that input.
conv::IrGraph role_probe(InputRole role, int32_t H = 8, int32_t V = 64, int32_t P = 64) {
  conv::IrGraph g;
  g.architecture = "probe";
  g.hidden_size = H;
  const int32_t ids = g.add_activation("input_ids", {-1});
  g.tensors[size_t(ids)].kind = TensorKind::kInput;
  g.tensors[size_t(ids)].dtype = DType::kI32;
  g.inputs = {ids};
  g.input_roles = {InputRole::kTokenIds};
  int32_t probe = ids;
  if (role != InputRole::kTokenIds) {
    probe = g.add_activation("probe", {-1});
    g.tensors[size_t(probe)].kind = TensorKind::kInput;
    g.tensors[size_t(probe)].dtype = DType::kI32;
    g.inputs.push_back(probe);
    g.input_roles.push_back(role);
  }
  const int32_t word = g.add_constant("word", {V, H}, test::rnd(size_t(V * H), 7));
  const int32_t pos = g.add_constant("pos", {P, H}, test::rnd(size_t(P * H), 8));
  const int32_t emb = g.add_activation("emb", {-1, H});
  g.add_op(OpKind::kEmbedding, "embeddings", {probe, -1, word, pos, -1}, {emb});
  const int32_t out = g.add_activation("pooled", {1, H});
  g.add_op(OpKind::kMeanPool, "pool", {emb}, {out});
  g.outputs = {out};
  return g;
}

// mean_s(word[v[s]] + pos[s]) in double, from the graph's own tables.
std::vector<double> probe_reference(const conv::IrGraph& g, const std::vector<int32_t>& v) {
  const auto& word = g.tensors[size_t(g.ops[0].inputs[2])].f32;
  const auto& pos = g.tensors[size_t(g.ops[0].inputs[3])].f32;
  const size_t H = size_t(g.hidden_size);
  std::vector<double> out(H, 0.0);
  for (size_t s = 0; s < v.size(); ++s)
    for (size_t h = 0; h < H; ++h) out[h] += double(word[size_t(v[s]) * H + h]) + double(pos[s * H + h]);
  for (double& x : out) x /= double(v.size());
  return out;
}

void check_close(const std::vector<float>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(double(got[i]) == doctest::Approx(want[i]).epsilon(1e-5));
  }
}

std::string load_message(const conv::IrGraph& g) { return test::load_graph(g).message(); }

}  // namespace

TEST_SUITE("fast") {

TEST_CASE("files from before input roles load with [TOKEN_IDS, TOKEN_TYPE_IDS] and give the same bits") {
  // Written by the schema 1.1 converter (commit a1d14fb) from test::tiny_graph(true), and from
  // tiny_graph(false) without token types.
  const auto old_pair = test::read_test_file("tiny-int8-schema-1.1.heed");
  const auto old_ids = test::read_test_file("tiny-fp32-ids-only-schema-1.1.heed");
  {
    test::AlignedBytes a(old_pair);
    Model m;
    REQUIRE(m.load_buffer(a.data(), a.size).ok());
    CHECK(m.metadata().schema_version == 1001);
    REQUIRE(m.graph_inputs().size() == 2);
    CHECK(m.graph_inputs()[0].role == InputRole::kTokenIds);
    CHECK(m.graph_inputs()[1].role == InputRole::kTokenTypeIds);
    CHECK(m.tensors()[size_t(m.input_tensor(InputRole::kTokenIds))].name == "input_ids");
    CHECK(m.tensors()[size_t(m.input_tensor(InputRole::kTokenTypeIds))].name == "token_type_ids");
    CHECK(m.input_tensor(InputRole::kPositions) == -1);
  }
  {
    test::AlignedBytes a(old_ids);
    Model m;
    REQUIRE(m.load_buffer(a.data(), a.size).ok());
    REQUIRE(m.graph_inputs().size() == 1);
    CHECK(m.graph_inputs()[0].role == InputRole::kTokenIds);
  }
  // The same graphs written now (with roles) run to the same bits.
  auto g = test::tiny_graph(true);
  REQUIRE(g.input_roles.empty());
  g.input_roles = {InputRole::kTokenIds, InputRole::kTokenTypeIds};
  const std::vector<int32_t> ids = {2, 5, 6, 10, 7, 8, 5, 9, 11, 3};
  CHECK(test::run_bytes(old_pair, ids) == test::run_bytes(test::serialize(g), ids));
  auto f = test::tiny_graph(false);
  f.inputs = {f.inputs[0]};
  f.input_roles = {InputRole::kTokenIds};
  f.ops[0].inputs[1] = -1;
  f.ops[0].inputs[4] = -1;
  CHECK(test::run_bytes(old_ids, ids) == test::run_bytes(test::serialize(f), ids));
  // And they differ from a model with other weights (the comparison can fail).
  CHECK(test::run_bytes(old_ids, ids) != test::run_bytes(old_pair, ids));
}

TEST_CASE("the session fills token ids, token types, positions and the attention mask") {
  const std::vector<int32_t> ids = {5, 9, 1, 33, 60, 2, 2};
  const size_t n = ids.size();
  {
    const auto g = role_probe(InputRole::kTokenIds);
    check_close(test::run_bytes(test::serialize(g), ids), probe_reference(g, ids));
  }
  {
    const auto g = role_probe(InputRole::kPositions);
    std::vector<int32_t> want(n);
    for (size_t s = 0; s < n; ++s) want[s] = int32_t(s);
    check_close(test::run_bytes(test::serialize(g), ids), probe_reference(g, want));
  }
  {
    const auto g = role_probe(InputRole::kAttentionMask);
    check_close(test::run_bytes(test::serialize(g), ids), probe_reference(g, std::vector<int32_t>(n, 1)));
  }
  {
    const auto g = role_probe(InputRole::kTokenTypeIds);
    check_close(test::run_bytes(test::serialize(g), ids), probe_reference(g, std::vector<int32_t>(n, 0)));
  }
}

TEST_CASE("a PAST_LENGTH input is one int32 per run") {
  auto g = role_probe(InputRole::kTokenIds);
  const int32_t past = g.add_activation("past_length", {1});
  g.tensors[size_t(past)].kind = TensorKind::kInput;
  g.tensors[size_t(past)].dtype = DType::kI32;
  g.inputs.push_back(past);
  g.input_roles.push_back(InputRole::kPastLength);
  test::AlignedBytes a(test::serialize(g));
  Model m;
  REQUIRE(m.load_buffer(a.data(), a.size).ok());
  CHECK(m.input_tensor(InputRole::kPastLength) == past);
  const std::vector<int32_t> ids = {3, 4, 5};
  check_close(test::run_bytes(test::serialize(g), ids), probe_reference(g, ids));
  g.tensors[size_t(past)].shape = {-1};
  CHECK(load_message(g) == "graph input 'past_length' (PAST_LENGTH) must be an INPUT int32 tensor of shape [1]");
}

TEST_CASE("malformed input role lists are rejected naming the input") {
  auto g = test::tiny_graph();
  g.input_roles = {InputRole::kTokenIds, InputRole::kTokenIds};
  CHECK(load_message(g) == "graph input 1: role TOKEN_IDS listed twice");
  g.input_roles = {InputRole::kTokenIds};
  CHECK(load_message(g) == "graph lists 2 inputs but 1 input roles");
  g.input_roles = {InputRole::kTokenTypeIds, InputRole::kPositions};
  CHECK(load_message(g) == "graph has no TOKEN_IDS input");
  g.input_roles = {InputRole::kTokenIds, static_cast<InputRole>(9)};
  Status s = test::load_graph(g);
  CHECK(s.code() == HEED_ERROR_UNSUPPORTED);
  CHECK(std::string(s.message()) == "graph input 1: unknown input role 9");
  // The same tensor under two roles.
  g = test::tiny_graph();
  g.inputs = {g.inputs[0], g.inputs[0]};
  g.input_roles = {InputRole::kTokenIds, InputRole::kPositions};
  CHECK(load_message(g) == "graph input 'input_ids' is listed twice");
  // A role on a float tensor.
  g = test::tiny_graph();
  g.input_roles = {InputRole::kTokenIds, InputRole::kTokenTypeIds};
  g.tensors[size_t(g.inputs[1])].dtype = DType::kF32;
  CHECK(load_message(g) ==
        "graph input 'token_type_ids' (TOKEN_TYPE_IDS) must be an INPUT int32 tensor of shape [-1]");
  // Without roles, at most the two inputs files had before 1.2.
  g = role_probe(InputRole::kPositions);
  g.input_roles.clear();
  g.inputs.push_back(g.inputs[0]);
  CHECK(load_message(g) == "graph must have 1 or 2 inputs");
  // An INPUT tensor an op reads but the graph does not list is never filled.
  g = role_probe(InputRole::kPositions);
  g.inputs.pop_back();
  g.input_roles.pop_back();
  CHECK(load_message(g).find("'probe' is used before it is produced") != std::string::npos);
}

}  // TEST_SUITE
