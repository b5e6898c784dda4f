// Llama mapping (LlamaForCausalLM as transformers 4.40.2 defines it). Per layer:
//   n   = RMS_NORM(x)                       [S, H]
//   qkv = FC(n, [Wq; Wk; Wv])               [S, (Hq + 2 KV) D]   (fused: one GEMM)
//   r   = ROPE(qkv, positions)              [S, (Hq + 2 KV) D]   (q, k rotated)
//   c   = ATTENTION(r), causal, KV heads    [S, Hq D]            (query head h reads kv head h / (Hq / KV))
//   h   = ADD(x, FC(c, Wo))                 [S, H]
//   g   = FC(RMS_NORM(h), [Wgate; Wup])     [S, 2 I]             (fused)
//   x'  = ADD(h, FC(SWIGLU(g), Wdown))      [S, H]
// then logits = FC(RMS_NORM(x), lm_head) [S, V] (lm_head = the embedding
// matrix when tie_word_embeddings, stored once: the EMBEDDING reads the
// head's packed GEMM weights, decisions.md 26).
#include <algorithm>
#include <cmath>
#include <string>

#include "arch/arch.h"
#include "arch/config-fields.h"
#include "arch/weights.h"

namespace heed::conv {

namespace {

struct LlamaConfig {
  int64_t hidden = 0, layers = 0, heads = 0, kv_heads = 0, intermediate = 0, max_pos = 0, vocab = 0, head_dim = 0;
  double eps = 1e-6, theta = 10000.0, factor = 1.0;
  RopeScaling scaling = RopeScaling::kNone;
  bool tie = false, attention_bias = false;
  bool mistral = false;        // MistralForCausalLM: Llama's layers with a sliding window
  int64_t sliding_window = 0;  // Mistral: keys p - w .. p (0: none)
};

Status read_config(const HfDir& dir, LlamaConfig* c) {
  const JsonValue& j = dir.config;
  const std::string& src = dir.config_name;
  const ConfigFields cf(dir);
  HEED_RETURN_IF_ERROR(json_get_int(j, "hidden_size", src, &c->hidden));
  HEED_RETURN_IF_ERROR(json_get_int(j, "intermediate_size", src, &c->intermediate));
  HEED_RETURN_IF_ERROR(json_get_int(j, "num_hidden_layers", src, &c->layers));
  HEED_RETURN_IF_ERROR(json_get_int(j, "num_attention_heads", src, &c->heads));
  HEED_RETURN_IF_ERROR(json_get_int(j, "vocab_size", src, &c->vocab));
  c->max_pos = 2048;
  if (cf.present("max_position_embeddings")) HEED_RETURN_IF_ERROR(json_get_int(j, "max_position_embeddings", src, &c->max_pos));
  c->kv_heads = c->heads;
  if (cf.present("num_key_value_heads")) HEED_RETURN_IF_ERROR(json_get_int(j, "num_key_value_heads", src, &c->kv_heads));
  if (cf.present("rms_norm_eps")) HEED_RETURN_IF_ERROR(json_get_number(j, "rms_norm_eps", src, &c->eps));
  if (cf.present("rope_theta")) HEED_RETURN_IF_ERROR(json_get_number(j, "rope_theta", src, &c->theta));
  if (cf.present("tie_word_embeddings")) HEED_RETURN_IF_ERROR(json_get_bool(j, "tie_word_embeddings", src, &c->tie));
  if (cf.present("attention_bias")) HEED_RETURN_IF_ERROR(json_get_bool(j, "attention_bias", src, &c->attention_bias));
  if (c->mistral) {
    // transformers 4.40.2's Mistral has no attention bias and no RoPE scaling:
    // a config asking for either would be run without it there.
    if (c->attention_bias) return cf.bad("attention_bias", "is not read by MistralForCausalLM (true is refused)");
    if (const JsonValue* rs = j.find("rope_scaling"); rs && !rs->is_null()) {
      return cf.bad("rope_scaling", "is not read by MistralForCausalLM (only null is accepted)");
    }
    c->eps = 1e-6;  // MistralConfig's default
    if (cf.present("rms_norm_eps")) HEED_RETURN_IF_ERROR(json_get_number(j, "rms_norm_eps", src, &c->eps));
    c->sliding_window = 4096;  // MistralConfig's default
    if (const JsonValue* sw = j.find("sliding_window"); sw && sw->is_null()) {
      c->sliding_window = 0;
    } else if (sw) {
      HEED_RETURN_IF_ERROR(json_get_int(j, "sliding_window", src, &c->sliding_window));
      if (c->sliding_window < 1 || c->sliding_window > int64_t(1) << 30) {
        return cf.range("sliding_window", c->sliding_window, 1, int64_t(1) << 30);
      }
    }
  }
  std::string act = "silu";
  if (cf.present("hidden_act")) HEED_RETURN_IF_ERROR(json_get_string(j, "hidden_act", src, &act));
  if (act != "silu") {
    return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: hidden_act '%s' is not supported (silu only)", src.c_str(),
                         act.c_str());
  }
  if (cf.present("mlp_bias")) {
    bool mlp_bias = false;
    HEED_RETURN_IF_ERROR(json_get_bool(j, "mlp_bias", src, &mlp_bias));
    if (mlp_bias) return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: mlp_bias true is not supported", src.c_str());
  }
  if (cf.present("pretraining_tp")) {
    int64_t tp = 1;  // splits the same products in transformers: no effect on the math
    HEED_RETURN_IF_ERROR(json_get_int(j, "pretraining_tp", src, &tp));
    if (tp < 1 || tp > 1024) return cf.range("pretraining_tp", tp, 1, 1024);
  }

