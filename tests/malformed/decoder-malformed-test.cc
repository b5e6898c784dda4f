// Malformed causal-LM files (docs/SECURITY.md A3-A6, C3, D1): random byte
// corruption of the tiny decoder (ROPE, SWIGLU, ADD, per-token logits) never
// crashes; every file that still loads also runs a session without crashing
// (OK, or an error code such as HEED_ERROR_NON_FINITE for corrupted weights).
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <vector>

#include "exec/session.h"
#include "format/model.h"
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
