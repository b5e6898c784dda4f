// BERT mapping. Per layer:
//   qkv = FC(x, [Wq;Wk;Wv])        [S, 3H]   (fused: one GEMM instead of three)
//   ctx = ATTENTION(qkv)           [S, H]
//   h1  = LN(FC(ctx, Wo) + x)      [S, H]
//   f   = FC(h1, Wi) + GELU        [S, I]
//   x'  = LN(FC(f, Wo2) + h1)      [S, H]
#include <cmath>
#include <string>

#include "arch/arch.h"
#include "arch/config-fields.h"
#include "arch/weights.h"
#include "tokenizer/wordpiece.h"

namespace heed::conv {

namespace {

struct BertConfig {
  int64_t hidden = 0, layers = 0, heads = 0, intermediate = 0, max_pos = 0, type_vocab = 0, vocab = 0;
  double eps = 1e-12;
  std::string act;
  int64_t num_labels = 0;
};

Status read_config(const HfDir& dir, BertConfig* c, std::vector<std::string>* labels) {
  const JsonValue& j = dir.config;
  const std::string& src = dir.config_name;
  const ConfigFields cf(dir);
  HEED_RETURN_IF_ERROR(json_get_int(j, "hidden_size", src, &c->hidden));
  HEED_RETURN_IF_ERROR(json_get_int(j, "num_hidden_layers", src, &c->layers));
  HEED_RETURN_IF_ERROR(json_get_int(j, "num_attention_heads", src, &c->heads));
  HEED_RETURN_IF_ERROR(json_get_int(j, "intermediate_size", src, &c->intermediate));
  HEED_RETURN_IF_ERROR(json_get_int(j, "max_position_embeddings", src, &c->max_pos));
  HEED_RETURN_IF_ERROR(json_get_int(j, "vocab_size", src, &c->vocab));
  c->type_vocab = 2;
  if (j.find("type_vocab_size")) HEED_RETURN_IF_ERROR(json_get_int(j, "type_vocab_size", src, &c->type_vocab));
  if (j.find("layer_norm_eps")) HEED_RETURN_IF_ERROR(json_get_number(j, "layer_norm_eps", src, &c->eps));
  c->act = "gelu";
  if (j.find("hidden_act")) HEED_RETURN_IF_ERROR(json_get_string(j, "hidden_act", src, &c->act));
  // Each range is what the runtime accepts (format/model.h), so a config it
  // would refuse is named here rather than surfacing as an invalid model.
  if (c->hidden < 1 || c->hidden > kMaxGemmK) return cf.range("hidden_size", c->hidden, 1, kMaxGemmK);
  if (c->layers < 1 || c->layers > 1024) return cf.range("num_hidden_layers", c->layers, 1, 1024);
  if (c->heads < 1 || c->heads > kMaxHeads) return cf.range("num_attention_heads", c->heads, 1, kMaxHeads);
  if (c->hidden % c->heads != 0) return cf.bad("num_attention_heads", "must divide hidden_size");
  if (c->hidden / c->heads > kMaxHeadDim) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: hidden_size / num_attention_heads = %lld exceeds heed's head size cap of %d",
                         src.c_str(), (long long)(c->hidden / c->heads), kMaxHeadDim);
  }
  if (c->intermediate < 1 || c->intermediate > kMaxGemmK) return cf.range("intermediate_size", c->intermediate, 1, kMaxGemmK);
  if (c->max_pos < 2 || c->max_pos > kMaxSeq) return cf.range("max_position_embeddings", c->max_pos, 2, kMaxSeq);
  if (c->vocab < 1 || c->vocab > int64_t(WordPieceTokenizer::kMaxVocabSize)) {
    return cf.range("vocab_size", c->vocab, 1, int64_t(WordPieceTokenizer::kMaxVocabSize));
  }
  if (c->type_vocab < 1 || c->type_vocab > 1024) return cf.range("type_vocab_size", c->type_vocab, 1, 1024);
  // The runtime keeps epsilon as a positive normal float32.
  if (!(c->eps >= 1e-30 && c->eps <= 1.0)) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: field 'layer_norm_eps' is %g, outside 1e-30..1", src.c_str(), c->eps);
  }
  if (c->act != "gelu") return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: hidden_act '%s' is not supported (gelu only)", src.c_str(), c->act.c_str());
  if (const JsonValue* pe = j.find("position_embedding_type"); pe && !pe->is_null()) {
    if (!pe->is_string()) return cf.bad("position_embedding_type", "must be a string");
    if (pe->as_string() != "absolute") {
      return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: position_embedding_type '%s' is not supported", src.c_str(),
                           pe->as_string().c_str());
    }
  }
  // Labels as transformers' PretrainedConfig reads them: id2label when
  // present (num_labels then ignored), else num_labels (default 2) named
  // LABEL_0.... Bounded before anything is allocated for them.
  const JsonValue* id2label = j.find("id2label");
  if (id2label && !id2label->is_null()) {
    if (!id2label->is_object()) return cf.bad("id2label", "must map ids 0..n-1 to strings");
    const size_t n = id2label->members().size();
    if (n < 1 || n > kMaxLabels) return cf.range("id2label", int64_t(n), 1, int64_t(kMaxLabels));
    labels->assign(n, std::string());
    std::vector<uint8_t> seen(n, 0);
    for (const auto& [k, v] : id2label->members()) {
      size_t id = 0;
      bool ok = !k.empty() && k.size() <= 6 && v.is_string();
      for (char ch : k) ok = ok && ch >= '0' && ch <= '9';
      if (ok) id = size_t(std::stoul(k));
      if (!ok || id >= n || seen[id]) return cf.bad("id2label", "must map each id 0..n-1 (decimal keys) to one string");
      seen[id] = 1;
      (*labels)[id] = v.as_string();
    }
    c->num_labels = int64_t(n);
  } else {
    c->num_labels = 2;
    if (j.find("num_labels")) HEED_RETURN_IF_ERROR(json_get_int(j, "num_labels", src, &c->num_labels));
    if (c->num_labels < 1 || c->num_labels > int64_t(kMaxLabels)) {
      return cf.range("num_labels", c->num_labels, 1, int64_t(kMaxLabels));
    }
  }
  return Status::Ok();
}

