// tokenize, embed, classify: texts in, one output line per text, streamed
// (each line is printed and flushed before the next text is read).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "attention-svg.h"
#include "cli.h"
#include "heed/heed.h"

namespace heed::cli {

namespace {

enum class Mode { kTokenize, kEmbed, kClassify };

int fail(const char* name, const std::string& what) {
  std::fprintf(stderr, "heed %s: %s: %s\n", name, what.c_str(), escape_text(heed_last_error()).c_str());
  return 1;
}

std::string label_of(const heed_model* model, size_t i) {
  const char* l = nullptr;
  size_t n = 0;
  if (heed_model_get_label(model, i, &l, &n) != HEED_OK) return std::to_string(i);
  return std::string(l, n);
}

int run(int argc, char** argv, Mode mode, const char* name) {
  Args args;
  std::string err;
  std::vector<std::string> valued = {"--threads", "--max-seq", "--max-line-bytes", "--isa"};
  if (mode != Mode::kTokenize) valued.insert(valued.end(), std::begin(kAttentionFlags), std::end(kAttentionFlags));
  std::string attention;
  if (!parse_args(argc, argv, valued, {"--json"}, &args, &err) || !flag_attention(args, &attention, &err)) {
    std::fprintf(stderr, "heed %s: %s\n", name, err.c_str());
    return 2;
  }
  if (args.positional.empty()) {
    std::fprintf(stderr, "usage: heed %s model.heed [TEXT...] [--json] [--max-line-bytes N]%s\n", name,
                 mode == Mode::kTokenize ? ""
                                         : " [--threads N] [--max-seq N] [--isa ISA]\n"
                                           "         [--attention SPEC] [--window N|dense] [--global K] [--global-at P:Q:..]");
    return 2;
  }
  uint64_t threads = 1, max_seq = 0, max_line = kDefaultMaxLineBytes;
  if (!flag_uint(args, "--max-line-bytes", kDefaultMaxLineBytes, 1, kMaxLineBytesCap, &max_line, &err) ||
      !flag_uint(args, "--threads", 1, 1, HEED_MAX_THREADS, &threads, &err) ||
      !flag_uint(args, "--max-seq", 0, 0, UINT32_MAX, &max_seq, &err)) {
    std::fprintf(stderr, "heed %s: %s\n", name, err.c_str());
    return 2;
  }
  const bool json = args.has("--json");
  heed_model* model = nullptr;
  if (heed_model_load(args.positional[0].c_str(), &model) != HEED_OK) return fail(name, "cannot load model");
  heed_model_info info;
  heed_model_get_info(model, &info);
  heed_session* session = nullptr;
  if (mode != Mode::kTokenize) {
    const heed_task want = mode == Mode::kEmbed ? HEED_TASK_EMBEDDING : HEED_TASK_SEQUENCE_CLASSIFICATION;
    if (info.task != want) {
      std::fprintf(stderr, "heed %s: %s is a %s model\n", name, escape_text(args.positional[0]).c_str(),
                   info.task == HEED_TASK_EMBEDDING                 ? "sentence-embedding"
                   : info.task == HEED_TASK_SEQUENCE_CLASSIFICATION ? "classification"
                                                                    : "causal language (use heed logits)");
      heed_model_free(model);
      return 1;
    }
    heed_session_options opts;
    heed_session_options_init(&opts);
    opts.max_seq = size_t(max_seq);
    opts.num_threads = int(threads);
    const std::string isa = args.get("--isa");
    if (args.has("--isa")) opts.isa = isa.c_str();
    if (!attention.empty()) opts.attention = attention.c_str();
    if (heed_session_create(model, &opts, nullptr, 0, &session) != HEED_OK) {
      const int rc = fail(name, "cannot create session");
      heed_model_free(model);
      return rc;
    }
    if (uint64_t(heed_session_num_threads(session)) < threads) {
      std::fprintf(stderr, "heed %s: --threads %llu capped at the %d CPUs available\n", name,
                   (unsigned long long)threads, heed_session_num_threads(session));
    }
  }
  std::vector<int32_t> ids(info.max_seq);
  std::vector<float> out(info.output_size);
  std::vector<double> p(info.output_size);
  int rc = 0;
  TextSource source(args, 1, max_line);
  std::string text;
  for (;;) {
    const TextSource::Next next = source.next(&text);
    if (next == TextSource::Next::kEnd) break;
    if (next == TextSource::Next::kReadError) {
      std::fprintf(stderr, "heed %s: cannot read stdin\n", name);
      rc = 1;
      break;
    }
    if (next == TextSource::Next::kTooLong) {
      std::fprintf(stderr, "heed %s: %s: longer than %llu bytes (--max-line-bytes)\n", name, source.where().c_str(),
                   (unsigned long long)max_line);
      rc = 1;
      break;
    }
    size_t n = 0;
    heed_status st;
    if (mode == Mode::kTokenize) {
      st = heed_tokenize(model, text.data(), text.size(), ids.data(), ids.size(), &n);
      if (st == HEED_ERROR_BUFFER_TOO_SMALL && n > ids.size()) {  // BPE: no truncation, any length
        ids.resize(n);
        st = heed_tokenize(model, text.data(), text.size(), ids.data(), ids.size(), &n);
      }
    } else if (mode == Mode::kEmbed) {
      st = heed_embed_text(session, text.data(), text.size(), out.data(), out.size(), &n);
    } else {
      st = heed_classify_text(session, text.data(), text.size(), out.data(), out.size(), &n);
    }
    if (st != HEED_OK) {
      rc = fail(name, source.where());
      break;
    }
    if (mode == Mode::kTokenize) {
      std::fputs(json ? "[" : "", stdout);
      for (size_t i = 0; i < n; ++i) std::printf(i ? (json ? ", %d" : " %d") : "%d", ids[i]);
      std::fputs(json ? "]\n" : "\n", stdout);
    } else if (mode == Mode::kEmbed) {
      std::fputs(json ? "[" : "", stdout);
      for (size_t i = 0; i < n; ++i) std::printf(i ? (json ? ", %.9g" : " %.9g") : "%.9g", double(out[i]));
      std::fputs(json ? "]\n" : "\n", stdout);
    } else {
      // Softmax scores (max subtracted for range); the logits are finite
      // (heed_classify_text reports non-finite ones as an error).
      float mx = out[0];
      for (size_t i = 1; i < n; ++i) mx = std::fmax(mx, out[i]);
      double sum = 0;
      for (size_t i = 0; i < n; ++i) sum += p[i] = std::exp(double(out[i] - mx));
      size_t best = 0;
      for (size_t i = 1; i < n; ++i)
        if (out[i] > out[best]) best = i;
      if (json) {
        std::fputs("{\"label\": ", stdout);
        print_json_string(stdout, label_of(model, best));
        std::fputs(", \"logits\": [", stdout);
        for (size_t i = 0; i < n; ++i) std::printf(i ? ", %.9g" : "%.9g", double(out[i]));
        std::fputs("], \"scores\": [", stdout);
        for (size_t i = 0; i < n; ++i) std::printf(i ? ", %.9g" : "%.9g", p[i] / sum);
        std::fputs("]}\n", stdout);
      } else {
        // LABEL<TAB>LABEL0=SCORE<TAB>...: labels in escape_text form, so no
        // label can add a tab or a line; split a field at its last '='.
        std::fputs(escape_text(label_of(model, best)).c_str(), stdout);
        for (size_t i = 0; i < n; ++i) std::printf("\t%s=%.4f", escape_text(label_of(model, i)).c_str(), p[i] / sum);
        std::fputc('\n', stdout);
      }
    }
    if (std::fflush(stdout) != 0) {
      rc = 1;  // stdout closed or full: nothing more can be delivered
      break;
    }
  }
  heed_session_free(session);
  heed_model_free(model);
  return rc;
}

}  // namespace

int cmd_tokenize(int argc, char** argv) { return run(argc, argv, Mode::kTokenize, "tokenize"); }
int cmd_embed(int argc, char** argv) {
  // --attention-svg (before any "--") makes it a different command: one text
  // in, an SVG of one head's attention weights out (cmd-attention-svg.cc).
  for (int i = 1; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    if (std::strncmp(argv[i], "--attention-svg", 15) == 0 && (argv[i][15] == 0 || argv[i][15] == '='))
      return cmd_embed_attention_svg(argc, argv);
  }
  return run(argc, argv, Mode::kEmbed, "embed");
}
int cmd_classify(int argc, char** argv) { return run(argc, argv, Mode::kClassify, "classify"); }

}  // namespace heed::cli
