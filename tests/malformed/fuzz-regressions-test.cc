// Replays every model file the fuzzers once crashed heed with
// (tests/fuzz/crashes/model-load-*.bin) through the C API in the ordinary
// build: each must be rejected with a message or run without crashing.
#include <doctest/doctest.h>
#include <dirent.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "heed/heed.h"

TEST_SUITE("fast") {

TEST_CASE("fuzzer reproducers are handled") {
  const std::string dir = std::string(HEED_SOURCE_DIR) + "/tests/fuzz/crashes";
  DIR* d = opendir(dir.c_str());
  REQUIRE(d != nullptr);
  size_t replayed = 0;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind("model-load-", 0) != 0) continue;
    CAPTURE(name);
    std::ifstream f(dir + "/" + name, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    void* buf = std::aligned_alloc(64, (bytes.size() + 63) / 64 * 64);
    std::memcpy(buf, bytes.data(), bytes.size());
    heed_model* m = nullptr;
    const heed_status st = heed_model_load_from_buffer(buf, bytes.size(), &m);
    if (st != HEED_OK) {
      CHECK(m == nullptr);
      CHECK(std::strlen(heed_last_error()) > 0);
    } else {
      heed_session* s = nullptr;
      REQUIRE(heed_session_create(m, nullptr, nullptr, 0, &s) == HEED_OK);
      float out[1024];
      size_t n = 0;
      heed_embed_text(s, "the cat sat on the mat", SIZE_MAX, out, 1024, &n);
      heed_classify_text(s, "the cat sat on the mat", SIZE_MAX, out, 1024, &n);
      heed_session_free(s);
      heed_model_free(m);
    }
    std::free(buf);
    ++replayed;
  }
  closedir(d);
  CHECK(replayed > 0);
}

}  // TEST_SUITE
