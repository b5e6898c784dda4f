// The conversion pipeline: read -> map (arch/) -> quantize -> calibrate and
// measure through the runtime library -> plan -> write.
#include "convert.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>

#include "arch/arch.h"
#include "exec/session.h"
#include "hf/hf-dir.h"
#include "io/file.h"
#include "io/safetensors.h"
#include "quantize.h"

namespace heed::conv {

namespace {

// Calibration sentences used when no --calib file is given: plain English of
// varied length and punctuation (inputs only; every output is measured).
const char* const kDefaultCalibration[] = {
    "The quick brown fox jumps over the lazy dog.",
    "A man is playing a guitar on the street corner while people walk by.",
    "How do I convert a trained model to run on a Raspberry Pi?",
    "Prices rose by 3.5% in the second quarter, according to the report.",
    "She said: \"I will be there at 10 o'clock, unless the train is late.\"",
    "Photosynthesis converts light energy into chemical energy stored in sugars.",
    "The committee postponed its decision until further evidence was available.",
    "Can you recommend a good book about the history of mathematics?",
    "Rain is expected tomorrow afternoon in the northern regions.",
    "The software update fixed several bugs and improved battery life.",
    "Children were playing football in the park after school.",
    "An apple a day keeps the doctor away.",
    "The museum exhibits paintings from the Renaissance and the Baroque periods.",
    "Please send me the quarterly sales figures by Friday.",
    "Quantum computers use qubits, which can represent superpositions of states.",
    "He parked the car, locked the door and walked slowly toward the house.",
};

struct Progress {
  FILE* log;
  bool tty;
};

void progress_cb(void* user, size_t done, size_t total, const char* label) {
  auto* p = static_cast<Progress*>(user);
  if (!p || !p->log) return;
  const int width = 30;
  const int filled = total ? int(done * width / total) : width;
  std::string bar(size_t(filled), '#');
  bar.resize(width, '.');
  if (p->tty) {
    std::fprintf(p->log, "\r%-20s [%s] %zu/%zu", label, bar.c_str(), done, total);
    if (done == total) std::fputc('\n', p->log);
  } else if (done == total) {
    std::fprintf(p->log, "%-20s [%s] %zu/%zu\n", label, bar.c_str(), done, total);
  }
  std::fflush(p->log);
}

struct AlignedFree {
  void operator()(void* p) const { std::free(p); }
};

// A model built from IR and loaded through the runtime, as a user would.
struct Loaded {
  std::unique_ptr<uint8_t, AlignedFree> bytes;
  Model model;
};

Status load_ir(const IrGraph& g, Loaded* out) {
  std::vector<uint8_t> buf;
  HEED_RETURN_IF_ERROR(write_model(g, nullptr, &buf));
  const size_t n = (buf.size() + 63) / 64 * 64;
  out->bytes.reset(static_cast<uint8_t*>(std::aligned_alloc(64, n)));
  if (!out->bytes) return Status::Error(HEED_ERROR_OUT_OF_MEMORY, "cannot allocate %zu bytes", n);
  std::memcpy(out->bytes.get(), buf.data(), buf.size());
  Status s = out->model.load_buffer(out->bytes.get(), buf.size());
  if (!s.ok()) return Status::Error(HEED_ERROR_INTERNAL, "converter produced an invalid model: %s", s.message());
  return Status::Ok();
}

// Per-op accumulators comparing a quantized run with the fp32 run.
struct ErrorStats {
  double diff2 = 0, ref2 = 0, dot = 0, q2 = 0;
};

struct Capture {
  enum Mode { kReference, kCompare } mode = kReference;
  // First op whose output held a NaN or infinity (-1: none yet), and where.
  long bad_op = -1;
  Mode bad_mode = kReference;
  float bad_value = 0.0f;
  std::vector<std::vector<float>> ref;   // per op: fp32 output of the current text
  std::vector<ErrorStats> stats;         // per op, over all texts
  std::vector<std::vector<float>> col_absmax;  // per op: per-column max |output| (fp32 run)
  std::vector<double> out_cos;           // per text: cosine of the model output
  double out_row_min = 1.0;              // smallest cosine of one output row (a position's logits)
  size_t output_op = 0;
};

void observe(void* user, size_t i, const OpInfo&, const float* data, size_t rows, size_t cols) {
  auto* c = static_cast<Capture*>(user);
  const size_t n = rows * cols;
  if (c->bad_op < 0) {
    for (size_t k = 0; k < n; ++k) {
      if (!std::isfinite(data[k])) {
        c->bad_op = long(i);
        c->bad_mode = c->mode;
        c->bad_value = data[k];
        break;
      }
    }
  }
  if (c->mode == Capture::kReference) {
    c->ref[i].assign(data, data + n);
    std::vector<float>& m = c->col_absmax[i];
    if (m.size() != cols) m.assign(cols, 0.0f);
    for (size_t k = 0; k < n; ++k) m[k % cols] = std::fmax(m[k % cols], std::fabs(data[k]));
    return;
  }
  ErrorStats& s = c->stats[i];
  const std::vector<float>& r = c->ref[i];
  double dot = 0, r2 = 0, q2 = 0;
  for (size_t k = 0; k < n && k < r.size(); ++k) {
    const double d = double(data[k]) - double(r[k]);
    s.diff2 += d * d;
    r2 += double(r[k]) * double(r[k]);
    dot += double(data[k]) * double(r[k]);
    q2 += double(data[k]) * double(data[k]);
  }
  s.ref2 += r2;
  s.dot += dot;
  s.q2 += q2;
  if (i == c->output_op) {
    c->out_cos.push_back(r2 > 0 && q2 > 0 ? dot / std::sqrt(r2 * q2) : 1.0);
    for (size_t row = 0; row < rows && (row + 1) * cols <= r.size(); ++row) {
      double rd = 0, rr = 0, qq = 0;
      for (size_t k = row * cols; k < (row + 1) * cols; ++k) {
        rd += double(data[k]) * double(r[k]);
        rr += double(r[k]) * double(r[k]);
        qq += double(data[k]) * double(data[k]);
      }
      if (rr > 0 && qq > 0) c->out_row_min = std::min(c->out_row_min, rd / std::sqrt(rr * qq));
    }
  }
}

// Calibration file caps: bytes read, and texts used.
constexpr uint64_t kCalibMaxBytes = uint64_t{64} << 20;
constexpr size_t kCalibMaxTexts = 4096;

Status read_lines(const std::string& path, std::vector<std::string>* out, FILE* log) {
  std::string text;
  HEED_RETURN_IF_ERROR(read_file(path, kCalibMaxBytes, &text));
  size_t start = 0, total = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    size_t stop = end;
    if (stop > start && text[stop - 1] == '\r') --stop;
    if (stop > start) {
      ++total;
      if (out->size() < kCalibMaxTexts) out->emplace_back(text, start, stop - start);
    }
    start = end + 1;
  }
  if (out->empty()) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: no calibration texts", path.c_str());
  if (total > out->size() && log) {
    std::fprintf(log, "calibration: using the first %zu of the %zu texts in %s\n", out->size(), total, path.c_str());
  }
  return Status::Ok();
}

// Runs every text through the fp32 model (and the quantized one, if given).
// One calibration input: token ids, and what to call it in messages.
struct CalibInput {
  std::vector<int32_t> ids;
  std::string what;  // the text, or "ids 1,2,3..."
};

// Calibration inputs of a model without a tokenizer (causal LMs: token ids
// are given directly): fixed pseudo-random ids over the whole vocabulary, of
// lengths 1 to 64 (the same sequences for every conversion).
std::vector<CalibInput> calibration_ids(size_t vocab, size_t max_seq, size_t count) {
  std::vector<CalibInput> out;
  uint64_t state = 0x9e3779b97f4a7c15ull;
  for (size_t t = 0; t < count; ++t) {
    CalibInput in;
    const size_t n = std::min(max_seq, size_t(1) + (t * 37) % 64);
    for (size_t i = 0; i < n; ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      in.ids.push_back(int32_t((state >> 33) % vocab));
    }
    in.what = "pseudo-random ids, " + std::to_string(n) + " tokens";
    out.push_back(std::move(in));
  }
  return out;
}

Status measure(const Loaded& ref, const Loaded* quant, const std::vector<CalibInput>& texts, Capture* cap,
               Progress* prog, const char* label, const SessionOptions& so) {
  const size_t n_ops = ref.model.ops().size();
  cap->ref.assign(n_ops, {});
  cap->stats.assign(n_ops, {});
  cap->out_cos.clear();
  cap->out_row_min = 1.0;
  if (cap->col_absmax.size() != n_ops) cap->col_absmax.assign(n_ops, {});
  for (size_t i = 0; i < n_ops; ++i)
    if (ref.model.ops()[i].outputs[0] == ref.model.outputs()[0]) cap->output_op = i;
  Session rs, qs;
  SessionOptions ro = so;  // the reference keeps exact key/value caches
  ro.kv_cache = KvCacheType::kF32;
  HEED_RETURN_IF_ERROR(rs.init(&ref.model, ro, nullptr, 0));
  if (quant) HEED_RETURN_IF_ERROR(qs.init(&quant->model, so, nullptr, 0));
  rs.set_observer(observe, cap);
  qs.set_observer(observe, cap);
  std::vector<float> out(ref.model.output_size() * (ref.model.output_per_token() ? rs.max_seq() : 1));
  cap->bad_op = -1;
  // I5: finite weights can overflow float on real text. That is a property of
  // the checkpoint: name the first layer where it happens.
  auto checked = [&](const Status& run, size_t t) {
    if (cap->bad_op < 0) return run;
    const OpInfo& op = ref.model.ops()[size_t(cap->bad_op)];
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT,
                         "layer '%s' of the %s model computes %s on calibration text %zu (\"%.40s\"): the checkpoint's "
                         "weights overflow float32",
                         op.name.c_str(), cap->bad_mode == Capture::kReference ? "fp32" : "int8",
                         std::isnan(cap->bad_value) ? "NaN" : "an infinity", t + 1, texts[t].what.c_str());
  };
  for (size_t t = 0; t < texts.size(); ++t) {
    const std::vector<int32_t>& ids = texts[t].ids;
    cap->mode = Capture::kReference;
    HEED_RETURN_IF_ERROR(checked(rs.run(ids.data(), ids.size(), out.data(), out.size(), nullptr), t));
    if (quant) {
      cap->mode = Capture::kCompare;
      HEED_RETURN_IF_ERROR(checked(qs.run(ids.data(), ids.size(), out.data(), out.size(), nullptr), t));
    }
    progress_cb(prog, t + 1, texts.size(), label);
  }
  return Status::Ok();
}

