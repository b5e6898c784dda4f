// GPT-2 mapping (GPT2LMHeadModel as transformers 4.40.2 defines it). Conv1D
// weights are stored [in, out] and transposed to heed's [out, in]. Per layer:
//   qkv = FC(LN(x), c_attn)                  [S, 3H]   (q | k | v, as c_attn's columns)
//   c   = ATTENTION(qkv), causal             [S, H]
//   h   = ADD(x, FC(c, attn.c_proj))         [S, H]
//   x'  = ADD(h, FC(FC(LN(h), c_fc) + act, mlp.c_proj))
// then logits = FC(LN(x), wte) [S, V]: the LM head is always the token
// embedding matrix (GPT2LMHeadModel ties it), stored once: the EMBEDDING
// reads the head's packed GEMM weights (decisions.md 26).
#include <algorithm>
#include <cmath>
#include <string>

#include "arch/arch.h"
#include "arch/config-fields.h"
#include "arch/weights.h"

namespace heed::conv {

namespace {

struct Gpt2Config {
  int64_t hidden = 0, layers = 0, heads = 0, inner = 0, positions = 0, vocab = 0;
  double eps = 1e-5;
  Activation act = Activation::kGeluTanh;
  bool scale_attn = true, scale_by_layer = false;
};

Status read_config(const HfDir& dir, Gpt2Config* c) {
  const JsonValue& j = dir.config;
  const std::string& src = dir.config_name;
  const ConfigFields cf(dir);
  // transformers' defaults for every field left out.
  c->hidden = 768, c->layers = 12, c->heads = 12, c->positions = 1024, c->vocab = 50257;
  if (cf.present("n_embd")) HEED_RETURN_IF_ERROR(json_get_int(j, "n_embd", src, &c->hidden));
  if (cf.present("n_layer")) HEED_RETURN_IF_ERROR(json_get_int(j, "n_layer", src, &c->layers));
  if (cf.present("n_head")) HEED_RETURN_IF_ERROR(json_get_int(j, "n_head", src, &c->heads));
  if (cf.present("n_positions")) HEED_RETURN_IF_ERROR(json_get_int(j, "n_positions", src, &c->positions));
  if (cf.present("vocab_size")) HEED_RETURN_IF_ERROR(json_get_int(j, "vocab_size", src, &c->vocab));
  c->inner = 4 * c->hidden;
  if (cf.present("n_inner")) HEED_RETURN_IF_ERROR(json_get_int(j, "n_inner", src, &c->inner));
  if (cf.present("layer_norm_epsilon")) HEED_RETURN_IF_ERROR(json_get_number(j, "layer_norm_epsilon", src, &c->eps));
  std::string act = "gelu_new";
  if (cf.present("activation_function")) HEED_RETURN_IF_ERROR(json_get_string(j, "activation_function", src, &act));
  if (act == "gelu_new" || act == "gelu_pytorch_tanh") {
    c->act = Activation::kGeluTanh;
  } else if (act == "gelu") {
    c->act = Activation::kGelu;
  } else if (act == "relu") {
    c->act = Activation::kRelu;
  } else if (act == "tanh") {
    c->act = Activation::kTanh;
  } else {
    return Status::Error(HEED_ERROR_UNSUPPORTED,
                         "%s: activation_function '%s' is not supported (gelu_new, gelu_pytorch_tanh, gelu, relu, tanh)",
                         src.c_str(), act.c_str());
  }
  if (cf.present("scale_attn_weights")) HEED_RETURN_IF_ERROR(json_get_bool(j, "scale_attn_weights", src, &c->scale_attn));
  if (cf.present("scale_attn_by_inverse_layer_idx")) {
    HEED_RETURN_IF_ERROR(json_get_bool(j, "scale_attn_by_inverse_layer_idx", src, &c->scale_by_layer));
  }
  if (cf.present("add_cross_attention")) {
    bool cross = false;
    HEED_RETURN_IF_ERROR(json_get_bool(j, "add_cross_attention", src, &cross));
    if (cross) return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: add_cross_attention true is not supported", src.c_str());
  }
  if (cf.present("tie_word_embeddings")) {
    bool tie = true;
    HEED_RETURN_IF_ERROR(json_get_bool(j, "tie_word_embeddings", src, &tie));
    // GPT2LMHeadModel saves no lm_head.weight; untied heads are not read.
    if (!tie) return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: tie_word_embeddings false is not supported for gpt2", src.c_str());
  }
  if (c->hidden < 1 || c->hidden > kMaxGemmK) return cf.range("n_embd", c->hidden, 1, kMaxGemmK);
  if (c->layers < 1 || c->layers > 1024) return cf.range("n_layer", c->layers, 1, 1024);
  if (c->heads < 1 || c->heads > kMaxHeads) return cf.range("n_head", c->heads, 1, kMaxHeads);
  if (c->hidden % c->heads != 0) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: field 'n_head' must divide n_embd", src.c_str());
  }
  if (c->hidden / c->heads > kMaxHeadDim) return cf.range("n_embd / n_head", c->hidden / c->heads, 1, kMaxHeadDim);
  if (c->inner < 1 || c->inner > kMaxGemmK) return cf.range("n_inner", c->inner, 1, kMaxGemmK);
  if (c->positions < 2 || c->positions > kMaxSeq) return cf.range("n_positions", c->positions, 2, kMaxSeq);
  if (c->vocab < 1 || c->vocab > kMaxDim) return cf.range("vocab_size", c->vocab, 1, kMaxDim);
  if (!(c->eps >= 1e-30 && c->eps <= 1.0)) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: field 'layer_norm_epsilon' is %g, outside 1e-30..1", src.c_str(),
                         c->eps);
  }
  return Status::Ok();
}

