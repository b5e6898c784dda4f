// Causal LMs through the C API: logits [S, V] per position, the causal
// property (a prefix's logits are the first rows of the whole sequence's),
// the same bytes on every ISA, and heed_session_logits' error codes.
#include <doctest/doctest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "heed/heed.h"
#include "kernels/isa.h"
#include "runtime/loaded-model.h"
#include "runtime/tiny-decoder.h"

using namespace heed;

TEST_SUITE("fast") {

TEST_CASE("causal LM: logits of every position, causal, identical on every ISA, fp32 and int8") {
  for (bool int8 : {false, true}) {
    CAPTURE(int8);
    test::Loaded m(test::tiny_decoder_graph(int8));
    heed_model_info info;
    REQUIRE(heed_model_get_info(m.model, &info) == HEED_OK);
    CHECK(info.task == HEED_TASK_CAUSAL_LM);
    CHECK(info.output_size == 40);
    CHECK(info.vocab_size == 40);
    CHECK(info.max_seq == 48);
    std::vector<int32_t> ids(48);
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t((i * 13 + 5) % 40);
    std::vector<float> first;
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot}) {
      if (!isa_supported(isa)) continue;
      CAPTURE(isa_name(isa));
      heed_session_options o;
      heed_session_options_init(&o);
      o.isa = isa_name(isa);
      heed_session* s = nullptr;
      REQUIRE(heed_session_create(m.model, &o, nullptr, 0, &s) == HEED_OK);
      std::vector<float> full(48 * 40), part(48 * 40);
      size_t rows = 0, vocab = 0;
      REQUIRE(heed_session_logits(s, ids.data(), 48, full.data(), full.size(), &rows, &vocab) == HEED_OK);
      CHECK(rows == 48);
      CHECK(vocab == 40);
      // Rows differ from one another (the model is not constant in position).
      CHECK(std::memcmp(full.data(), full.data() + 40, 40 * sizeof(float)) != 0);
      for (size_t n : {size_t(1), size_t(7), size_t(17), size_t(33)}) {
        CAPTURE(n);
        REQUIRE(heed_session_logits(s, ids.data(), n, part.data(), part.size(), &rows, &vocab) == HEED_OK);
        CHECK(rows == n);
        CHECK(std::memcmp(part.data(), full.data(), n * 40 * sizeof(float)) == 0);
      }
      // Changing a later token leaves earlier rows alone and changes its own.
      std::vector<int32_t> other = ids;
      other[20] = (other[20] + 1) % 40;
      REQUIRE(heed_session_logits(s, other.data(), 48, part.data(), part.size(), &rows, &vocab) == HEED_OK);
      CHECK(std::memcmp(part.data(), full.data(), 20 * 40 * sizeof(float)) == 0);
      CHECK(std::memcmp(part.data() + 20 * 40, full.data() + 20 * 40, 40 * sizeof(float)) != 0);
      // heed_session_run writes the same.
      size_t n = 0;
      REQUIRE(heed_session_run(s, ids.data(), 48, part.data(), part.size(), &n) == HEED_OK);
      CHECK(n == 48 * 40);
      CHECK(part == full);
      if (first.empty()) first = full;
      CHECK(std::memcmp(full.data(), first.data(), full.size() * sizeof(float)) == 0);
      heed_session_free(s);
    }
  }
}

