// perplexity: a causal LM's perplexity of a text file (tokenized with the
// model's tokenizer) or of token ids (--ids-file), through the public C API.
//
// The ids are cut into consecutive windows of --ctx tokens (the last one may
// be shorter; a window of one token scores nothing). In each window, token t
// (t >= 1) is scored by the logits of row t - 1, i.e. given the tokens before
// it in its window: transformers' fixed-length perplexity with stride = ctx.
// --stream instead keeps one context over all the ids, fed --ctx at a time
// (heed_session_logits, then heed_session_decode), so token t >= 1 is scored
// given every token before it that the attention keeps: what a chat or a
// long generation sees. Past --ctx that needs a session that streams
// (heed_session_streams: a window with --sinks, or a window ring).
// NLL per token = logsumexp(row) - row[target] in double; perplexity =
// exp(mean NLL).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "cli.h"
#include "heed/heed.h"

namespace heed::cli {

namespace {
constexpr size_t kMaxFileBytes = size_t{16} << 20;  // heed_tokenize's text cap

int fail(const std::string& what) {
  std::fprintf(stderr, "heed perplexity: %s: %s\n", what.c_str(), escape_text(heed_last_error()).c_str());
  return 1;
}

// Reads at most kMaxFileBytes; false with a message otherwise.
bool read_file(const std::string& path, std::string* out, std::string* error) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    *error = "cannot open '" + escape_text(path) + "'";
    return false;
  }
  out->clear();
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    if (out->size() + n > kMaxFileBytes) {
      std::fclose(f);
      *error = "'" + escape_text(path) + "' is larger than " + std::to_string(kMaxFileBytes) + " bytes";
      return false;
    }
    out->append(buf, n);
  }
  const bool bad = std::ferror(f) != 0;
  std::fclose(f);
  if (bad) *error = "cannot read '" + escape_text(path) + "'";
  return !bad;
}

// Decimal ids separated by whitespace or commas, each in 0..INT32_MAX.
bool parse_id_list(const std::string& s, std::vector<int32_t>* out, std::string* error) {
  out->clear();
  size_t i = 0;
  auto sep = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ','; };
  while (i < s.size()) {
    if (sep(s[i])) {
      ++i;
      continue;
    }
    const size_t start = i;
    uint64_t v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 11) v = v * 10 + uint64_t(s[i++] - '0');
    if (i == start || v > uint64_t(INT32_MAX) || (i < s.size() && !sep(s[i]))) {
      *error = "--ids-file: '" + escape_text(s.substr(start, 24)) + "' is not a token id in 0.." +
               std::to_string(INT32_MAX);
      return false;
    }
    out->push_back(int32_t(v));
  }
  return true;
}
}  // namespace

