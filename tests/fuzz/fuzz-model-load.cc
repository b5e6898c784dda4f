// libFuzzer target: any byte string as a .heed model (docs/SECURITY.md A-F).
// The loader must return HEED_OK or a listed error, the same from a buffer and
// from a file; a model that loads must survive a session and a few runs on
// short texts and caller token ids.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fuzz-common.h"
#include "tokenizer/utf8.h"

namespace {

using heed::fuzz::is_listed_error;

constexpr size_t kMaxSeq = 16;
constexpr size_t kOutCapacity = 4096;

void check_status(heed_status s) {
  HEED_FUZZ_CHECK(s == HEED_OK || is_listed_error(s));
  if (s != HEED_OK) HEED_FUZZ_CHECK(heed_last_error()[0] != '\0');
}

void exercise(heed_model* model) {
  heed_model_info info;
  HEED_FUZZ_CHECK(heed_model_get_info(model, &info) == HEED_OK);
  HEED_FUZZ_CHECK(info.architecture && info.precision);
  // Touch every string and label so ASan sees any dangling pointer.
  volatile size_t sink = std::strlen(info.architecture) + std::strlen(info.precision);
  for (size_t i = 0; i < info.output_size && i < 64; ++i) {
    const char* label = heed_model_label(model, i);
    if (label) sink = sink + std::strlen(label);
  }
  HEED_FUZZ_CHECK(heed_model_label(model, SIZE_MAX) == nullptr);
  (void)sink;

  // Tokenizer: ids in range, count bounded by the model's maximum.
  static const char kText[] = "The cat sat on the mat. Un caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 dogs!";
  int32_t ids[64];
  size_t count = 0;
  heed_status s = heed_tokenize(model, kText, sizeof kText - 1, ids, 64, &count);
  check_status(s);
  if (s == HEED_OK) {
    HEED_FUZZ_CHECK(count <= 64);
    for (size_t i = 0; i < count; ++i) HEED_FUZZ_CHECK(ids[i] >= 0 && size_t(ids[i]) < info.vocab_size);
  }
  // BPE tokenizers: the ids decode to valid UTF-8 (HEED_ERROR_UNSUPPORTED for WordPiece).
  if (s == HEED_OK) {
    static char text[1 << 16];
    size_t text_len = 0;
    const heed_status d = heed_detokenize(model, ids, count, 0, text, sizeof text, &text_len);
    check_status(d);
    if (d == HEED_OK) {
      HEED_FUZZ_CHECK(text_len <= sizeof text);
      HEED_FUZZ_CHECK(heed::utf8::valid(reinterpret_cast<const uint8_t*>(text), text_len));
    }
  }
  // Too-small caller buffer.
  size_t count2 = 0;
  check_status(heed_tokenize(model, kText, sizeof kText - 1, ids, 1, &count2));

  heed_session_options opts;
  heed_session_options_init(&opts);
  opts.max_seq = info.max_seq < kMaxSeq ? info.max_seq : kMaxSeq;
  size_t arena_bytes = 0;
  check_status(heed_session_arena_size(model, &opts, &arena_bytes));
  heed_session* session = nullptr;
  s = heed_session_create(model, &opts, nullptr, 0, &session);
  check_status(s);
  if (s != HEED_OK) {
    HEED_FUZZ_CHECK(session == nullptr);
    return;
  }
  HEED_FUZZ_CHECK(session != nullptr);
  HEED_FUZZ_CHECK(heed_session_arena_used(session) == arena_bytes);

  static float out[kOutCapacity];
  size_t n = 0;
  const bool classify = info.task == HEED_TASK_SEQUENCE_CLASSIFICATION;
  for (const char* text : {"a dog runs", "", "\xff\xfe invalid utf-8 \xc3"}) {
    s = classify ? heed_classify_text(session, text, SIZE_MAX, out, kOutCapacity, &n)
                 : heed_embed_text(session, text, SIZE_MAX, out, kOutCapacity, &n);
    check_status(s);
    if (s == HEED_OK) HEED_FUZZ_CHECK(n <= kOutCapacity);
    // The other task's entry point must refuse, not run.
    s = classify ? heed_embed_text(session, text, SIZE_MAX, out, kOutCapacity, &n)
                 : heed_classify_text(session, text, SIZE_MAX, out, kOutCapacity, &n);
    HEED_FUZZ_CHECK(s == HEED_ERROR_INVALID_ARGUMENT);
  }
  // Output buffer one float short of the model's output.
  if (info.output_size > 0 && info.output_size <= kOutCapacity) {
    const int32_t two[2] = {0, 0};
    s = heed_session_run(session, two, 2, out, info.output_size - 1, &n);
    check_status(s);
    HEED_FUZZ_CHECK(s != HEED_OK);
  }
  // Caller token ids (D2): out of range, negative, too many, zero.
  const int32_t bad[4] = {0, int32_t(info.vocab_size), -1, 1};
  check_status(heed_session_run(session, bad, 4, out, kOutCapacity, &n));
  int32_t many[kMaxSeq + 1] = {};
  check_status(heed_session_run(session, many, kMaxSeq + 1, out, kOutCapacity, &n));
  check_status(heed_session_run(session, many, 0, out, kOutCapacity, &n));
  heed_session_free(session);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  heed::fuzz::AlignedCopy buf(data, size);
  heed_model* model = nullptr;
  heed_status s = heed_model_load_from_buffer(buf.ptr, size, &model);
  check_status(s);
  {
    // The file path (mmap) must agree with the buffer path.
    static heed::fuzz::TempFile file(".heed");
    file.write(data, size);
    heed_model* from_file = nullptr;
    const heed_status fs = heed_model_load(file.path().c_str(), &from_file);
    check_status(fs);
    HEED_FUZZ_CHECK(fs == s);
    HEED_FUZZ_CHECK((fs == HEED_OK) == (from_file != nullptr));
    heed_model_free(from_file);
  }
  if (s != HEED_OK) {
    HEED_FUZZ_CHECK(model == nullptr);
    return 0;
  }
  HEED_FUZZ_CHECK(model != nullptr);
  exercise(model);
  heed_model_free(model);
  // A3: the same bytes one byte off alignment must be refused. Checked after
  // a successful load only (a failing file is refused either way).
  {
    heed::fuzz::AlignedCopy big(nullptr, size + 1);
    if (size) std::memcpy(big.ptr + 1, data, size);
    heed_model* m2 = nullptr;
    s = heed_model_load_from_buffer(big.ptr + 1, size, &m2);
    HEED_FUZZ_CHECK(s != HEED_OK && m2 == nullptr);
    check_status(s);
  }
  return 0;
}
