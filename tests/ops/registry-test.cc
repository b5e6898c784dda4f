// The op registry (ops/registry.cc) against the schema: every OpKind of
// schemas/heed.fbs has exactly one entry under the schema's own name, every
// entry is complete, the loader applies each entry's options rule, and the
// option fields the writer takes from an entry are the ones its decode reads.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <set>
#include <string>

#include "format/schema.h"
#include "ops/op-test-util.h"
#include "ops/op.h"

using namespace heed;

namespace {

int32_t op_index(const conv::IrGraph& g, OpKind k) {
  for (size_t i = 0; i < g.ops.size(); ++i)
    if (g.ops[i].kind == k) return int32_t(i);
  return -1;
}

std::string message_of(const Status& s) { return s.message(); }

}  // namespace

TEST_SUITE("fast") {

TEST_CASE("every schema op kind has one registry entry with the schema's name") {
  size_t count = 0;
  const OpEntry* const* entries = op_entries(&count);
  std::set<unsigned> kinds;
  for (size_t i = 0; i < count; ++i) {
    const OpEntry& e = *entries[i];
    CAPTURE(e.name);
    CHECK(kinds.insert(unsigned(e.kind)).second);  // listed once
    // The generated enum names come from schemas/heed.fbs, not from heed's code.
    CHECK(std::string(fb::EnumNameOpKind(static_cast<fb::OpKind>(e.kind))) == e.name);
    CHECK(op_entry(e.kind) == &e);
    CHECK(std::string(op_kind_name(e.kind)) == e.name);
  }
  for (fb::OpKind k : fb::EnumValuesOpKind()) {
    CAPTURE(fb::EnumNameOpKind(k));
    CHECK(op_entry(static_cast<OpKind>(k)) != nullptr);
  }
  CHECK(count == sizeof(fb::EnumValuesOpKind()) / sizeof(fb::EnumValuesOpKind()[0]));
  CHECK(op_entry(static_cast<OpKind>(unsigned(fb::OpKind::MAX) + 1)) == nullptr);
  CHECK(std::string(op_kind_name(static_cast<OpKind>(999))) == "UNKNOWN");
}

TEST_CASE("registry entries are complete and their signatures fit the loader's caps") {
  size_t count = 0;
  const OpEntry* const* entries = op_entries(&count);
  for (size_t i = 0; i < count; ++i) {
    const OpEntry& e = *entries[i];
    CAPTURE(e.name);
    const OpSignature& s = e.signature;
    CHECK(e.max_version >= 1);
    CHECK(bool(e.validate));
    CHECK(bool(e.run));
    CHECK(s.num_inputs >= 1);
    CHECK(s.num_inputs <= kMaxOpInputs);
    CHECK(s.min_inputs >= 1);
    CHECK(s.min_inputs <= s.num_inputs);
    CHECK(s.num_outputs >= 1);
    CHECK(s.num_outputs <= kMaxOpOutputs);
    for (int k = 0; k < s.num_inputs; ++k) {
      CHECK(s.inputs[k].name != nullptr);
      CHECK(s.inputs[k].from != 0);
      CHECK(s.inputs[k].dtypes != 0);
      // Inputs a file may leave off the end must be optional.
      if (k >= s.min_inputs) CHECK((s.inputs[k].flags & kOptional) != 0);
    }
    for (int k = 0; k < s.num_outputs; ++k) CHECK(s.outputs[k].from == kFromActivation);
    // Options: decode and the writer's fields exist exactly when the op takes options.
    const bool takes = e.options != fb::OpOptions::NONE;
    CHECK(bool(e.decode) == takes);
    CHECK((e.num_option_fields > 0) == takes);
    CHECK((e.option_fields != nullptr) == takes);
    for (int f = 0; f < e.num_option_fields; ++f) CHECK(e.option_fields[f].attr_offset < sizeof(OpAttrs));
    CHECK(bool(e.state_bytes) == bool(e.init_state));
  }
}

TEST_CASE("A5: an op whose options table is another op's, or that takes none, is rejected naming the op") {
  const auto bytes = test::serialize(test::tiny_graph());
  REQUIRE(!bytes.empty());
  const auto g = test::tiny_graph();
  const int32_t ln = op_index(g, OpKind::kLayerNorm);
  const int32_t at = op_index(g, OpKind::kAttention);
  const int32_t pool = op_index(g, OpKind::kMeanPool);
  {
    // A LAYER_NORM op pointing at its table as L2NormalizeOptions (same
    // layout, so the verifier passes and the type check must catch it).
    auto b = bytes;
    auto* ops = fb::GetMutableModel(b.data())->mutable_graph()->mutable_ops();
    // Union types have no generated mutator: set the field through the table.
    auto* table = reinterpret_cast<flatbuffers::Table*>(ops->GetMutableObject(flatbuffers::uoffset_t(ln)));
    REQUIRE(table->SetField<uint8_t>(fb::Op::VT_OPTIONS_TYPE, uint8_t(fb::OpOptions::L2NormalizeOptions), 0));
    const Status s = test::load_bytes(b);
    CHECK(s.code() == HEED_ERROR_INVALID_MODEL);
    CHECK(message_of(s) == "op " + std::to_string(ln) + " 'emb.ln' (LAYER_NORM): needs LayerNormOptions");
  }
  {
    // The attention op keeps its AttentionOptions but becomes a GELU.
    auto b = bytes;
    auto* ops = fb::GetMutableModel(b.data())->mutable_graph()->mutable_ops();
    REQUIRE(ops->GetMutableObject(flatbuffers::uoffset_t(at))->mutate_kind(fb::OpKind::GELU));
    const Status s = test::load_bytes(b);
    CHECK(s.code() == HEED_ERROR_INVALID_MODEL);
    CHECK(message_of(s) == "op " + std::to_string(at) + " 'attn' (GELU): takes no options");
  }
  {
    // A pooling op turned into an op that needs options it does not have.
    auto b = bytes;
    auto* ops = fb::GetMutableModel(b.data())->mutable_graph()->mutable_ops();
    REQUIRE(ops->GetMutableObject(flatbuffers::uoffset_t(pool))->mutate_kind(fb::OpKind::L2_NORMALIZE));
    const Status s = test::load_bytes(b);
    CHECK(s.code() == HEED_ERROR_INVALID_MODEL);
    CHECK(message_of(s) == "op " + std::to_string(pool) + " 'pool' (L2_NORMALIZE): needs L2NormalizeOptions");
  }
}

TEST_CASE("D5: a tensor of the wrong kind, dtype or rank for its slot is named with the slot") {
  auto g = test::tiny_graph();
  const int32_t ln = op_index(g, OpKind::kLayerNorm);
  g.ops[size_t(ln)].inputs[1] = g.ops[size_t(ln)].inputs[0];  // an activation as gamma
  const Status s = test::load_graph(g);
  CHECK(s.code() == HEED_ERROR_INVALID_MODEL);
  CHECK(message_of(s) == "op 1 'emb.ln' (LAYER_NORM): input 1 (gamma) must be a constant, float32, rank 1; "
                         "'emb' is an activation, float32, rank 2");
  g = test::tiny_graph();
  g.ops[0].inputs[0] = g.ops[0].inputs[2];  // the word table as token ids
  CHECK(message_of(test::load_graph(g)) ==
        "op 0 'embeddings' (EMBEDDING): input 0 (ids) must be a graph input, int32, rank 1; "
        "'word' is a constant, float32, rank 2");
  g = test::tiny_graph();
  const int32_t fc = op_index(g, OpKind::kFullyConnected);
  g.tensors[size_t(g.ops[size_t(fc)].inputs[1])].shape = {96 * 32};  // weights of rank 1
  CHECK(message_of(test::load_graph(g)).find("input 1 (w) must be a constant, float32 or int8, rank 2") !=
        std::string::npos);
}

TEST_CASE("ATTENTION: CAUSAL_WINDOW and num_kv_heads are read back; bad ones are refused naming the problem") {
  auto load = [](const conv::IrGraph& g, Model* m) {
    test::AlignedBytes a(test::serialize(g));
    return m->load_buffer(a.data(), a.size);
  };
  auto g = test::tiny_graph();
  const int32_t at = op_index(g, OpKind::kAttention);
  g.ops[size_t(at)].pattern = AttnPattern::kCausalWindow;
  g.ops[size_t(at)].window = 5;
  Model m;
  const Status s = load(g, &m);
  CAPTURE(s.message());
  REQUIRE(s.ok());
  CHECK(m.ops()[size_t(at)].pattern == AttnPattern::kCausalWindow);
  CHECK(m.ops()[size_t(at)].window == 5);
  CHECK(m.ops()[size_t(at)].num_kv_heads == 4);  // 0 in the file: num_heads
  g.ops[size_t(at)].window = 0;
  Model m2;
  CHECK(message_of(load(g, &m2)).find("window 0 must be 1..") != std::string::npos);
  g.ops[size_t(at)].pattern = static_cast<AttnPattern>(5);
  Model m3;
  CHECK(message_of(load(g, &m3)).find("unknown attention pattern 5") != std::string::npos);
  g = test::tiny_graph();
  g.ops[size_t(at)].num_kv_heads = 2;  // an encoder's dense attention has no kv heads of its own
  Model m4;
  CHECK(message_of(load(g, &m4)).find("2 key/value heads for 4 query heads need a causal pattern") != std::string::npos);
  g.ops[size_t(at)].pattern = AttnPattern::kCausal;
  g.ops[size_t(at)].num_kv_heads = 3;
  Model m5;
  CHECK(message_of(load(g, &m5)).find("3 key/value heads do not divide 4 query heads") != std::string::npos);
  g.ops[size_t(at)].num_kv_heads = 2;  // divides, but the fused input is [s, 3 * 4 * 8]
  Model m6;
  CHECK(message_of(load(g, &m6)).find("input must be [-1, (4 + 2*2)*8]") != std::string::npos);
}

TEST_CASE("every option field the writer takes from an entry is read back by its decode") {
  // Non-default values in every field of every options table the tiny graph
  // has (RmsNormOptions: tests/ops/rms-norm-test.cc).
  auto g = test::tiny_graph();
  const int32_t at = op_index(g, OpKind::kAttention);
  const int32_t fc = op_index(g, OpKind::kFullyConnected);
  const int32_t ln = op_index(g, OpKind::kLayerNorm);
  const int32_t l2 = op_index(g, OpKind::kL2Normalize);
  g.ops[size_t(at)].pattern = AttnPattern::kSlidingWindow;
  g.ops[size_t(at)].window = 3;
  g.ops[size_t(at)].attn_scale = 0.25f;
  for (auto& op : g.ops)
    if (op.kind == OpKind::kFullyConnected) op.act_block = 16;
  g.ops[size_t(fc)].activation = Activation::kRelu;
  g.ops[size_t(fc)].act_quant = ActQuant::kStaticPerTensor;
  g.ops[size_t(fc)].input_scale = 0.05f;
  g.ops[size_t(ln)].epsilon = 1e-5f;
  g.ops[size_t(l2)].epsilon = 1e-9f;
  g.ops[0].position_offset = 2;
  conv::quantize_weights(&g);  // int8 weights in blocks of act_block
  const auto bytes = test::serialize(g);
  test::AlignedBytes a(bytes);
  Model m;
  const Status s = m.load_buffer(a.data(), a.size);
  CAPTURE(s.message());
  REQUIRE(s.ok());
  const OpInfo& ao = m.ops()[size_t(at)];
  CHECK(ao.pattern == AttnPattern::kSlidingWindow);
  CHECK(ao.window == 3);
  CHECK(ao.attn_scale == 0.25f);
  CHECK(ao.num_heads == 4);
  CHECK(ao.head_dim == 8);
  const OpInfo& fo = m.ops()[size_t(fc)];
  CHECK(fo.activation == Activation::kRelu);
  CHECK(fo.act_quant == ActQuant::kStaticPerTensor);
  CHECK(fo.input_scale == 0.05f);
  CHECK(fo.act_block == 16);
  CHECK(m.ops()[size_t(ln)].epsilon == 1e-5f);
  CHECK(m.ops()[size_t(l2)].epsilon == 1e-9f);
  CHECK(m.ops()[0].position_offset == 2);
  CHECK(m.max_seq() == 62);  // 64 position rows, two skipped

  g = test::tiny_graph();
  g.ops[size_t(at)].pattern = AttnPattern::kCausal;
  const auto causal = test::serialize(g);
  test::AlignedBytes c(causal);
  Model mc;
  REQUIRE(mc.load_buffer(c.data(), c.size).ok());
  CHECK(mc.ops()[size_t(at)].pattern == AttnPattern::kCausal);
  CHECK(mc.ops()[size_t(at)].attn_scale == 1.0f / std::sqrt(8.0f));  // 0 in the file: 1/sqrt(head_dim)
  CHECK(mc.ops()[size_t(fc)].act_block == 32);                        // 0 in the file: K
  for (const OpInfo& op : mc.ops()) CHECK(op.entry == op_entry(op.kind));
}

}  // TEST_SUITE