TEST_CASE("causal LM, last_logits_only: one row, the last row's bytes, run and decode, a smaller exact arena") {
  for (bool int8 : {false, true}) {
    CAPTURE(int8);
    test::Loaded m(test::tiny_decoder_graph(int8));
    std::vector<int32_t> ids(48);
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t((i * 13 + 5) % 40);
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot}) {
      if (!isa_supported(isa)) continue;
      for (int threads : {1, 2}) {
        CAPTURE(isa_name(isa));
        CAPTURE(threads);
        heed_session_options o;
        heed_session_options_init(&o);
        CHECK(o.last_logits_only == 0);
        o.isa = isa_name(isa);
        o.num_threads = threads;
        heed_session* full = nullptr;
        REQUIRE(heed_session_create(m.model, &o, nullptr, 0, &full) == HEED_OK);
        size_t full_bytes = 0, last_bytes = 0;
        REQUIRE(heed_session_arena_size(m.model, &o, &full_bytes) == HEED_OK);
        o.last_logits_only = 1;
        REQUIRE(heed_session_arena_size(m.model, &o, &last_bytes) == HEED_OK);
        // Smaller: the tail's tensors have one row (the logits are 48 x 40
        // floats in a full arena; the planner's packing moves the total by
        // a bit less than the 47 rows saved here).
        CHECK(last_bytes + 32 * 40 * sizeof(float) <= full_bytes);
        // Exact: a caller arena of that size is enough.
        std::vector<uint64_t> arena(last_bytes / 8 + 8);
        void* aligned = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(arena.data()) + 63) / 64 * 64);
        heed_session* last = nullptr;
        REQUIRE(heed_session_create(m.model, &o, aligned, last_bytes, &last) == HEED_OK);
        CHECK(heed_session_arena_used(last) == last_bytes);
        std::vector<float> all(48 * 40), one(40);
        size_t rows = 0, vocab = 0;
        REQUIRE(heed_session_logits(full, ids.data(), 48, all.data(), all.size(), &rows, &vocab) == HEED_OK);
        for (size_t n : {size_t(1), size_t(2), size_t(7), size_t(17), size_t(33), size_t(48)}) {
          CAPTURE(n);
          rows = vocab = 0;
          REQUIRE(heed_session_logits(last, ids.data(), n, one.data(), one.size(), &rows, &vocab) == HEED_OK);
          CHECK(rows == 1);
          CHECK(vocab == 40);
          CHECK(std::memcmp(one.data(), all.data() + (n - 1) * 40, 40 * sizeof(float)) == 0);
          size_t count = 0;
          std::fill(one.begin(), one.end(), 0.0f);
          REQUIRE(heed_session_run(last, ids.data(), n, one.data(), one.size(), &count) == HEED_OK);
          CHECK(count == 40);
          CHECK(std::memcmp(one.data(), all.data() + (n - 1) * 40, 40 * sizeof(float)) == 0);
        }
        // Decode: one row per call, that of the call's last id.
        REQUIRE(heed_session_logits(last, ids.data(), 10, one.data(), one.size(), &rows, &vocab) == HEED_OK);
        for (size_t t = 10; t < 20; ++t) {
          REQUIRE(heed_session_decode(last, ids.data() + t, 1, one.data(), one.size(), &rows) == HEED_OK);
          CHECK(rows == 1);
          CHECK(std::memcmp(one.data(), all.data() + t * 40, 40 * sizeof(float)) == 0);
        }
        REQUIRE(heed_session_decode(last, ids.data() + 20, 5, one.data(), one.size(), &rows) == HEED_OK);
        CHECK(rows == 1);
        CHECK(std::memcmp(one.data(), all.data() + 24 * 40, 40 * sizeof(float)) == 0);
        CHECK(heed_session_context_length(last) == 25);
        // The buffer needs one row.
        CHECK(heed_session_logits(last, ids.data(), 5, one.data(), 39, &rows, &vocab) == HEED_ERROR_BUFFER_TOO_SMALL);
        CHECK(rows == 1);
        CHECK(std::string(heed_last_error()) == "output needs 40 floats, buffer holds 39");
        heed_session_free(last);
        heed_session_free(full);
      }
    }
  }
  // No effect on a model with one output row.
  test::Loaded bert(test::tiny_graph(false));
  heed_session_options o;
  heed_session_options_init(&o);
  size_t a = 0, b = 0;
  REQUIRE(heed_session_arena_size(bert.model, &o, &a) == HEED_OK);
  o.last_logits_only = 1;
  REQUIRE(heed_session_arena_size(bert.model, &o, &b) == HEED_OK);
  CHECK(a == b);
}