int cmd_perplexity(int argc, char** argv) {
  Args args;
  std::string err;
  if (!parse_args(argc, argv, {"--ctx", "--threads", "--isa", "--ids-file", "--kv", "--attention", "--window", "--global", "--global-at", "--sinks"}, {"--json", "--stream"}, &args, &err)) {
    std::fprintf(stderr, "heed perplexity: %s\n", err.c_str());
    return 2;
  }
  const bool ids_file = args.has("--ids-file");
  if (args.positional.size() != (ids_file ? 1u : 2u)) {
    std::fprintf(stderr,
                 "usage: heed perplexity model.heed FILE [--ctx N] [--stream] [--json] [--threads N] [--isa ISA] [--kv auto|f32|int8]\n"
                 "       [--attention SPEC] [--window N|dense] [--sinks K]\n"
                 "       heed perplexity model.heed --ids-file IDS [--ctx N] ...   (ids instead of text)\n");
    return 2;
  }
  uint64_t threads = 1, ctx = 0;
  int kv_cache = HEED_KV_CACHE_AUTO;
  std::string attention;
  if (!flag_uint(args, "--threads", 1, 1, HEED_MAX_THREADS, &threads, &err) ||
      !flag_uint(args, "--ctx", 0, 2, UINT32_MAX, &ctx, &err) || !flag_kv_cache(args, &kv_cache, &err) ||
      !flag_attention(args, &attention, &err)) {
    std::fprintf(stderr, "heed perplexity: %s\n", err.c_str());
    return 2;
  }
  std::string text;
  if (!read_file(ids_file ? args.get("--ids-file") : args.positional[1], &text, &err)) {
    std::fprintf(stderr, "heed perplexity: %s\n", err.c_str());
    return 1;
  }
  heed_model* model = nullptr;
  if (heed_model_load(args.positional[0].c_str(), &model) != HEED_OK) return fail("cannot load model");
  heed_model_info info;
  heed_model_get_info(model, &info);
  int rc = 0;
  heed_session* session = nullptr;
  std::vector<int32_t> ids;
  if (info.task != HEED_TASK_CAUSAL_LM) {
    std::fprintf(stderr, "heed perplexity: %s is not a causal language model\n", escape_text(args.positional[0]).c_str());
    rc = 1;
  } else if (ctx > info.max_seq) {
    std::fprintf(stderr, "heed perplexity: --ctx %llu exceeds the model's %zu positions\n", (unsigned long long)ctx,
                 info.max_seq);
    rc = 2;
  } else if (ids_file) {
    if (!parse_id_list(text, &ids, &err)) {
      std::fprintf(stderr, "heed perplexity: %s\n", err.c_str());
      rc = 2;
    }
  } else {
    size_t n = 0;
    heed_status st = heed_tokenize(model, text.data(), text.size(), nullptr, 0, &n);
    if (st == HEED_ERROR_BUFFER_TOO_SMALL) {
      ids.resize(n);
      st = heed_tokenize(model, text.data(), text.size(), ids.data(), ids.size(), &n);
    }
    if (st != HEED_OK) rc = fail("cannot tokenize the file");
  }
  if (rc == 0 && ids.size() < 2) {
    std::fprintf(stderr, "heed perplexity: %zu tokens: nothing to score (at least 2 are needed)\n", ids.size());
    rc = 1;
  }
  const size_t window = ctx ? size_t(ctx) : info.max_seq;
  if (rc == 0) {
    heed_session_options opts;
    heed_session_options_init(&opts);
    opts.max_seq = window;
    opts.num_threads = int(threads);
    opts.kv_cache = kv_cache;
    if (!attention.empty()) opts.attention = attention.c_str();
    const std::string isa = args.get("--isa");
    if (args.has("--isa")) opts.isa = isa.c_str();
    if (heed_session_create(model, &opts, nullptr, 0, &session) != HEED_OK) rc = fail("cannot create session");
  }
  const bool stream = args.has("--stream");
  if (rc == 0 && stream && ids.size() > window && !heed_session_streams(session)) {
    std::fprintf(stderr,
                 "heed perplexity: --stream over %zu tokens needs a session whose context may pass --ctx %zu: a "
                 "window with sinks (--window W --sinks K) or a window shorter than the context, on a model with "
                 "rotary positions\n",
                 ids.size(), window);
    rc = 2;
  }
  if (rc == 0) {
    const size_t vocab = info.output_size;
    std::vector<float> logits(window * vocab);
    double nll = 0.0;
    size_t scored = 0, windows = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t b = 0; b + 1 < ids.size() && rc == 0; b += window) {
      const size_t n = ids.size() - b < window ? ids.size() - b : window;
      if (n < 2 && !stream) break;
      size_t rows = 0;
      const heed_status st = stream && b > 0
                                 ? heed_session_decode(session, ids.data() + b, n, logits.data(), logits.size(), &rows)
                                 : heed_session_logits(session, ids.data() + b, n, logits.data(), logits.size(), &rows,
                                                       nullptr);
      if (st != HEED_OK) {
        rc = fail("cannot run window " + std::to_string(windows));
        break;
      }
      // Row r scores ids[b + r + 1]: within the window, or (--stream) the
      // first id of the next one as well.
      const size_t end = stream ? ids.size() : b + n;
      for (size_t r = 0; r < n && b + r + 1 < end; ++r) {
        const float* row = logits.data() + r * vocab;
        double mx = row[0];
        for (size_t v = 1; v < vocab; ++v) mx = row[v] > mx ? row[v] : mx;
        double sum = 0.0;
        for (size_t v = 0; v < vocab; ++v) sum += std::exp(double(row[v]) - mx);
        nll += mx + std::log(sum) - double(row[size_t(ids[b + r + 1])]);
        ++scored;
      }
      ++windows;
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (rc == 0) {
      const double ppl = std::exp(nll / double(scored));
      if (args.has("--json")) {
        std::printf("{\"perplexity\": %.9g, \"mean_nll\": %.9g, \"tokens\": %zu, \"scored\": %zu, \"windows\": %zu, "
                    "\"ctx\": %zu, \"stream\": %s, \"arena_bytes\": %zu, \"seconds\": %.6f}\n",
                    ppl, nll / double(scored), ids.size(), scored, windows, window, stream ? "true" : "false",
                    heed_session_arena_used(session), secs);
      } else {
        std::printf("perplexity %.4f over %zu scored tokens (%zu tokens, %zu %s of up to %zu), %.2f s\n", ppl,
                    scored, ids.size(), windows, stream ? "chunks of one stream" : "windows", window, secs);
      }
    }
  }
  heed_session_free(session);
  heed_model_free(model);
  return rc;
}

}  // namespace heed::cli
