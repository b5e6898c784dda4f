// Loading = FlatBuffers Verifier (structure) + the checks below (meaning).
// The Verifier checks offsets and table layout only; every index, enum, size
// and scale is checked here, in release builds too (no assert on file data).
#include "format/model.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "format/schema.h"

namespace heed {

namespace {

#define HEED_BAD(...) Status::Error(HEED_ERROR_INVALID_MODEL, __VA_ARGS__)

// Schema versions this runtime reads. Version = major * 1000 + minor; a newer
// major means fields this runtime would misread.
constexpr uint32_t kSchemaMajor = 1;

bool is_finite_positive_normal(float v) {
  return std::isfinite(v) && v > 0.0f && std::fpclassify(v) == FP_NORMAL;
}

std::string copy_string(const flatbuffers::String* s) {
  return s ? std::string(s->c_str(), s->size()) : std::string();
}

// Op signature table (D5): input/output arity, which inputs may be -1.
struct OpSignature {
  OpKind kind;
  int min_inputs, max_inputs, outputs;
  uint32_t optional_mask;  // bit i: input i may be -1
};
const OpSignature kSignatures[] = {
    {OpKind::kEmbedding, 5, 5, 1, (1u << 1) | (1u << 4)},  // ids, types?, word, pos, type?
    {OpKind::kLayerNorm, 3, 4, 1, 1u << 3},               // x, gamma, beta, residual?
    {OpKind::kFullyConnected, 3, 4, 1, (1u << 2) | (1u << 3)},  // x, w, bias?, smooth?
    {OpKind::kAttention, 1, 1, 1, 0},                     // qkv
    {OpKind::kGelu, 1, 1, 1, 0},
    {OpKind::kMeanPool, 1, 1, 1, 0},
    {OpKind::kL2Normalize, 1, 1, 1, 0},
    {OpKind::kClsPool, 1, 1, 1, 0},
};

const OpSignature* signature_of(OpKind k) {
  for (const auto& s : kSignatures)
    if (s.kind == k) return &s;
  return nullptr;
}

// The Tokenizer table (G1): every field checked, then copied by the
// tokenizer's init (which validates the tables themselves).
Status read_tokenizer(const fb::Tokenizer* tk, ModelTokenizer* out) {
  out->kind = TokenizerKind::kNone;
  if (!tk || tk->kind() == fb::TokenizerKind::NONE) return Status::Ok();
  const int kind = int(tk->kind());
  if (kind < 1 || kind > 3) return Status::Error(HEED_ERROR_UNSUPPORTED, "unsupported tokenizer kind %d", kind);
  if (!tk->pieces() || !tk->offsets()) return HEED_BAD("tokenizer: missing pieces or offsets");
  if (tk->special_ids() && tk->special_ids()->size() > WordPieceTokenizer::kMaxSpecialTokens) {
    return HEED_BAD("tokenizer: too many special tokens");
  }
  if (tk->kind() == fb::TokenizerKind::WORDPIECE) {
    if (tk->merges() || tk->bpe_flags() != 0 || tk->bos_id() != -1 || tk->eos_id() != -1 || tk->added_ids() ||
        tk->decode_strip() != 0) {
      return HEED_BAD("tokenizer: a WordPiece tokenizer has BPE fields (merges, bpe_flags, bos/eos, added_ids, decode_strip)");
    }
    WordPieceConfig cfg;
    cfg.clean_text = tk->clean_text();
    cfg.handle_chinese_chars = tk->handle_chinese_chars();
    cfg.strip_accents = tk->strip_accents();
    cfg.lowercase = tk->lowercase();
    cfg.max_input_chars_per_word = tk->max_input_chars_per_word();
    cfg.unk_id = tk->unk_id();
    cfg.cls_id = tk->cls_id();
    cfg.sep_id = tk->sep_id();
    cfg.max_length = tk->max_length();
    cfg.continuing_prefix = copy_string(tk->continuing_prefix());
    if (tk->special_ids()) cfg.special_ids.assign(tk->special_ids()->begin(), tk->special_ids()->end());
    Status ts = out->wordpiece.init(cfg, tk->pieces()->data(), tk->pieces()->size(), tk->offsets()->data(),
                                    tk->offsets()->size());
    if (!ts.ok()) return Status::Error(ts.code(), "tokenizer: %s", ts.message());
    out->kind = TokenizerKind::kWordPiece;
    return Status::Ok();
  }
  BpeConfig cfg;
  cfg.kind = static_cast<BpeKind>(kind);
  cfg.flags = tk->bpe_flags();
  cfg.unk_id = tk->unk_id();
  cfg.bos_id = tk->bos_id();
  cfg.eos_id = tk->eos_id();
  cfg.decode_strip = tk->decode_strip();
  if (tk->added_ids() && tk->added_ids()->size() > BpeTokenizer::kMaxAddedTokens) {
    return HEED_BAD("tokenizer: too many added tokens");
  }
  if (tk->special_ids()) cfg.special_ids.assign(tk->special_ids()->begin(), tk->special_ids()->end());
  if (tk->added_ids()) cfg.added_ids.assign(tk->added_ids()->begin(), tk->added_ids()->end());
  const uint32_t* merges = nullptr;
  size_t num_merges = 0;
  if (tk->merges()) {
    if (tk->merges()->size() % 2 != 0) {
      return HEED_BAD("tokenizer: merges has %u entries, not pairs", tk->merges()->size());
    }
    merges = tk->merges()->data();
    num_merges = tk->merges()->size() / 2;
  }
  Status ts = out->bpe.init(cfg, tk->pieces()->data(), tk->pieces()->size(), tk->offsets()->data(),
                            tk->offsets()->size(), merges, num_merges);
  if (!ts.ok()) return Status::Error(ts.code(), "tokenizer: %s", ts.message());
  out->kind = static_cast<TokenizerKind>(kind);
  return Status::Ok();
}

}  // namespace

size_t dtype_size(DType t) {
  switch (t) {
    case DType::kF32: return 4;
    case DType::kI8: return 1;
    case DType::kI32: return 4;
  }
  return 0;
}

const char* op_kind_name(OpKind k) {
  switch (k) {
    case OpKind::kEmbedding: return "EMBEDDING";
    case OpKind::kLayerNorm: return "LAYER_NORM";
    case OpKind::kFullyConnected: return "FULLY_CONNECTED";
    case OpKind::kAttention: return "ATTENTION";
    case OpKind::kGelu: return "GELU";
    case OpKind::kMeanPool: return "MEAN_POOL";
    case OpKind::kL2Normalize: return "L2_NORMALIZE";
    case OpKind::kClsPool: return "CLS_POOL";
  }
  return "UNKNOWN";
}

size_t TensorInfo::row_elements() const {
  size_t n = 1;
  for (int i = 1; i < rank; ++i) n *= size_t(dims[i]);
  return n;
}

size_t TensorInfo::elements(size_t seq) const {
  if (rank == 0) return 1;
  const size_t first = dims[0] == kSeqDim ? seq : size_t(dims[0]);
  return first * row_elements();
}

Model::~Model() {
  if (mapping_) munmap(mapping_, mapping_bytes_);
}

Status Model::load_file(const char* path) {
  if (!path) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "model path is NULL");
  // O_NONBLOCK: opening a FIFO must not wait for a writer (I1); anything but
  // a regular file is refused below.
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    return Status::Error(HEED_ERROR_IO, "cannot open '%s': %s", path, std::strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::Error(HEED_ERROR_IO, "'%s' is not a regular file (a FIFO, directory or device)", path);
  }
  const uint64_t bytes = uint64_t(st.st_size);
  if (bytes < 16) {
    ::close(fd);
    return Status::Error(HEED_ERROR_INVALID_MODEL, "'%s' is too short (%llu bytes) to be a .heed model",
                         path, (unsigned long long)bytes);
  }
  if (bytes > kMaxFileBytes) {
    ::close(fd);
    return Status::Error(HEED_ERROR_INVALID_MODEL, "'%s' is larger than the 2 GiB FlatBuffer limit", path);
  }
  void* m = mmap(nullptr, size_t(bytes), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m == MAP_FAILED) {
    return Status::Error(HEED_ERROR_IO, "cannot map '%s': %s", path, std::strerror(errno));
  }
  mapping_ = m;
  mapping_bytes_ = size_t(bytes);
  Status s = verify_and_copy(static_cast<const uint8_t*>(m), size_t(bytes));
  if (!s.ok()) {
    // Prefix the path so the caller knows which file.
    return Status::Error(s.code(), "%s: %s", path, s.message());
  }
  return s;
}

