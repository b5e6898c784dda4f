// Zero heap use during inference, counted at every heap entry point of the
// process: malloc, calloc, realloc, free, posix_memalign, aligned_alloc,
// memalign, valloc, pvalloc (this file replaces them, forwarding to glibc's
// __libc_* functions) and every operator new and delete, aligned forms
// included (they are built on the above). pthreadpool's own allocations go
// through the same functions, so its worker threads are counted too.
//
// Own binary (heed_heap_tests): replacing malloc would fight the
// AddressSanitizer runtime, so it is not built with HEED_SANITIZE.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <malloc.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "exec/session.h"
#include "generate/sampler.h"
#include "heed/heed.h"
#include "runtime/loaded-model.h"
// The CLI's bench loop, to count it as it runs in `heed bench`.
#include "../tools/heed/bench-loop.h"

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);
}

namespace {
std::atomic<bool> g_armed{false};
std::atomic<size_t> g_calls{0};
inline void count() {
  if (g_armed.load(std::memory_order_relaxed)) g_calls.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

extern "C" {
void* malloc(size_t n) {
  count();
  return __libc_malloc(n);
}
void* calloc(size_t a, size_t b) {
  count();
  return __libc_calloc(a, b);
}
void* realloc(void* p, size_t n) {
  count();
  return __libc_realloc(p, n);
}
void free(void* p) {
  if (p) count();
  __libc_free(p);
}
void* memalign(size_t a, size_t n) {
  count();
  return __libc_memalign(a, n);
}
void* aligned_alloc(size_t a, size_t n) {
  count();
  return __libc_memalign(a, n);
}
int posix_memalign(void** out, size_t a, size_t n) {
  count();
  if (a < sizeof(void*) || (a & (a - 1)) != 0) return 22;  // EINVAL
  void* p = __libc_memalign(a, n);
  if (!p && n) return 12;  // ENOMEM
  *out = p;
  return 0;
}
void* valloc(size_t n) {
  count();
  return __libc_memalign(4096, n);
}
void* pvalloc(size_t n) {
  count();
  return __libc_memalign(4096, (n + 4095) / 4096 * 4096);
}
}

// operator new/delete (all forms) over the counted functions.
void* operator new(size_t n) {
  if (void* p = malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return operator new(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return malloc(n ? n : 1); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return malloc(n ? n : 1); }
void* operator new(size_t n, std::align_val_t a) {
  void* p = nullptr;
  if (posix_memalign(&p, size_t(a) < sizeof(void*) ? sizeof(void*) : size_t(a), n ? n : 1) != 0) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { free(p); }
void operator delete[](void* p) noexcept { free(p); }
void operator delete(void* p, size_t) noexcept { free(p); }
void operator delete[](void* p, size_t) noexcept { free(p); }
void operator delete(void* p, std::align_val_t) noexcept { free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { free(p); }

using namespace heed;

namespace {

// Heap calls made by fn (from any thread) while it runs.
template <typename F>
size_t heap_calls(F&& fn) {
  g_calls = 0;
  g_armed = true;
  fn();
  g_armed = false;
  return g_calls.load();
}

conv::IrGraph classifier_graph(bool int8) {
  // The tiny encoder with a classification head on the pooled output.
  conv::IrGraph g = test::tiny_graph(false);
  const int32_t pooled = g.outputs[0];
  const int32_t w = g.add_constant("cls.w", {3, 32}, test::rnd(3 * 32, 77));
  const int32_t b = g.add_constant("cls.b", {3}, test::rnd(3, 78));
  const int32_t logits = g.add_activation("logits", {1, 3});
  g.add_op(OpKind::kFullyConnected, "classifier", {pooled, w, b}, {logits});
  g.outputs = {logits};
  g.task = Task::kSequenceClassification;
  g.labels = {"a", "b", "c"};
  if (int8) conv::quantize_weights(&g);
  return g;
}

std::vector<Isa> isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot})
    if (isa_supported(isa)) out.push_back(isa);
  return out;
}

}  // namespace

TEST_SUITE("fast") {

TEST_CASE("heap: the counter sees every entry point, from any thread") {
  CHECK(heap_calls([] { free(malloc(8)); }) == 2);
  CHECK(heap_calls([] { free(calloc(2, 8)); }) == 2);
  CHECK(heap_calls([] { free(realloc(nullptr, 8)); }) == 2);
  CHECK(heap_calls([] {
          void* p = nullptr;
          if (posix_memalign(&p, 64, 64) == 0) free(p);
        }) == 2);
  CHECK(heap_calls([] { free(aligned_alloc(64, 64)); }) == 2);
  CHECK(heap_calls([] { delete new int(1); }) == 2);
  CHECK(heap_calls([] { delete[] new int[4]; }) == 2);
  struct alignas(128) Big {
    char c[128];
  };
  CHECK(heap_calls([] { delete new Big; }) == 2);
  CHECK(heap_calls([] { std::string s(100, 'x'); }) == 2);
  // pthreadpool: creating a pool allocates (threads, its state); its workers
  // are counted like the caller.
  CHECK(heap_calls([] {
          test::Loaded m(test::tiny_graph(true));
          heed_session_options o;
          heed_session_options_init(&o);
          o.num_threads = 2;
          heed_session* s = nullptr;
          if (heed_session_create(m.model, &o, nullptr, 0, &s) == HEED_OK) heed_session_free(s);
        }) > 0);
}

TEST_CASE("heap: embed, classify, tokenize and run make no heap call (fp32, int8; 1, 2 threads; every ISA)") {
  std::string long_text;
  for (int i = 0; i < 300; ++i) long_text += "the cat sat on the mat . ";
  for (bool int8 : {false, true}) {
    test::Loaded emb(test::tiny_graph(int8));
    test::Loaded cls(classifier_graph(int8));
    for (Isa isa : isas()) {
      for (int threads : {1, 2}) {
        CAPTURE(int8);
        CAPTURE(isa_name(isa));
        CAPTURE(threads);
        heed_session_options o;
        heed_session_options_init(&o);
        o.num_threads = threads;
        o.isa = isa_name(isa);
        heed_session *se = nullptr, *sc = nullptr;
        REQUIRE(heed_session_create(emb.model, &o, nullptr, 0, &se) == HEED_OK);
        REQUIRE(heed_session_create(cls.model, &o, nullptr, 0, &sc) == HEED_OK);
        std::vector<float> out(32);
        std::vector<int32_t> ids(64);
        size_t n = 0;
        heed_status st[6];
        const size_t calls = heap_calls([&] {
          st[0] = heed_embed_text(se, "the doggy sat", SIZE_MAX, out.data(), out.size(), &n);
          st[1] = heed_embed_text(se, long_text.c_str(), SIZE_MAX, out.data(), out.size(), &n);
          st[2] = heed_classify_text(sc, "a cat", SIZE_MAX, out.data(), out.size(), &n);
          st[3] = heed_tokenize(emb.model, long_text.c_str(), SIZE_MAX, ids.data(), ids.size(), &n);
          const int32_t tok[4] = {2, 5, 6, 3};
          st[4] = heed_session_run(se, tok, 4, out.data(), out.size(), &n);
          st[5] = heed_session_run(se, tok, 0, out.data(), out.size(), &n);  // an error path too
        });
        for (int i = 0; i < 5; ++i) CHECK(st[i] == HEED_OK);
        CHECK(st[5] == HEED_ERROR_INVALID_INPUT);
        CHECK(calls == 0);
        heed_session_free(se);
        heed_session_free(sc);
      }
    }
  }
}

TEST_CASE("heap: BPE tokenize with scratch, detokenize and the decode stream make no heap call") {
  test::Loaded m(test::tiny_graph_bpe());
  std::string text;
  for (int i = 0; i < 300; ++i) text += "ab ab xyz\xC3\xA9 c<|endoftext|>\xFF ";
  size_t bytes = 0;
  REQUIRE(heed_tokenize_scratch_size(m.model, text.size(), &bytes) == HEED_OK);
  std::vector<unsigned char> scratch(bytes);
  std::vector<int32_t> ids(8192);
  std::vector<char> out(65536);
  size_t n = 0, len = 0;
  heed_decode_stream* stream = nullptr;
  REQUIRE(heed_decode_stream_create(m.model, 0, &stream) == HEED_OK);
  std::vector<char> chunk(heed_decode_stream_max_bytes(stream));
  heed_status st[4] = {HEED_OK, HEED_OK, HEED_OK, HEED_OK};
  const size_t calls = heap_calls([&] {
    st[0] = heed_tokenize_with_scratch(m.model, text.data(), text.size(), scratch.data(), scratch.size(), ids.data(),
                                       ids.size(), &n);
    st[1] = heed_detokenize(m.model, ids.data(), n, 0, out.data(), out.size(), &len);
    for (size_t i = 0; i < n && st[2] == HEED_OK; ++i) {
      st[2] = heed_decode_stream_feed(stream, ids[i], chunk.data(), chunk.size(), &len);
    }
    st[3] = heed_decode_stream_finish(stream, chunk.data(), chunk.size(), &len);
  });
  for (heed_status s : st) CHECK(s == HEED_OK);
  CHECK(n > 1000);
  CHECK(calls == 0);
  // heed_tokenize allocates its scratch for BPE (documented): the counter sees it.
  CHECK(heap_calls([&] { st[0] = heed_tokenize(m.model, text.data(), text.size(), ids.data(), ids.size(), &n); }) == 2);
  CHECK(st[0] == HEED_OK);
  heed_decode_stream_free(stream);
}

TEST_CASE("heap: an allocation inside inference is caught") {
  // The same measurement around a run whose per-op observer allocates: the
  // counter must see it, so a zero above is a real zero.
  Session s;
  conv::IrGraph g = test::tiny_graph(true);
  test::AlignedBytes bytes(test::serialize(g));
  Model model;
  REQUIRE(model.load_buffer(bytes.data(), bytes.size).ok());
  REQUIRE(s.init(&model, SessionOptions(), nullptr, 0).ok());
  s.set_observer([](void*, size_t, const OpInfo&, const float*, size_t, size_t) { delete new int(0); }, nullptr);
  const int32_t tok[4] = {2, 5, 6, 3};
  std::vector<float> out(32);
  size_t n = 0;
  Status st;
  CHECK(heap_calls([&] { st = s.run(tok, 4, out.data(), out.size(), &n); }) == 2 * model.ops().size());
  CHECK(st.ok());
  s.set_observer(nullptr, nullptr);
  CHECK(heap_calls([&] { st = s.run(tok, 4, out.data(), out.size(), &n); }) == 0);
}

TEST_CASE("heap: heed bench's timed loop makes no heap call") {
  conv::IrGraph g = test::tiny_graph(true);
  test::AlignedBytes bytes(test::serialize(g));
  Model model;
  REQUIRE(model.load_buffer(bytes.data(), bytes.size).ok());
  SessionOptions o;
  o.num_threads = 2;
  Session s;
  REQUIRE(s.init(&model, o, nullptr, 0).ok());
  const int32_t tok[6] = {2, 5, 6, 7, 9, 3};
  std::vector<float> out(32);
  std::vector<double> ms(20);
  Status st;
  CHECK(heap_calls([&] { st = cli::timed_runs(s, tok, 6, out.data(), out.size(), ms.size(), ms.data()); }) == 0);
  CHECK(st.ok());
  CHECK(ms[19] > 0.0);
}

TEST_CASE("heap: sampling a token makes no heap call (greedy, top-k, top-p over a 50000-id vocabulary)") {
  const size_t V = 50000;
  std::vector<float> logits(V);
  uint32_t r = 99;
  for (float& l : logits) {
    r = r * 1664525u + 1013904223u;
    l = float(r >> 8) / float(1 << 24) * 8.0f;
  }
  const std::vector<int32_t> history = {5, 17, 17, 4000, 49999};
  std::vector<uint64_t> ws(sampler_workspace_bytes(V) / 8 + 1);
  const SamplerParams params[] = {{0.0f, 0, 1.0f, 1.2f, 1}, {0.8f, 40, 0.95f, 1.1f, 2}, {1.0f, 0, 0.9f, 1.0f, 3}};
  for (const SamplerParams& p : params) {
    REQUIRE(sampler_check(p).ok());
    Sampler s(p, V, ws.data());
    Status st;
    int32_t id = -1;
    CHECK(heap_calls([&] {
            for (int t = 0; t < 8 && st.ok(); ++t) st = s.sample(logits.data(), history.data(), history.size(), &id);
          }) == 0);
    CHECK(st.ok());
    CHECK(id >= 0);
  }
}

}  // TEST_SUITE

#include "runtime/tiny-decoder.h"

TEST_SUITE("fast") {
TEST_CASE("heap: a causal LM's logits and incremental decode make no heap call (fp32, int8; 1, 2 threads; every ISA; all or last logits)") {
  for (bool int8 : {false, true}) {
    test::Loaded dec(test::tiny_decoder_graph(int8));
    for (Isa isa : isas()) {
      for (int threads : {1, 2}) {
       for (int last : {0, 1}) {
        CAPTURE(int8);
        CAPTURE(isa_name(isa));
        CAPTURE(threads);
        CAPTURE(last);
        heed_session_options o;
        heed_session_options_init(&o);
        o.num_threads = threads;
        o.isa = isa_name(isa);
        o.last_logits_only = last;
        heed_session* s = nullptr;
        REQUIRE(heed_session_create(dec.model, &o, nullptr, 0, &s) == HEED_OK);
        std::vector<float> logits(48 * 40);
        std::vector<int32_t> ids(48);
        for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t(i * 7 % 40);
        size_t rows = 0, vocab = 0;
        heed_status st[6];
        const size_t calls = heap_calls([&] {
          st[0] = heed_session_logits(s, ids.data(), 48, logits.data(), logits.size(), &rows, &vocab);
          st[1] = heed_session_logits(s, ids.data(), 5, logits.data(), logits.size(), &rows, &vocab);
          st[2] = heed_session_logits(s, ids.data(), 5, logits.data(), 10, &rows, &vocab);  // too small
          // Incremental decode through the key/value cache, token by token.
          st[3] = HEED_OK;
          for (size_t t = 0; t < 20 && st[3] == HEED_OK; ++t) st[3] = heed_session_decode(s, ids.data() + t, 1, logits.data(), 40, &rows);
          st[4] = heed_session_reset(s);
          st[5] = heed_session_decode(s, ids.data(), 3, logits.data(), logits.size(), &rows);
        });
        CHECK(st[0] == HEED_OK);
        CHECK(st[1] == HEED_OK);
        CHECK(st[2] == HEED_ERROR_BUFFER_TOO_SMALL);
        CHECK(st[3] == HEED_OK);
        CHECK(st[4] == HEED_OK);
        CHECK(st[5] == HEED_OK);
        CHECK(heed_session_context_length(s) == 3);
        CHECK(rows == (last ? 1u : 3u));
        CHECK(calls == 0);
        heed_session_free(s);
       }
      }
    }
  }
}
TEST_CASE("heap: a streaming session (attention sinks) decodes 4x past max_seq with no heap call") {
  for (bool int8 : {false, true}) {
    CAPTURE(int8);
    test::Loaded dec(test::tiny_decoder_graph(int8));
    heed_session_options o;
    heed_session_options_init(&o);
    o.attention = "window=8,sinks=4";
    heed_session* s = nullptr;
    REQUIRE(heed_session_create(dec.model, &o, nullptr, 0, &s) == HEED_OK);
    REQUIRE(heed_session_streams(s) == 1);
    std::vector<float> logits(48 * 40);
    std::vector<int32_t> ids(4 * 48);
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t(i * 7 % 40);
    size_t rows = 0;
    heed_status st = HEED_OK;
    const size_t calls = heap_calls([&] {
      st = heed_session_logits(s, ids.data(), 48, logits.data(), logits.size(), &rows, nullptr);
      for (size_t t = 48; t < ids.size() && st == HEED_OK; ++t) st = heed_session_decode(s, ids.data() + t, 1, logits.data(), 40, &rows);
    });
    CHECK(st == HEED_OK);
    CHECK(heed_session_context_length(s) == ids.size());
    CHECK(calls == 0);
    heed_session_free(s);
  }
}
}  // TEST_SUITE

TEST_SUITE("fast") {
namespace {
// Counts the ids; with `allocate`, makes one heap allocation and one free per
// token, to show the counter sees the per-token loop.
struct TokenSink {
  size_t ids = 0;
  size_t bytes = 0;
  bool allocate = false;
};
int sink(void* user, int32_t id, const char*, size_t len) {
  auto* t = static_cast<TokenSink*>(user);
  if (id >= 0) ++t->ids;
  t->bytes += len;
  if (t->allocate) delete new int(id);
  return 0;
}
}  // namespace

TEST_CASE("heap: heed_generate_ids' per-token loop makes no heap call (greedy, sampling, stop strings; 1, 2 threads; all or last logits)") {
  conv::IrGraph g = test::tiny_decoder_graph(false);
  g.tokenizer = test::tiny_graph_bpe().tokenizer;
  for (int i = 16; i < 40; ++i) g.tokenizer.vocab.push_back("q" + std::to_string(i));
  test::Loaded dec(g);
  const int32_t prompt[5] = {3, 17, 9, 30, 1};
  for (int threads : {1, 2}) {
   for (int last : {0, 1}) {
    CAPTURE(threads);
    CAPTURE(last);
    heed_session_options o;
    heed_session_options_init(&o);
    o.num_threads = threads;
    o.last_logits_only = last;
    heed_session* s = nullptr;
    REQUIRE(heed_session_create(dec.model, &o, nullptr, 0, &s) == HEED_OK);
    heed_generate_options go;
    heed_generate_options_init(&go);
    go.max_tokens = 30;
    const int32_t stop = 39;
    go.stop_ids = &stop;
    go.num_stop_ids = 1;
    heed_generate_result r;
    TokenSink t;
    // The first call on a session creates its generation buffers (documented).
    CHECK(heap_calls([&] { heed_generate_ids(s, prompt, 5, &go, sink, &t, &r); }) > 0);
    // Stop strings that start often ("q" begins the pieces q16..q39, so text
    // is held back and released) and one that may complete.
    const char* stops[3] = {"q99", "q3q3q3", "\x01"};
    for (float temp : {0.0f, 0.9f, -1.0f}) {
      CAPTURE(temp);
      go.stop_strings = temp < 0 ? stops : nullptr;
      go.num_stop_strings = temp < 0 ? 3 : 0;
      go.temperature = temp < 0 ? 0.0f : temp;
      go.top_p = 0.9f;
      go.repetition_penalty = 1.1f;
      go.seed = 5;
      t = TokenSink();
      heed_status st = HEED_OK;
      CHECK(heap_calls([&] { st = heed_generate_ids(s, prompt, 5, &go, sink, &t, &r); }) == 0);
      CHECK(st == HEED_OK);
      CHECK(r.generated_tokens == t.ids);
      CHECK(t.ids > 3);
      CHECK(t.bytes > 0);
      // The same call with one allocation per token in the callback: the
      // counter sees each (2 calls: new and delete), so the zero above is real.
      t = TokenSink();
      t.allocate = true;
      const size_t calls = heap_calls([&] { st = heed_generate_ids(s, prompt, 5, &go, sink, &t, &r); });
      CHECK(st == HEED_OK);
      CHECK(calls == 2 * t.ids);
    }
    heed_session_free(s);
   }
  }
}
}  // TEST_SUITE
