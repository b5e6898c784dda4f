// heed bench: latency of one forward pass at a fixed sequence length.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "bench-loop.h"
#include "cli.h"
// Internal headers: bench times Session::run directly (no tokenizer in the
// loop), counts the model's MACs from its ops and names the kernel variants.
#include "exec/session.h"
#include "format/model.h"
#include "kernels/kernels.h"
#include "ops/attention.h"

namespace heed::cli {

namespace {
// Query-key pairs one ATTENTION op computes over `seq` tokens from position 0.
uint64_t attention_visible_pairs(const OpInfo& op, size_t seq) {
  uint64_t n = 0;
  if (attention_cached(op)) {
    const size_t w = attention_causal_window(op);
    for (size_t p = 0; p < seq; ++p) n += p + 1 - window_begin(p, w);
    return n;
  }
  const AttentionMask mask = attention_mask(op);
  std::vector<KeyRange> r(attention_max_ranges(mask, seq));
  for (size_t i = 0; i < seq; ++i) {
    const size_t nr = attention_key_ranges(mask, seq, i, r.data());
    for (size_t k = 0; k < nr; ++k) n += r[k].end - r[k].begin;
  }
  return n;
}
}  // namespace

KernelNames kernel_names(int isa_index) {
  const KernelTable& k = kernel_table(static_cast<Isa>(isa_index));
  return {isa_name(k.isa),
          {{"qs8_gemm", k.qs8_gemm->name},
           {"qs8_gemv", k.qs8_gemv->name},
           {"f32_gemm", k.f32_gemm->name},
           {"quantize", k.quantize->name},
           {"layernorm", k.layernorm->name},
           {"activation", k.activation->name},
           {"attention", k.attention->name},
           {"cached_attention", k.cached_attention->name},
           {"rmsnorm", k.rmsnorm->name}}};
}

int cmd_bench(int argc, char** argv) {
  Args args;
  std::string err;
  std::vector<std::string> valued = {"--seq", "--threads", "--iters", "--warmup", "--isa"};
  valued.insert(valued.end(), std::begin(kAttentionFlags), std::end(kAttentionFlags));
  if (!parse_args(argc, argv, valued, {"--json"}, &args, &err) || args.positional.size() != 1) {
    std::fprintf(stderr,
                 "usage: heed bench model.heed [--seq N] [--threads N] [--iters N] [--isa ISA] [--json]\n"
                 "       [--attention SPEC] [--window N|dense] [--global K] [--global-at P:Q:..] [--sinks K]%s%s\n",
                 err.empty() ? "" : "\n", err.c_str());
    return 2;
  }
  uint64_t seq = 128, threads = 1, iters = 20, warmup = 3;
  std::string attention;
  if (!flag_uint(args, "--seq", 128, 2, uint64_t(kMaxSeq), &seq, &err) ||
      !flag_uint(args, "--threads", 1, 1, HEED_MAX_THREADS, &threads, &err) ||
      !flag_uint(args, "--iters", 20, 1, 1000000, &iters, &err) ||
      !flag_uint(args, "--warmup", 3, 0, 1000000, &warmup, &err) || !flag_attention(args, &attention, &err)) {
    std::fprintf(stderr, "heed bench: %s\n", err.c_str());
    return 2;
  }
  Model m;
  Status s = m.load_file(args.positional[0].c_str());
  if (!s.ok()) {
    std::fprintf(stderr, "heed bench: %s\n", escape_text(s.message()).c_str());
    return 1;
  }
  SessionOptions so;
  so.attention = attention;
  so.max_seq = size_t(seq);
  so.num_threads = int(threads);
  if (args.has("--isa")) {
    s = isa_parse(args.get("--isa").c_str(), &so.isa);
    if (!s.ok()) {
      std::fprintf(stderr, "heed bench: --isa: %s\n", escape_text(s.message()).c_str());
      return 2;
    }
    so.force_isa = true;
  }
  Session session;
  s = session.init(&m, so, nullptr, 0);
  if (!s.ok()) {
    std::fprintf(stderr, "heed bench: %s\n", escape_text(s.message()).c_str());
    return 1;
  }
  const int used_threads = session.num_threads();
  // Deterministic token ids: [CLS] ... [SEP] over the vocabulary's upper part.
  std::vector<int32_t> ids(seq);
  const int32_t V = int32_t(m.vocab_size());
  uint32_t state = 12345;
  for (size_t i = 0; i < seq; ++i) {
    state = state * 1664525u + 1013904223u;
    ids[i] = int32_t(1000 + state % uint32_t(V > 1001 ? V - 1000 : 1)) % V;
  }
  if (m.tokenizer_kind() == TokenizerKind::kWordPiece) {
    ids[0] = m.tokenizer().config().cls_id;
    ids[seq - 1] = m.tokenizer().config().sep_id;
  }
  std::vector<float> out(m.output_size() * (m.output_per_token() ? seq : 1));  // causal LMs: [seq, vocab]
  for (size_t i = 0; i < warmup; ++i) {
    s = session.run(ids.data(), seq, out.data(), out.size(), nullptr);
    if (!s.ok()) {
      std::fprintf(stderr, "heed bench: %s\n", escape_text(s.message()).c_str());
      return 1;
    }
  }
  std::vector<double> ms(static_cast<size_t>(iters), 0.0);
  s = timed_runs(session, ids.data(), seq, out.data(), out.size(), size_t(iters), ms.data());
  if (!s.ok()) {
    std::fprintf(stderr, "heed bench: %s\n", escape_text(s.message()).c_str());
    return 1;
  }
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted.size() % 2 ? sorted[sorted.size() / 2]
                                          : 0.5 * (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]);
  // Multiply-accumulates of the GEMMs and attention at this length
  // (attention: 2 x head_dim per visible query-key pair and head).
  double macs = 0;
  for (const OpInfo& op : session.ops()) {
    if (op.kind == OpKind::kFullyConnected) {
      const TensorInfo& x = m.tensors()[size_t(op.inputs[0])];
      const TensorInfo& w = m.tensors()[size_t(op.inputs[1])];
      const double rows = x.has_seq_dim() ? double(seq) : double(x.dims[0]);
      macs += rows * double(w.dims[0]) * double(w.dims[1]);
    } else if (op.kind == OpKind::kAttention) {
      macs += 2.0 * double(attention_visible_pairs(op, seq)) * double(op.num_heads) * double(op.head_dim);
    }
  }
  const double gops = 2.0 * macs / (median * 1e-3) / 1e9;
  const std::string& path = args.positional[0];
  if (args.has("--json")) {
    std::printf("{\"model\": ");
    print_json_string(stdout, path);
    std::printf(", \"precision\": ");
    print_json_string(stdout, m.metadata().precision);
    std::printf(", \"isa\": \"%s\", \"seq\": %llu, \"threads\": %d, \"threads_requested\": %llu, "
                "\"iters\": %llu, \"median_ms\": %.4f, \"min_ms\": %.4f, \"max_ms\": %.4f, \"gmac\": %.4f, "
                "\"gops\": %.3f, \"arena_bytes\": %zu, \"kernels\": {",
                isa_name(session.isa()), (unsigned long long)seq, used_threads, (unsigned long long)threads,
                (unsigned long long)iters, median, sorted.front(), sorted.back(), macs / 1e9, gops,
                session.arena_bytes());
    const KernelNames kn = kernel_names(static_cast<int>(session.isa()));
    for (size_t i = 0; i < kn.families.size(); ++i) {
      std::printf("%s\"%s\": ", i ? ", " : "", kn.families[i].first);
      print_json_string(stdout, kn.families[i].second);
    }
    std::printf("}}\n");
  } else {
    std::printf("model      %s (%s)\n", escape_text(path).c_str(), escape_text(m.metadata().precision).c_str());
    std::printf("kernels    %s, threads %d", isa_name(session.isa()), used_threads);
    if (uint64_t(used_threads) < threads) {
      std::printf(" (--threads %llu capped at the CPUs available)", (unsigned long long)threads);
    }
    for (const auto& [family, variant] : kernel_names(static_cast<int>(session.isa())).families) {
      std::printf("\n           %-10s %s", family, variant);
    }
    std::printf("\nseq        %llu tokens, %.3f GMAC per pass\n", (unsigned long long)seq, macs / 1e9);
    std::printf("latency    median %.3f ms, min %.3f ms, max %.3f ms over %llu iterations\n", median, sorted.front(),
                sorted.back(), (unsigned long long)iters);
    std::printf("throughput %.2f GOPS, arena %zu bytes\n", gops, session.arena_bytes());
  }
  return 0;
}

}  // namespace heed::cli
