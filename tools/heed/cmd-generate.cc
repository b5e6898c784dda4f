// generate: text generation with a causal LM through the public C API
// (heed_generate_ids). Streams each piece of text to stdout as its token
// arrives, then prints the speeds on stderr; --json prints one object instead.
//
// Sampling defaults follow transformers' generate(): greedy unless a
// temperature > 0 is given (do_sample=False is its default); when sampling,
// top-k is 50 and top-p 1 unless set (GenerationConfig's defaults).
//
// The prompt runs once, then each token is one position's pass through the
// key/value caches (heed_generate_ids). --stop STR ends generation where the
// text contains STR (printed up to it, never past it).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli.h"
#include "generate/sampler.h"
#include "generate/stop-strings.h"
#include "heed/heed.h"

namespace heed::cli {

namespace {
using Clock = std::chrono::steady_clock;

int fail(const std::string& what) {
  std::fprintf(stderr, "heed generate: %s: %s\n", what.c_str(), escape_text(heed_last_error()).c_str());
  return 1;
}

// A finite decimal number (strtod syntax, the whole value). Absent: fallback.
bool flag_float(const Args& args, const char* name, float fallback, float* out, std::string* error) {
  if (!args.has(name)) {
    *out = fallback;
    return true;
  }
  const std::string v = args.get(name);
  char* end = nullptr;
  const double d = v.empty() ? NAN : std::strtod(v.c_str(), &end);
  if (v.empty() || end != v.c_str() + v.size() || !std::isfinite(d) || std::fabs(d) > 1e30 || v[0] == ' ') {
    *error = std::string(name) + ": '" + escape_text(v.substr(0, 24)) + "' is not a finite number";
    return false;
  }
  *out = float(d);
  return true;
}

struct Run {
  bool json = false;
  std::vector<int32_t> ids;
  std::string text;
  Clock::time_point first;
  bool have_first = false;
};

int on_token(void* user, int32_t id, const char* text, size_t len) {
  auto* r = static_cast<Run*>(user);
  if (!r->have_first) {
    r->first = Clock::now();
    r->have_first = true;
  }
  if (id >= 0) r->ids.push_back(id);
  if (r->json) {
    r->text.append(text, len);
  } else if (len) {
    std::fwrite(text, 1, len, stdout);
    std::fflush(stdout);
  }
  return 0;
}

const char* stop_name(heed_stop_reason s) {
  switch (s) {
    case HEED_STOP_MAX_TOKENS: return "max_tokens";
    case HEED_STOP_EOS: return "eos";
    case HEED_STOP_STOP_ID: return "stop_id";
    case HEED_STOP_CONTEXT_FULL: return "context_full";
    case HEED_STOP_CALLBACK: return "callback";
    case HEED_STOP_STOP_STRING: return "stop_string";
  }
  return "unknown";
}

void print_ids(const std::vector<int32_t>& ids) {
  std::printf("[");
  for (size_t i = 0; i < ids.size(); ++i) std::printf("%s%d", i ? "," : "", ids[i]);
  std::printf("]");
}
}  // namespace

int cmd_generate(int argc, char** argv) {
  Args args;
  std::string err;
  const char* usage =
      "usage: heed generate model.heed \"PROMPT\" [-n N] [--temp T] [--top-k K] [--top-p P]\n"
      "                     [--repeat-penalty R] [--seed S] [--stop-id ID ...] [--stop STR ...]\n"
      "                     [--ignore-eos]\n"
      "                     [--threads N] [--ctx N] [--kv auto|f32|int8] [--json]\n"
      "                     [--attention SPEC] [--window N|dense] [--sinks K]\n"
      "       heed generate model.heed --ids ID,ID,... [options]\n";
  if (!parse_args(argc, argv,
                  {"-n", "--temp", "--top-k", "--top-p", "--repeat-penalty", "--seed", "--ids", "--stop-id",
                   "--threads", "--ctx", "--stop", "--kv", "--attention", "--window", "--global", "--global-at", "--sinks"},
                  {"--json", "--ignore-eos"}, &args, &err)) {
    std::fprintf(stderr, "heed generate: %s\n%s", err.c_str(), usage);
    return 2;
  }
  const bool by_ids = args.has("--ids");
  if (args.positional.size() != (by_ids ? 1u : 2u)) {
    std::fprintf(stderr, "heed generate: %s\n%s",
                 by_ids ? "--ids replaces the prompt: give only the model" : "give a model and one prompt (or --ids)",
                 usage);
    return 2;
  }
  uint64_t n = 64, threads = 1, ctx = 0, top_k = 50, seed = 0;
  int kv_cache = HEED_KV_CACHE_AUTO;
  std::string attention;
  heed_generate_options opts;
  heed_generate_options_init(&opts);
  SamplerParams sp;
  if (!flag_uint(args, "-n", 64, 0, UINT32_MAX, &n, &err) ||
      !flag_uint(args, "--threads", 1, 1, HEED_MAX_THREADS, &threads, &err) ||
      !flag_uint(args, "--ctx", 0, 0, UINT32_MAX, &ctx, &err) ||
      !flag_uint(args, "--top-k", 50, 0, INT32_MAX, &top_k, &err) ||
      !flag_uint(args, "--seed", 0, 0, UINT64_MAX, &seed, &err) ||
      !flag_float(args, "--temp", 0.0f, &sp.temperature, &err) ||
      !flag_float(args, "--top-p", 1.0f, &sp.top_p, &err) ||
      !flag_float(args, "--repeat-penalty", 1.0f, &sp.repetition_penalty, &err) ||
      !flag_kv_cache(args, &kv_cache, &err) || !flag_attention(args, &attention, &err)) {
    std::fprintf(stderr, "heed generate: %s\n", err.c_str());
    return 2;
  }
  sp.top_k = int32_t(top_k);
  sp.seed = seed;
  const Status sc = sampler_check(sp);
  if (!sc.ok()) {
    std::fprintf(stderr, "heed generate: %s\n", sc.message());
    return 2;
  }
  std::vector<int32_t> stop_ids;
  for (const auto& f : args.flags) {
    if (f.first != "--stop-id") continue;
    uint64_t v = 0;
    Args one;
    one.flags.emplace_back("--stop-id", f.second);
    if (!flag_uint(one, "--stop-id", 0, 0, INT32_MAX, &v, &err)) {
      std::fprintf(stderr, "heed generate: %s\n", err.c_str());
      return 2;
    }
    stop_ids.push_back(int32_t(v));
  }
  // --stop STR (repeatable): generation ends where the text contains STR.
  std::vector<std::string> stops;
  for (const auto& f : args.flags)
    if (f.first == "--stop") stops.push_back(f.second);
  std::vector<const char*> stop_ptrs;
  for (const std::string& st : stops) {
    if (st.find('\0') != std::string::npos) {
      std::fprintf(stderr, "heed generate: --stop: a stop string cannot hold a NUL byte\n");
      return 2;
    }
    stop_ptrs.push_back(st.c_str());
  }
  const Status ss = StopStrings::check(stop_ptrs.data(), stop_ptrs.size(), "--stop");
  if (!ss.ok()) {
    std::fprintf(stderr, "heed generate: %s\n", escape_text(ss.message()).c_str());
    return 2;
  }
  opts.stop_strings = stop_ptrs.data();
  opts.num_stop_strings = stop_ptrs.size();
  opts.max_tokens = size_t(n);
  opts.temperature = sp.temperature;
  opts.top_k = sp.top_k;
  opts.top_p = sp.top_p;
  opts.repetition_penalty = sp.repetition_penalty;
  opts.seed = sp.seed;
  opts.stop_ids = stop_ids.data();
  opts.num_stop_ids = stop_ids.size();
  opts.ignore_eos = args.has("--ignore-eos");

  heed_model* model = nullptr;
  if (heed_model_load(args.positional[0].c_str(), &model) != HEED_OK) return fail("cannot load model");
  heed_model_info info;
  heed_model_get_info(model, &info);
  if (info.task != HEED_TASK_CAUSAL_LM) {
    std::fprintf(stderr, "heed generate: %s is not a causal language model\n", escape_text(args.positional[0]).c_str());
    heed_model_free(model);
    return 1;
  }
  for (int32_t id : stop_ids) {
    if (size_t(id) >= info.output_size) {
      std::fprintf(stderr, "heed generate: --stop-id: %d is outside the vocabulary [0, %zu)\n", id, info.output_size);
      heed_model_free(model);
      return 2;
    }
  }
  heed_session_options so;
  heed_session_options_init(&so);
  so.max_seq = size_t(ctx);
  so.num_threads = int(threads);
  so.kv_cache = kv_cache;
  if (!attention.empty()) so.attention = attention.c_str();
  so.last_logits_only = 1;  // one row of logits per step: the smallest arena
  heed_session* session = nullptr;
  if (heed_session_create(model, &so, nullptr, 0, &session) != HEED_OK) {
    const int rc = fail("cannot create session");
    heed_model_free(model);
    return rc;
  }
  int rc = 0;
  std::vector<int32_t> prompt;
  const size_t limit = ctx ? size_t(ctx) : info.max_seq;
  if (by_ids) {
    if (!parse_ids(args.get("--ids"), "--ids", limit, &prompt, &err)) {
      std::fprintf(stderr, "heed generate: %s\n", err.c_str());
      rc = 2;
    }
  } else {
    const std::string& text = args.positional[1];
    size_t count = 0;
    heed_status st = heed_tokenize(model, text.data(), text.size(), nullptr, 0, &count);
    if (st == HEED_ERROR_BUFFER_TOO_SMALL || st == HEED_OK) {
      prompt.resize(count);
      st = heed_tokenize(model, text.data(), text.size(), prompt.data(), prompt.size(), &count);
    }
    if (st != HEED_OK) rc = fail("cannot tokenize the prompt");
  }
  if (rc == 0) {
    Run run;
    run.json = args.has("--json");
    run.ids.reserve(size_t(std::min<uint64_t>(n, limit)));
    heed_generate_result res;
    const Clock::time_point t0 = Clock::now();
    const heed_status st = heed_generate_ids(session, prompt.data(), prompt.size(), &opts, on_token, &run, &res);
    const Clock::time_point t1 = Clock::now();
    if (st != HEED_OK) {
      if (!run.json && run.have_first) std::printf("\n");
      rc = fail("cannot generate");
    } else {
      // prompt_ms: the first forward pass (over the prompt) up to the first
      // token; generate_ms: the rest, one pass per further token.
      const Clock::time_point tf = run.have_first ? run.first : t1;
      const double prompt_ms = std::chrono::duration<double, std::milli>(tf - t0).count();
      const double gen_ms = std::chrono::duration<double, std::milli>(t1 - tf).count();
      if (run.json) {
        std::printf("{\"prompt_ids\":");
        print_ids(prompt);
        std::printf(",\"ids\":");
        print_ids(run.ids);
        std::printf(",\"text\":");
        print_json_string(stdout, run.text);
        // context: the ids the session holds at the end (prompt and
        // generated, past max_seq when it streams); arena_bytes: its memory,
        // fixed at creation.
        std::printf(",\"prompt_tokens\":%zu,\"prompt_ms\":%.3f,\"generated_tokens\":%zu,\"generate_ms\":%.3f,"
                    "\"stop\":\"%s\",\"context\":%zu,\"max_seq\":%zu,\"streams\":%s,\"arena_bytes\":%zu}\n",
                    res.prompt_tokens, prompt_ms, res.generated_tokens, gen_ms, stop_name(res.stop),
                    heed_session_context_length(session), limit, heed_session_streams(session) ? "true" : "false",
                    heed_session_arena_used(session));
      } else {
        std::printf("\n");
        std::fflush(stdout);
        // The first generated token comes from the prompt pass: generation
        // speed counts the tokens after it.
        const double prompt_tps = prompt_ms > 0 ? double(res.prompt_tokens) * 1e3 / prompt_ms : 0.0;
        const double gen_tps =
            res.generated_tokens > 1 && gen_ms > 0 ? double(res.generated_tokens - 1) * 1e3 / gen_ms : 0.0;
        std::fprintf(stderr, "prompt: %zu tokens, %.1f tok/s; generation: %zu tokens, %.1f tok/s (stop: %s)\n",
                     res.prompt_tokens, prompt_tps, res.generated_tokens, gen_tps, stop_name(res.stop));
      }
    }
  }
  heed_session_free(session);
  heed_model_free(model);
  return rc;
}

}  // namespace heed::cli
