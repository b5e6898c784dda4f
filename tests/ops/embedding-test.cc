// EMBEDDING reading a tied LM head's packed GEMM weights (int8 PACKED_N16K4
// with the head's block scales, float PACKED_N16): the logits are the bits
// of an untied file whose row-major word table holds the same values, on
// every ISA; and the loader's rules around the shared tensor.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "format/schema.h"
#include "kernels/isa.h"
#include "ops/op-test-util.h"
#include "quantize.h"
#include "runtime/tiny-decoder.h"

using namespace heed;

namespace {

int32_t op_named(const conv::IrGraph& g, const char* name) {
  for (size_t i = 0; i < g.ops.size(); ++i)
    if (g.ops[i].name == name) return int32_t(i);
  return -1;
}

// The tiny decoder with its LM head tied: EMBEDDING reads the head's matrix.
// The former word table stays in the file, unreferenced by any op.
conv::IrGraph tied_decoder() {
  conv::IrGraph g = test::tiny_decoder_graph(false);
  const int32_t emb = op_named(g, "embeddings"), head = op_named(g, "lm_head");
  g.ops[size_t(emb)].inputs[2] = g.ops[size_t(head)].inputs[1];
  return g;
}

// The untied decoder whose word table is a float copy of the head's values
// (after quantization when int8: float(q) * scale, what the tied EMBEDDING
// computes), so both files must give the same bits.
conv::IrGraph untied_reference(const conv::IrGraph& tied) {
  conv::IrGraph g = tied;
  const int32_t emb = op_named(g, "embeddings"), head = op_named(g, "lm_head");
  const conv::IrTensor& w = g.tensors[size_t(g.ops[size_t(head)].inputs[1])];
  conv::IrTensor word = w;
  word.name = "word.copy";
  if (w.dtype == DType::kI8) {
    const size_t rows = size_t(w.shape[0]), cols = size_t(w.shape[1]);
    const size_t block = w.quant_block ? size_t(w.quant_block) : cols, nb = (cols + block - 1) / block;
    word.f32.resize(rows * cols);
    for (size_t r = 0; r < rows; ++r)
      for (size_t c = 0; c < cols; ++c) word.f32[r * cols + c] = float(w.i8[r * cols + c]) * w.scales[r * nb + c / block];
    word.dtype = DType::kF32;
    word.i8.clear();
    word.scales.clear();
    word.quant_block = 0;
  }
  g.tensors.push_back(word);
  g.ops[size_t(emb)].inputs[2] = int32_t(g.tensors.size() - 1);
  return g;
}

std::vector<float> logits(test::AlignedBytes& bytes, const std::vector<int32_t>& ids, Isa isa) {
  Model m;
  const Status ls = m.load_buffer(bytes.data(), bytes.size);
  CAPTURE(ls.message());
  REQUIRE(ls.ok());
  Session s;
  SessionOptions o;
  o.force_isa = true;
  o.isa = isa;
  REQUIRE(s.init(&m, o, nullptr, 0).ok());
  std::vector<float> out(ids.size() * m.output_size());
  size_t n = 0;
  const Status rs = s.run(ids.data(), ids.size(), out.data(), out.size(), &n);
  CAPTURE(rs.message());
  REQUIRE(rs.ok());
  return out;
}

const TensorInfo* tensor_named(const Model& m, const std::string& name) {
  for (const TensorInfo& t : m.tensors())
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace

TEST_SUITE("fast") {

TEST_CASE("EMBEDDING reads a tied head's packed weights: the bits of a row-major table of the same values (fp32, int8 per row and blocks of 8)") {
  std::vector<int32_t> ids(48);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t((i * 13 + 5) % 40);  // every id of the vocabulary of 40
  // {int8, head block}: fp32; int8 per row; int8 in blocks of 8 columns.
  for (auto [int8, block] : {std::pair{false, 0}, std::pair{true, 0}, std::pair{true, 8}}) {
    CAPTURE(int8);
    CAPTURE(block);
    conv::IrGraph tied = tied_decoder();
    tied.ops[size_t(op_named(tied, "lm_head"))].act_block = block;
    if (int8) conv::quantize_weights(&tied);
    const int32_t head_w = tied.ops[size_t(op_named(tied, "lm_head"))].inputs[1];
    CHECK(tied.tensors[size_t(head_w)].dtype == (int8 ? DType::kI8 : DType::kF32));
    CHECK(tied.tensors[size_t(head_w)].quant_block == block);
    test::AlignedBytes a(test::serialize(tied)), b(test::serialize(untied_reference(tied)));
    {
      Model m;
      REQUIRE(m.load_buffer(a.data(), a.size).ok());
      const TensorInfo* t = tensor_named(m, "lm_head.w");
      REQUIRE(t);
      CHECK(t->layout == (int8 ? WeightLayout::kPackedN16K4 : WeightLayout::kPackedN16));
      // GEMM weights keep their scales once, per panel (EMBEDDING reads those).
      CHECK(t->scales.empty());
      CHECK(t->num_scales() == (int8 ? size_t(40) * (block ? 32 / size_t(block) : 1) : 0));
      CHECK(t->panel_scales.size() == (int8 ? size_t(48) * (block ? 32 / size_t(block) : 1) : 0));  // 3 panels of 16
      CHECK(m.ops()[size_t(op_named(tied, "embeddings"))].inputs[2] == head_w);
    }
    std::vector<float> first;
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot}) {
      if (!isa_supported(isa)) continue;
      CAPTURE(isa_name(isa));
      const std::vector<float> got = logits(a, ids, isa), want = logits(b, ids, isa);
      CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
      if (first.empty()) first = got;
      CHECK(std::memcmp(got.data(), first.data(), got.size() * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("tied head: the loader refuses a packed table no GEMM uses, the matrix in a slot that reads no GEMM weights, an int8 row-major table with blocks") {
  {
    // The head's GEMM pointed at the unused row-major table: the packed
    // matrix is then read by EMBEDDING alone.
    conv::IrGraph g = tied_decoder();
    const int32_t head = op_named(g, "lm_head");
    int32_t old_word = -1;
    for (size_t t = 0; t < g.tensors.size(); ++t)
      if (g.tensors[t].name == "word") old_word = int32_t(t);
    REQUIRE(old_word >= 0);
    auto bytes = test::serialize(g);
    auto* ops = fb::GetMutableModel(bytes.data())->mutable_graph()->mutable_ops();
    ops->GetMutableObject(flatbuffers::uoffset_t(head))->mutable_inputs()->Mutate(1, old_word);
    const Status s = test::load_bytes(bytes);
    CHECK(s.code() == HEED_ERROR_INVALID_MODEL);
    CHECK(std::string(s.message()) == "tensor 'lm_head.w': a packed layout is only for fully connected weights");
  }
  {
    // The head's matrix also as EMBEDDING's position table (a slot that
    // reads row-major floats).
    conv::IrGraph g = tied_decoder();
    const int32_t emb = op_named(g, "embeddings"), head = op_named(g, "lm_head");
    g.ops[size_t(emb)].inputs[3] = g.ops[size_t(head)].inputs[1];
    const Status s = test::load_graph(g);
    CHECK(s.code() == HEED_ERROR_UNSUPPORTED);
    CHECK(std::string(s.message()) == "tensor 'lm_head.w': fully connected weights shared with another op");
  }
  {
    // A word table of its own stays row-major with one scale per row.
    conv::IrGraph g = test::tiny_decoder_graph(true);
    conv::IrTensor& word = g.tensors[size_t(g.ops[size_t(op_named(g, "embeddings"))].inputs[2])];
    word.dtype = DType::kF32;
    word.f32 = test::rnd(40 * 32, 5, 1.0f);
    conv::quantize_matrix(&word, 8);
    const Status s = test::load_graph(g);
    CHECK(s.code() == HEED_ERROR_INVALID_MODEL);
    CHECK(std::string(s.message()).find("(EMBEDDING): int8 word table needs one scale per row") != std::string::npos);
  }
  {
    // The tied file itself loads, fp32 and int8, its EMBEDDING at version 2
    // (a packed table; untied files keep version 1, which older runtimes run).
    for (bool int8 : {false, true}) {
      conv::IrGraph g = tied_decoder();
      if (int8) conv::quantize_weights(&g);
      auto bytes = test::serialize(g);
      test::AlignedBytes a(bytes);
      Model m;
      REQUIRE(m.load_buffer(a.data(), a.size).ok());
      const int32_t emb = op_named(g, "embeddings");
      CHECK(m.ops()[size_t(emb)].version == 2);
      // Version 1 with a packed table: refused; version 3: unknown.
      auto* op = fb::GetMutableModel(bytes.data())->mutable_graph()->mutable_ops()->GetMutableObject(flatbuffers::uoffset_t(emb));
      REQUIRE(op->mutate_version(1));
      Status s = test::load_bytes(bytes);
      CHECK(s.code() == HEED_ERROR_INVALID_MODEL);
      CHECK(std::string(s.message()) == "op 0 'embeddings' (EMBEDDING): a packed word table needs op version 2, this op is version 1");
      REQUIRE(op->mutate_version(3));
      s = test::load_bytes(bytes);
      CHECK(s.code() == HEED_ERROR_UNSUPPORTED);
      CHECK(std::string(s.message()) == "op 0 'embeddings': unsupported EMBEDDING version 3");
    }
    test::AlignedBytes a(test::serialize(test::tiny_decoder_graph(true)));
    Model m;
    REQUIRE(m.load_buffer(a.data(), a.size).ok());
    for (const OpInfo& op : m.ops()) CHECK(op.version == 1);
  }
}

}  // TEST_SUITE