IrQuantRow row_of(const std::string& name, const ErrorStats& s) {
  IrQuantRow r;
  r.name = name;
  // measure() refuses non-finite activations, so these sums are finite; an
  // all-zero output on both sides counts as exact.
  r.rel_rms = s.ref2 > 0 ? float(std::sqrt(s.diff2 / s.ref2)) : (s.diff2 > 0 ? 1.0f : 0.0f);
  r.cosine = (s.ref2 > 0 && s.q2 > 0) ? float(s.dot / std::sqrt(s.ref2 * s.q2)) : (s.diff2 > 0 ? 0.0f : 1.0f);
  return r;
}

// Rows for the report: every GEMM and every layer output (and the model output).
std::vector<IrQuantRow> make_report(const IrGraph& g, const Capture& cap) {
  std::vector<IrQuantRow> rows;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const IrOp& op = g.ops[i];
    const bool is_output = op.outputs[0] == g.outputs[0];
    if (op.kind == OpKind::kFullyConnected || op.kind == OpKind::kLayerNorm || is_output) {
      rows.push_back(row_of(op.name, cap.stats[i]));
    }
  }
  return rows;
}

void print_report(FILE* log, const std::vector<IrQuantRow>& rows, const std::string& scheme) {
  if (!log) return;
  std::fprintf(log, "\nquantization error vs fp32 (int8 weights per channel; activations: %s):\n", scheme.c_str());
  std::fprintf(log, "  %-24s %12s %12s\n", "layer", "rel. RMS", "cosine");
  for (const auto& r : rows) std::fprintf(log, "  %-24s %12.5f %12.6f\n", r.name.c_str(), double(r.rel_rms), double(r.cosine));
}