  if (c->hidden < 1 || c->hidden > kMaxGemmK) return cf.range("hidden_size", c->hidden, 1, kMaxGemmK);
  if (c->intermediate < 1 || c->intermediate > kMaxGemmK) return cf.range("intermediate_size", c->intermediate, 1, kMaxGemmK);
  if (c->layers < 1 || c->layers > 1024) return cf.range("num_hidden_layers", c->layers, 1, 1024);
  if (c->heads < 1 || c->heads > kMaxHeads) return cf.range("num_attention_heads", c->heads, 1, kMaxHeads);
  if (c->hidden % c->heads != 0) return cf.bad("num_attention_heads", "must divide hidden_size");
  c->head_dim = c->hidden / c->heads;
  if (c->head_dim % 2 != 0 || c->head_dim < 4 || c->head_dim > kMaxHeadDim) {
    return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: head size hidden_size / num_attention_heads = %lld must be even, 4..%d",
                         src.c_str(), (long long)c->head_dim, kMaxHeadDim);
  }
  if (cf.present("head_dim")) {
    int64_t hd = 0;
    HEED_RETURN_IF_ERROR(json_get_int(j, "head_dim", src, &hd));
    // transformers 4.40.2 always uses hidden_size / num_attention_heads.
    if (hd != c->head_dim) {
      return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: head_dim %lld differs from hidden_size / num_attention_heads = %lld",
                           src.c_str(), (long long)hd, (long long)c->head_dim);
    }
  }
  if (c->kv_heads < 1 || c->kv_heads > c->heads) return cf.range("num_key_value_heads", c->kv_heads, 1, c->heads);
  if (c->heads % c->kv_heads != 0) return cf.bad("num_key_value_heads", "must divide num_attention_heads");
  if (c->max_pos < 2 || c->max_pos > int64_t(1) << 30) return cf.range("max_position_embeddings", c->max_pos, 2, int64_t(1) << 30);
  if (c->vocab < 1 || c->vocab > kMaxDim) return cf.range("vocab_size", c->vocab, 1, kMaxDim);
  if (!(c->eps >= 1e-30 && c->eps <= 1.0)) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: field 'rms_norm_eps' is %g, outside 1e-30..1", src.c_str(), c->eps);
  }
  if (!(c->theta > 1.0 && c->theta <= 1e30)) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: field 'rope_theta' is %g, outside (1, 1e30]", src.c_str(), c->theta);
  }
  if (const JsonValue* rs = j.find("rope_scaling"); rs && !rs->is_null()) {
    if (!rs->is_object()) return cf.bad("rope_scaling", "must be an object with 'type' and 'factor'");
    std::string type;
    const JsonValue* t = rs->find("type");
    if (!t) t = rs->find("rope_type");
    if (!t || !t->is_string()) return cf.bad("rope_scaling", "needs a string 'type'");
    type = t->as_string();
    if (type == "linear") {
      c->scaling = RopeScaling::kLinear;
    } else if (type == "dynamic") {
      c->scaling = RopeScaling::kDynamic;
    } else {
      return Status::Error(HEED_ERROR_UNSUPPORTED,
                           "%s: rope_scaling type '%s' is not supported (linear and dynamic, as transformers 4.40.2)",
                           src.c_str(), type.c_str());
    }
    if (rs->members().size() != 2) {
      return cf.bad("rope_scaling", "must hold exactly 'type' and 'factor' (transformers 4.40.2 refuses other fields)");
    }
    const JsonValue* f = rs->find("factor");
    if (!f || !f->is_number()) return cf.bad("rope_scaling", "needs a number 'factor'");
    c->factor = f->as_number();
    if (!(c->factor > 1.0 && c->factor <= 1e6)) {
      return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: rope_scaling factor %g is outside (1, 1e6]", src.c_str(),
                           c->factor);
    }
  }
  return Status::Ok();
}