TEST_CASE("kv_cache option: sizes, AUTO by the weights, same bytes on every ISA, a bad value refused") {
  for (bool int8 : {false, true}) {
    CAPTURE(int8);
    test::Loaded m(test::tiny_decoder_graph(int8));
    auto arena = [&](int kv) {
      heed_session_options o;
      heed_session_options_init(&o);
      o.kv_cache = kv;
      size_t bytes = 0;
      REQUIRE(heed_session_arena_size(m.model, &o, &bytes) == HEED_OK);
      return bytes;
    };
    const size_t f32 = arena(HEED_KV_CACHE_F32), i8 = arena(HEED_KV_CACHE_INT8), automatic = arena(HEED_KV_CACHE_AUTO);
    CHECK(i8 < f32);
    CHECK(automatic == (int8 ? i8 : f32));
    std::vector<int32_t> ids(40);
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t((i * 7 + 3) % 40);
    std::vector<float> by_kv[2];
    for (int k = 0; k < 2; ++k) {
      std::vector<float> first;
      for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot}) {
        if (!isa_supported(isa)) continue;
        CAPTURE(isa_name(isa));
        heed_session_options o;
        heed_session_options_init(&o);
        o.isa = isa_name(isa);
        o.kv_cache = k == 0 ? HEED_KV_CACHE_F32 : HEED_KV_CACHE_INT8;
        heed_session* s = nullptr;
        REQUIRE(heed_session_create(m.model, &o, nullptr, 0, &s) == HEED_OK);
        size_t planned = 0;
        REQUIRE(heed_session_arena_size(m.model, &o, &planned) == HEED_OK);
        CHECK(heed_session_arena_used(s) == planned);
        std::vector<float> out(40 * 40);
        size_t rows = 0;
        REQUIRE(heed_session_logits(s, ids.data(), 40, out.data(), out.size(), &rows, nullptr) == HEED_OK);
        if (first.empty()) first = out;
        CHECK(std::memcmp(out.data(), first.data(), out.size() * sizeof(float)) == 0);
        heed_session_free(s);
      }
      by_kv[k] = first;
    }
    // The int8 cache changes the bits, not the result: every row stays close.
    CHECK(by_kv[0] != by_kv[1]);
    double dot = 0, a2 = 0, b2 = 0;
    for (size_t i = 0; i < by_kv[0].size(); ++i) {
      dot += double(by_kv[0][i]) * by_kv[1][i];
      a2 += double(by_kv[0][i]) * by_kv[0][i];
      b2 += double(by_kv[1][i]) * by_kv[1][i];
    }
    CHECK(dot / std::sqrt(a2 * b2) > 0.999);
    heed_session_options bad;
    heed_session_options_init(&bad);
    bad.kv_cache = 3;
    heed_session* s = nullptr;
    size_t bytes = 0;
    CHECK(heed_session_arena_size(m.model, &bad, &bytes) == HEED_ERROR_INVALID_ARGUMENT);
    CHECK(heed_session_create(m.model, &bad, nullptr, 0, &s) == HEED_ERROR_INVALID_ARGUMENT);
    CHECK(std::string(heed_last_error()).find("kv_cache") != std::string::npos);
    CHECK(s == nullptr);
    for (int32_t w : {-2, 65537, INT32_MIN}) {
      heed_session_options_init(&bad);
      bad.attention_window = w;
      CHECK(heed_session_create(m.model, &bad, nullptr, 0, &s) == HEED_ERROR_INVALID_ARGUMENT);
      CHECK(std::string(heed_last_error()).find("attention_window") != std::string::npos);
    }
    // A window: other logits past it (the caches stay whole here: 48 positions < 5 + 64).
    heed_session_options win;
    heed_session_options_init(&win);
    win.attention_window = 5;
    size_t ring = 0;
    REQUIRE(heed_session_arena_size(m.model, &win, &ring) == HEED_OK);
    CHECK(ring == automatic);
    REQUIRE(heed_session_create(m.model, &win, nullptr, 0, &s) == HEED_OK);
    std::vector<float> wl(40 * 40);
    size_t rows = 0;
    REQUIRE(heed_session_logits(s, ids.data(), 40, wl.data(), wl.size(), &rows, nullptr) == HEED_OK);
    heed_session_free(s);
    const std::vector<float>& dense = int8 ? by_kv[1] : by_kv[0];
    CHECK(std::memcmp(wl.data(), dense.data(), 6 * 40 * sizeof(float)) == 0);  // positions 0..5: the same keys
    CHECK(std::memcmp(wl.data() + 6 * 40, dense.data() + 6 * 40, 40 * sizeof(float)) != 0);
  }
}