// A decoder's default key/value cache: the final int8 model is measured with
// a float and with an int8 cache against the fp32 reference on the
// calibration inputs; int8 is kept when it lowers the smallest per-position
// cosine of the logits by at most kKvCacheCost (decisions.md #21).
constexpr double kKvCacheCost = 0.001;

Status choose_kv_cache(const Loaded& ref, const std::vector<CalibInput>& eval, const SessionOptions& so, FILE* log,
                       IrGraph* g) {
  Loaded fin;
  HEED_RETURN_IF_ERROR(load_ir(*g, &fin));
  double worst[2];
  for (int k = 0; k < 2; ++k) {
    SessionOptions s = so;
    s.kv_cache = k == 0 ? KvCacheType::kF32 : KvCacheType::kInt8;
    Capture cap;
    HEED_RETURN_IF_ERROR(measure(ref, &fin, eval, &cap, nullptr, "", s));
    worst[k] = cap.out_row_min;
  }
  const bool int8 = worst[0] - worst[1] <= kKvCacheCost;
  g->kv_cache = int8 ? 2 : 1;
  char buf[200];
  std::snprintf(buf, sizeof buf, "smallest logits cosine per position %.5f with an int8 cache, %.5f with a float one (%zu inputs)",
                worst[1], worst[0], eval.size());
  g->kv_cache_report = buf;
  if (log) std::fprintf(log, "\nkey/value cache: %s by default; %s\n", int8 ? "int8" : "float", buf);
  return Status::Ok();
}