int32_t i32(int64_t v) { return int32_t(v); }

}  // namespace

Status llama_build(const HfDir& dir, const SafeTensors& weights, IrGraph* g, ProgressFn progress, void* user) {
  const bool mistral = dir.model_type == "mistral";
  const char* arch = mistral ? "MistralForCausalLM" : "LlamaForCausalLM";
  if (!dir.architecture.empty() && dir.architecture != arch) {
    return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: architecture '%s' is not supported (%s)",
                         dir.config_name.c_str(), dir.architecture.c_str(), arch);
  }
  LlamaConfig c;
  c.mistral = mistral;
  HEED_RETURN_IF_ERROR(read_config(dir, &c));
  WeightReader w(weights, "model.");
  const int64_t H = c.hidden, I = c.intermediate, D = c.head_dim, HQ = c.heads, KV = c.kv_heads, V = c.vocab;
  const int64_t QKV = (HQ + 2 * KV) * D;

  g->architecture = arch;
  g->task = Task::kCausalLm;
  g->hidden_size = i32(H);
  g->num_layers = i32(c.layers);

  const int32_t ids = g->add_activation("input_ids", {-1});
  g->tensors[size_t(ids)].kind = TensorKind::kInput;
  g->tensors[size_t(ids)].dtype = DType::kI32;
  const int32_t positions = g->add_activation("position_ids", {-1});
  g->tensors[size_t(positions)].kind = TensorKind::kInput;
  g->tensors[size_t(positions)].dtype = DType::kI32;
  g->inputs = {ids, positions};
  g->input_roles = {InputRole::kTokenIds, InputRole::kPositions};

  std::vector<float> a, b;
  auto constant = [&](const std::string& name, std::vector<int32_t> shape, std::vector<float>& data) {
    return g->add_constant(name, std::move(shape), std::move(data));
  };
  // RMS_NORM of `in` with the weight just read into `a`.
  auto rms_norm = [&](const std::string& name, int32_t in) -> int32_t {
    const int32_t wt = constant(name + ".weight", {i32(H)}, a);
    const int32_t out = g->add_activation(name, {-1, i32(H)});
    g->add_op(OpKind::kRmsNorm, name, {in, wt}, {out}).epsilon = float(c.eps);
    return out;
  };

  HEED_RETURN_IF_ERROR(w.read("embed_tokens.weight", {V, H}, &a));
  const int32_t word = constant("embed_tokens", {i32(V), i32(H)}, a);
  int32_t x = g->add_activation("embeddings", {-1, i32(H)});
  g->add_op(OpKind::kEmbedding, "embeddings", {ids, -1, word, -1, -1}, {x});

  for (int64_t l = 0; l < c.layers; ++l) {
    if (progress) progress(user, size_t(l), size_t(c.layers), "reading layers");
    const std::string hf = "layers." + std::to_string(l) + ".";
    const std::string L = "layer." + std::to_string(l) + ".";
    HEED_RETURN_IF_ERROR(w.read(hf + "input_layernorm.weight", {H}, &a));
    const int32_t n1 = rms_norm(L + "attn.norm", x);

    std::vector<float> wqkv, bqkv;
    const std::pair<const char*, int64_t> parts[] = {{"q_proj", HQ * D}, {"k_proj", KV * D}, {"v_proj", KV * D}};
    for (const auto& [part, rows] : parts) {
      HEED_RETURN_IF_ERROR(w.read(hf + "self_attn." + part + ".weight", {rows, H}, &a));
      wqkv.insert(wqkv.end(), a.begin(), a.end());
      if (c.attention_bias) {
        HEED_RETURN_IF_ERROR(w.read(hf + "self_attn." + part + ".bias", {rows}, &b));
        bqkv.insert(bqkv.end(), b.begin(), b.end());
      }
    }
    const int32_t qkv = g->add_activation(L + "attn.qkv", {-1, i32(QKV)});
    {
      const int32_t wt = constant(L + "attn.qkv.weight", {i32(QKV), i32(H)}, wqkv);
      const int32_t bt = c.attention_bias ? constant(L + "attn.qkv.bias", {i32(QKV)}, bqkv) : -1;
      g->add_op(OpKind::kFullyConnected, L + "attn.qkv", {n1, wt, bt}, {qkv});
    }
    const int32_t rot = g->add_activation(L + "attn.rope", {-1, i32(QKV)});
    {
      IrOp& op = g->add_op(OpKind::kRope, L + "attn.rope", {qkv, positions}, {rot});
      op.num_heads = i32(HQ);
      op.num_kv_heads = i32(KV);
      op.head_dim = i32(D);
      op.rope_theta = float(c.theta);
      op.rope_scaling = c.scaling;
      op.rope_factor = float(c.factor);
      // DYNAMIC exists to run past the trained length: heed's cap bounds it.
      op.rope_original_max = c.scaling == RopeScaling::kDynamic ? i32(std::min<int64_t>(c.max_pos, kMaxSeq)) : 0;
      op.rope_max_positions = c.scaling == RopeScaling::kDynamic ? 0 : i32(std::min<int64_t>(c.max_pos, kMaxSeq));
    }
    const int32_t ctx = g->add_activation(L + "attn.context", {-1, i32(HQ * D)});
    {
      IrOp& op = g->add_op(OpKind::kAttention, L + "attn", {rot}, {ctx});
      op.num_heads = i32(HQ);
      op.num_kv_heads = i32(KV);
      op.head_dim = i32(D);
      op.pattern = AttnPattern::kCausal;
      // A window shorter than the positions the model runs changes the result.
      if (c.sliding_window > 0 && c.sliding_window < std::min<int64_t>(c.max_pos, kMaxSeq)) {
        op.pattern = AttnPattern::kCausalWindow;
        op.window = i32(c.sliding_window);
      }
    }
    const int32_t ao = g->add_activation(L + "attn.out", {-1, i32(H)});
    HEED_RETURN_IF_ERROR(w.read(hf + "self_attn.o_proj.weight", {H, HQ * D}, &a));
    {
      const int32_t wt = constant(L + "attn.out.weight", {i32(H), i32(HQ * D)}, a);
      int32_t bt = -1;
      if (c.attention_bias) {
        HEED_RETURN_IF_ERROR(w.read(hf + "self_attn.o_proj.bias", {H}, &b));
        bt = constant(L + "attn.out.bias", {i32(H)}, b);
      }
      g->add_op(OpKind::kFullyConnected, L + "attn.out", {ctx, wt, bt}, {ao});
    }
    const int32_t h = g->add_activation(L + "attn.residual", {-1, i32(H)});
    g->add_op(OpKind::kAdd, L + "attn.residual", {x, ao}, {h});

    HEED_RETURN_IF_ERROR(w.read(hf + "post_attention_layernorm.weight", {H}, &a));
    const int32_t n2 = rms_norm(L + "mlp.norm", h);
    std::vector<float> wgu;
    for (const char* part : {"gate_proj", "up_proj"}) {
      HEED_RETURN_IF_ERROR(w.read(hf + "mlp." + part + ".weight", {I, H}, &a));
      wgu.insert(wgu.end(), a.begin(), a.end());
    }
    const int32_t gu = g->add_activation(L + "mlp.gate_up", {-1, i32(2 * I)});
    {
      const int32_t wt = constant(L + "mlp.gate_up.weight", {i32(2 * I), i32(H)}, wgu);
      g->add_op(OpKind::kFullyConnected, L + "mlp.gate_up", {n2, wt, -1}, {gu});
    }
    const int32_t act = g->add_activation(L + "mlp.swiglu", {-1, i32(I)});
    g->add_op(OpKind::kSwiglu, L + "mlp.swiglu", {gu}, {act});
    const int32_t down = g->add_activation(L + "mlp.down", {-1, i32(H)});
    HEED_RETURN_IF_ERROR(w.read(hf + "mlp.down_proj.weight", {H, I}, &a));
    {
      const int32_t wt = constant(L + "mlp.down.weight", {i32(H), i32(I)}, a);
      g->add_op(OpKind::kFullyConnected, L + "mlp.down", {act, wt, -1}, {down});
    }
    const int32_t out = g->add_activation(L + "out", {-1, i32(H)});
    g->add_op(OpKind::kAdd, L + "mlp.residual", {h, down}, {out});
    x = out;
  }
  if (progress) progress(user, size_t(c.layers), size_t(c.layers), "reading layers");

  HEED_RETURN_IF_ERROR(w.read("norm.weight", {H}, &a));
  const int32_t normed = rms_norm("norm", x);
  int32_t wt = word;  // tied: one tensor for the lookup and the GEMM
  if (!c.tie) {
    std::vector<float> head;
    WeightReader top(weights, "");
    HEED_RETURN_IF_ERROR(top.read("lm_head.weight", {V, H}, &head));
    wt = constant("lm_head.weight", {i32(V), i32(H)}, head);
  }
  const int32_t logits = g->add_activation("logits", {-1, i32(V)});
  g->add_op(OpKind::kFullyConnected, "lm_head", {normed, wt, -1}, {logits});
  g->outputs = {logits};
  return Status::Ok();
}

}  // namespace heed::conv