int32_t i32(int64_t v) { return int32_t(v); }

}  // namespace

Status bert_build(const HfDir& dir, const SafeTensors& weights, IrGraph* g, ProgressFn progress, void* user) {
  if (dir.model_type != "bert") {
    return Status::Error(HEED_ERROR_UNSUPPORTED,
                         "%s: model_type '%s' is not supported (supported: bert, llama, gpt2)", dir.config_name.c_str(),
                         dir.model_type.c_str());
  }
  const bool classify = dir.architecture == "BertForSequenceClassification";
  if (!classify && !dir.architecture.empty() && dir.architecture != "BertModel") {
    return Status::Error(HEED_ERROR_UNSUPPORTED,
                         "%s: architecture '%s' is not supported (BertModel, BertForSequenceClassification)",
                         dir.config_name.c_str(), dir.architecture.c_str());
  }
  BertConfig c;
  std::vector<std::string> labels;
  HEED_RETURN_IF_ERROR(read_config(dir, &c, &labels));
  if (classify && labels.empty()) {
    for (int64_t i = 0; i < c.num_labels; ++i) labels.push_back("LABEL_" + std::to_string(i));
  }
  if (classify) g->labels = std::move(labels);
  // Checkpoints of task models prefix the encoder with "bert.".
  const std::string prefix = weights.find("bert.embeddings.word_embeddings.weight") ? "bert." : "";
  WeightReader w(weights, prefix);
  const int64_t H = c.hidden, I = c.intermediate;

  g->architecture = classify ? "BertForSequenceClassification" : "BertModel";
  g->task = classify ? Task::kSequenceClassification : Task::kEmbedding;
  g->hidden_size = i32(H);
  g->num_layers = i32(c.layers);

  // Graph inputs.
  const int32_t ids = g->add_activation("input_ids", {-1});
  g->tensors[size_t(ids)].kind = TensorKind::kInput;
  g->tensors[size_t(ids)].dtype = DType::kI32;
  const int32_t types = g->add_activation("token_type_ids", {-1});
  g->tensors[size_t(types)].kind = TensorKind::kInput;
  g->tensors[size_t(types)].dtype = DType::kI32;
  g->inputs = {ids, types};
  g->input_roles = {InputRole::kTokenIds, InputRole::kTokenTypeIds};

  std::vector<float> a, b;
  auto constant = [&](const std::string& name, std::vector<int32_t> shape, std::vector<float>& data) {
    return g->add_constant(name, std::move(shape), std::move(data));
  };

  // Embeddings.
  HEED_RETURN_IF_ERROR(w.read("embeddings.word_embeddings.weight", {c.vocab, H}, &a));
  const int32_t word = constant("embeddings.word", {i32(c.vocab), i32(H)}, a);
  HEED_RETURN_IF_ERROR(w.read("embeddings.position_embeddings.weight", {c.max_pos, H}, &a));
  const int32_t pos = constant("embeddings.position", {i32(c.max_pos), i32(H)}, a);
  HEED_RETURN_IF_ERROR(w.read("embeddings.token_type_embeddings.weight", {c.type_vocab, H}, &a));
  const int32_t type = constant("embeddings.token_type", {i32(c.type_vocab), i32(H)}, a);
  const int32_t emb = g->add_activation("embeddings.sum", {-1, i32(H)});
  g->add_op(OpKind::kEmbedding, "embeddings", {ids, types, word, pos, type}, {emb});
  HEED_RETURN_IF_ERROR(w.read("embeddings.LayerNorm.weight", {H}, &a, "embeddings.LayerNorm.gamma"));
  HEED_RETURN_IF_ERROR(w.read("embeddings.LayerNorm.bias", {H}, &b, "embeddings.LayerNorm.beta"));
  int32_t x = g->add_activation("embeddings.out", {-1, i32(H)});
  {
    const int32_t gam = constant("embeddings.ln.gamma", {i32(H)}, a);
    const int32_t bet = constant("embeddings.ln.beta", {i32(H)}, b);
    g->add_op(OpKind::kLayerNorm, "embeddings.ln", {emb, gam, bet, -1}, {x}).epsilon = float(c.eps);
  }

  for (int64_t l = 0; l < c.layers; ++l) {
    if (progress) progress(user, size_t(l), size_t(c.layers), "reading layers");
    const std::string hf = "encoder.layer." + std::to_string(l) + ".";
    const std::string L = "layer." + std::to_string(l) + ".";
    // Fused QKV: rows [q; k; v] of [3H, H], bias [3H].
    std::vector<float> wqkv, bqkv;
    for (const char* part : {"query", "key", "value"}) {
      HEED_RETURN_IF_ERROR(w.read(hf + "attention.self." + part + ".weight", {H, H}, &a));
      HEED_RETURN_IF_ERROR(w.read(hf + "attention.self." + part + ".bias", {H}, &b));
      wqkv.insert(wqkv.end(), a.begin(), a.end());
      bqkv.insert(bqkv.end(), b.begin(), b.end());
    }
    const int32_t qkv = g->add_activation(L + "attn.qkv", {-1, i32(3 * H)});
    {
      const int32_t wt = constant(L + "attn.qkv.weight", {i32(3 * H), i32(H)}, wqkv);
      const int32_t bt = constant(L + "attn.qkv.bias", {i32(3 * H)}, bqkv);
      g->add_op(OpKind::kFullyConnected, L + "attn.qkv", {x, wt, bt}, {qkv});
    }
    const int32_t ctx = g->add_activation(L + "attn.context", {-1, i32(H)});
    {
      IrOp& op = g->add_op(OpKind::kAttention, L + "attn", {qkv}, {ctx});
      op.num_heads = i32(c.heads);
      op.head_dim = i32(H / c.heads);
    }
    const int32_t ao = g->add_activation(L + "attn.out", {-1, i32(H)});
    HEED_RETURN_IF_ERROR(w.read(hf + "attention.output.dense.weight", {H, H}, &a));
    HEED_RETURN_IF_ERROR(w.read(hf + "attention.output.dense.bias", {H}, &b));
    {
      const int32_t wt = constant(L + "attn.out.weight", {i32(H), i32(H)}, a);
      const int32_t bt = constant(L + "attn.out.bias", {i32(H)}, b);
      g->add_op(OpKind::kFullyConnected, L + "attn.out", {ctx, wt, bt}, {ao});
    }
    const int32_t h1 = g->add_activation(L + "attn.ln", {-1, i32(H)});
    HEED_RETURN_IF_ERROR(w.read(hf + "attention.output.LayerNorm.weight", {H}, &a, (hf + "attention.output.LayerNorm.gamma").c_str()));
    HEED_RETURN_IF_ERROR(w.read(hf + "attention.output.LayerNorm.bias", {H}, &b, (hf + "attention.output.LayerNorm.beta").c_str()));
    {
      const int32_t gam = constant(L + "attn.ln.gamma", {i32(H)}, a);
      const int32_t bet = constant(L + "attn.ln.beta", {i32(H)}, b);
      g->add_op(OpKind::kLayerNorm, L + "attn.ln", {ao, gam, bet, x}, {h1}).epsilon = float(c.eps);
    }
    const int32_t f = g->add_activation(L + "ffn.up", {-1, i32(I)});
    HEED_RETURN_IF_ERROR(w.read(hf + "intermediate.dense.weight", {I, H}, &a));
    HEED_RETURN_IF_ERROR(w.read(hf + "intermediate.dense.bias", {I}, &b));
    {
      const int32_t wt = constant(L + "ffn.up.weight", {i32(I), i32(H)}, a);
      const int32_t bt = constant(L + "ffn.up.bias", {i32(I)}, b);
      g->add_op(OpKind::kFullyConnected, L + "ffn.up", {h1, wt, bt}, {f}).activation = Activation::kGelu;
    }
    const int32_t fo = g->add_activation(L + "ffn.down", {-1, i32(H)});
    HEED_RETURN_IF_ERROR(w.read(hf + "output.dense.weight", {H, I}, &a));
    HEED_RETURN_IF_ERROR(w.read(hf + "output.dense.bias", {H}, &b));
    {
      const int32_t wt = constant(L + "ffn.down.weight", {i32(H), i32(I)}, a);
      const int32_t bt = constant(L + "ffn.down.bias", {i32(H)}, b);
      g->add_op(OpKind::kFullyConnected, L + "ffn.down", {f, wt, bt}, {fo});
    }
    const int32_t out = g->add_activation(L + "out", {-1, i32(H)});
    HEED_RETURN_IF_ERROR(w.read(hf + "output.LayerNorm.weight", {H}, &a, (hf + "output.LayerNorm.gamma").c_str()));
    HEED_RETURN_IF_ERROR(w.read(hf + "output.LayerNorm.bias", {H}, &b, (hf + "output.LayerNorm.beta").c_str()));
    {
      const int32_t gam = constant(L + "ffn.ln.gamma", {i32(H)}, a);
      const int32_t bet = constant(L + "ffn.ln.beta", {i32(H)}, b);
      g->add_op(OpKind::kLayerNorm, L + "ffn.ln", {fo, gam, bet, h1}, {out}).epsilon = float(c.eps);
    }
    x = out;
  }
  if (progress) progress(user, size_t(c.layers), size_t(c.layers), "reading layers");

  if (classify) {
    const int32_t cls = g->add_activation("pooler.cls", {1, i32(H)});
    g->add_op(OpKind::kClsPool, "pooler.cls", {x}, {cls});
    const int32_t pooled = g->add_activation("pooler.out", {1, i32(H)});
    HEED_RETURN_IF_ERROR(w.read("pooler.dense.weight", {H, H}, &a));
    HEED_RETURN_IF_ERROR(w.read("pooler.dense.bias", {H}, &b));
    {
      const int32_t wt = constant("pooler.weight", {i32(H), i32(H)}, a);
      const int32_t bt = constant("pooler.bias", {i32(H)}, b);
      g->add_op(OpKind::kFullyConnected, "pooler", {cls, wt, bt}, {pooled}).activation = Activation::kTanh;
    }
    // The classifier sits outside the "bert." prefix.
    WeightReader head(weights, "");
    const int64_t NL = c.num_labels;
    HEED_RETURN_IF_ERROR(head.read("classifier.weight", {NL, H}, &a));
    HEED_RETURN_IF_ERROR(head.read("classifier.bias", {NL}, &b));
    const int32_t logits = g->add_activation("logits", {1, i32(NL)});
    const int32_t wt = constant("classifier.weight", {i32(NL), i32(H)}, a);
    const int32_t bt = constant("classifier.bias", {i32(NL)}, b);
    g->add_op(OpKind::kFullyConnected, "classifier", {pooled, wt, bt}, {logits});
    g->outputs = {logits};
  } else {
    const int pooling = dir.pooling == 0 ? 1 : dir.pooling;  // sentence-transformers default: mean
    g->pooling = pooling;
    g->normalize = dir.normalize;
    const int32_t pooled = g->add_activation("pooled", {1, i32(H)});
    g->add_op(pooling == 2 ? OpKind::kClsPool : OpKind::kMeanPool, "pool", {x}, {pooled});
    int32_t out = pooled;
    if (dir.normalize) {
      out = g->add_activation("embedding", {1, i32(H)});
      g->add_op(OpKind::kL2Normalize, "normalize", {pooled}, {out});
    }
    g->outputs = {out};
  }
  return Status::Ok();
}

}  // namespace heed::conv
