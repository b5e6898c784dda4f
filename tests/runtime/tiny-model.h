// A tiny BERT-shaped model built directly as converter IR, for runtime and
// malformed-file tests: embeddings -> LN -> one encoder layer -> mean pool ->
// L2 normalize, with a 16-piece WordPiece vocabulary. Random fixed-seed weights.
#pragma once

#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "ir.h"
#include "tokenizer/utf8.h"
#include "quantize.h"

namespace heed::test {

inline std::vector<float> rnd(size_t n, uint32_t seed, float scale = 0.2f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// tokenizer: replaces the WordPiece one (the word table gets its vocabulary's rows).
inline conv::IrGraph tiny_graph(bool int8 = false, int32_t H = 32, int32_t heads = 4, int32_t I = 64,
                                int32_t max_pos = 64, const conv::IrTokenizer* tokenizer = nullptr) {
  using namespace conv;
  IrGraph g;
  g.architecture = "BertModel";
  g.hidden_size = H;
  g.num_layers = 1;
  g.tokenizer.vocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat",
                       "##s", ".", "a", "dog", "##gy", "run"};
  g.tokenizer.pad_id = 0;
  g.tokenizer.unk_id = 1;
  g.tokenizer.cls_id = 2;
  g.tokenizer.sep_id = 3;
  g.tokenizer.special_ids = {0, 1, 2, 3, 4};
  g.tokenizer.max_length = max_pos;
  if (tokenizer) g.tokenizer = *tokenizer;
  const int32_t V = int32_t(g.tokenizer.vocab.size());
  const int32_t ids = g.add_activation("input_ids", {-1});
  g.tensors[size_t(ids)].kind = TensorKind::kInput;
  g.tensors[size_t(ids)].dtype = DType::kI32;
  const int32_t types = g.add_activation("token_type_ids", {-1});
  g.tensors[size_t(types)].kind = TensorKind::kInput;
  g.tensors[size_t(types)].dtype = DType::kI32;
  g.inputs = {ids, types};
  uint32_t seed = 1;
  const int32_t word = g.add_constant("word", {V, H}, rnd(size_t(V * H), seed++));
  const int32_t pos = g.add_constant("pos", {max_pos, H}, rnd(size_t(max_pos * H), seed++));
  const int32_t type = g.add_constant("type", {2, H}, rnd(size_t(2 * H), seed++));
  const int32_t emb = g.add_activation("emb", {-1, H});
  g.add_op(OpKind::kEmbedding, "embeddings", {ids, types, word, pos, type}, {emb});
  auto ln = [&](const std::string& name, int32_t in, int32_t res) {
    std::vector<float> gamma(size_t(H), 1.0f), beta(size_t(H), 0.0f);
    const int32_t ga = g.add_constant(name + ".g", {H}, gamma);
    const int32_t be = g.add_constant(name + ".b", {H}, beta);
    const int32_t out = g.add_activation(name, {-1, H});
    g.add_op(OpKind::kLayerNorm, name, {in, ga, be, res}, {out}).epsilon = 1e-12f;
    return out;
  };
  auto fc = [&](const std::string& name, int32_t in, int32_t N, int32_t K, Activation act) {
    const int32_t w = g.add_constant(name + ".w", {N, K}, rnd(size_t(N * K), seed++));
    const int32_t b = g.add_constant(name + ".b", {N}, rnd(size_t(N), seed++, 0.05f));
    const int32_t out = g.add_activation(name, {-1, N});
    g.add_op(OpKind::kFullyConnected, name, {in, w, b}, {out}).activation = act;
    return out;
  };
  const int32_t x = ln("emb.ln", emb, -1);
  const int32_t qkv = fc("qkv", x, 3 * H, H, Activation::kNone);
  const int32_t ctx = g.add_activation("ctx", {-1, H});
  IrOp& at = g.add_op(OpKind::kAttention, "attn", {qkv}, {ctx});
  at.num_heads = heads;
  at.head_dim = H / heads;
  const int32_t ao = fc("attn.out", ctx, H, H, Activation::kNone);
  const int32_t h1 = ln("attn.ln", ao, x);
  const int32_t up = fc("ffn.up", h1, I, H, Activation::kGelu);
  const int32_t down = fc("ffn.down", up, H, I, Activation::kNone);
  const int32_t out = ln("ffn.ln", down, h1);
  const int32_t pooled = g.add_activation("pooled", {1, H});
  g.add_op(OpKind::kMeanPool, "pool", {out}, {pooled});
  const int32_t emb_out = g.add_activation("embedding", {1, H});
  g.add_op(OpKind::kL2Normalize, "normalize", {pooled}, {emb_out}).epsilon = 1e-12f;
  g.outputs = {emb_out};
  g.pooling = 1;
  g.normalize = true;
  if (int8) conv::quantize_weights(&g);
  return g;
}

// GPT-2's character for one byte (the byte-level BPE alphabet), as UTF-8.
inline std::string gpt2_byte_char(uint8_t b) {
  auto self = [](uint32_t x) { return (x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || x >= 0xAE; };
  uint32_t cp = b;
  if (!self(b)) {
    cp = 256;
    for (uint32_t x = 0; x < b; ++x) cp += self(x) ? 0 : 1;
  }
  char u[4];
  return std::string(u, utf8::encode(cp, u));
}

// tiny_graph with a 16-piece byte-level BPE tokenizer instead of WordPiece:
// "ab" " ab" " xyz" tokenize to 5, 6, 4 14; "\xC3\xA9" to 9; id 0 is the
// special <|endoftext|>. Merge ranks: a+b, " "+ab, x+y, xy+z, " "+x, C3+A9.
inline conv::IrGraph tiny_graph_bpe(bool int8 = false) {
  conv::IrGraph g = tiny_graph(int8);
  conv::IrTokenizer& tk = g.tokenizer;
  tk = conv::IrTokenizer();
  tk.kind = TokenizerKind::kBpeByteLevel;
  const std::string sp = gpt2_byte_char(' ');
  tk.vocab = {"<|endoftext|>", "a", "b", "c", sp, "ab", sp + "ab", gpt2_byte_char(0xC3), gpt2_byte_char(0xA9),
              gpt2_byte_char(0xC3) + gpt2_byte_char(0xA9), "x", "y", "z", "xy", "xyz", sp + "x"};
  tk.merges = {1, 2, 4, 5, 10, 11, 13, 12, 4, 10, 7, 8};
  tk.special_ids = {0};
  return g;
}

// 64-byte aligned copy of a serialized model.
struct AlignedBytes {
  std::unique_ptr<uint8_t, void (*)(void*)> ptr{nullptr, std::free};
  size_t size = 0;
  explicit AlignedBytes(const std::vector<uint8_t>& v) : size(v.size()) {
    ptr.reset(static_cast<uint8_t*>(std::aligned_alloc(64, (v.size() + 63) / 64 * 64 + 64)));
    if (!v.empty()) std::memcpy(ptr.get(), v.data(), v.size());
  }
  uint8_t* data() { return ptr.get(); }
};

inline std::vector<uint8_t> serialize(const conv::IrGraph& g) {
  std::vector<uint8_t> out;
  Status s = conv::write_model(g, nullptr, &out);
  if (!s.ok()) out.clear();
  return out;
}

}  // namespace heed::test
