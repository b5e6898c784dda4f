// Shared helpers for the libFuzzer targets and the seed generator.
//
// The seed models are variants of tests/runtime/tiny-model.h's tiny BERT graph,
// chosen so the corpus starts with every op kind, both tasks, both precisions,
// block-wise and static activation quantization, SmoothQuant inputs and a
// recorded memory plan: each of those takes a different branch of the loader.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "exec/session.h"
#include "format/model.h"
#include "heed/heed.h"
#include "ir.h"
#include "quantize.h"
#include "runtime/tiny-model.h"

// Sanitizer defaults baked into every binary that includes this header once
// (each target and the seed generator), so replaying a reproducer by hand
// prints the same stack trace as the fuzzing run. Environment variables
// (ASAN_OPTIONS, UBSAN_OPTIONS) still override them.
extern "C" const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1"; }
extern "C" const char* __asan_default_options() { return "detect_leaks=1"; }

namespace heed::fuzz {

// A contract violation that the sanitizers would not see (wrong status code,
// out-of-range token id, ...): print what and abort, so libFuzzer records the
// input as a crash.
[[noreturn]] inline void contract_failure(const char* file, int line, const char* what) {
  std::fprintf(stderr, "\n==heed-fuzz== contract violated at %s:%d: %s\n  heed_last_error: %s\n", file, line,
               what, heed_last_error());
  std::fflush(stderr);
  std::abort();
}
#define HEED_FUZZ_CHECK(cond) \
  do {                        \
    if (!(cond)) ::heed::fuzz::contract_failure(__FILE__, __LINE__, #cond); \
  } while (0)

// Status codes the header lists. HEED_ERROR_INTERNAL is listed too but means a
// heed bug, so the targets treat it as a finding.
inline bool is_listed_error(heed_status s) {
  return (s >= HEED_ERROR_INVALID_ARGUMENT && s <= HEED_ERROR_INVALID_INPUT) || s == HEED_ERROR_NON_FINITE;
}

// 64-byte aligned copy of data[0, size) with at least one byte allocated.
struct AlignedCopy {
  uint8_t* ptr = nullptr;
  size_t size = 0;
  AlignedCopy(const uint8_t* data, size_t n) : size(n) {
    ptr = static_cast<uint8_t*>(std::aligned_alloc(64, (n + 63) / 64 * 64 + 64));
    if (!ptr) std::abort();
    if (n) data ? (void)std::memcpy(ptr, data, n) : (void)std::memset(ptr, 0, n);
  }
  ~AlignedCopy() { std::free(ptr); }
  AlignedCopy(const AlignedCopy&) = delete;
  AlignedCopy& operator=(const AlignedCopy&) = delete;
};

// One temporary file, rewritten for every input (tmpfs /dev/shm when there is
// one and TMPDIR is unset: each input is written, mapped and unmapped).
// Removed at exit.
class TempFile {
 public:
  explicit TempFile(const char* suffix) {
    const char* dir = std::getenv("TMPDIR");
    std::string base = dir && *dir ? dir : "/tmp";
    if (!(dir && *dir) && access("/dev/shm", W_OK) == 0) base = "/dev/shm";
    std::string tmpl = base + "/heed-fuzz-XXXXXX" + suffix;
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    fd_ = mkstemps(buf.data(), int(std::strlen(suffix)));
    HEED_FUZZ_CHECK(fd_ >= 0);
    path_ = buf.data();
  }
  ~TempFile() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  void write(const uint8_t* data, size_t size) {
    HEED_FUZZ_CHECK(ftruncate(fd_, 0) == 0);
    size_t done = 0;
    while (done < size) {
      const ssize_t w = pwrite(fd_, data + done, size - done, off_t(done));
      HEED_FUZZ_CHECK(w > 0);
      done += size_t(w);
    }
  }
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

// ---- seed models ------------------------------------------------------------

// Replace the tiny graph's mean-pool + L2-normalize tail with BERT's
// sequence-classification head: CLS pool -> tanh pooler -> classifier logits.
inline conv::IrGraph tiny_classifier(bool int8, int32_t num_labels = 3) {
  using namespace conv;
  IrGraph g = test::tiny_graph(false);
  // tiny_graph ends with ops pool, normalize and tensors pooled, embedding.
  g.ops.pop_back();
  g.ops.pop_back();
  g.tensors.pop_back();
  g.tensors.pop_back();
  const int32_t x = g.ops.back().outputs[0];  // ffn.ln
  const int32_t H = g.hidden_size;
  const int32_t cls = g.add_activation("pooler.cls", {1, H});
  g.add_op(OpKind::kClsPool, "pooler.cls", {x}, {cls});
  const int32_t pw = g.add_constant("pooler.w", {H, H}, test::rnd(size_t(H * H), 101));
  const int32_t pb = g.add_constant("pooler.b", {H}, test::rnd(size_t(H), 102, 0.05f));
  const int32_t pooled = g.add_activation("pooler.out", {1, H});
  g.add_op(OpKind::kFullyConnected, "pooler", {cls, pw, pb}, {pooled}).activation = Activation::kTanh;
  const int32_t cw = g.add_constant("classifier.w", {num_labels, H}, test::rnd(size_t(num_labels * H), 103));
  const int32_t cb = g.add_constant("classifier.b", {num_labels}, test::rnd(size_t(num_labels), 104, 0.05f));
  const int32_t logits = g.add_activation("logits", {1, num_labels});
  g.add_op(OpKind::kFullyConnected, "classifier", {pooled, cw, cb}, {logits});
  g.outputs = {logits};
  g.architecture = "BertForSequenceClassification";
  g.task = Task::kSequenceClassification;
  g.pooling = 0;
  g.normalize = false;
  for (int32_t i = 0; i < num_labels; ++i) g.labels.push_back("LABEL_" + std::to_string(i));
  if (int8) quantize_weights(&g);
  return g;
}

// Bigger vocabulary with accented, CJK and long pieces, for the tokenizer
// target (the tiny graph's 16 pieces leave most WordPiece paths unvisited).
inline conv::IrGraph tiny_graph_wide_vocab(bool int8, int32_t H = 32, int32_t heads = 4, int32_t I = 64) {
  using namespace conv;
  IrGraph g = test::tiny_graph(false, H, heads, I);
  g.tokenizer.vocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat",
                       "##s", ".", "a", "dog", "##gy", "run", "##ning", "##ing", "un", "##aff", "##able",
                       "cafe", "\xc3\xa9", "##\xc3\xa9", "\xe4\xb8\xad", "\xe6\x97\xa5", "\xe6\x9c\xac", "!",
                       ",", "?", "'", "##'", "0", "1", "##2", "##3", "x", "##x", "hello", "world",
                       "\xd0\xbf\xd1\x80\xd0\xb8", "##\xd0\xb2\xd0\xb5\xd1\x82", "\xf0\x9f\x98\x80",
                       "supercalifragilistic", "##expialidocious", "[unused0]", "q", "##q"};
  const int32_t V = int32_t(g.tokenizer.vocab.size());
  IrOp& emb = g.ops.front();
  IrTensor& word = g.tensors[size_t(emb.inputs[2])];
  word.shape = {V, H};
  word.f32 = test::rnd(size_t(V * H), 77);
  if (int8) quantize_weights(&g);
  return g;
}

// Records the memory plan the runtime computes, like convert.cc does.
inline bool with_plan(const conv::IrGraph& g, std::vector<uint8_t>* out) {
  std::vector<uint8_t> plain = test::serialize(g);
  if (plain.empty()) return false;
  AlignedCopy a(plain.data(), plain.size());
  Model m;
  if (!m.load_buffer(a.ptr, a.size).ok()) return false;
  ArenaLayout layout;
  if (!session_layout(m, SessionOptions{}, &layout).ok()) return false;
  conv::IrPlan plan;
  plan.seq_len = int32_t(layout.max_seq);
  plan.arena_bytes = layout.total_bytes;
  for (size_t off : layout.offsets) plan.tensor_offsets.push_back(off == SIZE_MAX ? UINT64_MAX : uint64_t(off));
  return conv::write_model(g, &plan, out).ok();
}

// Named seed models. Each one is checked to load by the generator.
inline std::vector<std::pair<std::string, std::vector<uint8_t>>> seed_models() {
  using namespace conv;
  std::vector<std::pair<std::string, std::vector<uint8_t>>> out;
  auto add = [&](const char* name, const IrGraph& g) { out.emplace_back(name, test::serialize(g)); };
  add("tiny-fp32.heed", test::tiny_graph(false));
  add("tiny-int8.heed", test::tiny_graph(true));
  add("tiny-h16-heads2-int8.heed", test::tiny_graph(true, 16, 2, 32, 24));
  add("tiny-cls-fp32.heed", tiny_classifier(false));
  add("tiny-cls-int8.heed", tiny_classifier(true, 2));
  add("tiny-widevocab-int8.heed", tiny_graph_wide_vocab(true));
  add("tiny-bpe-byte-level.heed", test::tiny_graph_bpe(false));  // the BPE Tokenizer table
  {
    // int8 with per-block activation scales (16 columns per block).
    IrGraph g = test::tiny_graph(false);
    for (IrOp& op : g.ops)
      if (op.kind == OpKind::kFullyConnected) op.act_block = 16;
    quantize_weights(&g);
    add("tiny-int8-block16.heed", g);
  }
  {
    // int8 with static per-tensor activation scales and relu.
    IrGraph g = test::tiny_graph(false);
    for (IrOp& op : g.ops) {
      if (op.kind != OpKind::kFullyConnected) continue;
      op.act_quant = ActQuant::kStaticPerTensor;
      op.input_scale = 0.05f;
      if (op.activation == Activation::kGelu) op.activation = Activation::kRelu;
    }
    quantize_weights(&g);
    add("tiny-int8-static.heed", g);
  }
  {
    // SmoothQuant: a 4th FULLY_CONNECTED input (int8 only).
    IrGraph g = test::tiny_graph(false);
    for (size_t i = 0; i < g.ops.size(); ++i) {
      if (g.ops[i].kind != OpKind::kFullyConnected) continue;
      const IrTensor& w = g.tensors[size_t(g.ops[i].inputs[1])];
      smooth_fully_connected(&g, i, std::vector<float>(size_t(w.shape[1]), 2.0f), 0.5f);
    }
    quantize_weights(&g);
    add("tiny-smooth-int8.heed", g);
  }
  {
    // CLS pooling without normalization; tokenizer options off.
    IrGraph g = test::tiny_graph(false);
    g.ops.pop_back();
    g.tensors.pop_back();
    g.outputs = {g.ops.back().outputs[0]};
    g.ops.back().kind = OpKind::kClsPool;
    g.pooling = 2;
    g.normalize = false;
    g.tokenizer.lowercase = false;
    g.tokenizer.strip_accents = false;
    g.tokenizer.handle_chinese_chars = false;
    g.tokenizer.clean_text = false;
    g.tokenizer.max_input_chars_per_word = 8;
    add("tiny-clspool-fp32.heed", g);
  }
  {
    // Schema 1.2: input roles (positions and attention mask listed, unused)
    // and RMS_NORM in place of the embeddings' LayerNorm.
    IrGraph g = test::tiny_graph(false);
    g.input_roles = {InputRole::kTokenIds, InputRole::kTokenTypeIds};
    for (InputRole role : {InputRole::kPositions, InputRole::kAttentionMask}) {
      const int32_t t = g.add_activation(role == InputRole::kPositions ? "position_ids" : "attention_mask", {-1});
      g.tensors[size_t(t)].kind = TensorKind::kInput;
      g.tensors[size_t(t)].dtype = DType::kI32;
      g.inputs.push_back(t);
      g.input_roles.push_back(role);
    }
    g.ops[1].kind = OpKind::kRmsNorm;
    g.ops[1].inputs.resize(2);  // x, weight (the LayerNorm's gamma)
    g.ops[1].epsilon = 1e-6f;
    add("tiny-rmsnorm-roles-fp32.heed", g);
  }
  {
    std::vector<uint8_t> b;
    if (with_plan(test::tiny_graph(true), &b)) out.emplace_back("tiny-int8-planned.heed", std::move(b));
    b.clear();
    if (with_plan(tiny_classifier(false), &b)) out.emplace_back("tiny-cls-fp32-planned.heed", std::move(b));
  }
  return out;
}

}  // namespace heed::fuzz
