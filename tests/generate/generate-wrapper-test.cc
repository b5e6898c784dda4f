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

TEST_CASE("C++ wrapper: generation ids, and generate with stop strings (text cut before the first)") {
  heed::conv::IrGraph g = heed::test::tiny_decoder_graph(false);
  g.tokenizer = heed::test::tiny_graph_bpe().tokenizer;
  for (int i = 16; i < 40; ++i) g.tokenizer.vocab.push_back("q" + std::to_string(i));
  g.has_generation = true;
  g.bos_id = 3;
  g.eos_ids = {38, 39};
  heed::test::AlignedBytes bytes(heed::test::serialize(g));
  REQUIRE(bytes.size > 0);
  heed::wrapper::Model model;
  REQUIRE_FALSE(heed::wrapper::Model::load_from_buffer(bytes.data(), bytes.size, &model));
  CHECK(model.bos_id() == 3);
  CHECK(model.eos_ids() == std::vector<int32_t>{38, 39});
  heed::wrapper::Session session;
  REQUIRE_FALSE(heed::wrapper::Session::create(model, {}, &session));
  heed_generate_options o;
  heed_generate_options_init(&o);
  o.max_tokens = 24;
  o.ignore_eos = 1;
  std::string whole;
  heed_generate_result r;
  REQUIRE_FALSE(session.generate({3, 17, 9}, o, [&](int32_t, std::string_view text) {
    whole += text;
    return true;
  }, &r));
  REQUIRE(whole.size() > 6);
  const std::string stop = whole.substr(whole.size() / 2, 2);
  std::string got;
  REQUIRE_FALSE(session.generate({3, 17, 9}, o, {"\x01", stop}, [&](int32_t, std::string_view text) {
    got += text;
    return true;
  }, &r));
  CHECK(r.stop == HEED_STOP_STOP_STRING);
  CHECK(got == whole.substr(0, whole.find(stop)));
  const heed::wrapper::Error e =
      session.generate({3}, o, {std::string("a\0b", 3)}, [](int32_t, std::string_view) { return true; }, &r);
  CHECK(e.code == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(e.message.find("NUL") != std::string::npos);
  const heed::wrapper::Error many = session.generate({3}, o, std::vector<std::string>(17, "x"),
                                                     [](int32_t, std::string_view) { return true; }, &r);
  CHECK(many.code == HEED_ERROR_INVALID_ARGUMENT);
}

}  // TEST_SUITE
