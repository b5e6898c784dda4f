// A tiny random causal LM in the shape arch/llama.cc builds (one layer:
// RMS_NORM, fused qkv, ROPE with 4 query / 2 kv heads, causal ATTENTION,
// ADD, SWIGLU MLP, final norm, LM head), logits [S, V] per token. For the
// C API, heap and session tests; the model's numbers are checked against
// transformers in tests/e2e/test_decoder.py.
#pragma once

#include "runtime/tiny-model.h"

namespace heed::test {

inline conv::IrGraph tiny_decoder_graph(bool int8 = false, int32_t max_pos = 48) {
  using namespace conv;
  constexpr int32_t V = 40, H = 32, HQ = 4, KV = 2, D = 8, I = 48;
  IrGraph g;
  g.architecture = "LlamaForCausalLM";
  g.task = Task::kCausalLm;
  g.hidden_size = H;
  g.num_layers = 1;
  auto input = [&](const char* name, InputRole role) {
    const int32_t t = g.add_activation(name, {-1});
    g.tensors[size_t(t)].kind = TensorKind::kInput;
    g.tensors[size_t(t)].dtype = DType::kI32;
    g.inputs.push_back(t);
    g.input_roles.push_back(role);
    return t;
  };
  const int32_t ids = input("input_ids", InputRole::kTokenIds);
  const int32_t pos = input("position_ids", InputRole::kPositions);
  uint32_t seed = 70;
  auto w = [&](size_t n, float s) { return rnd(n, seed++, s); };
  auto act = [&](const char* name, int32_t cols) { return g.add_activation(name, {-1, cols}); };
  const int32_t emb = act("emb", H);
  g.add_op(OpKind::kEmbedding, "embeddings", {ids, -1, g.add_constant("word", {V, H}, w(V * H, 1.0f)), -1, -1}, {emb});
  auto norm = [&](const char* name, int32_t in) {
    const int32_t out = act(name, H);
    g.add_op(OpKind::kRmsNorm, name, {in, g.add_constant(std::string(name) + ".w", {H}, w(H, 1.0f))}, {out}).epsilon = 1e-5f;
    return out;
  };
  auto fc = [&](const char* name, int32_t in, int32_t K, int32_t N) {
    const int32_t out = act(name, N);
    g.add_op(OpKind::kFullyConnected, name, {in, g.add_constant(std::string(name) + ".w", {N, K}, w(size_t(N * K), 0.2f)), -1}, {out});
    return out;
  };
  const int32_t n1 = norm("attn.norm", emb);
  const int32_t qkv = fc("attn.qkv", n1, H, (HQ + 2 * KV) * D);
  const int32_t rot = act("attn.rope", 3 * HQ * D);
  {
    IrOp& op = g.add_op(OpKind::kRope, "attn.rope", {qkv, pos}, {rot});
    op.num_heads = HQ, op.num_kv_heads = KV, op.head_dim = D, op.rope_max_positions = max_pos;
  }
  const int32_t ctx = act("attn", HQ * D);
  {
    IrOp& op = g.add_op(OpKind::kAttention, "attn", {rot}, {ctx});
    op.num_heads = HQ, op.head_dim = D, op.pattern = AttnPattern::kCausal;
  }
  const int32_t ao = fc("attn.out", ctx, HQ * D, H);
  const int32_t h = act("attn.residual", H);
  g.add_op(OpKind::kAdd, "attn.residual", {emb, ao}, {h});
  const int32_t gu = fc("mlp.gate_up", norm("mlp.norm", h), H, 2 * I);
  const int32_t sw = act("mlp.swiglu", I);
  g.add_op(OpKind::kSwiglu, "mlp.swiglu", {gu}, {sw});
  const int32_t down = fc("mlp.down", sw, I, H);
  const int32_t out = act("out", H);
  g.add_op(OpKind::kAdd, "mlp.residual", {h, down}, {out});
  const int32_t logits = fc("lm_head", norm("norm", out), H, V);
  g.outputs = {logits};
  if (int8) conv::quantize_weights(&g);
  return g;
}

}  // namespace heed::test
