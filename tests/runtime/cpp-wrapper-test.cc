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
