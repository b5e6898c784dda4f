#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <tuple>

#include "attention-map.h"
#include "cli.h"
#include "write-file.h"
// Internal headers: inspect lists what the file holds (tensors, ops, layouts)
// and sizes sessions with the runtime's own planner (session_layout).
#include "exec/session.h"
#include "format/model.h"
#include "ops/attention.h"

namespace heed::cli {

namespace {
const char* dtype_name(DType t) {
  switch (t) {
    case DType::kF32: return "f32";
    case DType::kI8: return "i8";
    case DType::kI32: return "i32";
  }
  return "?";
}
// Where Model::eos_ids() and bos_id() come from: "generation_config" (the
// file's Metadata.generation), "tokenizer" (a causal LM file before schema
// 1.3) or "none" (other tasks).
const char* generation_source(const Model& m) {
  if (m.metadata().task != Task::kCausalLm) return "none";
  return m.metadata().has_generation ? "generation_config" : "tokenizer";
}
// heed inspect --attention-map: the map of one ATTENTION layer as an SVG.
int attention_map(const Args& args, const Model& m, SessionOptions so) {
  std::vector<size_t> layers;  // op indices of the ATTENTION ops
  for (size_t i = 0; i < m.ops().size(); ++i)
    if (m.ops()[i].kind == OpKind::kAttention) layers.push_back(i);
  if (layers.empty()) {
    std::fprintf(stderr, "heed inspect: --attention-map: %s has no ATTENTION layer\n",
                 escape_text(args.positional[0]).c_str());
    return 1;
  }
  std::string err;
  uint64_t layer = 0, seq = 0;
  const uint64_t max_seq = uint64_t(m.max_seq());
  if (!flag_uint(args, "--layer", 0, 0, layers.size() - 1, &layer, &err)) {
    std::fprintf(stderr, "heed inspect: %s (the model has %zu ATTENTION layer%s)\n", err.c_str(), layers.size(),
                 layers.size() == 1 ? "" : "s");
    return 2;
  }
  if (!flag_uint(args, "--seq", max_seq < 512 ? max_seq : 512, 1, max_seq, &seq, &err)) {
    std::fprintf(stderr, "heed inspect: %s\n", err.c_str());
    return 2;
  }
  // The session's resolution of the cache type and the patterns (as
  // heed_session_options), which do not depend on the length (a session
  // holds at least 2 positions; 1 and 2 round to the same 16 cache positions).
  so.max_seq = seq < 2 ? 2 : size_t(seq);
  if (!flag_attention(args, &so.attention, &err)) {
    std::fprintf(stderr, "heed inspect: %s\n", err.c_str());
    return 2;
  }
  ArenaLayout layout;
  Status s = session_layout(m, so, &layout);
  if (!s.ok()) {
    std::fprintf(stderr, "heed inspect: %s\n", escape_text(s.message()).c_str());
    return 1;
  }
  const bool overridden = !layout.ops.empty();
  const OpInfo& op = (overridden ? layout.ops : m.ops())[layers[layer]];
  const AttentionMap map = attention_map_count(op, layout.decoder, overridden, size_t(seq));
  AttentionMapLabels labels;
  labels.layer_name = op.name;
  labels.layer = size_t(layer);
  labels.layers = layers.size();
  labels.model = m.metadata().architecture;
  const std::string out = args.get("--attention-map");
  // Never over the model file itself.
  if (same_file(out, args.positional[0])) {
    std::fprintf(stderr, "heed inspect: --attention-map: %s is the model file\n", escape_text(out).c_str());
    return 2;
  }
  if (!write_whole_file(out, attention_map_svg(map, labels), &err)) {
    std::fprintf(stderr, "heed inspect: --attention-map: %s\n", err.c_str());
    return 1;
  }
  std::printf("%s: layer %s (ATTENTION %llu of %zu), %s", escape_text(out).c_str(), escape_text(op.name).c_str(),
              (unsigned long long)layer, layers.size(), map.pattern);
  if (map.window) std::printf(" %zu", map.window);
  std::printf(", %zu tokens, %zu x %zu blocks: %llu visible pairs, %llu of %llu blocks empty (skipped), "
              "keys/values %llu bytes (%zu positions%s)\n",
              map.seq, map.blocks, map.blocks, (unsigned long long)map.visible, (unsigned long long)map.empty,
              (unsigned long long)(map.blocks * map.blocks), (unsigned long long)map.kv_bytes, map.kv_positions,
              map.ring ? ", a ring" : map.cache ? "" : ", no cache");
  return 0;
}
}  // namespace

int cmd_inspect(int argc, char** argv) {
  Args args;
  std::string err;
  if (!parse_args(argc, argv, {"--isa", "--threads", "--attention-map", "--layer", "--seq", "--attention", "--window", "--global", "--global-at", "--sinks"}, {"--json"},
                  &args, &err) ||
      args.positional.size() != 1) {
    std::fprintf(stderr,
                 "usage: heed inspect model.heed [--json] [--isa ISA] [--threads N]\n"
                 "       heed inspect model.heed --attention-map out.svg [--layer L] [--seq N]"
                 "\n         [--attention SPEC] [--window N|dense] [--global K] [--global-at P:Q:..] [--sinks K]%s%s\n",
                 err.empty() ? "" : "\n", err.c_str());
    return 2;
  }
  const bool map = args.has("--attention-map");
  bool pattern_flags = false;
  for (const char* f : kAttentionFlags) pattern_flags = pattern_flags || args.has(f);
  if (!map && (args.has("--layer") || args.has("--seq") || pattern_flags)) {
    std::fprintf(stderr, "heed inspect: --layer, --seq and the attention flags go with --attention-map\n");
    return 2;
  }
  if (map && (args.has("--json") || args.get("--attention-map").empty())) {
    std::fprintf(stderr, "heed inspect: --attention-map takes an output path%s\n",
                 args.has("--json") ? " and no --json" : "");
    return 2;
  }
  SessionOptions so;
  uint64_t threads = 1;
  if (!flag_uint(args, "--threads", 1, 1, HEED_MAX_THREADS, &threads, &err)) {
    std::fprintf(stderr, "heed inspect: %s\n", err.c_str());
    return 2;
  }
  so.num_threads = int(threads);
  if (args.has("--isa")) {
    Status is = isa_parse(args.get("--isa").c_str(), &so.isa);
    if (!is.ok()) {
      std::fprintf(stderr, "heed inspect: --isa: %s\n", escape_text(is.message()).c_str());
      return 2;
    }
    so.force_isa = true;
  }
  Model m;
  Status s = m.load_file(args.positional[0].c_str());
  if (!s.ok()) {
    std::fprintf(stderr, "heed inspect: %s\n", escape_text(s.message()).c_str());
    return 1;
  }
  if (map) return attention_map(args, m, so);
  std::map<std::string, size_t> op_counts;
  for (const OpInfo& op : m.ops()) op_counts[op_kind_name(op.kind)]++;
  // Each ATTENTION layer's pattern, runs of equal ones merged: (first, last, text).
  std::vector<std::tuple<size_t, size_t, std::string>> patterns;
  size_t attn_index = 0;
  for (const OpInfo& op : m.ops()) {
    if (op.kind != OpKind::kAttention) continue;
    const std::string t = attention_pattern_text(op);
    if (!patterns.empty() && std::get<2>(patterns.back()) == t) std::get<1>(patterns.back()) = attn_index;
    else patterns.emplace_back(attn_index, attn_index, t);
    ++attn_index;
  }
  std::map<std::string, std::pair<size_t, size_t>> by_dtype;  // constants: count, bytes
  size_t n_const = 0, n_act = 0;
  for (const TensorInfo& t : m.tensors()) {
    if (t.kind == TensorKind::kConstant) {
      ++n_const;
      auto& e = by_dtype[dtype_name(t.dtype)];
      e.first++;
      e.second += t.data_bytes + t.num_scales() * sizeof(float);
    } else {
      ++n_act;
    }
  }
  const ModelMetadata& md = m.metadata();
  const bool json = args.has("--json");
  // Exact session arenas (the bytes heed_session_arena_size gives) for a few
  // lengths, with this CPU's kernels (or --isa) and --threads.
  std::vector<std::pair<size_t, size_t>> arenas;  // seq, bytes
  Isa isa = Isa::kScalar;
  for (size_t seq : {size_t(16), size_t(128), size_t(m.max_seq())}) {
    if (seq > size_t(m.max_seq()) || (!arenas.empty() && arenas.back().first == seq)) continue;
    ArenaLayout layout;
    so.max_seq = seq;
    s = session_layout(m, so, &layout);
    if (!s.ok()) {
      std::fprintf(stderr, "heed inspect: %s\n", escape_text(s.message()).c_str());
      return 1;
    }
    isa = layout.isa;
    arenas.emplace_back(seq, layout.total_bytes);
  }
  const KernelNames kernels = kernel_names(static_cast<int>(isa));
  size_t packed = 0;
  for (const TensorInfo& t : m.tensors()) packed += t.layout != WeightLayout::kRowMajor;
  if (json) {
    std::printf("{\"file_bytes\": %zu, \"schema_version\": %u, \"architecture\": ", m.file_bytes(), md.schema_version);
    print_json_string(stdout, md.architecture);
    std::printf(", \"precision\": ");
    print_json_string(stdout, md.precision);
    std::printf(", \"calibration\": ");
    print_json_string(stdout, md.calibration);
    std::printf(", \"kv_cache\": \"%s\", \"kv_cache_report\": ", md.kv_cache == 2 ? "int8" : md.kv_cache == 1 ? "f32" : "auto");
    print_json_string(stdout, md.kv_cache_report);
    std::printf(", \"converter\": ");
    print_json_string(stdout, md.converter_version);
    std::printf(", \"hidden_size\": %d, \"num_layers\": %d, \"max_seq\": %d, \"vocab_size\": %zu, \"output_size\": %zu",
                md.hidden_size, md.num_layers, m.max_seq(), m.vocab_size(), m.output_size());
    std::printf(", \"bos_id\": %d, \"eos_ids\": [", m.bos_id());
    for (size_t i = 0; i < m.eos_ids().size(); ++i) std::printf("%s%d", i ? ", " : "", m.eos_ids()[i]);
    std::printf("], \"generation_ids_from\": \"%s\"", generation_source(m));
    std::printf(", \"ops\": {");
    bool first = true;
    for (const auto& [k, v] : op_counts) {
      std::printf("%s", first ? "" : ", ");
      print_json_string(stdout, k);
      std::printf(": %zu", v);
      first = false;
    }
    std::printf("}, \"inputs\": [");
    for (size_t i = 0; i < m.graph_inputs().size(); ++i) {
      const GraphInput& in = m.graph_inputs()[i];
      std::printf("%s{\"name\": ", i ? ", " : "");
      print_json_string(stdout, m.tensors()[size_t(in.tensor)].name);
      std::printf(", \"role\": \"%s\"}", input_role_name(in.role));
    }
    std::printf("], \"num_ops\": %zu, \"tensors\": {\"constant\": %zu, \"activation\": %zu}", m.ops().size(), n_const, n_act);
    std::printf(", \"attention\": [");
    for (size_t i = 0; i < patterns.size(); ++i) {
      std::printf("%s{\"layers\": [%zu, %zu], \"pattern\": ", i ? ", " : "", std::get<0>(patterns[i]),
                  std::get<1>(patterns[i]));
      print_json_string(stdout, std::get<2>(patterns[i]));
      std::printf("}");
    }
    std::printf("]");
    std::printf(", \"bytes_by_dtype\": {");
    first = true;
    for (const auto& [k, v] : by_dtype) {
      std::printf("%s\"%s\": {\"tensors\": %zu, \"bytes\": %zu}", first ? "" : ", ", k.c_str(), v.first, v.second);
      first = false;
    }
    std::printf("}, \"labels\": [");
    for (size_t i = 0; i < md.labels.size(); ++i) {
      if (i) std::printf(", ");
      print_json_string(stdout, md.labels[i]);
    }
    std::printf("], \"source_files\": [");
    for (size_t i = 0; i < md.source_files.size(); ++i) {
      std::printf("%s{\"name\": ", i ? ", " : "");
      print_json_string(stdout, md.source_files[i].name);
      std::printf(", \"size\": %llu, \"sha256\": ", (unsigned long long)md.source_files[i].size);
      print_json_string(stdout, md.source_files[i].sha256);
      std::printf("}");
    }
    std::printf("], \"packed_weights\": %zu, \"threads\": %llu, \"arena_bytes\": {", packed,
                (unsigned long long)threads);
    for (size_t i = 0; i < arenas.size(); ++i) std::printf("%s\"%zu\": %zu", i ? ", " : "", arenas[i].first, arenas[i].second);
    std::printf("}, \"kernels\": {\"isa\": \"%s\"", kernels.isa);
    for (const auto& [family, variant] : kernels.families) {
      std::printf(", \"%s\": ", family);
      print_json_string(stdout, variant);
    }
    std::printf("}, \"quant_error\": [");
    for (size_t i = 0; i < md.quant_report.size(); ++i) {
      std::printf("%s{\"name\": ", i ? ", " : "");
      print_json_string(stdout, md.quant_report[i].name);
      std::printf(", \"rel_rms\": %.6g, \"cosine\": %.8g}", double(md.quant_report[i].rel_rms),
                  double(md.quant_report[i].cosine));
    }
    std::printf("]}\n");
    return 0;
  }
  // Every string from the file goes through escape_text: a hostile model
  // cannot add lines or send terminal control sequences.
  auto e = [](const std::string& v) { return escape_text(v); };
  std::printf("%s\n", e(args.positional[0]).c_str());
  std::printf("  architecture   %s (%d layers, hidden %d)\n", e(md.architecture).c_str(), md.num_layers, md.hidden_size);
  std::printf("  precision      %s, activations: %s\n", e(md.precision).c_str(), e(md.calibration).c_str());
  if (md.kv_cache != 0) {
    std::printf("  kv cache       %s by default: %s\n", md.kv_cache == 2 ? "int8" : "f32", e(md.kv_cache_report).c_str());
  }
  std::printf("  converter      %s, schema %u.%u\n", e(md.converter_version).c_str(), md.schema_version / 1000,
              md.schema_version % 1000);
  std::printf("  file           %zu bytes\n", m.file_bytes());
  std::printf("  max sequence   %d tokens, vocabulary %zu, output %zu\n", m.max_seq(), m.vocab_size(), m.output_size());
  if (md.task == Task::kCausalLm) {
    std::printf("  generation     bos %d, eos", m.bos_id());
    if (m.eos_ids().empty()) std::printf(" none");
    for (size_t i = 0; i < m.eos_ids().size(); ++i) std::printf("%s%d", i ? ", " : " ", m.eos_ids()[i]);
    std::printf(" (%s)\n", md.has_generation ? "the checkpoint's generation config"
                                             : "the tokenizer's: file without a generation config");
  }
  std::printf("  inputs         ");
  for (size_t i = 0; i < m.graph_inputs().size(); ++i) {
    const GraphInput& in = m.graph_inputs()[i];
    std::printf("%s%s (%s)", i ? ", " : "", e(m.tensors()[size_t(in.tensor)].name).c_str(), input_role_name(in.role));
  }
  std::printf("\n  ops            %zu:", m.ops().size());
  for (const auto& [k, v] : op_counts) std::printf(" %s x%zu", k.c_str(), v);
  std::printf("\n  tensors        %zu constant, %zu activation/input\n", n_const, n_act);
  for (const auto& [k, v] : by_dtype) std::printf("  weights %-6s %zu tensors, %zu bytes\n", k.c_str(), v.first, v.second);
  std::printf("  packed         %zu fully connected weights in the kernels' tile layout\n", packed);
  for (const auto& [first, last, text] : patterns) {
    std::printf("  attention      layer%s %zu%s: %s\n", first == last ? "" : "s", first,
                first == last ? "" : ("-" + std::to_string(last)).c_str(), text.c_str());
  }
  std::printf("  kernels        %s:", kernels.isa);
  for (const auto& [family, variant] : kernels.families) std::printf(" %s", variant);
  std::printf("\n  arena          ");
  for (size_t i = 0; i < arenas.size(); ++i) {
    std::printf("%s%zu bytes at %zu tokens", i ? ", " : "", arenas[i].second, arenas[i].first);
  }
  std::printf(" (%llu thread%s)\n", (unsigned long long)threads, threads == 1 ? "" : "s");
  if (!md.labels.empty()) {
    // Tab-separated, so labels with spaces stay apart.
    std::printf("  labels         ");
    for (size_t i = 0; i < md.labels.size(); ++i) std::printf("%s%s", i ? "\t" : "", e(md.labels[i]).c_str());
    std::printf("\n");
  }
  for (const auto& f : md.source_files) {
    std::printf("  source         %-28s %12llu  sha256 %s\n", e(f.name).c_str(), (unsigned long long)f.size,
                e(f.sha256).c_str());
  }
  if (!md.quant_report.empty()) {
    std::printf("  quantization error vs fp32:\n    %-24s %10s %10s\n", "layer", "rel. RMS", "cosine");
    for (const auto& r : md.quant_report) {
      std::printf("    %-24s %10.5f %10.6f\n", e(r.name).c_str(), double(r.rel_rms), double(r.cosine));
    }
  }
  return 0;
}

}  // namespace heed::cli
