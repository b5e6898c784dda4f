// C API: converts between opaque handles and the C++ objects, catches nothing
// because nothing below throws (allocation failure at load/create aside, which
// is caught here so no exception crosses the C boundary).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "exec/session.h"
#include "format/model.h"
#include "generate/generator.h"
#include "generate/stop-strings.h"
#include "heed/heed.h"

struct heed_model {
  heed::Model model;
};
// Generation buffers of a session, created by its first heed_generate* call.
struct GenerationState {
  heed::Generator generator;
  heed::BpeTokenizer::DecodeState decode;  // used when the model has a BPE tokenizer
  std::vector<char> text;                  // one decoder feed's bytes
  heed::StopStrings stops;                 // stop strings' matcher over the text
  std::vector<char> held;                  // its buffer (held-back text + one feed)
};
struct heed_session {
  heed::Session session;
  std::unique_ptr<GenerationState> gen;
};
struct heed_decode_stream {
  const heed::BpeTokenizer* tokenizer;
  bool skip_special;
  heed::BpeTokenizer::DecodeState state;
};

namespace {
thread_local char g_last_error[heed::Status::kMaxMessage] = "";

heed_status report(const heed::Status& s) {
  if (s.ok()) {
    g_last_error[0] = '\0';
  } else {
    std::snprintf(g_last_error, sizeof g_last_error, "%s", s.message());
  }
  return s.code();
}

heed_status invalid(const char* what) {
  return report(heed::Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s", what));
}

heed_status out_of_memory() {
  return report(heed::Status::Error(HEED_ERROR_OUT_OF_MEMORY, "out of memory"));
}

heed::Status to_cpp(const heed_session_options* o, heed::SessionOptions* s) {
  if (!o) return heed::Status::Ok();
  s->max_seq = o->max_seq;
  s->num_threads = o->num_threads;
  switch (o->kv_cache) {
    case HEED_KV_CACHE_AUTO: s->kv_cache = heed::KvCacheType::kAuto; break;
    case HEED_KV_CACHE_F32: s->kv_cache = heed::KvCacheType::kF32; break;
    case HEED_KV_CACHE_INT8: s->kv_cache = heed::KvCacheType::kInt8; break;
    default:
      return heed::Status::Error(HEED_ERROR_INVALID_ARGUMENT, "kv_cache must be a heed_kv_cache_type (0..2), not %d",
                                 o->kv_cache);
  }
  s->attention_window = o->attention_window;
  s->attention = o->attention ? o->attention : "";
  s->last_logits_only = o->last_logits_only != 0;
  if (o->isa) {
    HEED_RETURN_IF_ERROR(heed::isa_parse(o->isa, &s->isa));
    s->force_isa = true;
  }
  return heed::Status::Ok();
}

template <typename F>
heed_status load_with(heed_model** out, F&& load) {
  if (!out) return invalid("out is NULL");
  *out = nullptr;
  try {
    auto* m = new heed_model();
    heed::Status s = load(m->model);
    if (!s.ok()) {
      delete m;
      return report(s);
    }
    *out = m;
    return report(s);
  } catch (const std::bad_alloc&) {
    return out_of_memory();
  }
}
}  // namespace

extern "C" {

const char* heed_status_name(heed_status status) {
  switch (status) {
    case HEED_OK: return "HEED_OK";
    case HEED_ERROR_INVALID_ARGUMENT: return "HEED_ERROR_INVALID_ARGUMENT";
    case HEED_ERROR_IO: return "HEED_ERROR_IO";
    case HEED_ERROR_INVALID_MODEL: return "HEED_ERROR_INVALID_MODEL";
    case HEED_ERROR_UNSUPPORTED: return "HEED_ERROR_UNSUPPORTED";
    case HEED_ERROR_OUT_OF_MEMORY: return "HEED_ERROR_OUT_OF_MEMORY";
    case HEED_ERROR_BUFFER_TOO_SMALL: return "HEED_ERROR_BUFFER_TOO_SMALL";
    case HEED_ERROR_INVALID_INPUT: return "HEED_ERROR_INVALID_INPUT";
    case HEED_ERROR_INTERNAL: return "HEED_ERROR_INTERNAL";
    case HEED_ERROR_NON_FINITE: return "HEED_ERROR_NON_FINITE";
  }
  return "HEED_ERROR_UNKNOWN";
}

const char* heed_last_error(void) { return g_last_error; }

const char* heed_version(void) { return HEED_VERSION; }

heed_status heed_model_load(const char* path, heed_model** out) {
  if (!path) return invalid("path is NULL");
  return load_with(out, [&](heed::Model& m) { return m.load_file(path); });
}

heed_status heed_model_load_from_buffer(const void* data, size_t size, heed_model** out) {
  if (!data) return invalid("data is NULL");
  return load_with(out, [&](heed::Model& m) { return m.load_buffer(data, size); });
}

void heed_model_free(heed_model* model) { delete model; }

heed_status heed_model_get_info(const heed_model* model, heed_model_info* info) {
  if (!model || !info) return invalid("model and info must not be NULL");
  const heed::Model& m = model->model;
  const auto& md = m.metadata();
  info->architecture = md.architecture.c_str();
  info->precision = md.precision.c_str();
  info->task = md.task == heed::Task::kSequenceClassification ? HEED_TASK_SEQUENCE_CLASSIFICATION
                : md.task == heed::Task::kCausalLm               ? HEED_TASK_CAUSAL_LM
                                                                 : HEED_TASK_EMBEDDING;
  info->hidden_size = size_t(md.hidden_size);
  info->num_layers = size_t(md.num_layers);
  info->output_size = m.output_size();
  info->max_seq = size_t(m.max_seq());
  info->vocab_size = m.vocab_size();
  info->num_ops = m.ops().size();
  info->num_tensors = m.tensors().size();
  return report(heed::Status::Ok());
}

heed_status heed_model_generation_ids(const heed_model* model, int32_t* bos_id, const int32_t** eos_ids,
                                      size_t* num_eos_ids) {
  if (!model) return invalid("model is NULL");
  const heed::Model& m = model->model;
  if (bos_id) *bos_id = m.bos_id();
  if (eos_ids) *eos_ids = m.eos_ids().data();
  if (num_eos_ids) *num_eos_ids = m.eos_ids().size();
  return report(heed::Status::Ok());
}

const char* heed_model_label(const heed_model* model, size_t index) {
  if (!model || index >= model->model.metadata().labels.size()) return nullptr;
  return model->model.metadata().labels[index].c_str();
}

heed_status heed_model_get_label(const heed_model* model, size_t index, const char** label, size_t* length) {
  if (!model || !label || !length) return invalid("model, label and length must not be NULL");
  const auto& labels = model->model.metadata().labels;
  if (index >= labels.size()) {
    return report(heed::Status::Error(HEED_ERROR_INVALID_ARGUMENT, "label index %zu: the model has %zu labels",
                                      index, labels.size()));
  }
  *label = labels[index].data();
  *length = labels[index].size();
  return report(heed::Status::Ok());
}

heed_status heed_tokenize_with_scratch(const heed_model* model, const char* text, size_t text_len, void* scratch,
                                       size_t scratch_size, int32_t* ids, size_t capacity, size_t* count) {
  if (!model || !count) return invalid("model and count must not be NULL");
  if (!text && text_len != 0 && text_len != SIZE_MAX) return invalid("text is NULL");
  if (!ids && capacity) return invalid("ids is NULL");
  const heed::Model& m = model->model;
  if (!m.has_tokenizer()) return report(heed::Status::Error(HEED_ERROR_UNSUPPORTED, "model has no tokenizer"));
  if (!text) text = "";
  if (text_len == SIZE_MAX) text_len = std::strlen(text);
  if (m.tokenizer_kind() == heed::TokenizerKind::kWordPiece) {
    return report(m.tokenizer().encode(text, text_len, ids, capacity, count));
  }
  return report(m.bpe_tokenizer().encode(text, text_len, true, scratch, scratch_size, ids, capacity, count));
}

heed_status heed_tokenize_scratch_size(const heed_model* model, size_t text_len, size_t* bytes) {
  if (!model || !bytes) return invalid("model and bytes must not be NULL");
  *bytes = 0;
  const heed::Model& m = model->model;
  if (!m.has_tokenizer()) return report(heed::Status::Error(HEED_ERROR_UNSUPPORTED, "model has no tokenizer"));
  if (m.tokenizer_kind() == heed::TokenizerKind::kWordPiece) return report(heed::Status::Ok());
  if (text_len > heed::BpeTokenizer::kMaxTextBytes) {
    return report(heed::Status::Error(HEED_ERROR_INVALID_INPUT, "text of %zu bytes is longer than the cap %zu",
                                      text_len, heed::BpeTokenizer::kMaxTextBytes));
  }
  *bytes = heed::BpeTokenizer::scratch_bytes(text_len);
  return report(heed::Status::Ok());
}

heed_status heed_tokenize(const heed_model* model, const char* text, size_t text_len, int32_t* ids,
                          size_t capacity, size_t* count) {
  if (!model || !count) return invalid("model and count must not be NULL");
  if (!text && text_len != 0 && text_len != SIZE_MAX) return invalid("text is NULL");
  const heed::Model& m = model->model;
  if (!m.tokenizer_kind_is_bpe()) return heed_tokenize_with_scratch(model, text, text_len, nullptr, 0, ids, capacity, count);
  if (!text) text = "";
  if (text_len == SIZE_MAX) text_len = std::strlen(text);
  size_t bytes = 0;
  const heed_status st = heed_tokenize_scratch_size(model, text_len, &bytes);
  if (st != HEED_OK) return st;
  void* scratch = std::malloc(bytes);
  if (!scratch) {
    return report(heed::Status::Error(HEED_ERROR_OUT_OF_MEMORY, "out of memory for %zu bytes of tokenizer scratch", bytes));
  }
  const heed_status r = heed_tokenize_with_scratch(model, text, text_len, scratch, bytes, ids, capacity, count);
  std::free(scratch);
  return r;
}

heed_status heed_detokenize(const heed_model* model, const int32_t* ids, size_t count, int skip_special, char* text,
                            size_t capacity, size_t* text_len) {
  if (!model || !text_len) return invalid("model and text_len must not be NULL");
  if (!ids && count) return invalid("ids is NULL");
  if (!text && capacity) return invalid("text is NULL");
  const heed::Model& m = model->model;
  if (!m.tokenizer_kind_is_bpe()) {
    *text_len = 0;
    return report(heed::Status::Error(HEED_ERROR_UNSUPPORTED, "detokenize needs a BPE tokenizer"));
  }
  return report(m.bpe_tokenizer().decode(ids, count, skip_special != 0, text, capacity, text_len));
}

heed_status heed_decode_stream_create(const heed_model* model, int skip_special, heed_decode_stream** out) {
  if (!model || !out) return invalid("model and out must not be NULL");
  *out = nullptr;
  const heed::Model& m = model->model;
  if (!m.tokenizer_kind_is_bpe()) {
    return report(heed::Status::Error(HEED_ERROR_UNSUPPORTED, "a decode stream needs a BPE tokenizer"));
  }
  auto* s = new (std::nothrow) heed_decode_stream();
  if (!s) return out_of_memory();
  s->tokenizer = &m.bpe_tokenizer();
  s->skip_special = skip_special != 0;
  s->tokenizer->stream_begin(&s->state, s->skip_special);
  *out = s;
  return report(heed::Status::Ok());
}

size_t heed_decode_stream_max_bytes(const heed_decode_stream* stream) {
  return stream ? stream->tokenizer->stream_max_bytes() : 0;
}

heed_status heed_decode_stream_feed(heed_decode_stream* stream, int32_t id, char* text, size_t capacity,
                                    size_t* text_len) {
  if (!stream || !text || !text_len) return invalid("stream, text and text_len must not be NULL");
  return report(stream->tokenizer->stream_feed(&stream->state, id, text, capacity, text_len));
}

heed_status heed_decode_stream_finish(heed_decode_stream* stream, char* text, size_t capacity, size_t* text_len) {
  if (!stream || !text || !text_len) return invalid("stream, text and text_len must not be NULL");
  const heed::Status st = stream->tokenizer->stream_end(&stream->state, text, capacity, text_len);
  if (st.ok()) stream->tokenizer->stream_begin(&stream->state, stream->skip_special);
  return report(st);
}

void heed_decode_stream_free(heed_decode_stream* stream) { delete stream; }

void heed_session_options_init(heed_session_options* options) {
  if (!options) return;
  options->max_seq = 0;
  options->num_threads = 1;
  options->isa = nullptr;
  options->kv_cache = HEED_KV_CACHE_AUTO;
  options->attention_window = 0;
  options->attention = nullptr;
  options->last_logits_only = 0;
}

heed_status heed_session_arena_size(const heed_model* model, const heed_session_options* options,
                                    size_t* bytes) {
  if (!model || !bytes) return invalid("model and bytes must not be NULL");
  try {
    heed::ArenaLayout layout;
    heed::SessionOptions so;
    heed::Status s = to_cpp(options, &so);
    if (s.ok()) s = heed::session_layout(model->model, so, &layout);
    *bytes = s.ok() ? layout.total_bytes : 0;
    return report(s);
  } catch (const std::bad_alloc&) {
    return out_of_memory();
  }
}

heed_status heed_session_create(const heed_model* model, const heed_session_options* options, void* arena,
                                size_t arena_size, heed_session** out) {
  if (!model || !out) return invalid("model and out must not be NULL");
  *out = nullptr;
  try {
    heed::SessionOptions so;
    heed::Status st = to_cpp(options, &so);
    if (!st.ok()) return report(st);
    auto* s = new heed_session();
    st = s->session.init(&model->model, so, arena, arena_size);
    if (!st.ok()) {
      delete s;
      return report(st);
    }
    *out = s;
    return report(st);
  } catch (const std::bad_alloc&) {
    return out_of_memory();
  }
}

void heed_session_free(heed_session* session) { delete session; }

heed_status heed_session_run(heed_session* session, const int32_t* ids, size_t count, float* out,
                             size_t out_capacity, size_t* out_count) {
  if (!session) return invalid("session is NULL");
  return report(session->session.run(ids, count, out, out_capacity, out_count));
}

heed_status heed_session_logits(heed_session* session, const int32_t* ids, size_t count, float* logits,
                                size_t capacity, size_t* rows, size_t* vocab) {
  if (!session) return invalid("session is NULL");
  const heed::Model& m = *session->session.model();
  if (!m.output_per_token()) {
    return report(heed::Status::Error(HEED_ERROR_UNSUPPORTED, "model '%s' gives no logits per token (not a causal LM)",
                                      m.metadata().architecture.c_str()));
  }
  size_t n = 0;
  const heed_status st = report(session->session.run(ids, count, logits, capacity, &n));
  if (rows) *rows = n / m.output_size();  // count, or 1 with last_logits_only
  if (vocab) *vocab = m.output_size();
  return st;
}

heed_status heed_session_decode(heed_session* session, const int32_t* ids, size_t count, float* logits,
                                size_t capacity, size_t* rows) {
  if (!session) return invalid("session is NULL");
  const heed::Model& m = *session->session.model();
  size_t n = 0;
  const heed_status st = report(session->session.decode(ids, count, logits, capacity, &n));
  if (rows) *rows = m.output_per_token() ? n / m.output_size() : 0;
  return st;
}

heed_status heed_session_reset(heed_session* session) {
  if (!session) return invalid("session is NULL");
  session->session.reset();
  return report(heed::Status::Ok());
}

size_t heed_session_context_length(const heed_session* session) {
  return session ? session->session.context_length() : 0;
}

int heed_session_streams(const heed_session* session) { return session && session->session.streams() ? 1 : 0; }

static heed_status tokenize_and_run(heed_session* session, const char* text, size_t text_len, float* out,
                                    size_t capacity, size_t* count) {
  if (!session) return invalid("session is NULL");
  heed::Session& s = session->session;
  const heed::Model& m = *s.model();
  if (!m.has_tokenizer()) return report(heed::Status::Error(HEED_ERROR_UNSUPPORTED, "model has no tokenizer"));
  if (m.tokenizer_kind() != heed::TokenizerKind::kWordPiece) {
    return report(heed::Status::Error(HEED_ERROR_UNSUPPORTED, "text input to a model with a BPE tokenizer is not supported yet: tokenize, then heed_session_run"));
  }
  if (!text && text_len != 0 && text_len != SIZE_MAX) return invalid("text is NULL");
  if (!text) text = "";
  if (text_len == SIZE_MAX) text_len = std::strlen(text);
  // The tokenizer truncates to the model's max length; the session may have
  // been created for fewer tokens, and then the text is truncated to that.
  size_t n = 0;
  const heed::Status st = m.tokenizer().encode_truncated(text, text_len, s.token_buffer(), s.max_seq(), &n);
  if (!st.ok()) return report(st);
  return report(s.run(s.token_buffer(), n, out, capacity, count));
}

heed_status heed_embed_text(heed_session* session, const char* text, size_t text_len, float* out,
                            size_t out_capacity, size_t* out_count) {
  if (session && session->session.model()->metadata().task != heed::Task::kEmbedding) {
    return report(heed::Status::Error(HEED_ERROR_INVALID_ARGUMENT, "model is not an embedding model"));
  }
  return tokenize_and_run(session, text, text_len, out, out_capacity, out_count);
}

heed_status heed_classify_text(heed_session* session, const char* text, size_t text_len, float* logits,
                               size_t capacity, size_t* count) {
  if (session && session->session.model()->metadata().task != heed::Task::kSequenceClassification) {
    return report(heed::Status::Error(HEED_ERROR_INVALID_ARGUMENT, "model is not a classification model"));
  }
  return tokenize_and_run(session, text, text_len, logits, capacity, count);
}

void heed_generate_options_init(heed_generate_options* options) {
  if (!options) return;
  options->max_tokens = 64;
  options->temperature = 0.0f;
  options->top_k = 50;
  options->top_p = 1.0f;
  options->repetition_penalty = 1.0f;
  options->seed = 0;
  options->stop_ids = nullptr;
  options->num_stop_ids = 0;
  options->ignore_eos = 0;
  options->stop_strings = nullptr;
  options->num_stop_strings = 0;
}

namespace {
struct GenerateCall {
  GenerationState* state;
  const heed::BpeTokenizer* bpe;  // null: no text
  heed_token_callback cb;
  void* user;
  heed::Status decode_status;
  bool stop_string;  // a stop string is complete
};

bool on_token(void* user, int32_t id) {
  auto* c = static_cast<GenerateCall*>(user);
  size_t len = 0;
  const char* text = "";
  if (c->bpe) {
    c->decode_status = c->bpe->stream_feed(&c->state->decode, id, c->state->text.data(), c->state->text.size(), &len);
    if (!c->decode_status.ok()) return false;
    c->decode_status = c->state->stops.feed(c->state->text.data(), len, false, &text, &len, &c->stop_string);
    if (!c->decode_status.ok()) return false;
  }
  const bool go_on = !c->cb || c->cb(c->user, id, text, len) == 0;
  return go_on && !c->stop_string;
}
}  // namespace

heed_status heed_generate_ids(heed_session* session, const int32_t* ids, size_t count,
                              const heed_generate_options* options, heed_token_callback cb, void* user,
                              heed_generate_result* result) {
  if (!result) return invalid("result is NULL");
  *result = heed_generate_result{0, 0, HEED_STOP_MAX_TOKENS};
  if (!session) return invalid("session is NULL");
  if (!options) return invalid("options is NULL");
  if (!ids && count) return invalid("ids is NULL");
  heed::GenerateParams p;
  p.max_tokens = options->max_tokens;
  p.sampler.temperature = options->temperature;
  p.sampler.top_k = options->top_k;
  p.sampler.top_p = options->top_p;
  p.sampler.repetition_penalty = options->repetition_penalty;
  p.sampler.seed = options->seed;
  p.stop_ids = options->stop_ids;
  p.num_stop_ids = options->num_stop_ids;
  p.ignore_eos = options->ignore_eos != 0;
  if (!p.stop_ids && p.num_stop_ids) return invalid("options->stop_ids is NULL but num_stop_ids is not 0");
  heed::Status st = heed::sampler_check(p.sampler);
  if (!st.ok()) return report(st);
  st = heed::StopStrings::check(options->stop_strings, options->num_stop_strings, "options->stop_strings");
  if (!st.ok()) return report(st);
  const heed::Model& m = *session->session.model();
  if (options->num_stop_strings && !m.tokenizer_kind_is_bpe()) {
    return report(heed::Status::Error(HEED_ERROR_UNSUPPORTED,
                                      "stop strings need a model with a BPE tokenizer (generated text); this one has none"));
  }
  if (!session->gen) {
    try {
      auto g = std::make_unique<GenerationState>();
      st = g->generator.init(&session->session);
      if (!st.ok()) return report(st);
      if (m.tokenizer_kind_is_bpe()) {
        g->text.resize(m.bpe_tokenizer().stream_max_bytes());
        g->held.resize(heed::StopStrings::buffer_bytes(g->text.size()));
      }
      session->gen = std::move(g);
    } catch (const std::bad_alloc&) {
      return out_of_memory();
    }
  }
  GenerationState* g = session->gen.get();
  GenerateCall call{g, m.tokenizer_kind_is_bpe() ? &m.bpe_tokenizer() : nullptr, cb, user, heed::Status::Ok(), false};
  if (call.bpe) {
    call.bpe->stream_begin(&g->decode, false);
    g->stops.begin(options->stop_strings, options->num_stop_strings, g->held.data(), g->held.size());
  }
  heed::GenerateResult r;
  st = g->generator.generate(ids, count, p, on_token, &call, &r);
  if (st.ok() && !call.decode_status.ok()) st = call.decode_status;
  result->prompt_tokens = r.prompt_tokens;
  result->generated_tokens = r.generated_tokens;
  switch (r.stop) {
    case heed::StopReason::kMaxTokens: result->stop = HEED_STOP_MAX_TOKENS; break;
    case heed::StopReason::kEos: result->stop = HEED_STOP_EOS; break;
    case heed::StopReason::kStopId: result->stop = HEED_STOP_STOP_ID; break;
    case heed::StopReason::kContextFull: result->stop = HEED_STOP_CONTEXT_FULL; break;
    case heed::StopReason::kCallback: result->stop = HEED_STOP_CALLBACK; break;
  }
  // What the decoder and the stop strings still hold, unless a stop string
  // ended generation (then it comes after the stop string and is dropped).
  if (st.ok() && call.bpe && !call.stop_string) {
    size_t len = 0;
    const char* text = "";
    st = call.bpe->stream_end(&g->decode, g->text.data(), g->text.size(), &len);
    if (st.ok()) st = g->stops.feed(g->text.data(), len, true, &text, &len, &call.stop_string);
    if (st.ok() && len && cb) cb(user, -1, text, len);
  }
  if (call.stop_string) result->stop = HEED_STOP_STOP_STRING;
  return report(st);
}

heed_status heed_generate(heed_session* session, const char* text, size_t text_len,
                          const heed_generate_options* options, heed_token_callback cb, void* user,
                          heed_generate_result* result) {
  if (!result) return invalid("result is NULL");
  *result = heed_generate_result{0, 0, HEED_STOP_MAX_TOKENS};
  if (!session) return invalid("session is NULL");
  const heed::Model& m = *session->session.model();
  if (!m.output_per_token() || m.metadata().task != heed::Task::kCausalLm) {
    return report(heed::Status::Error(HEED_ERROR_UNSUPPORTED, "model '%s' is not a causal LM",
                                      m.metadata().architecture.c_str()));
  }
  if (!m.has_tokenizer()) return report(heed::Status::Error(HEED_ERROR_UNSUPPORTED, "model has no tokenizer"));
  if (!text && text_len != 0 && text_len != SIZE_MAX) return invalid("text is NULL");
  if (!text) text = "";
  if (text_len == SIZE_MAX) text_len = std::strlen(text);
  // The prompt's ids go to the session's token buffer (max_seq ids).
  heed::Session& s = session->session;
  size_t n = 0;
  heed::Status ts;
  if (m.tokenizer_kind() == heed::TokenizerKind::kWordPiece) {
    ts = m.tokenizer().encode(text, text_len, s.token_buffer(), s.max_seq(), &n);
  } else {
    if (text_len > heed::BpeTokenizer::kMaxTextBytes) {
      return report(heed::Status::Error(HEED_ERROR_INVALID_INPUT, "text of %zu bytes is longer than the cap %zu",
                                        text_len, heed::BpeTokenizer::kMaxTextBytes));
    }
    const size_t bytes = heed::BpeTokenizer::scratch_bytes(text_len);
    void* scratch = std::malloc(bytes);  // per call, before the first token (as heed_tokenize)
    if (!scratch) {
      return report(heed::Status::Error(HEED_ERROR_OUT_OF_MEMORY, "out of memory for %zu bytes of tokenizer scratch", bytes));
    }
    ts = m.bpe_tokenizer().encode(text, text_len, true, scratch, bytes, s.token_buffer(), s.max_seq(), &n);
    std::free(scratch);
  }
  if (ts.code() == HEED_ERROR_BUFFER_TOO_SMALL && n > s.max_seq()) {
    return report(heed::Status::Error(HEED_ERROR_INVALID_INPUT, "the prompt's %zu tokens exceed the session's max_seq %zu",
                                      n, s.max_seq()));
  }
  if (!ts.ok()) return report(ts);
  return heed_generate_ids(session, s.token_buffer(), n, options, cb, user, result);
}

size_t heed_session_arena_used(const heed_session* session) {
  return session ? session->session.arena_bytes() : 0;
}

int heed_session_num_threads(const heed_session* session) {
  return session ? session->session.num_threads() : 0;
}

const char* heed_session_isa(const heed_session* session) {
  return session ? heed::isa_name(session->session.isa()) : "";
}

}  // extern "C"
