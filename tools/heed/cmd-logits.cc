// logits: a causal LM's next-token logits for token ids given on the command
// line, every position (or the last with --last, on a session created with
// last_logits_only, which computes that row alone), through the public C
// API. --incremental feeds the ids one at a time through heed_session_decode
// (the key/value cache) instead of one heed_session_logits call; the logits
// are the same bits. On a session that streams (attention sinks, or a window
// ring: heed_session_streams) --incremental takes more ids than max_seq.
#include <cstdio>
#include <string>
#include <vector>

#include "cli.h"
#include "heed/heed.h"

namespace heed::cli {

namespace {
constexpr size_t kMaxStreamIds = size_t{1} << 20;  // --incremental on a streaming session

int fail(const std::string& what) {
  std::fprintf(stderr, "heed logits: %s: %s\n", what.c_str(), escape_text(heed_last_error()).c_str());
  return 1;
}

}  // namespace

int cmd_logits(int argc, char** argv) {
  Args args;
  std::string err;
  if (!parse_args(argc, argv, {"--ids", "--threads", "--max-seq", "--isa", "--kv", "--attention", "--window", "--global", "--global-at", "--sinks"}, {"--json", "--last", "--incremental"}, &args, &err)) {
    std::fprintf(stderr, "heed logits: %s\n", err.c_str());
    return 2;
  }
  if (args.positional.size() != 1 || !args.has("--ids")) {
    std::fprintf(stderr,
                 "usage: heed logits model.heed --ids ID,ID,... [--last] [--json] [--incremental] [--threads N] [--max-seq N] [--isa ISA] [--kv auto|f32|int8]\n"
                 "       [--attention SPEC] [--window N|dense] [--sinks K]\n");
    return 2;
  }
  uint64_t threads = 1, max_seq = 0;
  if (!flag_uint(args, "--threads", 1, 1, HEED_MAX_THREADS, &threads, &err) ||
      !flag_uint(args, "--max-seq", 0, 0, UINT32_MAX, &max_seq, &err)) {
    std::fprintf(stderr, "heed logits: %s\n", err.c_str());
    return 2;
  }
  heed_model* model = nullptr;
  if (heed_model_load(args.positional[0].c_str(), &model) != HEED_OK) return fail("cannot load model");
  heed_model_info info;
  heed_model_get_info(model, &info);
  if (info.task != HEED_TASK_CAUSAL_LM) {
    std::fprintf(stderr, "heed logits: %s is not a causal language model\n", escape_text(args.positional[0]).c_str());
    heed_model_free(model);
    return 1;
  }
  heed_session_options opts;
  heed_session_options_init(&opts);
  opts.max_seq = size_t(max_seq);
  opts.num_threads = int(threads);
  std::string attention;
  if (!flag_kv_cache(args, &opts.kv_cache, &err) || !flag_attention(args, &attention, &err)) {
    std::fprintf(stderr, "heed logits: %s\n", err.c_str());
    heed_model_free(model);
    return 2;
  }
  if (!attention.empty()) opts.attention = attention.c_str();
  const bool last = args.has("--last");
  opts.last_logits_only = last ? 1 : 0;
  const std::string isa = args.get("--isa");
  if (args.has("--isa")) opts.isa = isa.c_str();
  heed_session* session = nullptr;
  if (heed_session_create(model, &opts, nullptr, 0, &session) != HEED_OK) {
    const int rc = fail("cannot create session");
    heed_model_free(model);
    return rc;
  }
  // --incremental may pass max_seq on a streaming session (heed_session_streams:
  // attention sinks or a ring); the session rejects what it cannot hold.
  const size_t limit = args.has("--incremental") && heed_session_streams(session) ? kMaxStreamIds
                       : max_seq                                                ? size_t(max_seq)
                                                                                : info.max_seq;
  std::vector<int32_t> ids;
  if (!parse_ids(args.get("--ids"), "--ids", limit, &ids, &err)) {
    std::fprintf(stderr, "heed logits: %s\n", err.c_str());
    heed_session_free(session);
    heed_model_free(model);
    return 2;
  }
  // --last: the session writes one row per call.
  const size_t out_rows = last ? 1 : ids.size();
  std::vector<float> logits(out_rows * info.output_size);
  size_t rows = 0, vocab = 0;
  int rc = 0;
  heed_status st = HEED_OK;
  if (args.has("--incremental")) {
    vocab = info.output_size;
    for (size_t i = 0; i < ids.size() && st == HEED_OK; ++i) {
      size_t one = 0;
      st = heed_session_decode(session, ids.data() + i, 1, logits.data() + (last ? 0 : i) * vocab, vocab, &one);
      rows = last ? one : rows + one;
    }
  } else {
    st = heed_session_logits(session, ids.data(), ids.size(), logits.data(), logits.size(), &rows, &vocab);
  }
  if (st != HEED_OK) {
    rc = fail("cannot run the model");
  } else {
    const bool json = args.has("--json");
    // Row r of the buffer is position first + r.
    const size_t first = ids.size() - rows;
    if (json) std::printf("{\"rows\": %zu, \"first_position\": %zu, \"vocab\": %zu, \"logits\": [", rows, first, vocab);
    for (size_t r = 0; r < rows; ++r) {
      const float* row = logits.data() + r * vocab;
      if (json) std::printf("%s[", r > 0 ? ", " : "");
      else std::printf("%zu\t", first + r);
      for (size_t v = 0; v < vocab; ++v) std::printf(json ? "%s%.9g" : "%s%.9g", v ? (json ? ", " : " ") : "", double(row[v]));
      std::printf(json ? "]" : "\n");
    }
    if (json) std::printf("]}\n");
  }
  heed_session_free(session);
  heed_model_free(model);
  return rc;
}

}  // namespace heed::cli
