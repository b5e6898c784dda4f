// libFuzzer target: caller text (docs/SECURITY.md G2) through heed_tokenize and
// heed_embed_text on fixed valid tiny models. Every byte string is valid
// input: tokenizing must succeed with [CLS] ... [SEP], ids in range, within
// the model's max length; embedding must succeed with a finite unit vector.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz-common.h"

namespace {

struct Loaded {
  std::vector<uint8_t> bytes;
  heed::fuzz::AlignedCopy* copy = nullptr;
  heed_model* model = nullptr;
  heed_model_info info{};
  int32_t cls = -1, sep = -1;
};

constexpr int kNumModels = 3;
Loaded g_models[kNumModels];
heed_session* g_short = nullptr;  // max_seq 16 on model 0
heed_session* g_full = nullptr;   // model max on model 0

void load(Loaded* l, const heed::conv::IrGraph& g) {
  l->bytes = heed::test::serialize(g);
  HEED_FUZZ_CHECK(!l->bytes.empty());
  l->copy = new heed::fuzz::AlignedCopy(l->bytes.data(), l->bytes.size());
  HEED_FUZZ_CHECK(heed_model_load_from_buffer(l->copy->ptr, l->copy->size, &l->model) == HEED_OK);
  HEED_FUZZ_CHECK(heed_model_get_info(l->model, &l->info) == HEED_OK);
  l->cls = g.tokenizer.cls_id;
  l->sep = g.tokenizer.sep_id;
}

heed_session* make_session(heed_model* m, size_t max_seq) {
  heed_session_options o;
  heed_session_options_init(&o);
  o.max_seq = max_seq;
  heed_session* s = nullptr;
  HEED_FUZZ_CHECK(heed_session_create(m, &o, nullptr, 0, &s) == HEED_OK);
  return s;
}

size_t check_tokens(const Loaded& l, const char* text, size_t len) {
  int32_t ids[600];
  size_t count = 0;
  heed_status s = heed_tokenize(l.model, text, len, ids, 600, &count);
  HEED_FUZZ_CHECK(s == HEED_OK);
  HEED_FUZZ_CHECK(count >= 2 && count <= l.info.max_seq);
  HEED_FUZZ_CHECK(ids[0] == l.cls && ids[count - 1] == l.sep);
  for (size_t i = 0; i < count; ++i) HEED_FUZZ_CHECK(ids[i] >= 0 && size_t(ids[i]) < l.info.vocab_size);
  // Deterministic, and a too-small buffer reports the same full count.
  int32_t again[600];
  size_t count2 = 0;
  HEED_FUZZ_CHECK(heed_tokenize(l.model, text, len, again, 600, &count2) == HEED_OK);
  HEED_FUZZ_CHECK(count2 == count && std::memcmp(ids, again, count * sizeof(int32_t)) == 0);
  count2 = 0;
  HEED_FUZZ_CHECK(heed_tokenize(l.model, text, len, again, count - 1, &count2) == HEED_ERROR_BUFFER_TOO_SMALL);
  HEED_FUZZ_CHECK(count2 == count);
  return count;
}

void check_embedding(heed_session* session, const Loaded& l, const char* text, size_t len) {
  float out[256];
  size_t n = 0;
  heed_status s = heed_embed_text(session, text, len, out, 256, &n);
  HEED_FUZZ_CHECK(s == HEED_OK);
  HEED_FUZZ_CHECK(n == l.info.output_size);
  double norm = 0;
  for (size_t i = 0; i < n; ++i) {
    HEED_FUZZ_CHECK(std::isfinite(out[i]));
    norm += double(out[i]) * out[i];
  }
  HEED_FUZZ_CHECK(std::fabs(norm - 1.0) < 1e-3);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using namespace heed;
  // Narrow (H = 16): the embedding run dominates the time per input.
  load(&g_models[0], fuzz::tiny_graph_wide_vocab(true, 16, 2, 32));
  {
    // Every normalizer step off, short words, [MASK] and [unused0] special.
    conv::IrGraph g = fuzz::tiny_graph_wide_vocab(false, 16, 2, 32);
    g.tokenizer.lowercase = false;
    g.tokenizer.strip_accents = false;
    g.tokenizer.handle_chinese_chars = false;
    g.tokenizer.clean_text = false;
    g.tokenizer.max_input_chars_per_word = 5;
    g.tokenizer.special_ids = {0, 1, 2, 3, 4, 45};
    load(&g_models[1], g);
  }
  {
    // Original 16-piece vocabulary, truncation at 8 tokens.
    conv::IrGraph g = test::tiny_graph(false, 16, 2, 32, 8);
    g.tokenizer.max_input_chars_per_word = 1;
    load(&g_models[2], g);
  }
  g_short = make_session(g_models[0].model, 16);
  g_full = make_session(g_models[0].model, 0);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Exact-length copy on the heap so ASan sees any read past the end.
  std::vector<char> text(data, data + size);
  const char* p = text.data();
  size_t count0 = 0;
  for (const Loaded& l : g_models) {
    const size_t n = check_tokens(l, p, size);
    if (&l == &g_models[0]) count0 = n;
  }
  // NUL-terminated form: the same as the text up to its first NUL.
  std::string z(p, size);
  const size_t zlen = std::strlen(z.c_str());
  int32_t a[600], b[600];
  size_t na = 0, nb = 0;
  HEED_FUZZ_CHECK(heed_tokenize(g_models[0].model, z.c_str(), SIZE_MAX, a, 600, &na) == HEED_OK);
  HEED_FUZZ_CHECK(heed_tokenize(g_models[0].model, z.c_str(), zlen, b, 600, &nb) == HEED_OK);
  HEED_FUZZ_CHECK(na == nb && std::memcmp(a, b, na * sizeof(int32_t)) == 0);

  check_embedding(g_short, g_models[0], p, size);
  // The full-length session only when the text needs more than 16 tokens
  // (a run at 64 tokens costs several times one at 16 under the sanitizers).
  if (count0 > 16) check_embedding(g_full, g_models[0], p, size);
  return 0;
}
