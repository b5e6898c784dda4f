// Malformed .heed files (docs/SECURITY.md classes A-F): every one must give a
// listed error code and message, never a crash. Files are made from a valid
// tiny model by editing its IR (semantic classes) or its bytes (structural).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "format/model.h"
#include "format/schema.h"
#include "runtime/tiny-model.h"

using namespace heed;

namespace {

Status load(const std::vector<uint8_t>& bytes) {
  test::AlignedBytes a(bytes);
  Model m;
  return m.load_buffer(a.data(), a.size);
}

Status load_ir(const conv::IrGraph& g) { return load(test::serialize(g)); }

void expect_rejected(const conv::IrGraph& g, const char* needle) {
  Status s = load_ir(g);
  CAPTURE(s.message());
  CHECK(s.code() == HEED_ERROR_INVALID_MODEL);
  CHECK(std::string(s.message()).find(needle) != std::string::npos);
}

int32_t op_index(const conv::IrGraph& g, OpKind k) {
  for (size_t i = 0; i < g.ops.size(); ++i)
    if (g.ops[i].kind == k) return int32_t(i);
  return -1;
}

}  // namespace

TEST_SUITE("fast") {

TEST_CASE("the unmodified tiny model loads") {
  CHECK(load_ir(test::tiny_graph(false)).ok());
  CHECK(load_ir(test::tiny_graph(true)).ok());
}

TEST_CASE("A1: every prefix of a valid file is rejected") {
  const auto bytes = test::serialize(test::tiny_graph(true));
  REQUIRE(bytes.size() > 1000);
  // All short prefixes, then a stride over the rest (the file is ~20 KB).
  for (size_t n = 0; n < bytes.size(); n += (n < 512 ? 1 : 61)) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + long(n));
    if (prefix.empty()) prefix.push_back(0);
    Status s = load(prefix);
    REQUIRE_FALSE(s.ok());
    REQUIRE((s.code() == HEED_ERROR_INVALID_MODEL || s.code() == HEED_ERROR_UNSUPPORTED));
  }
}

TEST_CASE("A2: wrong identifier and unsupported schema versions") {
  auto bytes = test::serialize(test::tiny_graph());
  auto bad = bytes;
  std::memcpy(bad.data() + 4, "GGUF", 4);
  Status s = load(bad);
  CHECK(s.code() == HEED_ERROR_INVALID_MODEL);
  CHECK(std::string(s.message()).find("identifier") != std::string::npos);
  // Patch schema_version in place through the generated accessors.
  for (uint32_t v : {0u, 999u, 2000u, 0xFFFFFFFFu}) {
    auto b = bytes;
    auto* m = fb::GetMutableModel(b.data());
    REQUIRE(m->mutate_schema_version(v));
    Status sv = load(b);
    CHECK_FALSE(sv.ok());
    CHECK(std::string(sv.message()).find("schema version") != std::string::npos);
  }
}

TEST_CASE("A3/A6: random byte corruption never crashes and is never silently accepted as a different graph") {
  const auto bytes = test::serialize(test::tiny_graph(true));
  std::mt19937 rng(1234);
  size_t rejected = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    auto b = bytes;
    const int flips = 1 + int(rng() % 4);
    for (int f = 0; f < flips; ++f) b[rng() % b.size()] ^= uint8_t(1u << (rng() % 8));
    Status s = load(b);
    if (!s.ok()) {
      ++rejected;
      REQUIRE(s.code() != HEED_OK);
      REQUIRE(std::strlen(s.message()) > 0);
    }
  }
  // Most flips land in weight bytes (still a valid file); many must not.
  CHECK(rejected > 0);
}