TEST_CASE("heed_session_logits: bad ids, too long, empty, small buffer, not a causal LM, NULL") {
  test::Loaded m(test::tiny_decoder_graph(false));
  heed_session* s = nullptr;
  REQUIRE(heed_session_create(m.model, nullptr, nullptr, 0, &s) == HEED_OK);
  std::vector<float> out(49 * 40);
  std::vector<int32_t> ids(49, 3);
  size_t rows = 0, vocab = 0;
  ids[4] = 40;
  CHECK(heed_session_logits(s, ids.data(), 6, out.data(), out.size(), &rows, &vocab) == HEED_ERROR_INVALID_INPUT);
  CHECK(std::string(heed_last_error()).find("token id 40 at position 4 is outside the vocabulary [0, 40)") != std::string::npos);
  ids[4] = -1;
  CHECK(heed_session_logits(s, ids.data(), 6, out.data(), out.size(), &rows, &vocab) == HEED_ERROR_INVALID_INPUT);
  ids[4] = 3;
  CHECK(heed_session_logits(s, ids.data(), 49, out.data(), out.size(), &rows, &vocab) == HEED_ERROR_INVALID_INPUT);
  CHECK(std::string(heed_last_error()).find("49 tokens exceed the session's max_seq of 48") != std::string::npos);
  CHECK(heed_session_logits(s, ids.data(), 0, out.data(), out.size(), &rows, &vocab) == HEED_ERROR_INVALID_INPUT);
  rows = vocab = 0;
  CHECK(heed_session_logits(s, ids.data(), 6, out.data(), 6 * 40 - 1, &rows, &vocab) == HEED_ERROR_BUFFER_TOO_SMALL);
  CHECK(rows == 6);
  CHECK(vocab == 40);
  CHECK(std::string(heed_last_error()) == "output needs 240 floats, buffer holds 239");
  CHECK(heed_session_logits(s, ids.data(), 6, out.data(), 6 * 40, nullptr, nullptr) == HEED_OK);
  CHECK(heed_session_logits(nullptr, ids.data(), 6, out.data(), out.size(), &rows, &vocab) == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(heed_session_logits(s, nullptr, 6, out.data(), out.size(), &rows, &vocab) == HEED_ERROR_INVALID_ARGUMENT);
  heed_session_free(s);

  test::Loaded bert(test::tiny_graph(false));
  REQUIRE(heed_session_create(bert.model, nullptr, nullptr, 0, &s) == HEED_OK);
  CHECK(heed_session_logits(s, ids.data(), 6, out.data(), out.size(), &rows, &vocab) == HEED_ERROR_UNSUPPORTED);
  CHECK(std::string(heed_last_error()).find("not a causal LM") != std::string::npos);
  heed_session_free(s);
}

TEST_CASE("attention sinks: a streaming session runs 4x past max_seq in its arena, chunked runs give the incremental bytes, every ISA") {
  constexpr size_t V = 40, N = 4 * 48;
  std::vector<int32_t> ids(N);
  for (size_t i = 0; i < N; ++i) ids[i] = int32_t((i * 13 + 5) % V);
  for (bool int8 : {false, true}) {
    CAPTURE(int8);
    test::Loaded m(test::tiny_decoder_graph(int8));
    std::vector<float> dense(48 * V), first;
    {
      heed_session* d = nullptr;
      REQUIRE(heed_session_create(m.model, nullptr, nullptr, 0, &d) == HEED_OK);
      CHECK(heed_session_streams(d) == 0);
      REQUIRE(heed_session_logits(d, ids.data(), 48, dense.data(), dense.size(), nullptr, nullptr) == HEED_OK);
      // Not streaming: the context ends at max_seq and a failed decode leaves it there.
      float row[V];
      size_t rows = 0;
      CHECK(heed_session_decode(d, ids.data(), 1, row, V, &rows) == HEED_ERROR_INVALID_INPUT);
      CHECK(heed_session_context_length(d) == 48);
      heed_session_free(d);
    }
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot}) {
      if (!isa_supported(isa)) continue;
      CAPTURE(isa_name(isa));
      heed_session_options o;
      heed_session_options_init(&o);
      o.isa = isa_name(isa);
      o.attention = "window=8,sinks=4";
      heed_session* s = nullptr;
      REQUIRE(heed_session_create(m.model, &o, nullptr, 0, &s) == HEED_OK);
      CHECK(heed_session_streams(s) == 1);
      const size_t arena = heed_session_arena_used(s);
      // Token by token.
      std::vector<float> one(N * V), chunked(N * V);
      size_t rows = 0;
      for (size_t t = 0; t < N; ++t) {
        REQUIRE(heed_session_decode(s, ids.data() + t, 1, one.data() + t * V, V, &rows) == HEED_OK);
      }
      CHECK(heed_session_context_length(s) == N);
      CHECK(heed_session_arena_used(s) == arena);
      // A run of max_seq tokens, then decodes of 48, 31 and the rest: the same bytes.
      REQUIRE(heed_session_logits(s, ids.data(), 48, chunked.data(), 48 * V, &rows, nullptr) == HEED_OK);
      for (size_t b = 48, n = 48; b < N; b += n, n = n == 48 ? 31 : 48) {
        n = std::min(n, N - b);
        REQUIRE(heed_session_decode(s, ids.data() + b, n, chunked.data() + b * V, n * V, &rows) == HEED_OK);
        CHECK(rows == n);
      }
      CHECK(std::memcmp(one.data(), chunked.data(), one.size() * sizeof(float)) == 0);
      // Up to position window (8) the keys are dense attention's, in the same
      // blocks: its bytes. Up to sinks + window (12) every key is still
      // there, the sinks in a block of their own: its values within rounding.
      CHECK(std::memcmp(one.data(), dense.data(), 9 * V * sizeof(float)) == 0);
      for (size_t i = 9 * V; i < 13 * V; ++i) CHECK(std::fabs(one[i] - dense[i]) <= 1e-4f * (1.0f + std::fabs(dense[i])));
      CHECK(std::memcmp(one.data() + 20 * V, dense.data() + 20 * V, V * sizeof(float)) != 0);
      // More than max_seq ids in one call stays refused.
      std::vector<float> big(49 * V);
      CHECK(heed_session_decode(s, ids.data(), 49, big.data(), big.size(), &rows) == HEED_ERROR_INVALID_INPUT);
      CHECK(heed_session_context_length(s) == N);
      if (first.empty()) first = one;
      CHECK(std::memcmp(one.data(), first.data(), one.size() * sizeof(float)) == 0);
      heed_session_free(s);
    }
  }
}

TEST_CASE("attention sinks: bad specs and models that cannot stream are refused at session creation") {
  test::Loaded m(test::tiny_decoder_graph(false));
  for (const char* spec : {"sinks=4", "window=4,sinks=5", "dense,sinks=2", "window=8,sinks=-1"}) {
    CAPTURE(spec);
    heed_session_options o;
    heed_session_options_init(&o);
    o.attention = spec;
    heed_session* s = nullptr;
    CHECK(heed_session_create(m.model, &o, nullptr, 0, &s) == HEED_ERROR_INVALID_ARGUMENT);
    CHECK(s == nullptr);
    CHECK(std::string(heed_last_error()).find("sinks") != std::string::npos);
  }
  // A window whose ring (8 + 64 slots) is not smaller than max_seq 48 keeps one slot per position: no stream.
  heed_session_options o;
  heed_session_options_init(&o);
  o.attention = "window=8";
  heed_session* s = nullptr;
  REQUIRE(heed_session_create(m.model, &o, nullptr, 0, &s) == HEED_OK);
  CHECK(heed_session_streams(s) == 0);
  heed_session_free(s);
  CHECK(heed_session_streams(nullptr) == 0);
}

}  // TEST_SUITE