size_t ModelTokenizer::vocab_size() const {
  if (kind == TokenizerKind::kWordPiece) return wordpiece.vocab_size();
  if (is_bpe()) return bpe.vocab_size();
  return 0;
}

Status load_tokenizer_only(const uint8_t* data, size_t size, ModelTokenizer* out) {
  if (!data || !out) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "tokenizer buffer is NULL");
  if (size < 16) return HEED_BAD("buffer of %zu bytes is too short to be a .heed model", size);
  if (size > kMaxFileBytes) return HEED_BAD("buffer is larger than the 2 GiB FlatBuffer limit");
  if (!fb::ModelBufferHasIdentifier(data)) return HEED_BAD("not a heed model (file identifier is not 'HEED')");
  flatbuffers::Verifier::Options vopts;
  vopts.max_depth = 16;
  vopts.max_tables = 1u << 20;
  vopts.check_alignment = true;
  flatbuffers::Verifier verifier(data, size, vopts);
  if (!fb::VerifyModelBuffer(verifier)) {
    return HEED_BAD("corrupt model: FlatBuffers verification failed (truncated or bad offsets)");
  }
  const fb::Model* m = fb::GetModel(data);
  const uint32_t version = m->schema_version();
  if (version == 0 || version / 1000 != kSchemaMajor) {
    return Status::Error(HEED_ERROR_UNSUPPORTED, "schema version %u.%u not supported (this runtime reads %u.x)",
                         version / 1000, version % 1000, kSchemaMajor);
  }
  HEED_RETURN_IF_ERROR(read_tokenizer(m->tokenizer(), out));
  if (out->kind == TokenizerKind::kNone) return HEED_BAD("model has no tokenizer");
  return Status::Ok();
}

Status Model::load_buffer(const void* data, size_t size) {
  if (!data) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "model buffer is NULL");
  if (reinterpret_cast<uintptr_t>(data) % 64 != 0) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT,
                         "model buffer must be 64-byte aligned (weights are used in place)");
  }
  if (size < 16) return HEED_BAD("buffer of %zu bytes is too short to be a .heed model", size);
  if (size > kMaxFileBytes) return HEED_BAD("buffer is larger than the 2 GiB FlatBuffer limit");
  return verify_and_copy(static_cast<const uint8_t*>(data), size);
}

