// Helpers for op tests: load a serialized graph, run it, read test data.
#pragma once

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "exec/session.h"
#include "format/model.h"
#include "runtime/tiny-model.h"

namespace heed::test {

inline Status load_bytes(const std::vector<uint8_t>& bytes) {
  AlignedBytes a(bytes);
  Model m;
  return m.load_buffer(a.data(), a.size);
}

inline Status load_graph(const conv::IrGraph& g) { return load_bytes(serialize(g)); }

// Loads `bytes`, runs one session on `ids` (default ISA) and returns the
// graph output.
inline std::vector<float> run_bytes(const std::vector<uint8_t>& bytes, const std::vector<int32_t>& ids) {
  AlignedBytes a(bytes);
  Model m;
  const Status ls = m.load_buffer(a.data(), a.size);
  CAPTURE(ls.message());
  REQUIRE(ls.ok());
  Session s;
  REQUIRE(s.init(&m, SessionOptions{}, nullptr, 0).ok());
  std::vector<float> out(m.output_size());
  size_t n = 0;
  const Status rs = s.run(ids.data(), ids.size(), out.data(), out.size(), &n);
  CAPTURE(rs.message());
  REQUIRE(rs.ok());
  return out;
}

inline std::vector<uint8_t> read_test_file(const std::string& name) {
  std::ifstream f(std::string(HEED_SOURCE_DIR) + "/tests/data/" + name, std::ios::binary);
  REQUIRE(f.good());
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

}  // namespace heed::test