// One candidate activation scheme for the int8 GEMMs.
struct ActScheme {
  const char* name;  // --int8-scheme
  int32_t block;     // 0 = per row
  float alpha;       // SmoothQuant strength; 0 = no smoothing
  std::string describe() const {
    std::string s = block ? "weights and activations in blocks of " + std::to_string(block)
                          : std::string("per-channel weights, per-token activations");
    if (alpha > 0) {
      char buf[48];
      std::snprintf(buf, sizeof buf, ", SmoothQuant alpha %.2g", double(alpha));
      s += buf;
    }
    return s;
  }
};

// The fp32 graph with int8 weights and the given activation scheme.
IrGraph make_int8(const IrGraph& g32, const ActScheme& a, const std::vector<int32_t>& producer,
                  const Capture& fp32_ranges) {
  IrGraph q = g32;
  for (size_t i = 0; i < q.ops.size(); ++i) {
    if (q.ops[i].kind != OpKind::kFullyConnected) continue;
    q.ops[i].act_block = a.block;
    const int32_t p = producer[size_t(q.ops[i].inputs[0])];
    // A tied LM head is not smoothed: its matrix is the word table too
    // (decisions.md 26).
    const bool tied = used_by_another_op(q, i, q.ops[i].inputs[1]);
    if (a.alpha > 0 && p >= 0 && !tied && !fp32_ranges.col_absmax[size_t(p)].empty()) {
      smooth_fully_connected(&q, i, fp32_ranges.col_absmax[size_t(p)], a.alpha);
    }
  }
  quantize_weights(&q);
  q.calibration = a.describe();
  return q;
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / double(v.size());
}