Status Model::verify_and_copy(const uint8_t* data, size_t size) {
  data_ = data;
  size_ = size;
  if (!fb::ModelBufferHasIdentifier(data)) {
    return HEED_BAD("not a heed model (file identifier is not 'HEED')");
  }
  // Tight limits (A4): the real graph nesting is < 10 deep.
  flatbuffers::Verifier::Options vopts;
  vopts.max_depth = 16;
  vopts.max_tables = 1u << 20;
  vopts.check_alignment = true;
  flatbuffers::Verifier verifier(data, size, vopts);
  if (!fb::VerifyModelBuffer(verifier)) {
    return HEED_BAD("corrupt model: FlatBuffers verification failed (truncated or bad offsets)");
  }
  const fb::Model* m = fb::GetModel(data);
  const uint32_t version = m->schema_version();
  if (version == 0 || version / 1000 != kSchemaMajor) {
    return Status::Error(HEED_ERROR_UNSUPPORTED,
                         "schema version %u.%u not supported (this runtime reads %u.x)",
                         version / 1000, version % 1000, kSchemaMajor);
  }
  metadata_.schema_version = version;

  // ---- metadata
  const fb::Metadata* md = m->metadata();
  if (!md) return HEED_BAD("model has no metadata");
  metadata_.architecture = copy_string(md->architecture());
  metadata_.converter_version = copy_string(md->converter_version());
  metadata_.precision = copy_string(md->precision());
  metadata_.calibration = copy_string(md->calibration());
  const int task = int(md->task());
  if (task < 0 || task > 1) return HEED_BAD("metadata: unknown task %d", task);
  metadata_.task = static_cast<Task>(task);
  metadata_.hidden_size = md->hidden_size();
  metadata_.num_layers = md->num_layers();
  if (md->labels()) {
    if (md->labels()->size() > kMaxLabels) return HEED_BAD("metadata: more than %zu labels", kMaxLabels);
    for (const auto* l : *md->labels()) metadata_.labels.push_back(copy_string(l));
  }
  if (md->quant_report()) {
    if (md->quant_report()->size() > kMaxOps) return HEED_BAD("metadata: quant report too long");
    for (const auto* r : *md->quant_report()) {
      if (!r) return HEED_BAD("metadata: null quant report row");
      metadata_.quant_report.push_back({copy_string(r->name()), r->rel_rms(), r->cosine()});
    }
  }
  if (md->source_files()) {
    if (md->source_files()->size() > kMaxSourceFiles) return HEED_BAD("metadata: more than %zu source files", kMaxSourceFiles);
    for (const auto* f : *md->source_files()) {
      if (!f) return HEED_BAD("metadata: null source file row");
      metadata_.source_files.push_back({copy_string(f->name()), f->size(), copy_string(f->sha256())});
    }
  }

  // ---- buffers: index 0 must be the empty sentinel.
  const auto* buffers = m->buffers();
  const size_t num_buffers = buffers ? buffers->size() : 0;

  // ---- tensors
  const fb::Graph* g = m->graph();
  if (!g || !g->tensors() || !g->ops()) return HEED_BAD("model has no graph");
  if (g->tensors()->size() > kMaxTensors) return HEED_BAD("too many tensors (%u)", g->tensors()->size());
  if (g->ops()->size() > kMaxOps) return HEED_BAD("too many ops (%u)", g->ops()->size());
  tensors_.resize(g->tensors()->size());
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const fb::Tensor* t = g->tensors()->Get(flatbuffers::uoffset_t(i));
    TensorInfo& ti = tensors_[i];
    if (!t) return HEED_BAD("tensor %zu is null", i);
    ti.name = copy_string(t->name());
    const int dt = int(t->dtype());
    if (dt < 0 || dt > 2) return HEED_BAD("tensor %zu '%s': unknown dtype %d", i, ti.name.c_str(), dt);
    ti.dtype = static_cast<DType>(dt);
    const int kind = int(t->kind());
    if (kind < 0 || kind > 2) return HEED_BAD("tensor %zu '%s': unknown kind %d", i, ti.name.c_str(), kind);
    ti.kind = static_cast<TensorKind>(kind);
    const int layout = int(t->layout());
    if (layout < 0 || layout > 2) return HEED_BAD("tensor %zu '%s': unknown weight layout %d", i, ti.name.c_str(), layout);
    ti.layout = static_cast<WeightLayout>(layout);
    const auto* shape = t->shape();
    if (!shape || shape->size() == 0 || shape->size() > kMaxRank) {
      return HEED_BAD("tensor %zu '%s': rank must be 1..%zu", i, ti.name.c_str(), kMaxRank);
    }
    ti.rank = int(shape->size());
    // Element count bounded so that even at kMaxSeq it fits in 63 bits (C1).
    uint64_t count = 1;
    for (int d = 0; d < ti.rank; ++d) {
      const int32_t v = shape->Get(flatbuffers::uoffset_t(d));
      if (v == kSeqDim && d == 0 && ti.kind != TensorKind::kConstant) {
        ti.dims[d] = v;
        count *= uint64_t(kMaxSeq);
        continue;
      }
      if (v <= 0 || v > kMaxDim) {
        return HEED_BAD("tensor %zu '%s': dimension %d is %d (must be 1..%lld%s)", i, ti.name.c_str(), d, v,
                        (long long)kMaxDim, d == 0 ? ", or -1 for the sequence" : "");
      }
      ti.dims[d] = v;
      count *= uint64_t(v);
      if (count > (uint64_t(1) << 34)) return HEED_BAD("tensor %zu '%s': too many elements", i, ti.name.c_str());
    }
    const uint32_t b = t->buffer();
    if (ti.kind == TensorKind::kConstant) {
      if (b == 0 || b >= num_buffers) {
        return HEED_BAD("tensor %zu '%s': constant needs a buffer, index %u of %zu", i, ti.name.c_str(), b, num_buffers);
      }
      const fb::Buffer* buf = buffers->Get(b);
      if (!buf || !buf->data()) return HEED_BAD("tensor %zu '%s': buffer %u is empty", i, ti.name.c_str(), b);
      uint64_t need = count * dtype_size(ti.dtype);
      if (ti.layout != WeightLayout::kRowMajor) {
        const bool i8 = ti.layout == WeightLayout::kPackedN16K4;
        if (ti.rank != 2 || ti.dtype != (i8 ? DType::kI8 : DType::kF32)) {
          return HEED_BAD("tensor %zu '%s': layout %d needs a 2-D %s tensor", i, ti.name.c_str(), layout,
                          i8 ? "int8" : "float");
        }
        const size_t n = size_t(ti.dims[0]), k = size_t(ti.dims[1]);
        need = i8 ? qs8_packed_bytes(n, k) : f32_packed_floats(n, k) * sizeof(float);
      }
      if (buf->data()->size() != need) {
        return HEED_BAD("tensor %zu '%s': buffer %u holds %u bytes, shape needs %llu", i, ti.name.c_str(), b,
                        buf->data()->size(), (unsigned long long)need);
      }
      ti.data = buf->data()->data();
      ti.data_bytes = size_t(need);
      if (ti.dtype == DType::kF32) {
        // NaN or Inf weights would poison every activation downstream (E1).
        for (size_t e = 0; e < size_t(need / 4); ++e) {
          float v;
          std::memcpy(&v, ti.data + e * 4, 4);
          if (!std::isfinite(v)) {
            return HEED_BAD("tensor %zu '%s': element %zu is %g (weights must be finite)", i, ti.name.c_str(), e,
                            double(v));
          }
        }
      }
      if (reinterpret_cast<uintptr_t>(ti.data) % 64 != 0) {
        return HEED_BAD("tensor %zu '%s': weight data is not 64-byte aligned", i, ti.name.c_str());
      }
      if (ti.dtype == DType::kI8) {
        const fb::Quantization* q = t->quant();
        if (!q || !q->scales()) return HEED_BAD("tensor %zu '%s': int8 constant without scales", i, ti.name.c_str());
        if (q->axis() != 0) return HEED_BAD("tensor %zu '%s': quantization axis %d unsupported", i, ti.name.c_str(), q->axis());
        const uint64_t cols = count / uint64_t(ti.dims[0]);
        if (q->block() < 0 || uint64_t(q->block()) > cols) {
          return HEED_BAD("tensor %zu '%s': quantization block %d outside 0..%llu", i, ti.name.c_str(), q->block(),
                          (unsigned long long)cols);
        }
        ti.quant_block = q->block() == 0 ? int32_t(cols) : q->block();
        const uint64_t want = uint64_t(ti.dims[0]) * ((cols + uint64_t(ti.quant_block) - 1) / uint64_t(ti.quant_block));
        if (q->scales()->size() != want) {
          return HEED_BAD("tensor %zu '%s': %u scales, %llu needed (%d rows, block %d)", i, ti.name.c_str(),
                          q->scales()->size(), (unsigned long long)want, ti.dims[0], ti.quant_block);
        }
        ti.scales.assign(q->scales()->begin(), q->scales()->end());
        for (size_t c = 0; c < ti.scales.size(); ++c) {
          if (!is_finite_positive_normal(ti.scales[c])) {
            return HEED_BAD("tensor %zu '%s': scale[%zu] = %g is not a positive normal float", i, ti.name.c_str(), c,
                            double(ti.scales[c]));
          }
        }
      }
    } else {
      if (b != 0) return HEED_BAD("tensor %zu '%s': only constants have buffers", i, ti.name.c_str());
      if (ti.dtype == DType::kI8) return HEED_BAD("tensor %zu '%s': int8 activations are internal", i, ti.name.c_str());
    }
  }

  // ---- ops
  ops_.resize(g->ops()->size());
  for (size_t i = 0; i < ops_.size(); ++i) {
    const fb::Op* o = g->ops()->Get(flatbuffers::uoffset_t(i));
    if (!o) return HEED_BAD("op %zu is null", i);
    OpInfo& op = ops_[i];
    op.name = copy_string(o->name());
    const unsigned kind = unsigned(o->kind());
    const OpSignature* sig = kind <= 7 ? signature_of(static_cast<OpKind>(kind)) : nullptr;
    if (!sig) return Status::Error(HEED_ERROR_UNSUPPORTED, "op %zu '%s': unsupported op kind %u", i, op.name.c_str(), kind);
    op.kind = sig->kind;
    if (o->version() != 1) {
      return Status::Error(HEED_ERROR_UNSUPPORTED, "op %zu '%s': unsupported %s version %u", i, op.name.c_str(),
                           op_kind_name(op.kind), unsigned(o->version()));
    }
    const auto* ins = o->inputs();
    const auto* outs = o->outputs();
    const int n_in = ins ? int(ins->size()) : 0;
    const int n_out = outs ? int(outs->size()) : 0;
    if (n_in < sig->min_inputs || n_in > sig->max_inputs || n_out != sig->outputs) {
      return HEED_BAD("op %zu '%s' (%s): %d inputs / %d outputs, expected %d..%d / %d", i, op.name.c_str(),
                      op_kind_name(op.kind), n_in, n_out, sig->min_inputs, sig->max_inputs, sig->outputs);
    }
    op.num_inputs = n_in;
    op.num_outputs = n_out;
    for (int k = 0; k < kMaxOpInputs; ++k) op.inputs[k] = -1;
    for (int k = 0; k < n_in; ++k) {
      const int32_t idx = ins->Get(flatbuffers::uoffset_t(k));
      if (idx == -1 && (sig->optional_mask >> k & 1u)) continue;
      if (idx < 0 || size_t(idx) >= tensors_.size()) {
        return HEED_BAD("op %zu '%s': input %d is tensor %d, out of range (%zu tensors)", i, op.name.c_str(), k, idx,
                        tensors_.size());
      }
      op.inputs[k] = idx;
    }
    for (int k = 0; k < n_out; ++k) {
      const int32_t idx = outs->Get(flatbuffers::uoffset_t(k));
      if (idx < 0 || size_t(idx) >= tensors_.size()) {
        return HEED_BAD("op %zu '%s': output %d is tensor %d, out of range", i, op.name.c_str(), k, idx);
      }
      op.outputs[k] = idx;
    }
    // Options: the union type must match the op (A5).
    const fb::OpOptions ot = o->options_type();
    switch (op.kind) {
      case OpKind::kFullyConnected: {
        const auto* fo = o->options_as_FullyConnectedOptions();
        if (!fo) return HEED_BAD("op %zu '%s': FULLY_CONNECTED needs FullyConnectedOptions", i, op.name.c_str());
        const int act = int(fo->activation());
        if (act < 0 || act > 3) return HEED_BAD("op %zu '%s': unknown activation %d", i, op.name.c_str(), act);
        op.activation = static_cast<Activation>(act);
        const int aq = int(fo->act_quant());
        if (aq < 0 || aq > 1) return HEED_BAD("op %zu '%s': unknown activation quantization %d", i, op.name.c_str(), aq);
        op.act_quant = static_cast<ActQuant>(aq);
        op.input_scale = fo->input_scale();
        op.act_block = fo->act_block();
        if (op.act_block < 0) return HEED_BAD("op %zu '%s': act_block %d is negative", i, op.name.c_str(), op.act_block);
        if (op.act_quant == ActQuant::kStaticPerTensor && !is_finite_positive_normal(op.input_scale)) {
          return HEED_BAD("op %zu '%s': static input scale %g is not a positive normal float", i, op.name.c_str(),
                          double(op.input_scale));
        }
        break;
      }
      case OpKind::kAttention: {
        const auto* ao = o->options_as_AttentionOptions();
        if (!ao) return HEED_BAD("op %zu '%s': ATTENTION needs AttentionOptions", i, op.name.c_str());
        op.num_heads = ao->num_heads();
        op.head_dim = ao->head_dim();
        if (op.num_heads <= 0 || op.head_dim <= 0 || op.num_heads > kMaxHeads || op.head_dim > kMaxHeadDim) {
          return HEED_BAD("op %zu '%s': heads %d x head_dim %d invalid", i, op.name.c_str(), op.num_heads, op.head_dim);
        }
        const int pattern = int(ao->pattern());
        if (pattern < 0 || pattern > 2) return HEED_BAD("op %zu '%s': unknown attention pattern %d", i, op.name.c_str(), pattern);
        op.causal = pattern == 1;
        op.window = -1;
        if (pattern == 2) {
          if (ao->window() <= 0 || ao->window() > kMaxSeq) {
            return HEED_BAD("op %zu '%s': window %d must be 1..%d", i, op.name.c_str(), ao->window(), kMaxSeq);
          }
          op.window = ao->window();
        }
        op.attn_scale = ao->scale();
        if (op.attn_scale == 0.0f) op.attn_scale = 1.0f / std::sqrt(float(op.head_dim));
        if (!std::isfinite(op.attn_scale) || op.attn_scale <= 0.0f) {
          return HEED_BAD("op %zu '%s': attention scale %g invalid", i, op.name.c_str(), double(op.attn_scale));
        }
        break;
      }
      case OpKind::kLayerNorm: {
        const auto* lo = o->options_as_LayerNormOptions();
        if (!lo) return HEED_BAD("op %zu '%s': LAYER_NORM needs LayerNormOptions", i, op.name.c_str());
        op.epsilon = lo->epsilon();
        if (!(op.epsilon > 0.0f) || !std::isfinite(op.epsilon)) {
          return HEED_BAD("op %zu '%s': epsilon %g must be positive", i, op.name.c_str(), double(op.epsilon));
        }
        break;
      }
      case OpKind::kEmbedding: {
        const auto* eo = o->options_as_EmbeddingOptions();
        if (!eo) return HEED_BAD("op %zu '%s': EMBEDDING needs EmbeddingOptions", i, op.name.c_str());
        op.position_offset = eo->position_offset();
        if (op.position_offset < 0 || op.position_offset > kMaxSeq) {
          return HEED_BAD("op %zu '%s': position offset %d invalid", i, op.name.c_str(), op.position_offset);
        }
        break;
      }
      case OpKind::kL2Normalize: {
        const auto* no = o->options_as_L2NormalizeOptions();
        if (!no) return HEED_BAD("op %zu '%s': L2_NORMALIZE needs L2NormalizeOptions", i, op.name.c_str());
        op.epsilon = no->epsilon();
        if (!(op.epsilon > 0.0f) || !std::isfinite(op.epsilon)) {
          return HEED_BAD("op %zu '%s': epsilon %g must be positive", i, op.name.c_str(), double(op.epsilon));
        }
        break;
      }
      default:
        if (ot != fb::OpOptions::NONE) {
          return HEED_BAD("op %zu '%s': %s takes no options", i, op.name.c_str(), op_kind_name(op.kind));
        }
        break;
    }
  }

  // ---- graph inputs / outputs
  if (!g->inputs() || !g->outputs()) return HEED_BAD("graph has no inputs or outputs");
  if (g->inputs()->size() < 1 || g->inputs()->size() > 2) return HEED_BAD("graph must have 1 or 2 inputs");
  if (g->outputs()->size() != 1) return HEED_BAD("graph must have exactly 1 output");
  for (const int32_t idx : *g->inputs()) {
    if (idx < 0 || size_t(idx) >= tensors_.size()) return HEED_BAD("graph input %d out of range", idx);
    const TensorInfo& t = tensors_[size_t(idx)];
    if (t.kind != TensorKind::kInput || t.dtype != DType::kI32 || t.rank != 1 || t.dims[0] != kSeqDim) {
      return HEED_BAD("graph input '%s' must be an INPUT int32 tensor of shape [-1]", t.name.c_str());
    }
    inputs_.push_back(idx);
  }
  for (const int32_t idx : *g->outputs()) {
    if (idx < 0 || size_t(idx) >= tensors_.size()) return HEED_BAD("graph output %d out of range", idx);
    outputs_.push_back(idx);
  }
  HEED_RETURN_IF_ERROR(check_graph());
  HEED_RETURN_IF_ERROR(prepare_weights());

  // ---- tokenizer (G1): validated and copied by read_tokenizer.
  HEED_RETURN_IF_ERROR(read_tokenizer(m->tokenizer(), &tok_));
  if (tok_.kind == TokenizerKind::kWordPiece) {
    const int32_t max_length = tok_.wordpiece.config().max_length;
    if (max_length < max_seq_) max_seq_ = max_length;
  }
  // Every id the tokenizer can emit must index the embedding table (D2).
  if (tok_.kind != TokenizerKind::kNone && tok_.vocab_size() != vocab_size_) {
    return HEED_BAD("tokenizer has %zu pieces but the word embedding table has %zu rows", tok_.vocab_size(),
                    vocab_size_);
  }
  return Status::Ok();
}

