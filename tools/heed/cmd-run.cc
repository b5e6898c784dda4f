// tokenize, embed, classify: texts in, one output line per text.
#include <cmath>
#include <cstdio>
#include <vector>

#include "cli.h"
#include "heed/heed.h"

namespace heed::cli {

namespace {

enum class Mode { kTokenize, kEmbed, kClassify };

int fail(const char* what) {
  std::fprintf(stderr, "heed: %s: %s\n", what, heed_last_error());
  return 1;
}

int run(int argc, char** argv, Mode mode, const char* name) {
  Args args;
  std::string err;
  if (!parse_args(argc, argv, {"--threads", "--max-seq"}, {"--json"}, &args, &err)) {
    std::fprintf(stderr, "heed %s: %s\n", name, err.c_str());
    return 2;
  }
  if (args.positional.empty()) {
    std::fprintf(stderr, "usage: heed %s model.heed [TEXT...] [--json]\n", name);
    return 2;
  }
  const bool json = args.has("--json");
  heed_model* model = nullptr;
  if (heed_model_load(args.positional[0].c_str(), &model) != HEED_OK) return fail("cannot load model");
  heed_model_info info;
  heed_model_get_info(model, &info);
  heed_session* session = nullptr;
  if (mode != Mode::kTokenize) {
    const heed_task want = mode == Mode::kEmbed ? HEED_TASK_EMBEDDING : HEED_TASK_SEQUENCE_CLASSIFICATION;
    if (info.task != want) {
      std::fprintf(stderr, "heed %s: %s is a %s model\n", name, args.positional[0].c_str(),
                   info.task == HEED_TASK_EMBEDDING ? "sentence-embedding" : "classification");
      heed_model_free(model);
      return 1;
    }
    heed_session_options opts;
    heed_session_options_init(&opts);
    size_t threads = 1;
    if ((args.has("--max-seq") && !parse_size(args.get("--max-seq"), &opts.max_seq)) ||
        !parse_size(args.get("--threads", "1"), &threads) || threads < 1 || threads > 256) {
      std::fprintf(stderr, "heed %s: --max-seq and --threads (1..256) need numbers\n", name);
      heed_model_free(model);
      return 2;
    }
    opts.num_threads = int(threads);
    if (heed_session_create(model, &opts, nullptr, 0, &session) != HEED_OK) {
      const int rc = fail("cannot create session");
      heed_model_free(model);
      return rc;
    }
  }
  const std::vector<std::string> texts = read_texts(args, 1);
  std::vector<int32_t> ids(info.max_seq);
  std::vector<float> out(info.output_size);
  int rc = 0;
  for (const std::string& text : texts) {
    size_t n = 0;
    heed_status st;
    if (mode == Mode::kTokenize) {
      st = heed_tokenize(model, text.data(), text.size(), ids.data(), ids.size(), &n);
    } else if (mode == Mode::kEmbed) {
      st = heed_embed_text(session, text.data(), text.size(), out.data(), out.size(), &n);
    } else {
      st = heed_classify_text(session, text.data(), text.size(), out.data(), out.size(), &n);
    }
    if (st != HEED_OK) {
      rc = fail(name);
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
      // Softmax scores (max subtracted for range).
      float mx = out[0];
      for (size_t i = 1; i < n; ++i) mx = std::fmax(mx, out[i]);
      std::vector<double> p(n);
      double sum = 0;
      for (size_t i = 0; i < n; ++i) sum += p[i] = std::exp(double(out[i] - mx));
      size_t best = 0;
      for (size_t i = 1; i < n; ++i)
        if (out[i] > out[best]) best = i;
      const char* label = heed_model_label(model, best);
      const std::string lab = label ? label : std::to_string(best);
      if (json) {
        std::fputs("{\"label\": ", stdout);
        print_json_string(stdout, lab);
        std::fputs(", \"logits\": [", stdout);
        for (size_t i = 0; i < n; ++i) std::printf(i ? ", %.9g" : "%.9g", double(out[i]));
        std::fputs("], \"scores\": [", stdout);
        for (size_t i = 0; i < n; ++i) std::printf(i ? ", %.9g" : "%.9g", p[i] / sum);
        std::fputs("]}\n", stdout);
      } else {
        std::printf("%s", lab.c_str());
        for (size_t i = 0; i < n; ++i) {
          const char* l = heed_model_label(model, i);
          std::printf("\t%s=%.4f", l ? l : std::to_string(i).c_str(), p[i] / sum);
        }
        std::printf("\n");
      }
    }
  }
  std::fflush(stdout);
  heed_session_free(session);
  heed_model_free(model);
  return rc;
}

}  // namespace

int cmd_tokenize(int argc, char** argv) { return run(argc, argv, Mode::kTokenize, "tokenize"); }
int cmd_embed(int argc, char** argv) { return run(argc, argv, Mode::kEmbed, "embed"); }
int cmd_classify(int argc, char** argv) { return run(argc, argv, Mode::kClassify, "classify"); }

}  // namespace heed::cli