Status convert_impl(const ConvertOptions& o, ConvertResult* result) {
  if (o.precision != "int8" && o.precision != "fp32") {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "--precision must be int8 or fp32, not '%s'", o.precision.c_str());
  }
  static const char* const kSchemes[] = {"auto", "per-row", "per-row-smooth", "block64", "block32"};
  if (std::find(std::begin(kSchemes), std::end(kSchemes), o.int8_scheme) == std::end(kSchemes)) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT,
                         "--int8-scheme must be auto, per-row, per-row-smooth, block64 or block32, not '%.64s'",
                         o.int8_scheme.c_str());
  }
  if (o.precision == "fp32" && o.int8_scheme != "auto") {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "--int8-scheme applies to --precision int8 only");
  }
  Progress prog{o.log, o.log && isatty(fileno(o.log))};
  SessionOptions so;  // the measuring sessions
  if (!o.isa.empty()) {
    HEED_RETURN_IF_ERROR(isa_parse(o.isa.c_str(), &so.isa));
    so.force_isa = true;
  }
  // Inputs are read (and refused) before any long work.
  AttentionOverride attention;
  if (!o.attention.empty()) {
    Status as = parse_attention_spec(o.attention, &attention);
    if (!as.ok()) return Status::Error(as.code(), "--attention: %s", as.message());
  }
  std::vector<std::string> texts;
  if (!o.calib_file.empty()) {
    if (o.precision != "int8") {
      return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "--calib applies to --precision int8 only");
    }
    HEED_RETURN_IF_ERROR(read_lines(o.calib_file, &texts, o.log));
  } else {
    texts.assign(std::begin(kDefaultCalibration), std::end(kDefaultCalibration));
  }
  HfDir dir;
  HEED_RETURN_IF_ERROR(hf_open(o.input_dir, &dir));
  SafeTensors weights;
  HEED_RETURN_IF_ERROR(weights.open_dir(o.input_dir));
  IrGraph g;
  // Causal LMs carry their BPE tokenizer when the directory has a
  // tokenizer.json; without one they take token ids only.
  const bool decoder = dir.model_type == "llama" || dir.model_type == "mistral" || dir.model_type == "gpt2";
  if (decoder) {
    if (FILE* f = std::fopen((o.input_dir + "/tokenizer.json").c_str(), "rb")) {
      std::fclose(f);
      HEED_RETURN_IF_ERROR(hf_read_tokenizer(&dir, &g.tokenizer));
      if (g.tokenizer.kind == TokenizerKind::kWordPiece) {
        return Status::Error(HEED_ERROR_UNSUPPORTED,
                             "%s: a WordPiece tokenizer.json with a %s decoder is not supported (decoders use BPE)",
                             o.input_dir.c_str(), dir.model_type.c_str());
      }
    }
  } else {
    HEED_RETURN_IF_ERROR(hf_read_tokenizer(&dir, &g.tokenizer));
    if (g.tokenizer.kind != TokenizerKind::kWordPiece) {
      return Status::Error(HEED_ERROR_UNSUPPORTED,
                           "%s: a BPE tokenizer.json (model.type 'BPE') with a BERT checkpoint is not supported "
                           "(BERT models use WordPiece)",
                           o.input_dir.c_str());
    }
  }
  // Decoders: bos / eos for generation (read now so that the files are
  // checked as inputs and listed; kept in range after the mapping).
  HfGenerationIds gen_ids;
  if (decoder) {
    const bool llama = dir.model_type == "llama";  // transformers' LlamaConfig / GPT2Config defaults
    HEED_RETURN_IF_ERROR(hf_read_generation_ids(&dir, llama ? 1 : 50256, llama ? 2 : 50256, &gen_ids));
  }
  if (decoder && !o.calib_file.empty()) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "--calib takes texts, and %s models are converted without a tokenizer",
                         dir.model_type.c_str());
  }
  // I3: the output must not be one of the inputs (checked now, before the
  // long part, and again just before the rename).
  std::vector<std::string> inputs = dir.read;
  inputs.insert(inputs.end(), weights.files().begin(), weights.files().end());
  if (!o.calib_file.empty()) inputs.push_back(o.calib_file);
  HEED_RETURN_IF_ERROR(check_output_path(o.output_path, inputs));
  if (dir.model_type == "llama" || dir.model_type == "mistral") {
    HEED_RETURN_IF_ERROR(llama_build(dir, weights, &g, progress_cb, &prog));
  } else if (dir.model_type == "gpt2") {
    HEED_RETURN_IF_ERROR(gpt2_build(dir, weights, &g, progress_cb, &prog));
  } else {
    HEED_RETURN_IF_ERROR(bert_build(dir, weights, &g, progress_cb, &prog));
  }
  if (!attention.empty()) {
    for (IrOp& op : g.ops) {
      if (op.kind != OpKind::kAttention) continue;
      const bool causal = op.pattern == AttnPattern::kCausal || op.pattern == AttnPattern::kCausalWindow;
      Status as = apply_attention_override(attention, causal, &op);
      if (!as.ok()) return Status::Error(as.code(), "--attention: op '%s': %s", op.name.c_str(), as.message());
    }
    if (o.log) std::fprintf(o.log, "attention: %s in every layer\n", attention_spec_text(attention).c_str());
  }

  if (decoder) {
    // An id outside the vocabulary is never drawn, so transformers never stops
    // at it: it is left out (and said so) rather than written into a file the
    // runtime would refuse.
    const int64_t vocab = g.tensors[size_t(g.outputs[0])].shape[1];
    auto in_vocab = [&](int64_t id, const char* field) {
      if (id >= 0 && id < vocab) return true;
      if (o.log) {
        std::fprintf(o.log, "note: %s: %s %lld is outside the vocabulary [0, %lld): not recorded (it is never generated)\n",
                     gen_ids.source.c_str(), field, (long long)id, (long long)vocab);
      }
      return false;
    };
    g.has_generation = true;
    g.bos_id = gen_ids.bos >= 0 && in_vocab(gen_ids.bos, "bos_token_id") ? int32_t(gen_ids.bos) : -1;
    for (int64_t id : gen_ids.eos) {
      if (!in_vocab(id, "eos_token_id")) continue;
      if (std::find(g.eos_ids.begin(), g.eos_ids.end(), int32_t(id)) == g.eos_ids.end()) g.eos_ids.push_back(int32_t(id));
    }
  }
  if (decoder && g.tokenizer.kind != TokenizerKind::kNone) {
    // HF allows a vocabulary larger than the tokenizer's (padded embedding
    // rows), never a smaller one.
    for (const IrOp& op : g.ops) {
      if (op.kind == OpKind::kEmbedding && g.tokenizer.vocab.size() > size_t(g.tensors[size_t(op.inputs[2])].shape[0])) {
        return Status::Error(HEED_ERROR_INVALID_ARGUMENT,
                             "%s: tokenizer.json has %zu tokens but config.json vocab_size is %d", o.input_dir.c_str(),
                             g.tokenizer.vocab.size(), g.tensors[size_t(op.inputs[2])].shape[0]);
      }
    }
  }
  if (!decoder) {
    // Max length: sentence-transformers' max_seq_length, else the model's positions.
    int32_t positions = 0;
    for (const IrOp& op : g.ops)
      if (op.kind == OpKind::kEmbedding) positions = g.tensors[size_t(op.inputs[3])].shape[0];
    g.tokenizer.max_length = dir.st_max_seq_length > 0 ? std::min(dir.st_max_seq_length, positions) : positions;
    for (const IrOp& op : g.ops) {
      if (op.kind == OpKind::kEmbedding && size_t(g.tokenizer.vocab.size()) != size_t(g.tensors[size_t(op.inputs[2])].shape[0])) {
        return Status::Error(HEED_ERROR_INVALID_ARGUMENT,
                             "%s: tokenizer has %zu tokens but config.json vocab_size is %d", o.input_dir.c_str(),
                             g.tokenizer.vocab.size(), g.tensors[size_t(op.inputs[2])].shape[0]);
      }
    }
  }

  // Every file read, by its path inside the model directory.
  std::vector<std::string> names;
  for (const std::string& f : inputs) {
    if (f.compare(0, dir.path.size(), dir.path) != 0) continue;  // the calibration file
    size_t k = dir.path.size();
    while (k < f.size() && f[k] == '/') ++k;
    names.push_back(f.substr(k));
  }
  HEED_RETURN_IF_ERROR(hf_source_files(dir, names, &g.source_files));

  // The calibration inputs as token ids.
  std::vector<CalibInput> calib;
  auto make_calib = [&](const Model& m) -> Status {
    if (decoder) {
      // With its tokenizer: the texts one by one, in fours and all together
      // (longer contexts), cut at max_seq tokens; then the pseudo-random id
      // sequences, which reach every row of the vocabulary.
      if (m.tokenizer_kind_is_bpe()) {
        const size_t cap = size_t(m.max_seq());
        std::vector<int32_t> ids(cap);
        std::vector<uint8_t> scratch;
        auto add = [&](size_t first, size_t count) -> Status {
          std::string joined;
          for (size_t k = first; k < first + count && k < texts.size(); ++k) {
            if (!joined.empty()) joined += "\n";
            joined += texts[k];
            if (joined.size() > 32 * cap) break;  // far more bytes than tokens fit
          }
          scratch.resize(BpeTokenizer::scratch_bytes(joined.size()));
          size_t n = 0;
          const Status s = m.bpe_tokenizer().encode(joined.data(), joined.size(), true, scratch.data(),
                                                    scratch.size(), ids.data(), cap, &n);
          if (!s.ok() && s.code() != HEED_ERROR_BUFFER_TOO_SMALL) return s;
          n = std::min(n, cap);
          if (n > 0) calib.push_back({std::vector<int32_t>(ids.begin(), ids.begin() + long(n)), joined.substr(0, 80)});
          return Status::Ok();
        };
        for (size_t t = 0; t < texts.size(); ++t) HEED_RETURN_IF_ERROR(add(t, 1));
        for (size_t t = 0; t < texts.size(); t += 4) HEED_RETURN_IF_ERROR(add(t, 4));
        HEED_RETURN_IF_ERROR(add(0, texts.size()));
      }
      const std::vector<CalibInput> random = calibration_ids(m.vocab_size(), size_t(m.max_seq()), 16);
      calib.insert(calib.end(), random.begin(), random.end());
      return Status::Ok();
    }
    std::vector<int32_t> ids(size_t(m.max_seq()));
    for (const std::string& text : texts) {
      size_t n = 0;
      HEED_RETURN_IF_ERROR(m.tokenizer().encode_truncated(text.data(), text.size(), ids.data(), ids.size(), &n));
      calib.push_back({std::vector<int32_t>(ids.begin(), ids.begin() + long(n)), text});
    }
    return Status::Ok();
  };

  if (o.precision == "int8") {
    Loaded ref;
    HEED_RETURN_IF_ERROR(load_ir(g, &ref));
    HEED_RETURN_IF_ERROR(make_calib(ref.model));
    const std::vector<CalibInput>& texts = calib;
    // fp32 activation ranges (per column) for smoothing and static scales.
    Capture ranges;
    HEED_RETURN_IF_ERROR(measure(ref, nullptr, texts, &ranges, &prog, "fp32 ranges", so));
    // Comparisons of candidate models run on at most 64 texts (each costs a
    // fp32 and an int8 pass); the activation ranges above use all of them.
    const std::vector<CalibInput> eval(texts.begin(), texts.begin() + long(std::min<size_t>(texts.size(), 64)));
    std::vector<int32_t> producer(g.tensors.size(), -1);
    for (size_t i = 0; i < g.ops.size(); ++i) producer[size_t(g.ops[i].outputs[0])] = int32_t(i);

    // Candidates from cheapest to most precise; the first whose model output
    // keeps a mean cosine >= kTarget on the calibration texts wins, else the
    // most accurate. Measured numbers are printed and stored (decisions.md).
    constexpr double kTarget = 0.9998;
    const ActScheme candidates[] = {
        {"per-row", 0, 0.0f}, {"per-row-smooth", 0, 0.5f}, {"block64", 64, 0.5f}, {"block32", 32, 0.5f}};
    IrGraph best;
    Capture best_cap;
    double best_mean = -1;
    if (o.log) std::fprintf(o.log, "\nactivation schemes measured on %zu texts (model output vs fp32):\n", eval.size());
    for (const ActScheme& a : candidates) {
      if (o.int8_scheme != "auto" && o.int8_scheme != a.name) continue;
      IrGraph q = make_int8(g, a, producer, ranges);
      Loaded ql;
      HEED_RETURN_IF_ERROR(load_ir(q, &ql));
      Capture cap;
      cap.col_absmax = ranges.col_absmax;
      HEED_RETURN_IF_ERROR(measure(ref, &ql, eval, &cap, nullptr, "", so));
      const double mean = mean_of(cap.out_cos);
      const double mn = cap.out_cos.empty() ? 0 : *std::min_element(cap.out_cos.begin(), cap.out_cos.end());
      if (o.log) std::fprintf(o.log, "  %-50s mean cosine %.6f  min %.6f\n", a.describe().c_str(), mean, mn);
      if (mean > best_mean) {
        best_mean = mean;
        best = std::move(q);
        best_cap = std::move(cap);
      }
      if (mean >= kTarget && o.int8_scheme == "auto") break;
    }
    if (o.log) std::fprintf(o.log, "chosen: %s\n", best.calibration.c_str());
    std::vector<IrQuantRow> report = make_report(best, best_cap);
    if (!o.calib_file.empty()) {
      // Static per-tensor scales from the fp32 ranges of the (smoothed) GEMM
      // inputs; kept only where they measure no worse than the dynamic scheme.
      IrGraph s = best;
      for (IrOp& op : s.ops) {
        if (op.kind != OpKind::kFullyConnected) continue;
        const int32_t p = producer[size_t(op.inputs[0])];
        if (p < 0) continue;
        const std::vector<float>& cols = ranges.col_absmax[size_t(p)];
        const float* smooth = op.inputs.size() > 3 && op.inputs[3] >= 0 ? s.tensors[size_t(op.inputs[3])].f32.data() : nullptr;
        float absmax = 0;
        for (size_t k = 0; k < cols.size(); ++k) absmax = std::fmax(absmax, cols[k] * (smooth ? smooth[k] : 1.0f));
        if (!(absmax > 0)) continue;
        op.act_quant = ActQuant::kStaticPerTensor;
        op.input_scale = absmax / 127.0f;
      }
      Loaded st;
      HEED_RETURN_IF_ERROR(load_ir(s, &st));
      Capture scap;
      HEED_RETURN_IF_ERROR(measure(ref, &st, eval, &scap, &prog, "measuring static", so));
      size_t kept = 0, total = 0;
      for (size_t i = 0; i < s.ops.size(); ++i) {
        IrOp& op = s.ops[i];
        if (op.kind != OpKind::kFullyConnected || op.act_quant != ActQuant::kStaticPerTensor) continue;
        ++total;
        const IrQuantRow ds = row_of(op.name, best_cap.stats[i]);
        const IrQuantRow ss = row_of(op.name, scap.stats[i]);
        if (ss.rel_rms <= ds.rel_rms * 1.25f + 1e-4f) {
          ++kept;
        } else {
          op.act_quant = best.ops[i].act_quant;
          op.act_block = best.ops[i].act_block;
          op.input_scale = 0.0f;
        }
      }
      Loaded fin;
      HEED_RETURN_IF_ERROR(load_ir(s, &fin));
      Capture fcap;
      HEED_RETURN_IF_ERROR(measure(ref, &fin, eval, &fcap, &prog, "measuring final", so));
      report = make_report(s, fcap);
      char buf[256];
      std::snprintf(buf, sizeof buf, "static per-tensor scales (ranges from %zu texts) on %zu of %zu GEMMs; others %s",
                    texts.size(), kept, total, best.calibration.c_str());
      s.calibration = buf;
      best = std::move(s);
    }
    if (best.task == Task::kCausalLm) HEED_RETURN_IF_ERROR(choose_kv_cache(ref, eval, so, o.log, &best));
    best.quant_report = report;
    print_report(o.log, report, best.calibration);
    g = std::move(best);
  } else {
    g.calibration = "none (fp32)";
    // No calibration, but the same check: a checkpoint whose weights overflow
    // float on ordinary text is refused here, naming the layer.
    Loaded ref;
    HEED_RETURN_IF_ERROR(load_ir(g, &ref));
    HEED_RETURN_IF_ERROR(make_calib(ref.model));
    Capture cap;
    HEED_RETURN_IF_ERROR(measure(ref, nullptr, calib, &cap, nullptr, "", so));
  }
  // No memory plan is stored: the runtime plans each session for its own
  // length, kernels and threads (heed inspect prints the arena sizes).
  std::vector<uint8_t> bytes;
  HEED_RETURN_IF_ERROR(write_model(g, nullptr, &bytes));

  // A failed run never leaves a half-written model under the requested name,
  // never follows a planted symlink and never replaces an input (io/file.h).
  HEED_RETURN_IF_ERROR(write_file_atomic(o.output_path, bytes, inputs));
  if (result) {
    result->report = g.quant_report;
    result->calibration = g.calibration;
    result->file_bytes = bytes.size();
  }
  if (o.log) {
    std::fprintf(o.log, "wrote %s (%zu bytes, %s, %s)\n", o.output_path.c_str(), bytes.size(), g.precision.c_str(),
                 g.calibration.c_str());
  }
  return Status::Ok();
}

}  // namespace

Status convert(const ConvertOptions& o, ConvertResult* result) {
  // Every size read from the input is bounded before it is allocated; what
  // remains (a large but valid checkpoint on a small machine) is an error
  // code, never an abort.
  try {
    return convert_impl(o, result);
  } catch (const std::bad_alloc&) {
    return Status::Error(HEED_ERROR_OUT_OF_MEMORY, "%s: out of memory while converting", o.input_dir.c_str());
  } catch (const std::length_error&) {
    return Status::Error(HEED_ERROR_OUT_OF_MEMORY, "%s: out of memory while converting", o.input_dir.c_str());
  }
}

}  // namespace heed::conv