TEST_CASE("A5/B3: unknown op kind, op version, options type mismatch") {
  auto g = test::tiny_graph();
  g.ops[0].kind = static_cast<OpKind>(99);
  Status s = load_ir(g);
  CHECK(s.code() == HEED_ERROR_UNSUPPORTED);
  CHECK(std::string(s.message()).find("unsupported op") != std::string::npos);

  // FULLY_CONNECTED without its options: write an ATTENTION options table on it
  // by turning the attention op into a fully connected op.
  g = test::tiny_graph();
  const int32_t at = op_index(g, OpKind::kAttention);
  g.ops[size_t(at)].kind = OpKind::kGelu;  // writer emits no options for GELU, shapes then differ
  CHECK_FALSE(load_ir(g).ok());

  g = test::tiny_graph();
  const int32_t fc = op_index(g, OpKind::kFullyConnected);
  g.ops[size_t(fc)].activation = static_cast<Activation>(7);
  expect_rejected(g, "activation");
}

TEST_CASE("B1/B2: tensor and buffer indices out of range") {
  auto g = test::tiny_graph();
  g.ops[1].inputs[0] = 100000;
  expect_rejected(g, "out of range");
  g = test::tiny_graph();
  g.ops[1].inputs[0] = -5;
  expect_rejected(g, "out of range");
  g = test::tiny_graph();
  g.ops[1].inputs[3] = -1;  // optional residual: allowed
  CHECK(load_ir(g).ok());
  g = test::tiny_graph();
  g.ops[1].inputs[1] = -1;  // gamma is not optional
  expect_rejected(g, "out of range");
  g = test::tiny_graph();
  g.outputs = {9999};
  expect_rejected(g, "out of range");
}

TEST_CASE("B4/B5: writing constants or inputs, in==out, use before produce, double producers") {
  auto g = test::tiny_graph();
  g.ops[1].outputs[0] = g.ops[1].inputs[1];  // LN writes its gamma
  expect_rejected(g, "constant or graph input");
  g = test::tiny_graph();
  g.ops[0].outputs[0] = g.inputs[0];
  expect_rejected(g, "constant or graph input");
  g = test::tiny_graph();
  std::swap(g.ops[1], g.ops[2]);  // qkv FC before the LN that makes its input
  expect_rejected(g, "before it is produced");
  g = test::tiny_graph();
  g.ops[2].outputs[0] = g.ops[1].outputs[0];
  CHECK_FALSE(load_ir(g).ok());
}

TEST_CASE("C1/C2/C3: bad dimensions, element overflow, declared shape != implied shape") {
  for (int32_t d : {0, -2, std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min()}) {
    auto g = test::tiny_graph();
    g.tensors[size_t(g.ops[1].outputs[0])].shape[1] = d;
    CHECK(load_ir(g).code() == HEED_ERROR_INVALID_MODEL);
  }
  auto g = test::tiny_graph();
  g.tensors[size_t(g.ops[1].outputs[0])].shape = {-1, 32, 1, 1, 1};  // rank 5
  expect_rejected(g, "rank");
  g = test::tiny_graph();
  g.tensors[size_t(g.ops[1].outputs[0])].shape = {-1, 1 << 20, 1 << 20};
  CHECK(load_ir(g).code() == HEED_ERROR_INVALID_MODEL);
  g = test::tiny_graph();
  const int32_t fc = op_index(g, OpKind::kFullyConnected);
  g.tensors[size_t(g.ops[size_t(fc)].outputs[0])].shape[1] += 1;
  expect_rejected(g, "output");
  g = test::tiny_graph();
  g.tensors[size_t(g.ops[size_t(fc)].inputs[1])].shape = {96, 16};  // K mismatch (and size)
  CHECK(load_ir(g).code() == HEED_ERROR_INVALID_MODEL);
}

TEST_CASE("A7: constant buffer length differs from its shape") {
  auto g = test::tiny_graph();
  const int32_t fc = op_index(g, OpKind::kFullyConnected);
  g.tensors[size_t(g.ops[size_t(fc)].inputs[2])].f32.pop_back();
  expect_rejected(g, "bytes");
}

TEST_CASE("D1: zero heads or head dim, heads*dim != hidden") {
  for (auto [h, d] : {std::pair{0, 8}, std::pair{4, 0}, std::pair{-4, 8}, std::pair{5, 8}, std::pair{4, 16}}) {
    auto g = test::tiny_graph();
    const int32_t at = op_index(g, OpKind::kAttention);
    g.ops[size_t(at)].num_heads = h;
    g.ops[size_t(at)].head_dim = d;
    CHECK(load_ir(g).code() == HEED_ERROR_INVALID_MODEL);
  }
}