// Fully connected weights end up packed (format/weight-layout.h): row-major
// ones of older files are packed here, once. A packed tensor may only be a
// fully connected op's weights, and such weights are used by nothing else.
Status Model::prepare_weights() {
  std::vector<uint8_t> fc_weight(tensors_.size(), 0), other_use(tensors_.size(), 0);
  for (const OpInfo& op : ops_) {
    for (int k = 0; k < op.num_inputs; ++k) {
      if (op.inputs[k] < 0) continue;
      (op.kind == OpKind::kFullyConnected && k == 1 ? fc_weight : other_use)[size_t(op.inputs[k])] = 1;
    }
  }
  for (size_t t = 0; t < tensors_.size(); ++t) {
    TensorInfo& ti = tensors_[t];
    if (!fc_weight[t]) {
      if (ti.layout != WeightLayout::kRowMajor) {
        return HEED_BAD("tensor '%s': a packed layout is only for fully connected weights", ti.name.c_str());
      }
      continue;
    }
    if (other_use[t]) {
      return Status::Error(HEED_ERROR_UNSUPPORTED, "tensor '%s': fully connected weights shared with another op",
                           ti.name.c_str());
    }
    const size_t n = size_t(ti.dims[0]), k = size_t(ti.dims[1]);
    const bool i8 = ti.dtype == DType::kI8;
    if (ti.layout == WeightLayout::kRowMajor) {
      const size_t bytes = i8 ? qs8_packed_bytes(n, k) : f32_packed_floats(n, k) * sizeof(float);
      void* mem = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
      if (!mem) return Status::Error(HEED_ERROR_OUT_OF_MEMORY, "tensor '%s': cannot pack %zu bytes", ti.name.c_str(), bytes);
      ti.owned = std::shared_ptr<uint8_t>(static_cast<uint8_t*>(mem), std::free);
      if (i8) {
        qs8_pack_weights(n, k, reinterpret_cast<const int8_t*>(ti.data), reinterpret_cast<int8_t*>(mem));
      } else {
        f32_pack_weights(n, k, reinterpret_cast<const float*>(ti.data), static_cast<float*>(mem));
      }
      ti.data = ti.owned.get();
      ti.data_bytes = bytes;
      ti.layout = i8 ? WeightLayout::kPackedN16K4 : WeightLayout::kPackedN16;
    }
    if (i8) {
      const size_t nb = (k + size_t(ti.quant_block) - 1) / size_t(ti.quant_block);
      ti.panel_scales.resize(panels_of(n) * nb * kPanelN);
      qs8_panel_scales(n, nb, ti.scales.data(), ti.panel_scales.data());
    }
  }
  return Status::Ok();
}

