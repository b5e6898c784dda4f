// heed C++ wrapper: RAII handles over the C API in heed.h. Header-only, no
// exceptions: fallible calls return heed::Error (code + message).
//
//   heed::Model model;
//   if (heed::Error e = heed::Model::load("model.heed", &model)) { puts(e.message.c_str()); return 1; }
//   heed::Session session;
//   if (heed::Error e = heed::Session::create(model, {}, &session)) { ... }
//   std::vector<float> v;
//   if (heed::Error e = session.embed("A man is playing a guitar.", &v)) { ... }
//
// Ownership and threading follow heed.h: a Model is immutable and shareable
// across threads and must outlive its Sessions; a Session is used by one
// thread at a time. embed()/classify() with a vector sized once (reused across
// calls) make no heap allocation; the first call sizes it.
#ifndef HEED_HEED_HPP_
#define HEED_HEED_HPP_

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "heed/heed.h"

namespace heed {
// The wrapper lives in an inline namespace: users write heed::Model, while
// its symbols can never collide with the runtime's internal C++ classes when
// libheed is linked statically.
inline namespace wrapper {

struct Error {
  heed_status code = HEED_OK;
  std::string message;
  explicit operator bool() const { return code != HEED_OK; }  // true on failure
  static Error from(heed_status s) { return s == HEED_OK ? Error{} : Error{s, heed_last_error()}; }
};

class Model {
 public:
  Model() = default;
  ~Model() { heed_model_free(model_); }
  Model(Model&& o) noexcept : model_(std::exchange(o.model_, nullptr)) {}
  Model& operator=(Model&& o) noexcept {
    if (this != &o) {
      heed_model_free(model_);
      model_ = std::exchange(o.model_, nullptr);
    }
    return *this;
  }
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  static Error load(const char* path, Model* out) {
    heed_model* m = nullptr;
    const heed_status s = heed_model_load(path, &m);
    if (s == HEED_OK) *out = Model(m);
    return Error::from(s);
  }
  // The buffer must stay valid and unchanged while the model lives (heed.h).
  static Error load_from_buffer(const void* data, size_t size, Model* out) {
    heed_model* m = nullptr;
    const heed_status s = heed_model_load_from_buffer(data, size, &m);
    if (s == HEED_OK) *out = Model(m);
    return Error::from(s);
  }

  heed_model_info info() const {
    heed_model_info i{};
    heed_model_get_info(model_, &i);
    return i;
  }
  // Label of class `index` (empty if none); may hold any bytes, NUL included.
  std::string_view label(size_t index) const {
    const char* l = nullptr;
    size_t n = 0;
    return heed_model_get_label(model_, index, &l, &n) == HEED_OK ? std::string_view(l, n) : std::string_view();
  }

  Error tokenize(std::string_view text, std::vector<int32_t>* ids) const {
    size_t n = 0;
    if (ids->size() < info().max_seq) ids->resize(info().max_seq);
    heed_status s = heed_tokenize(model_, text.data(), text.size(), ids->data(), ids->size(), &n);
    if (s == HEED_ERROR_BUFFER_TOO_SMALL && n > ids->size()) {  // BPE does not truncate
      ids->resize(n);
      s = heed_tokenize(model_, text.data(), text.size(), ids->data(), ids->size(), &n);
    }
    if (s == HEED_OK) ids->resize(n);
    return Error::from(s);
  }

  // Ids to text (BPE models; HEED_ERROR_UNSUPPORTED for WordPiece).
  Error detokenize(const std::vector<int32_t>& ids, std::string* text, bool skip_special = false) const {
    size_t n = 0;
    heed_status s = heed_detokenize(model_, ids.data(), ids.size(), skip_special, nullptr, 0, &n);
    if (s != HEED_OK && s != HEED_ERROR_BUFFER_TOO_SMALL) return Error::from(s);
    text->resize(n);
    s = heed_detokenize(model_, ids.data(), ids.size(), skip_special, &(*text)[0], text->size(), &n);
    return Error::from(s);
  }

  // Causal LMs: the bos id (-1: none) and the ids generation stops at
  // (heed_model_generation_ids).
  int32_t bos_id() const {
    int32_t bos = -1;
    heed_model_generation_ids(model_, &bos, nullptr, nullptr);
    return bos;
  }
  std::vector<int32_t> eos_ids() const {
    const int32_t* ids = nullptr;
    size_t n = 0;
    if (heed_model_generation_ids(model_, nullptr, &ids, &n) != HEED_OK) return {};
    return std::vector<int32_t>(ids, ids + n);
  }

  const heed_model* get() const { return model_; }
  explicit operator bool() const { return model_ != nullptr; }

 private:
  explicit Model(heed_model* m) : model_(m) {}
  heed_model* model_ = nullptr;
};

class Session {
 public:
  Session() = default;
  ~Session() { heed_session_free(session_); }
  Session(Session&& o) noexcept
      : session_(std::exchange(o.session_, nullptr)),
        output_size_(std::exchange(o.output_size_, 0)),
        last_only_(std::exchange(o.last_only_, false)) {}
  Session& operator=(Session&& o) noexcept {
    if (this != &o) {
      heed_session_free(session_);
      session_ = std::exchange(o.session_, nullptr);
      output_size_ = std::exchange(o.output_size_, 0);
      last_only_ = std::exchange(o.last_only_, false);
    }
    return *this;
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  struct Options {
    size_t max_seq = 0;   // 0 = model max
    int num_threads = 1;
    const char* isa = nullptr;  // nullptr = best for this CPU (heed_session_options.isa)
    // Causal LMs: logits of the last position only, one row per call
    // (heed_session_options.last_logits_only): the smallest arena.
    bool last_logits_only = false;
  };

  static Error arena_size(const Model& model, const Options& o, size_t* bytes) {
    const heed_session_options opts = to_c(o);
    return Error::from(heed_session_arena_size(model.get(), &opts, bytes));
  }
  // arena: caller memory (see heed_session_create) or nullptr.
  static Error create(const Model& model, const Options& o, Session* out, void* arena = nullptr,
                      size_t arena_bytes = 0) {
    const heed_session_options opts = to_c(o);
    heed_session* s = nullptr;
    const heed_status st = heed_session_create(model.get(), &opts, arena, arena_bytes, &s);
    if (st == HEED_OK) *out = Session(s, model.info().output_size, o.last_logits_only && model.info().task == HEED_TASK_CAUSAL_LM);
    return Error::from(st);
  }

  Error run(const std::vector<int32_t>& ids, std::vector<float>* out) {
    out->resize(output_size_);
    size_t n = 0;
    return Error::from(heed_session_run(session_, ids.data(), ids.size(), out->data(), out->size(), &n));
  }
  Error embed(std::string_view text, std::vector<float>* out) {
    out->resize(output_size_);
    size_t n = 0;
    return Error::from(heed_embed_text(session_, text.data(), text.size(), out->data(), out->size(), &n));
  }
  Error classify(std::string_view text, std::vector<float>* logits) {
    logits->resize(output_size_);
    size_t n = 0;
    return Error::from(heed_classify_text(session_, text.data(), text.size(), logits->data(), logits->size(), &n));
  }
  // Causal LMs: logits of every position (rows x vocab) for a new context
  // holding `ids` (heed_session_logits), and of `ids` appended to the
  // context (heed_session_decode; allocation-free once `logits` is large
  // enough). The same bits either way. With Options::last_logits_only, one
  // row: the last position's (logits() leaves `logits` that size).
  Error logits(const std::vector<int32_t>& ids, std::vector<float>* logits) {
    logits->resize(rows_for(ids.size()) * output_size_);
    size_t rows = 0;
    return Error::from(
        heed_session_logits(session_, ids.data(), ids.size(), logits->data(), logits->size(), &rows, nullptr));
  }
  Error decode(const int32_t* ids, size_t count, std::vector<float>* logits) {
    if (logits->size() < rows_for(count) * output_size_) logits->resize(rows_for(count) * output_size_);
    size_t rows = 0;
    return Error::from(heed_session_decode(session_, ids, count, logits->data(), logits->size(), &rows));
  }
  Error reset() { return Error::from(heed_session_reset(session_)); }
  size_t context_length() const { return heed_session_context_length(session_); }
  // Causal LMs: generates after prompt ids (heed_generate_ids, through the
  // key/value caches). on_token(id, text) is called per
  // id (id -1: text held back at the end); return false to stop. The first
  // call on a session allocates its generation buffers; on_token's own
  // allocations aside, later calls make no heap call.
  template <typename F>
  Error generate(const std::vector<int32_t>& ids, const heed_generate_options& options, F&& on_token,
                 heed_generate_result* result) {
    auto cb = [](void* user, int32_t id, const char* text, size_t len) -> int {
      return (*static_cast<std::remove_reference_t<F>*>(user))(id, std::string_view(text, len)) ? 0 : 1;
    };
    return Error::from(heed_generate_ids(session_, ids.data(), ids.size(), &options, cb, &on_token, result));
  }
  // The same with stop strings (they replace options.stop_strings): the text
  // on_token receives ends before the first one (heed_generate_options). At
  // most HEED_MAX_STOP_STRINGS, none holding a NUL byte; no heap call of its own.
  template <typename F>
  Error generate(const std::vector<int32_t>& ids, heed_generate_options options,
                 const std::vector<std::string>& stop_strings, F&& on_token, heed_generate_result* result) {
    const char* ptrs[HEED_MAX_STOP_STRINGS] = {};
    if (stop_strings.size() > HEED_MAX_STOP_STRINGS) {
      return Error{HEED_ERROR_INVALID_ARGUMENT, std::to_string(stop_strings.size()) + " stop strings, at most " +
                                                    std::to_string(HEED_MAX_STOP_STRINGS)};
    }
    for (size_t i = 0; i < stop_strings.size(); ++i) {
      if (stop_strings[i].find('\0') != std::string::npos) {
        return Error{HEED_ERROR_INVALID_ARGUMENT, "stop string " + std::to_string(i) + " holds a NUL byte"};
      }
      ptrs[i] = stop_strings[i].c_str();
    }
    options.stop_strings = ptrs;
    options.num_stop_strings = stop_strings.size();
    return generate(ids, options, std::forward<F>(on_token), result);
  }
  size_t arena_used() const { return heed_session_arena_used(session_); }
  // Threads in use: Options::num_threads capped at the CPUs available.
  int num_threads() const { return heed_session_num_threads(session_); }
  const char* isa() const { return heed_session_isa(session_); }
  heed_session* get() { return session_; }

 private:
  Session(heed_session* s, size_t output_size, bool last_only)
      : session_(s), output_size_(output_size), last_only_(last_only) {}
  size_t rows_for(size_t count) const { return last_only_ ? 1 : count; }
  static heed_session_options to_c(const Options& o) {
    heed_session_options c;
    heed_session_options_init(&c);
    c.max_seq = o.max_seq;
    c.num_threads = o.num_threads;
    c.isa = o.isa;
    c.last_logits_only = o.last_logits_only ? 1 : 0;
    return c;
  }
  heed_session* session_ = nullptr;
  size_t output_size_ = 0;
  bool last_only_ = false;
};

}  // namespace wrapper
}  // namespace heed

#endif  // HEED_HEED_HPP_
