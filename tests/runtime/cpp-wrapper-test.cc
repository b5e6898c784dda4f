// The header-only C++ wrapper (heed.hpp) over the C API.
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "heed/heed.hpp"

namespace heed::test {
std::vector<uint8_t> tiny_model_bytes(bool int8);
}

TEST_SUITE("fast") {

TEST_CASE("C++ wrapper: load, tokenize, embed, errors as values") {
  const std::vector<uint8_t> file = heed::test::tiny_model_bytes(true);
  std::unique_ptr<uint8_t, void (*)(void*)> buf(static_cast<uint8_t*>(std::aligned_alloc(64, (file.size() + 63) / 64 * 64)),
                                                std::free);
  std::memcpy(buf.get(), file.data(), file.size());
  heed::Model model;
  REQUIRE_FALSE(heed::Model::load_from_buffer(buf.get(), file.size(), &model));
  CHECK(model.info().output_size == 32);
  std::vector<int32_t> ids;
  REQUIRE_FALSE(model.tokenize("the cat sat", &ids));
  CHECK(ids == std::vector<int32_t>{2, 5, 6, 7, 3});

  size_t bytes_needed = 0;
  REQUIRE_FALSE(heed::Session::arena_size(model, {16, 1}, &bytes_needed));
  CHECK(bytes_needed > 0);
  heed::Session session;
  REQUIRE_FALSE(heed::Session::create(model, {16, 1}, &session));
  CHECK(session.arena_used() == bytes_needed);
  CHECK(session.num_threads() == 1);
  CHECK(model.label(0).empty());  // an embedding model has no labels
  std::vector<float> a, b;
  REQUIRE_FALSE(session.embed("the cat sat", &a));
  REQUIRE_FALSE(session.run(ids, &b));
  CHECK(a == b);
  heed::Session moved = std::move(session);
  REQUIRE_FALSE(moved.embed("the cat sat", &b));
  CHECK(a == b);

  heed::Error e = moved.classify("the cat", &b);
  CHECK(e.code == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(e.message.find("classification") != std::string::npos);
  heed::Model missing;
  e = heed::Model::load("/nonexistent.heed", &missing);
  CHECK(e.code == HEED_ERROR_IO);
  CHECK_FALSE(missing);
}

}  // TEST_SUITE

#include "runtime/loaded-model.h"
#include "runtime/tiny-decoder.h"

TEST_SUITE("fast") {

TEST_CASE("C++ wrapper: a causal LM decoded token by token gives the logits of one run, bit for bit") {
  for (bool int8 : {false, true}) {
    CAPTURE(int8);
    heed::test::Loaded dec(heed::test::tiny_decoder_graph(int8));
    heed_model_info info;
    REQUIRE(heed_model_get_info(dec.model, &info) == HEED_OK);
    const size_t vocab = info.output_size;
    heed_session_options o;
    heed_session_options_init(&o);
    o.max_seq = 24;
    heed_session* s = nullptr;
    REQUIRE(heed_session_create(dec.model, &o, nullptr, 0, &s) == HEED_OK);
    std::vector<int32_t> ids(24);
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t((i * 11 + 3) % vocab);
    std::vector<float> full(ids.size() * vocab), inc(ids.size() * vocab);
    size_t rows = 0;
    REQUIRE(heed_session_logits(s, ids.data(), ids.size(), full.data(), full.size(), &rows, nullptr) == HEED_OK);
    CHECK(heed_session_context_length(s) == 24);
    REQUIRE(heed_session_reset(s) == HEED_OK);
    CHECK(heed_session_context_length(s) == 0);
    // 5 tokens, then one at a time.
    REQUIRE(heed_session_decode(s, ids.data(), 5, inc.data(), inc.size(), &rows) == HEED_OK);
    CHECK(rows == 5);
    for (size_t t = 5; t < ids.size(); ++t) {
      REQUIRE(heed_session_decode(s, ids.data() + t, 1, inc.data() + t * vocab, vocab, &rows) == HEED_OK);
    }
    CHECK(std::memcmp(full.data(), inc.data(), full.size() * sizeof(float)) == 0);
    // Full context: refused, context unchanged; a bad id: refused, unchanged.
    CHECK(heed_session_decode(s, ids.data(), 1, inc.data(), vocab, &rows) == HEED_ERROR_INVALID_INPUT);
    CHECK(heed_session_context_length(s) == 24);
    REQUIRE(heed_session_reset(s) == HEED_OK);
    const int32_t bad = int32_t(vocab);
    CHECK(heed_session_decode(s, &bad, 1, inc.data(), vocab, &rows) == HEED_ERROR_INVALID_INPUT);
    CHECK(heed_session_context_length(s) == 0);
    CHECK(heed_session_decode(s, ids.data(), 2, inc.data(), vocab, &rows) == HEED_ERROR_BUFFER_TOO_SMALL);
    CHECK(heed_session_context_length(s) == 0);
    // A different prefix changes the next row (the cache is read).
    std::vector<float> other(vocab);
    const int32_t first = int32_t((ids[0] + 1) % int32_t(vocab));
    REQUIRE(heed_session_decode(s, &first, 1, other.data(), vocab, &rows) == HEED_OK);
    REQUIRE(heed_session_decode(s, ids.data() + 1, 1, other.data(), vocab, &rows) == HEED_OK);
    CHECK(std::memcmp(other.data(), full.data() + vocab, vocab * sizeof(float)) != 0);
    heed_session_free(s);

    // The wrapper's logits / decode / reset over the same file.
    heed::wrapper::Model model;
    REQUIRE_FALSE(heed::wrapper::Model::load_from_buffer(dec.bytes.data(), dec.bytes.size, &model));
    heed::wrapper::Session session;
    REQUIRE_FALSE(heed::wrapper::Session::create(model, {24, 1}, &session));
    std::vector<float> w, one;
    REQUIRE_FALSE(session.logits(ids, &w));
    CHECK(w == full);
    REQUIRE_FALSE(session.reset());
    for (size_t t = 0; t < ids.size(); ++t) {
      REQUIRE_FALSE(session.decode(ids.data() + t, 1, &one));
      CHECK(std::memcmp(one.data(), full.data() + t * vocab, vocab * sizeof(float)) == 0);
    }
    CHECK(session.context_length() == 24);
    CHECK(session.decode(ids.data(), 1, &one).code == HEED_ERROR_INVALID_INPUT);
    // last_logits_only: one row, the last one's bytes.
    heed::wrapper::Session last;
    heed::wrapper::Session::Options lo;
    lo.max_seq = 24;
    lo.last_logits_only = true;
    REQUIRE_FALSE(heed::wrapper::Session::create(model, lo, &last));
    size_t full_arena = 0, last_arena = 0;
    REQUIRE_FALSE(heed::wrapper::Session::arena_size(model, {24, 1}, &full_arena));
    REQUIRE_FALSE(heed::wrapper::Session::arena_size(model, lo, &last_arena));
    CHECK(last_arena < full_arena);
    CHECK(last.arena_used() == last_arena);
    REQUIRE_FALSE(last.logits(ids, &w));
    REQUIRE(w.size() == vocab);
    CHECK(std::memcmp(w.data(), full.data() + 23 * vocab, vocab * sizeof(float)) == 0);
    REQUIRE_FALSE(last.reset());
    REQUIRE_FALSE(last.decode(ids.data(), 3, &one));
    CHECK(std::memcmp(one.data(), full.data() + 2 * vocab, vocab * sizeof(float)) == 0);
  }
  heed_session* none = nullptr;
  CHECK(heed_session_decode(none, nullptr, 0, nullptr, 0, nullptr) == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(heed_session_context_length(none) == 0);
}

}  // TEST_SUITE
