// A tiny model serialized and loaded through the C API, for the runtime
// tests (doctest: a failure to build or load fails the test at once).
#pragma once

#include <doctest/doctest.h>

#include "heed/heed.h"
#include "runtime/tiny-model.h"

namespace heed::test {

struct Loaded {
  AlignedBytes bytes;
  heed_model* model = nullptr;
  explicit Loaded(const conv::IrGraph& g) : bytes(serialize(g)) {
    REQUIRE(bytes.size > 0);
    REQUIRE(heed_model_load_from_buffer(bytes.data(), bytes.size, &model) == HEED_OK);
  }
  ~Loaded() { heed_model_free(model); }
  Loaded(const Loaded&) = delete;
  Loaded& operator=(const Loaded&) = delete;
};

}  // namespace heed::test