// Topological order, producers, and per-op shape/dtype signatures (B1-B5, C3, D5).
Status Model::check_graph() {
  std::vector<uint8_t> produced(tensors_.size(), 0);
  for (int32_t idx : inputs_) produced[size_t(idx)] = 1;
  max_seq_ = kMaxSeq;
  for (size_t i = 0; i < ops_.size(); ++i) {
    OpInfo& op = ops_[i];
    for (int k = 0; k < op.num_inputs; ++k) {
      const int32_t idx = op.inputs[k];
      if (idx < 0) continue;
      const TensorInfo& t = tensors_[size_t(idx)];
      if (t.kind != TensorKind::kConstant && !produced[size_t(idx)]) {
        return HEED_BAD("op %zu '%s': input '%s' is used before it is produced (ops must be in topological order)", i,
                        op.name.c_str(), t.name.c_str());
      }
    }
    for (int k = 0; k < op.num_outputs; ++k) {
      const int32_t idx = op.outputs[k];
      const TensorInfo& t = tensors_[size_t(idx)];
      if (t.kind != TensorKind::kActivation) {
        return HEED_BAD("op %zu '%s': writes '%s', which is a constant or graph input", i, op.name.c_str(), t.name.c_str());
      }
      if (produced[size_t(idx)]) {
        return HEED_BAD("op %zu '%s': tensor '%s' is produced twice", i, op.name.c_str(), t.name.c_str());
      }
      for (int j = 0; j < op.num_inputs; ++j) {
        if (op.inputs[j] == idx) {
          return HEED_BAD("op %zu '%s': tensor '%s' is both input and output", i, op.name.c_str(), t.name.c_str());
        }
      }
      if (t.dtype != DType::kF32) return HEED_BAD("op %zu '%s': output '%s' must be float32", i, op.name.c_str(), t.name.c_str());
      produced[size_t(idx)] = 1;
    }
    HEED_RETURN_IF_ERROR(check_op_shapes(op));
  }
  const TensorInfo& out = tensors_[size_t(outputs_[0])];
  if (!produced[size_t(outputs_[0])] || out.kind != TensorKind::kActivation) {
    return HEED_BAD("graph output '%s' is never produced", out.name.c_str());
  }
  if (out.rank != 2 || out.dims[0] != 1) return HEED_BAD("graph output '%s' must have shape [1, N]", out.name.c_str());
  output_size_ = size_t(out.dims[1]);
  return Status::Ok();
}

