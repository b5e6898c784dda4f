// Every ISA path gives the same output bytes.
//  - Always: the tiny models (fp32 and int8, embedding), every ISA this CPU
//    (or qemu's CPU) supports, against the scalar path, 1 and 2 threads.
//  - With HEED_IDENTITY_DIR set (tools/isa-identity.sh): a real model. The
//    directory holds model-fp32.heed, model-int8.heed, texts.txt (one text a
//    line) and expected-fp32.f32 / expected-int8.f32, the embeddings another
//    machine computed (raw little-endian float32, one row per text); every ISA
//    here must reproduce those bytes: x86 and ARM, scalar and SIMD alike.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "heed/heed.h"
#include "kernels/isa.h"
#include "runtime/loaded-model.h"

using namespace heed;

namespace {

std::vector<Isa> isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot})
    if (isa_supported(isa)) out.push_back(isa);
  return out;
}

// Embeddings of texts with one session of `isa`, rows concatenated.
std::vector<float> embed_all(const heed_model* model, Isa isa, int threads, const std::vector<std::string>& texts,
                             size_t dim) {
  heed_session_options o;
  heed_session_options_init(&o);
  o.isa = isa_name(isa);
  o.num_threads = threads;
  heed_session* s = nullptr;
  REQUIRE(heed_session_create(model, &o, nullptr, 0, &s) == HEED_OK);
  std::vector<float> out(texts.size() * dim);
  for (size_t i = 0; i < texts.size(); ++i) {
    size_t n = 0;
    REQUIRE(heed_embed_text(s, texts[i].data(), texts[i].size(), out.data() + i * dim, dim, &n) == HEED_OK);
  }
  heed_session_free(s);
  return out;
}

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

TEST_SUITE("fast") {

TEST_CASE("isa identity: every ISA and thread count gives the scalar path's bytes (tiny models)") {
  const std::vector<std::string> texts = {"the cat sat on the mat", "a doggy run .", "", "mat mat mat cat the"};
  for (bool int8 : {false, true}) {
    test::Loaded m(test::tiny_graph(int8));
    const std::vector<float> ref = embed_all(m.model, Isa::kScalar, 1, texts, 32);
    for (Isa isa : isas())
      for (int threads : {1, 2}) {
        CAPTURE(int8);
        CAPTURE(isa_name(isa));
        CAPTURE(threads);
        const std::vector<float> got = embed_all(m.model, isa, threads, texts, 32);
        CHECK(std::memcmp(got.data(), ref.data(), ref.size() * sizeof(float)) == 0);
      }
  }
}

}  // TEST_SUITE("fast")

// Run by tools/isa-identity.sh (not by ctest): it needs the directory.
TEST_SUITE("identity") {

TEST_CASE("isa identity: a real model reproduces another machine's bytes (HEED_IDENTITY_DIR)") {
  const char* dir = std::getenv("HEED_IDENTITY_DIR");
  REQUIRE_MESSAGE(dir != nullptr, "set HEED_IDENTITY_DIR (tools/isa-identity.sh)");
  std::vector<std::string> texts;
  {
    std::istringstream in(read_all(std::string(dir) + "/texts.txt"));
    std::string line;
    while (std::getline(in, line)) texts.push_back(line);
  }
  REQUIRE(texts.size() > 0);
  for (const std::string precision : {"fp32", "int8"}) {
    CAPTURE(precision);
    heed_model* model = nullptr;
    const std::string path = std::string(dir) + "/model-" + precision + ".heed";
    REQUIRE(heed_model_load(path.c_str(), &model) == HEED_OK);
    heed_model_info info;
    REQUIRE(heed_model_get_info(model, &info) == HEED_OK);
    const std::string expected = read_all(std::string(dir) + "/expected-" + precision + ".f32");
    REQUIRE(expected.size() == texts.size() * info.output_size * sizeof(float));
    for (Isa isa : isas()) {
      CAPTURE(isa_name(isa));
      const std::vector<float> got = embed_all(model, isa, 1, texts, info.output_size);
      size_t differing = 0;
      for (size_t i = 0; i < got.size(); ++i)
        differing += std::memcmp(&got[i], expected.data() + i * sizeof(float), sizeof(float)) != 0;
      CHECK(differing == 0);
      const std::string line = precision + " " + isa_name(isa) + ": " + std::to_string(texts.size()) +
                               " texts, " + std::to_string(got.size()) + " floats, " + std::to_string(differing) +
                               " differ from the reference machine";
      MESSAGE(line);
    }
    heed_model_free(model);
  }
}

}  // TEST_SUITE("identity")
