// Malformed causal-LM files (docs/SECURITY.md A3-A6, C3, D1): random byte
// corruption of the tiny decoder (ROPE, SWIGLU, ADD, per-token logits) never
// crashes; every file that still loads also runs a session without crashing
// (OK, or an error code such as HEED_ERROR_NON_FINITE for corrupted weights).
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "exec/session.h"
#include "format/model.h"
#include "heed/heed.h"
#include "runtime/tiny-decoder.h"

using namespace heed;

TEST_SUITE("fast") {

TEST_CASE("A3/A6: corrupted decoder files never crash at load or run") {
  for (bool int8 : {false, true}) {
    CAPTURE(int8);
    const auto bytes = test::serialize(test::tiny_decoder_graph(int8));
    std::mt19937 rng(int8 ? 99 : 98);
    size_t rejected = 0, ran = 0;
    const std::vector<int32_t> ids = {1, 7, 3, 39, 0, 12, 5, 8};
    std::vector<float> out(ids.size() * 40);
    for (int iter = 0; iter < 1500; ++iter) {
      auto b = bytes;
      const int flips = 1 + int(rng() % 4);
      // Half the flips in the first 4 KB (tables, shapes, options), half anywhere.
      for (int f = 0; f < flips; ++f) {
        const size_t at = (rng() % 2) ? rng() % std::min<size_t>(4096, b.size()) : rng() % b.size();
        b[at] ^= uint8_t(1u << (rng() % 8));
      }
      test::AlignedBytes a(b);
      Model m;
      const Status s = m.load_buffer(a.data(), a.size);
      if (!s.ok()) {
        ++rejected;
        REQUIRE(std::strlen(s.message()) > 0);
        REQUIRE(s.code() != HEED_ERROR_INTERNAL);
        continue;
      }
      Session sess;
      SessionOptions o;
      o.max_seq = std::min<size_t>(size_t(m.max_seq()), 16);
      if (sess.init(&m, o, nullptr, 0).ok()) {
        size_t n = 0;
        const size_t count = std::min(ids.size(), sess.max_seq());
        const Status r = sess.run(ids.data(), count, out.data(), out.size(), &n);
        REQUIRE(r.code() != HEED_ERROR_INTERNAL);
        ++ran;
      }
    }
    CHECK(rejected > 0);
    CHECK(ran > 0);
  }
}

}  // TEST_SUITE

// Metadata.generation (schema 1.3): the ids generation stops at are checked
// against the vocabulary at load; files without the table use the tokenizer's.
TEST_SUITE("fast") {

TEST_CASE("D1: generation bos / eos ids outside the vocabulary are a load error naming the field") {
  struct Case {
    int32_t bos;
    std::vector<int32_t> eos;
    const char* message;
  };
  const Case cases[] = {
      {-1, {40}, "generation.eos_ids[0] = 40 is outside the vocabulary [0, 40)"},
      {-1, {2, -1}, "generation.eos_ids[1] = -1 is outside the vocabulary [0, 40)"},
      {-1, {2, 2147483647}, "generation.eos_ids[1] = 2147483647"},
      {40, {2}, "generation.bos_id 40 is outside the vocabulary [0, 40)"},
      {-2, {2}, "generation.bos_id -2"},
      {-1, std::vector<int32_t>(65, 3), "generation.eos_ids has 65 ids (at most 64)"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.message);
    conv::IrGraph g = test::tiny_decoder_graph(false);
    g.has_generation = true;
    g.bos_id = c.bos;
    g.eos_ids = c.eos;
    test::AlignedBytes a(test::serialize(g));
    Model m;
    const Status s = m.load_buffer(a.data(), a.size);
    CHECK(s.code() == HEED_ERROR_INVALID_MODEL);
    CHECK(std::string(s.message()).find(c.message) != std::string::npos);
    // The C API says the same, and gives no model.
    heed_model* hm = reinterpret_cast<heed_model*>(1);
    CHECK(heed_model_load_from_buffer(a.data(), a.size, &hm) == HEED_ERROR_INVALID_MODEL);
    CHECK(hm == nullptr);
    CHECK(std::string(heed_last_error()).find(c.message) != std::string::npos);
  }
  // An encoder with generation ids is refused too (only causal LMs generate).
  conv::IrGraph enc = test::tiny_graph(false);
  enc.has_generation = true;
  enc.eos_ids = {1};
  test::AlignedBytes a(test::serialize(enc));
  Model m;
  const Status s = m.load_buffer(a.data(), a.size);
  CHECK(s.code() == HEED_ERROR_INVALID_MODEL);
  CHECK(std::string(s.message()).find("causal LM") != std::string::npos);
}

TEST_CASE("D1: generation ids in range load; without the table, the tokenizer's eos and bos are used") {
  auto load = [](const conv::IrGraph& g, std::vector<int32_t>* eos, int32_t* bos) {
    test::AlignedBytes a(test::serialize(g));
    heed_model* hm = nullptr;
    REQUIRE(heed_model_load_from_buffer(a.data(), a.size, &hm) == HEED_OK);
    const int32_t* ids = nullptr;
    size_t n = 99;
    REQUIRE(heed_model_generation_ids(hm, bos, &ids, &n) == HEED_OK);
    eos->assign(ids, ids + n);
    heed_model_free(hm);
  };
  std::vector<int32_t> eos;
  int32_t bos = 0;
  conv::IrGraph g = test::tiny_decoder_graph(false);
  load(g, &eos, &bos);  // no table, no tokenizer: nothing
  CHECK(eos.empty());
  CHECK(bos == -1);
  g.tokenizer = test::tiny_graph_bpe().tokenizer;
  for (int i = 16; i < 40; ++i) g.tokenizer.vocab.push_back("q" + std::to_string(i));
  g.tokenizer.eos_id = 7;
  g.tokenizer.bos_id = 6;
  load(g, &eos, &bos);  // no table (a file before 1.3): the tokenizer's
  CHECK(eos == std::vector<int32_t>{7});
  CHECK(bos == 6);
  g.has_generation = true;  // the table wins, even empty
  load(g, &eos, &bos);
  CHECK(eos.empty());
  CHECK(bos == -1);
  g.bos_id = 0;
  g.eos_ids = {39, 0, 5};
  load(g, &eos, &bos);
  CHECK(eos == std::vector<int32_t>{39, 0, 5});
  CHECK(bos == 0);
  // Other tasks: none.
  test::AlignedBytes a(test::serialize(test::tiny_graph(false)));
  heed_model* hm = nullptr;
  REQUIRE(heed_model_load_from_buffer(a.data(), a.size, &hm) == HEED_OK);
  size_t n = 9;
  CHECK(heed_model_generation_ids(hm, &bos, nullptr, &n) == HEED_OK);
  CHECK(n == 0);
  CHECK(bos == -1);
  CHECK(heed_model_generation_ids(nullptr, &bos, nullptr, &n) == HEED_ERROR_INVALID_ARGUMENT);
  heed_model_free(hm);
}

}  // TEST_SUITE
