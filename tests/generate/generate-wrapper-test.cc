// heed.hpp's Session::generate over heed_generate_ids on the tiny causal LM.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "heed/heed.hpp"
#include "runtime/tiny-decoder.h"

TEST_SUITE("fast") {

TEST_CASE("C++ wrapper: Session::generate streams ids, stops when on_token returns false") {
  heed::test::AlignedBytes bytes(heed::test::serialize(heed::test::tiny_decoder_graph(false)));
  REQUIRE(bytes.size > 0);
  heed::wrapper::Model model;
  REQUIRE_FALSE(heed::wrapper::Model::load_from_buffer(bytes.data(), bytes.size, &model));
  heed::wrapper::Session session;
  REQUIRE_FALSE(heed::wrapper::Session::create(model, {}, &session));
  heed_generate_options o;
  heed_generate_options_init(&o);
  o.max_tokens = 6;
  std::vector<int32_t> got;
  heed_generate_result r;
  REQUIRE_FALSE(session.generate({3, 17, 9}, o, [&](int32_t id, std::string_view text) {
    CHECK(text.empty());  // no tokenizer: no text
    got.push_back(id);
    return true;
  }, &r));
  CHECK(r.stop == HEED_STOP_MAX_TOKENS);
  CHECK(got.size() == 6);
  std::vector<int32_t> first;
  auto two = [&](int32_t id, std::string_view) {
    first.push_back(id);
    return first.size() < 2;
  };
  REQUIRE_FALSE(session.generate({3, 17, 9}, o, two, &r));
  CHECK(r.stop == HEED_STOP_CALLBACK);
  CHECK(first == std::vector<int32_t>(got.begin(), got.begin() + 2));
  o.top_p = 2.0f;
  const heed::wrapper::Error e = session.generate({3}, o, two, &r);
  CHECK(e.code == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(e.message.find("top_p") != std::string::npos);
}

}  // TEST_SUITE