Status Model::check_op_shapes(OpInfo& op) {
  auto T = [&](int k) -> const TensorInfo* { return op.inputs[k] < 0 ? nullptr : &tensors_[size_t(op.inputs[k])]; };
  const TensorInfo& out = tensors_[size_t(op.outputs[0])];
  const char* n = op.name.c_str();
  auto is_vec = [](const TensorInfo* t, int32_t len) {
    return t && t->kind == TensorKind::kConstant && t->dtype == DType::kF32 && t->rank == 1 && t->dims[0] == len;
  };
  auto is_act2 = [](const TensorInfo* t) { return t && t->kind != TensorKind::kConstant && t->rank == 2; };
  switch (op.kind) {
    case OpKind::kEmbedding: {
      const TensorInfo *ids = T(0), *types = T(1), *word = T(2), *pos = T(3), *type = T(4);
      if (ids->kind != TensorKind::kInput || ids->dtype != DType::kI32) return HEED_BAD("op '%s': ids must be an int32 graph input", n);
      if (types && (types->kind != TensorKind::kInput || types->dtype != DType::kI32)) {
        return HEED_BAD("op '%s': token types must be an int32 graph input", n);
      }
      if ((types == nullptr) != (type == nullptr)) return HEED_BAD("op '%s': token types and their table go together", n);
      if (word->kind != TensorKind::kConstant || word->rank != 2) return HEED_BAD("op '%s': word table must be a 2-D constant", n);
      if (word->layout != WeightLayout::kRowMajor) return HEED_BAD("op '%s': word table must be row-major", n);
      const int32_t H = word->dims[1];
      if (pos->kind != TensorKind::kConstant || pos->rank != 2 || pos->dims[1] != H || pos->dtype != DType::kF32) {
        return HEED_BAD("op '%s': position table must be a float [P, %d] constant", n, H);
      }
      if (type && (type->kind != TensorKind::kConstant || type->rank != 2 || type->dims[1] != H || type->dtype != DType::kF32)) {
        return HEED_BAD("op '%s': token type table must be a float [T, %d] constant", n, H);
      }
      if (word->dtype == DType::kI32) return HEED_BAD("op '%s': word table must be float or int8", n);
      if (word->dtype == DType::kI8 && word->quant_block != H) return HEED_BAD("op '%s': int8 word table needs one scale per row", n);
      if (out.rank != 2 || out.dims[0] != kSeqDim || out.dims[1] != H) return HEED_BAD("op '%s': output must be [-1, %d]", n, H);
      const int32_t positions = pos->dims[0] - op.position_offset;
      if (positions < 2) return HEED_BAD("op '%s': position table has %d usable rows", n, positions);
      if (positions < max_seq_) max_seq_ = positions;
      vocab_size_ = size_t(word->dims[0]);
      return Status::Ok();
    }
    case OpKind::kLayerNorm: {
      const TensorInfo *x = T(0), *res = T(3);
      if (!is_act2(x)) return HEED_BAD("op '%s': input must be a 2-D activation", n);
      const int32_t H = x->dims[1];
      if (!is_vec(T(1), H) || !is_vec(T(2), H)) return HEED_BAD("op '%s': gamma and beta must be float [%d]", n, H);
      if (res && (!is_act2(res) || res->dims[0] != x->dims[0] || res->dims[1] != H)) {
        return HEED_BAD("op '%s': residual shape differs from input", n);
      }
      if (out.rank != 2 || out.dims[0] != x->dims[0] || out.dims[1] != H) return HEED_BAD("op '%s': output shape differs from input", n);
      return Status::Ok();
    }
    case OpKind::kFullyConnected: {
      const TensorInfo *x = T(0), *w = T(1), *b = T(2);
      if (!is_act2(x) || x->dtype != DType::kF32) return HEED_BAD("op '%s': input must be a float 2-D activation", n);
      if (w->kind != TensorKind::kConstant || w->rank != 2 || w->dtype == DType::kI32) {
        return HEED_BAD("op '%s': weights must be a float or int8 [N, K] constant", n);
      }
      const int32_t N = w->dims[0], K = w->dims[1];
      if (x->dims[1] != K) return HEED_BAD("op '%s': input has %d columns, weights expect %d", n, x->dims[1], K);
      if (K > kMaxGemmK) return HEED_BAD("op '%s': K = %d exceeds the int32 accumulator bound", n, K);
      if (b && !is_vec(b, N)) return HEED_BAD("op '%s': bias must be float [%d]", n, N);
      if (out.rank != 2 || out.dims[0] != x->dims[0] || out.dims[1] != N) return HEED_BAD("op '%s': output must be [rows, %d]", n, N);
      if (w->dtype == DType::kF32 && (op.act_quant == ActQuant::kStaticPerTensor || op.act_block != 0 || T(3))) {
        return HEED_BAD("op '%s': activation quantization options need int8 weights", n);
      }
      if (op.act_block > K) return HEED_BAD("op '%s': act_block %d exceeds K = %d", n, op.act_block, K);
      // The int8 kernels read K in groups of 4 that never straddle two blocks.
      if (op.act_block != 0 && op.act_block < K && op.act_block % int32_t(kGroupK) != 0) {
        return HEED_BAD("op '%s': act_block %d must be a multiple of %zu (or K)", n, op.act_block, kGroupK);
      }
      if (w->dtype == DType::kI8 && (op.act_block == 0 ? K : op.act_block) != w->quant_block) {
        return HEED_BAD("op '%s': act_block %d differs from the weights' block %d", n, op.act_block, w->quant_block);
      }
      if (const TensorInfo* sm = T(3)) {
        if (!is_vec(sm, K)) return HEED_BAD("op '%s': smooth must be float [%d]", n, K);
        const float* v = reinterpret_cast<const float*>(sm->data);
        for (int32_t k = 0; k < K; ++k) {
          if (!std::isfinite(v[k]) || !(v[k] > 0.0f) || std::fpclassify(v[k]) != FP_NORMAL) {
            return HEED_BAD("op '%s': smooth[%d] = %g is not a positive normal float", n, k, double(v[k]));
          }
        }
        op.smooth.assign(v, v + K);
      }
      if (op.act_block == 0) op.act_block = K;
      return Status::Ok();
    }
    case OpKind::kAttention: {
      const TensorInfo* x = T(0);
      const int64_t H = int64_t(op.num_heads) * op.head_dim;
      if (!is_act2(x) || x->dims[0] != kSeqDim || int64_t(x->dims[1]) != 3 * H) {
        return HEED_BAD("op '%s': input must be [-1, 3*%d*%d]", n, op.num_heads, op.head_dim);
      }
      if (out.rank != 2 || out.dims[0] != kSeqDim || int64_t(out.dims[1]) != H) return HEED_BAD("op '%s': output must be [-1, %lld]", n, (long long)H);
      return Status::Ok();
    }
    case OpKind::kGelu:
    case OpKind::kL2Normalize: {
      const TensorInfo* x = T(0);
      if (!is_act2(x)) return HEED_BAD("op '%s': input must be a 2-D activation", n);
      if (out.rank != 2 || out.dims[0] != x->dims[0] || out.dims[1] != x->dims[1]) return HEED_BAD("op '%s': output shape differs", n);
      return Status::Ok();
    }
    case OpKind::kMeanPool:
    case OpKind::kClsPool: {
      const TensorInfo* x = T(0);
      if (!is_act2(x) || x->dims[0] != kSeqDim) return HEED_BAD("op '%s': input must be [-1, H]", n);
      if (out.rank != 2 || out.dims[0] != 1 || out.dims[1] != x->dims[1]) return HEED_BAD("op '%s': output must be [1, %d]", n, x->dims[1]);
      return Status::Ok();
    }
  }
  return HEED_BAD("op '%s': unknown kind", n);
}

}  // namespace heed
