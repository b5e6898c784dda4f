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
#include "ops/op.h"

namespace heed {

namespace {

#define HEED_BAD(...) Status::Error(HEED_ERROR_INVALID_MODEL, __VA_ARGS__)

// Schema versions this runtime reads. Version = major * 1000 + minor; a newer
// major means fields this runtime would misread.
constexpr uint32_t kSchemaMajor = 1;

std::string copy_string(const flatbuffers::String* s) {
  return s ? std::string(s->c_str(), s->size()) : std::string();
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

const char* input_role_name(InputRole r) {
  const int i = int(r);
  return i >= 0 && i < kInputRoleCount ? fb::EnumNamesInputRole()[i] : "UNKNOWN";
}

int32_t Model::input_tensor(InputRole role) const {
  for (const GraphInput& in : graph_inputs_)
    if (in.role == role) return in.tensor;
  return -1;
}

size_t TensorInfo::num_scales() const {
  if (dtype != DType::kI8 || kind != TensorKind::kConstant || quant_block <= 0) return 0;
  return size_t(dims[0]) * ((row_elements() + size_t(quant_block) - 1) / size_t(quant_block));
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
  metadata_.kv_cache = md->kv_cache();
  if (metadata_.kv_cache < 0 || metadata_.kv_cache > 2) return HEED_BAD("metadata: unknown kv_cache %d", md->kv_cache());
  metadata_.kv_cache_report = copy_string(md->kv_cache_report());
  const int task = int(md->task());
  if (task < 0 || task > 2) return HEED_BAD("metadata: unknown task %d", task);
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
  if (const fb::Generation* gen = md->generation()) {
    metadata_.has_generation = true;
    metadata_.bos_id = gen->bos_id();
    if (gen->eos_ids()) {
      if (gen->eos_ids()->size() > kMaxEosIds) {
        return HEED_BAD("metadata: generation.eos_ids has %u ids (at most %zu)", gen->eos_ids()->size(), kMaxEosIds);
      }
      metadata_.eos_ids.assign(gen->eos_ids()->begin(), gen->eos_ids()->end());
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
          if (!is_positive_normal(ti.scales[c])) {
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

  // ---- ops: structure here (kind, version, arity, indices, options type);
  // each op's entry decodes its options (ops/<op>.cc).
  ops_.resize(g->ops()->size());
  for (size_t i = 0; i < ops_.size(); ++i) {
    const fb::Op* o = g->ops()->Get(flatbuffers::uoffset_t(i));
    if (!o) return HEED_BAD("op %zu is null", i);
    OpInfo& op = ops_[i];
    op.name = copy_string(o->name());
    const unsigned kind = unsigned(o->kind());
    const OpEntry* entry = op_entry(static_cast<OpKind>(kind));
    if (!entry) return Status::Error(HEED_ERROR_UNSUPPORTED, "op %zu '%s': unsupported op kind %u", i, op.name.c_str(), kind);
    op.kind = entry->kind;
    op.entry = entry;
    if (o->version() < 1 || o->version() > entry->max_version) {
      return Status::Error(HEED_ERROR_UNSUPPORTED, "op %zu '%s': unsupported %s version %u", i, op.name.c_str(),
                           entry->name, unsigned(o->version()));
    }
    op.version = o->version();
    const OpSignature& sig = entry->signature;
    const auto* ins = o->inputs();
    const auto* outs = o->outputs();
    const int n_in = ins ? int(ins->size()) : 0;
    const int n_out = outs ? int(outs->size()) : 0;
    if (n_in < sig.min_inputs || n_in > sig.num_inputs || n_out != sig.num_outputs) {
      return HEED_BAD("op %zu '%s' (%s): %d inputs / %d outputs, expected %d..%d / %d", i, op.name.c_str(),
                      entry->name, n_in, n_out, sig.min_inputs, sig.num_inputs, sig.num_outputs);
    }
    op.num_inputs = n_in;
    op.num_outputs = n_out;
    for (int k = 0; k < kMaxOpInputs; ++k) op.inputs[k] = -1;
    for (int k = 0; k < n_in; ++k) {
      const int32_t idx = ins->Get(flatbuffers::uoffset_t(k));
      if (idx == -1 && (sig.inputs[k].flags & kOptional)) continue;
      if (idx < 0 || size_t(idx) >= tensors_.size()) {
        return HEED_BAD("op %zu '%s' (%s): input %d (%s) is tensor %d, out of range (%zu tensors)", i, op.name.c_str(),
                        entry->name, k, sig.inputs[k].name, idx, tensors_.size());
      }
      op.inputs[k] = idx;
    }
    for (int k = 0; k < n_out; ++k) {
      const int32_t idx = outs->Get(flatbuffers::uoffset_t(k));
      if (idx < 0 || size_t(idx) >= tensors_.size()) {
        return HEED_BAD("op %zu '%s' (%s): output %d (%s) is tensor %d, out of range", i, op.name.c_str(), entry->name,
                        k, sig.outputs[k].name, idx);
      }
      op.outputs[k] = idx;
    }
    // Options: the union type must be the op's (A5), then the op reads them.
    OpCheck check(i, op, tensors_, &max_seq_, &vocab_size_);
    const fb::OpOptions ot = o->options_type();
    if (entry->options == fb::OpOptions::NONE) {
      if (ot != fb::OpOptions::NONE) return check.fail("takes no options");
    } else {
      if (ot != entry->options || !o->options()) {
        return check.fail("needs %s", fb::EnumNameOpOptions(entry->options));
      }
      HEED_RETURN_IF_ERROR(entry->decode(*o, check));
    }
  }

  // ---- graph inputs / outputs
  if (!g->inputs() || !g->outputs()) return HEED_BAD("graph has no inputs or outputs");
  if (g->outputs()->size() != 1) return HEED_BAD("graph must have exactly 1 output");
  HEED_RETURN_IF_ERROR(read_inputs(g));
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
  return read_generation_ids();
}

// The ids generation stops at (and bos), checked against the vocabulary the
// sampler draws from: an eos id outside it could never stop anything.
Status Model::read_generation_ids() {
  const bool causal = metadata_.task == Task::kCausalLm;
  if (!causal) {
    if (metadata_.has_generation) {
      return HEED_BAD("metadata: generation (bos / eos ids) is for causal LMs, and this model's task is not");
    }
    return Status::Ok();
  }
  if (!metadata_.has_generation) {  // before schema 1.3: the tokenizer's eos and bos
    if (tok_.is_bpe()) {
      if (tok_.bpe.config().eos_id >= 0) eos_ids_.push_back(tok_.bpe.config().eos_id);
      bos_id_ = tok_.bpe.config().bos_id;
    }
    return Status::Ok();
  }
  const size_t vocab = output_size_;
  if (metadata_.bos_id < -1 || (metadata_.bos_id >= 0 && size_t(metadata_.bos_id) >= vocab)) {
    return HEED_BAD("metadata: generation.bos_id %d is outside the vocabulary [0, %zu) (-1: none)", metadata_.bos_id,
                    vocab);
  }
  for (size_t i = 0; i < metadata_.eos_ids.size(); ++i) {
    const int32_t id = metadata_.eos_ids[i];
    if (id < 0 || size_t(id) >= vocab) {
      return HEED_BAD("metadata: generation.eos_ids[%zu] = %d is outside the vocabulary [0, %zu)", i, id, vocab);
    }
  }
  eos_ids_ = metadata_.eos_ids;
  bos_id_ = metadata_.bos_id;
  return Status::Ok();
}

// GEMM weights (signature slots marked kGemmWeights: the fully connected
// op's w) end up packed (format/weight-layout.h): row-major ones of older
// files are packed here, once. A packed tensor may only be such weights, and
// such weights are used by nothing else but slots that read them as they
// are (kReadsGemmWeights: EMBEDDING's word table, for a tied LM head).
Status Model::prepare_weights() {
  std::vector<uint8_t> fc_weight(tensors_.size(), 0), other_use(tensors_.size(), 0);
  for (const OpInfo& op : ops_) {
    for (int k = 0; k < op.num_inputs; ++k) {
      if (op.inputs[k] < 0) continue;
      const uint8_t flags = op.entry->signature.inputs[k].flags;
      if (flags & kGemmWeights) fc_weight[size_t(op.inputs[k])] = 1;
      else if (!(flags & kReadsGemmWeights)) other_use[size_t(op.inputs[k])] = 1;
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
      std::vector<float>().swap(ti.scales);  // one copy: the kernels' (decisions.md 27)
    }
  }
  return Status::Ok();
}

// Graph inputs with their roles (schema 1.2). Files before 1.2 list one or
// two inputs without roles: BERT's token ids, then token type ids.
Status Model::read_inputs(const fb::Graph* g) {
  const auto* roles = g->input_roles();
  const size_t n = g->inputs()->size();
  if (!roles) {
    if (n < 1 || n > 2) return HEED_BAD("graph must have 1 or 2 inputs");
  } else if (roles->size() != n) {
    return HEED_BAD("graph lists %zu inputs but %u input roles", n, roles->size());
  } else if (n < 1 || n > size_t(kInputRoleCount)) {
    return HEED_BAD("graph must have 1..%d inputs, has %zu", kInputRoleCount, n);
  }
  bool seen[kInputRoleCount] = {};
  for (size_t k = 0; k < n; ++k) {
    const int32_t idx = g->inputs()->Get(flatbuffers::uoffset_t(k));
    if (idx < 0 || size_t(idx) >= tensors_.size()) return HEED_BAD("graph input %d out of range", idx);
    const int r = roles ? int(roles->Get(flatbuffers::uoffset_t(k))) : int(k);
    if (r < 0 || r >= kInputRoleCount) {
      return Status::Error(HEED_ERROR_UNSUPPORTED, "graph input %zu: unknown input role %d", k, r);
    }
    const InputRole role = static_cast<InputRole>(r);
    if (seen[r]) return HEED_BAD("graph input %zu: role %s listed twice", k, input_role_name(role));
    seen[r] = true;
    const TensorInfo& t = tensors_[size_t(idx)];
    // PAST_LENGTH is one number per run; every other role has one per token.
    const int32_t dim = role == InputRole::kPastLength ? 1 : kSeqDim;
    if (t.kind != TensorKind::kInput || t.dtype != DType::kI32 || t.rank != 1 || t.dims[0] != dim) {
      return HEED_BAD("graph input '%s' (%s) must be an INPUT int32 tensor of shape [%d]", t.name.c_str(),
                      input_role_name(role), dim);
    }
    for (const GraphInput& other : graph_inputs_) {
      if (other.tensor == idx) return HEED_BAD("graph input '%s' is listed twice", t.name.c_str());
    }
    inputs_.push_back(idx);
    graph_inputs_.push_back({idx, role});
  }
  if (!seen[int(InputRole::kTokenIds)]) return HEED_BAD("graph has no TOKEN_IDS input");
  // An INPUT tensor that is not listed is never filled: an op reading it is
  // refused by check_graph ("used before it is produced").
  return Status::Ok();
}

namespace {
const char* kind_names(uint8_t from, char* buf, size_t n) {
  buf[0] = 0;
  const char* parts[] = {"an activation", "a graph input", "a constant"};
  for (int b = 0; b < 3; ++b) {
    if (!(from >> b & 1u)) continue;
    if (buf[0]) std::strncat(buf, " or ", n - std::strlen(buf) - 1);
    std::strncat(buf, parts[b], n - std::strlen(buf) - 1);
  }
  return buf;
}
const char* dtype_names(uint8_t dtypes, char* buf, size_t n) {
  buf[0] = 0;
  const char* parts[] = {"float32", "int8", "int32"};
  for (int b = 0; b < 3; ++b) {
    if (!(dtypes >> b & 1u)) continue;
    if (buf[0]) std::strncat(buf, " or ", n - std::strlen(buf) - 1);
    std::strncat(buf, parts[b], n - std::strlen(buf) - 1);
  }
  return buf;
}
const char* kind_name(TensorKind k) {
  return k == TensorKind::kConstant ? "a constant" : k == TensorKind::kInput ? "a graph input" : "an activation";
}
const char* dtype_name(DType t) { return t == DType::kF32 ? "float32" : t == DType::kI8 ? "int8" : "int32"; }
uint8_t from_bit(TensorKind k) {
  return k == TensorKind::kConstant ? kFromConstant : k == TensorKind::kInput ? kFromGraphInput : kFromActivation;
}

// One tensor against its signature slot (D5).
Status check_slot(const OpCheck& c, const char* dir, int k, const OpSlot& slot, const TensorInfo& t) {
  const bool from_ok = (slot.from & from_bit(t.kind)) != 0;
  const bool dtype_ok = (slot.dtypes & (1u << unsigned(t.dtype))) != 0;
  const bool rank_ok = slot.rank == 0 || t.rank == slot.rank;
  if (from_ok && dtype_ok && rank_ok) return Status::Ok();
  char kinds[64], dtypes[48];
  return c.fail("%s %d (%s) must be %s, %s, rank %d; '%s' is %s, %s, rank %d", dir, k, slot.name,
                kind_names(slot.from, kinds, sizeof kinds), dtype_names(slot.dtypes, dtypes, sizeof dtypes),
                int(slot.rank), t.name.c_str(), kind_name(t.kind), dtype_name(t.dtype), t.rank);
}
}  // namespace

// Topological order, producers, each op's signature, then the op's own
// checks (B1-B5, C3, D5).
Status Model::check_graph() {
  max_seq_ = kMaxSeq;
  std::vector<uint8_t> produced(tensors_.size(), 0);
  for (int32_t idx : inputs_) produced[size_t(idx)] = 1;
  for (size_t i = 0; i < ops_.size(); ++i) {
    OpInfo& op = ops_[i];
    OpCheck check(i, op, tensors_, &max_seq_, &vocab_size_);
    const OpSignature& sig = op.entry->signature;
    for (int k = 0; k < op.num_inputs; ++k) {
      const int32_t idx = op.inputs[k];
      if (idx < 0) continue;
      const TensorInfo& t = tensors_[size_t(idx)];
      if (t.kind != TensorKind::kConstant && !produced[size_t(idx)]) {
        return HEED_BAD("op %zu '%s': input '%s' is used before it is produced (ops must be in topological order)", i,
                        op.name.c_str(), t.name.c_str());
      }
      HEED_RETURN_IF_ERROR(check_slot(check, "input", k, sig.inputs[k], t));
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
      HEED_RETURN_IF_ERROR(check_slot(check, "output", k, sig.outputs[k], t));
      produced[size_t(idx)] = 1;
    }
    HEED_RETURN_IF_ERROR(op.entry->validate(check));
  }
  const TensorInfo& out = tensors_[size_t(outputs_[0])];
  if (!produced[size_t(outputs_[0])] || out.kind != TensorKind::kActivation) {
    return HEED_BAD("graph output '%s' is never produced", out.name.c_str());
  }
  if (out.rank != 2 || (out.dims[0] != 1 && out.dims[0] != kSeqDim)) {
    return HEED_BAD("graph output '%s' must have shape [1, N] or [-1, N]", out.name.c_str());
  }
  output_size_ = size_t(out.dims[1]);
  output_per_token_ = out.dims[0] == kSeqDim;
  return Status::Ok();
}

}  // namespace heed
