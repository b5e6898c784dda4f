// heed embed model.heed --attention-svg out.svg [--layer L] [--head H] TEXT:
// runs the model on TEXT once and draws the attention weights of one head of
// one ATTENTION layer, recomputed from the op's own input activation as the
// op ran it (Session::op_tensor_data inside the session's op observer) and
// checked against the op's output (P . V).
#include <cstdio>
#include <iterator>
#include <string>
#include <vector>

#include "attention-svg.h"
#include "cli.h"
#include "write-file.h"
// Internal headers: the session's op observer and activations, the model's
// ops and tokenizer.
#include "exec/session.h"
#include "format/model.h"
#include "ops/attention.h"

namespace heed::cli {

namespace {

// The recomputed weights are the op's when P . V gives its output to within
// this (relative to max(1, largest |output|)): float rounding of the kernels'
// block-wise softmax is about 1e-6 of that.
constexpr double kCheckTolerance = 1e-4;

struct Capture {
  const Session* session = nullptr;
  size_t op_index = 0;
  size_t head = 0;
  bool seen = false;
  AttentionWeights weights;
  double check = 0, out_max = 0;
};

void observe(void* user, size_t op_index, const OpInfo& op, const float* data, size_t rows, size_t) {
  Capture& c = *static_cast<Capture*>(user);
  if (op_index != c.op_index) return;
  const float* qkv = static_cast<const float*>(c.session->op_tensor_data(op_index, op.inputs[0]));
  if (!qkv || !data) return;
  c.weights = attention_weights(op, qkv, rows, c.head);
  c.check = attention_weights_check(op, c.weights, qkv, data, c.head, &c.out_max);
  c.seen = true;
}

const char* pattern_name(AttnPattern p) {
  switch (p) {
    case AttnPattern::kDense: return "DENSE";
    case AttnPattern::kCausal: return "CAUSAL";
    case AttnPattern::kSlidingWindow: return "SLIDING_WINDOW";
    case AttnPattern::kCausalWindow: return "CAUSAL_WINDOW";
    case AttnPattern::kBlockSparse: return "BLOCK_SPARSE";
  }
  return "?";
}

}  // namespace

int cmd_embed_attention_svg(int argc, char** argv) {
  std::string so_attention;  // the pattern flags as one spec (heed_session_options.attention)
  const char* usage =
      "usage: heed embed model.heed --attention-svg out.svg [--layer L] [--head H] [--isa ISA] [--threads N]\n"
      "         [--attention SPEC] [--window N|dense] [--global K] [--global-at P:Q:..] TEXT";
  Args args;
  std::string err;
  std::vector<std::string> valued = {"--attention-svg", "--layer", "--head", "--isa", "--threads"};
  valued.insert(valued.end(), std::begin(kAttentionFlags), std::end(kAttentionFlags));
  if (!parse_args(argc, argv, valued, {}, &args, &err) || !flag_attention(args, &so_attention, &err)) {
    std::fprintf(stderr, "heed embed: %s\n%s\n", err.c_str(), usage);
    return 2;
  }
  const std::string out = args.get("--attention-svg");
  if (args.positional.size() != 2 || out.empty()) {
    std::fprintf(stderr, "heed embed: --attention-svg takes an output path, the model and exactly one TEXT\n%s\n",
                 usage);
    return 2;
  }
  const std::string& path = args.positional[0];
  const std::string& text = args.positional[1];
  SessionOptions so;
  so.attention = so_attention;
  uint64_t threads = 1;
  if (!flag_uint(args, "--threads", 1, 1, HEED_MAX_THREADS, &threads, &err)) {
    std::fprintf(stderr, "heed embed: %s\n", err.c_str());
    return 2;
  }
  so.num_threads = int(threads);
  if (args.has("--isa")) {
    const Status is = isa_parse(args.get("--isa").c_str(), &so.isa);
    if (!is.ok()) {
      std::fprintf(stderr, "heed embed: --isa: %s\n", escape_text(is.message()).c_str());
      return 2;
    }
    so.force_isa = true;
  }
  if (same_file(out, path)) {
    std::fprintf(stderr, "heed embed: --attention-svg: %s is the model file\n", escape_text(out).c_str());
    return 2;
  }
  Model m;
  Status s = m.load_file(path.c_str());
  if (!s.ok()) {
    std::fprintf(stderr, "heed embed: %s\n", escape_text(s.message()).c_str());
    return 1;
  }
  std::vector<size_t> layers;  // op indices of the ATTENTION ops
  for (size_t i = 0; i < m.ops().size(); ++i)
    if (m.ops()[i].kind == OpKind::kAttention) layers.push_back(i);
  if (layers.empty()) {
    std::fprintf(stderr, "heed embed: --attention-svg: %s has no ATTENTION layer\n", escape_text(path).c_str());
    return 1;
  }
  uint64_t layer = 0, head = 0;
  if (!flag_uint(args, "--layer", 0, 0, layers.size() - 1, &layer, &err)) {
    std::fprintf(stderr, "heed embed: %s (the model has %zu ATTENTION layer%s)\n", err.c_str(), layers.size(),
                 layers.size() == 1 ? "" : "s");
    return 2;
  }
  const OpInfo& op = m.ops()[layers[layer]];
  if (attention_cached(op)) {
    std::fprintf(stderr,
                 "heed embed: --attention-svg: %s is a decoder (layer %s is %s, with a key/value cache); "
                 "it draws encoder attention only\n",
                 escape_text(path).c_str(), escape_text(op.name).c_str(), pattern_name(op.pattern));
    return 1;
  }
  if (!flag_uint(args, "--head", 0, 0, uint64_t(op.num_heads) - 1, &head, &err)) {
    std::fprintf(stderr, "heed embed: %s (layer %s has %d head%s)\n", err.c_str(), escape_text(op.name).c_str(),
                 op.num_heads, op.num_heads == 1 ? "" : "s");
    return 2;
  }
  if (m.tokenizer_kind() != TokenizerKind::kWordPiece) {
    std::fprintf(stderr, "heed embed: --attention-svg: %s has no WordPiece tokenizer\n", escape_text(path).c_str());
    return 1;
  }
  // The ids embed runs (the tokenizer truncates to its max length), at most
  // kSvgMaxTokens and the model's max_seq of them: more is an error.
  const size_t cap = std::min<size_t>(kSvgMaxTokens, size_t(m.max_seq()));
  std::vector<int32_t> ids(cap);
  size_t n = 0;
  s = m.tokenizer().encode(text.data(), text.size(), ids.data(), ids.size(), &n);
  if (s.code() == HEED_ERROR_BUFFER_TOO_SMALL) {
    std::fprintf(stderr, "heed embed: --attention-svg: TEXT is %zu tokens; it draws at most %zu (%s)\n", n, cap,
                 cap == kSvgMaxTokens ? "for a readable picture" : "the model's max_seq");
    return 1;
  }
  if (!s.ok()) {
    std::fprintf(stderr, "heed embed: %s\n", escape_text(s.message()).c_str());
    return 1;
  }
  ids.resize(n);
  if (n == size_t(m.tokenizer().config().max_length)) {
    std::fprintf(stderr,
                 "heed embed: note: TEXT fills the tokenizer's max length of %zu tokens: longer texts are drawn "
                 "truncated to it, as embed runs them\n",
                 n);
  }
  so.max_seq = std::max<size_t>(n, 2);
  Session session;
  s = session.init(&m, so, nullptr, 0);
  if (!s.ok()) {
    std::fprintf(stderr, "heed embed: cannot create session: %s\n", escape_text(s.message()).c_str());
    return 1;
  }
  // The op as the session runs it: its copy with the session's pattern, if
  // the flags gave one.
  const bool overridden = &session.ops() != &m.ops();
  const OpInfo& run_op = session.ops()[layers[layer]];
  if (!attention_weights_supported(run_op)) {
    std::fprintf(stderr, "heed embed: --attention-svg: layer %s runs as %s, which it cannot draw\n",
                 escape_text(op.name).c_str(), pattern_name(run_op.pattern));
    return 1;
  }
  Capture cap_state;
  cap_state.session = &session;
  cap_state.op_index = layers[layer];
  cap_state.head = size_t(head);
  session.set_observer(observe, &cap_state);
  std::vector<float> result(m.output_size() * session.output_rows(n));
  size_t count = 0;
  s = session.run(ids.data(), n, result.data(), result.size(), &count);
  if (!s.ok()) {
    std::fprintf(stderr, "heed embed: %s\n", escape_text(s.message()).c_str());
    return 1;
  }
  if (!cap_state.seen) {
    std::fprintf(stderr, "heed embed: --attention-svg: layer %s did not run\n", escape_text(op.name).c_str());
    return 1;
  }
  const double limit = kCheckTolerance * std::max(1.0, cap_state.out_max);
  if (!(cap_state.check <= limit)) {
    std::fprintf(stderr,
                 "heed embed: --attention-svg: the recomputed weights give the layer's output only within %.3g "
                 "(more than %.3g): not drawn\n",
                 cap_state.check, limit);
    return 1;
  }
  cap_state.weights.overridden = overridden;
  AttentionSvgLabels labels;
  labels.model = m.metadata().architecture;
  labels.layer_name = op.name;
  labels.layer = size_t(layer);
  labels.layers = layers.size();
  labels.head = size_t(head);
  labels.heads = size_t(op.num_heads);
  labels.ids = ids;
  for (int32_t id : ids) labels.tokens.emplace_back(m.tokenizer().piece(id));
  labels.check = cap_state.check;
  labels.out_max = cap_state.out_max;
  if (!write_whole_file(out, attention_weights_svg(cap_state.weights, labels), &err)) {
    std::fprintf(stderr, "heed embed: --attention-svg: %s\n", err.c_str());
    return 1;
  }
  std::printf("%s: layer %s (ATTENTION %llu of %zu), head %llu of %d, %s", escape_text(out).c_str(),
              escape_text(op.name).c_str(), (unsigned long long)layer, layers.size(), (unsigned long long)head,
              op.num_heads, cap_state.weights.pattern);
  if (cap_state.weights.window) std::printf(" %zu", cap_state.weights.window);
  if (!cap_state.weights.detail.empty()) std::printf(" (%s)", cap_state.weights.detail.c_str());
  if (overridden) std::printf(" (session override)");
  std::printf(", %zu tokens; weights x values give the layer's output within %.3g\n", n, cap_state.check);
  return 0;
}

}  // namespace heed::cli