int32_t i32(int64_t v) { return int32_t(v); }

// Conv1D [in, out] -> [out, in].
std::vector<float> transposed(const std::vector<float>& w, int64_t in, int64_t out) {
  std::vector<float> t(w.size());
  for (int64_t i = 0; i < in; ++i)
    for (int64_t o = 0; o < out; ++o) t[size_t(o * in + i)] = w[size_t(i * out + o)];
  return t;
}

}  // namespace

Status gpt2_build(const HfDir& dir, const SafeTensors& weights, IrGraph* g, ProgressFn progress, void* user) {
  if (!dir.architecture.empty() && dir.architecture != "GPT2LMHeadModel") {
    return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: architecture '%s' is not supported (GPT2LMHeadModel)",
                         dir.config_name.c_str(), dir.architecture.c_str());
  }
  Gpt2Config c;
  HEED_RETURN_IF_ERROR(read_config(dir, &c));
  const std::string prefix = weights.find("transformer.wte.weight") ? "transformer." : "";
  WeightReader w(weights, prefix);
  const int64_t H = c.hidden, I = c.inner, V = c.vocab, P = c.positions, D = H / c.heads;

  g->architecture = "GPT2LMHeadModel";
  g->task = Task::kCausalLm;
  g->hidden_size = i32(H);
  g->num_layers = i32(c.layers);
  const int32_t ids = g->add_activation("input_ids", {-1});
  g->tensors[size_t(ids)].kind = TensorKind::kInput;
  g->tensors[size_t(ids)].dtype = DType::kI32;
  g->inputs = {ids};
  g->input_roles = {InputRole::kTokenIds};

  std::vector<float> a, b;
  auto constant = [&](const std::string& name, std::vector<int32_t> shape, std::vector<float>& data) {
    return g->add_constant(name, std::move(shape), std::move(data));
  };
  auto layer_norm = [&](const std::string& hf, const std::string& name, int32_t in, int32_t* out) -> Status {
    HEED_RETURN_IF_ERROR(w.read(hf + ".weight", {H}, &a));
    HEED_RETURN_IF_ERROR(w.read(hf + ".bias", {H}, &b));
    const int32_t gam = constant(name + ".gamma", {i32(H)}, a);
    const int32_t bet = constant(name + ".beta", {i32(H)}, b);
    *out = g->add_activation(name, {-1, i32(H)});
    g->add_op(OpKind::kLayerNorm, name, {in, gam, bet, -1}, {*out}).epsilon = float(c.eps);
    return Status::Ok();
  };
  // FC from a Conv1D [in, out] with bias [out].
  auto conv1d = [&](const std::string& hf, const std::string& name, int32_t in, int64_t n_in, int64_t n_out,
                    Activation act, int32_t* out) -> Status {
    HEED_RETURN_IF_ERROR(w.read(hf + ".weight", {n_in, n_out}, &a));
    HEED_RETURN_IF_ERROR(w.read(hf + ".bias", {n_out}, &b));
    std::vector<float> t = transposed(a, n_in, n_out);
    const int32_t wt = constant(name + ".weight", {i32(n_out), i32(n_in)}, t);
    const int32_t bt = constant(name + ".bias", {i32(n_out)}, b);
    *out = g->add_activation(name, {-1, i32(n_out)});
    g->add_op(OpKind::kFullyConnected, name, {in, wt, bt}, {*out}).activation = act;
    return Status::Ok();
  };

  HEED_RETURN_IF_ERROR(w.read("wte.weight", {V, H}, &a));
  const int32_t word = constant("wte", {i32(V), i32(H)}, a);
  HEED_RETURN_IF_ERROR(w.read("wpe.weight", {P, H}, &a));
  const int32_t pos = constant("wpe", {i32(P), i32(H)}, a);
  int32_t x = g->add_activation("embeddings", {-1, i32(H)});
  g->add_op(OpKind::kEmbedding, "embeddings", {ids, -1, word, pos, -1}, {x});

  for (int64_t l = 0; l < c.layers; ++l) {
    if (progress) progress(user, size_t(l), size_t(c.layers), "reading layers");
    const std::string hf = "h." + std::to_string(l) + ".";
    const std::string L = "layer." + std::to_string(l) + ".";
    int32_t n1 = -1, qkv = -1, ao = -1, n2 = -1, f = -1, d = -1;
    HEED_RETURN_IF_ERROR(layer_norm(hf + "ln_1", L + "attn.ln", x, &n1));
    HEED_RETURN_IF_ERROR(conv1d(hf + "attn.c_attn", L + "attn.qkv", n1, H, 3 * H, Activation::kNone, &qkv));
    const int32_t ctx = g->add_activation(L + "attn.context", {-1, i32(H)});
    {
      IrOp& op = g->add_op(OpKind::kAttention, L + "attn", {qkv}, {ctx});
      op.num_heads = i32(c.heads);
      op.head_dim = i32(D);
      op.pattern = AttnPattern::kCausal;
      float scale = c.scale_attn ? 1.0f / std::sqrt(float(D)) : 1.0f;
      if (c.scale_by_layer) scale = scale / float(l + 1);
      op.attn_scale = scale;
    }
    HEED_RETURN_IF_ERROR(conv1d(hf + "attn.c_proj", L + "attn.out", ctx, H, H, Activation::kNone, &ao));
    const int32_t h = g->add_activation(L + "attn.residual", {-1, i32(H)});
    g->add_op(OpKind::kAdd, L + "attn.residual", {x, ao}, {h});
    HEED_RETURN_IF_ERROR(layer_norm(hf + "ln_2", L + "mlp.ln", h, &n2));
    HEED_RETURN_IF_ERROR(conv1d(hf + "mlp.c_fc", L + "mlp.up", n2, H, I, c.act, &f));
    HEED_RETURN_IF_ERROR(conv1d(hf + "mlp.c_proj", L + "mlp.down", f, I, H, Activation::kNone, &d));
    const int32_t out = g->add_activation(L + "out", {-1, i32(H)});
    g->add_op(OpKind::kAdd, L + "mlp.residual", {h, d}, {out});
    x = out;
  }
  if (progress) progress(user, size_t(c.layers), size_t(c.layers), "reading layers");
  int32_t normed = -1;
  HEED_RETURN_IF_ERROR(layer_norm("ln_f", "ln_f", x, &normed));
  const int32_t logits = g->add_activation("logits", {-1, i32(V)});
  g->add_op(OpKind::kFullyConnected, "lm_head", {normed, word, -1}, {logits});
  g->outputs = {logits};
  return Status::Ok();
}

}  // namespace heed::conv