TEST_CASE("E1/E2: int8 scales that are zero, negative, NaN, Inf, denormal or too few") {
  const float bad[] = {0.0f, -0.1f, std::nanf(""), INFINITY, 1e-45f};
  for (float v : bad) {
    auto g = test::tiny_graph(true);
    const int32_t fc = op_index(g, OpKind::kFullyConnected);
    g.tensors[size_t(g.ops[size_t(fc)].inputs[1])].scales[3] = v;
    expect_rejected(g, "scale");
  }
  auto g = test::tiny_graph(true);
  const int32_t fc = op_index(g, OpKind::kFullyConnected);
  g.tensors[size_t(g.ops[size_t(fc)].inputs[1])].scales.pop_back();
  expect_rejected(g, "scales");
  g = test::tiny_graph(true);
  g.ops[size_t(fc)].act_quant = ActQuant::kStaticPerTensor;
  g.ops[size_t(fc)].input_scale = std::nanf("");
  expect_rejected(g, "static input scale");
  g = test::tiny_graph(true);
  g.ops[size_t(fc)].act_quant = ActQuant::kStaticPerTensor;
  g.ops[size_t(fc)].input_scale = 0.05f;
  CHECK(load_ir(g).ok());
}

TEST_CASE("G1: tokenizer tables with bad ids or pieces") {
  auto g = test::tiny_graph();
  g.tokenizer.unk_id = 16;
  CHECK(load_ir(g).code() == HEED_ERROR_INVALID_MODEL);
  g = test::tiny_graph();
  g.tokenizer.vocab[6] = "\xC3\x28";  // invalid UTF-8
  CHECK(load_ir(g).code() == HEED_ERROR_INVALID_MODEL);
  g = test::tiny_graph();
  g.tokenizer.max_length = 1;
  CHECK(load_ir(g).code() == HEED_ERROR_INVALID_MODEL);
  g = test::tiny_graph();
  g.tokenizer.special_ids.push_back(1000);
  CHECK(load_ir(g).code() == HEED_ERROR_INVALID_MODEL);
}

TEST_CASE("F2: more ops or tensors than the caps") {
  auto g = test::tiny_graph();
  const auto keep = g.tensors.back();
  g.tensors.resize(kMaxTensors + 1, keep);
  Status s = load_ir(g);
  CHECK(s.code() == HEED_ERROR_INVALID_MODEL);
  CHECK(std::string(s.message()).find("too many tensors") != std::string::npos);
}

TEST_CASE("misaligned caller buffers and files that are not regular are refused") {
  const auto bytes = test::serialize(test::tiny_graph());
  std::vector<uint8_t> storage(bytes.size() + 128);
  uint8_t* base = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
  std::memcpy(base + 1, bytes.data(), bytes.size());
  Model m;
  CHECK(m.load_buffer(base + 1, bytes.size()).code() == HEED_ERROR_INVALID_ARGUMENT);
  Model d;
  CHECK(d.load_file("/").code() == HEED_ERROR_IO);
}

}  // TEST_SUITE

TEST_SUITE("fast") {

TEST_CASE("E1: NaN or Inf in float weights is rejected at load") {
  for (float v : {std::nanf(""), INFINITY, -INFINITY}) {
    auto g = test::tiny_graph(true);
    const int32_t fc = op_index(g, OpKind::kFullyConnected);
    g.tensors[size_t(g.ops[size_t(fc)].inputs[2])].f32[0] = v;  // bias
    expect_rejected(g, "finite");
  }
}

}  // TEST_SUITE

TEST_SUITE("fast") {

TEST_CASE("D2: tokenizer vocabulary must match the word embedding rows") {
  auto g = test::tiny_graph();
  g.tokenizer.vocab.push_back("extra");
  expect_rejected(g, "word embedding table");
  g = test::tiny_graph();
  g.ops[0].inputs[2] = g.ops[0].inputs[4];  // the token-type table as word table
  expect_rejected(g, "word embedding table");
}

}  // TEST_SUITE
