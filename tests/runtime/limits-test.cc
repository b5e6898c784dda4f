// Runtime limits and strictness of the C API: threads capped at the CPUs,
// HEED_ISA never silently ignored, non-finite outputs reported, labels of any
// bytes, models on FIFOs refused without blocking (I1, I4, I5, I6).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/platform.h"
#include "heed/heed.h"
#include "runtime/loaded-model.h"

using namespace heed;

namespace {

using test::Loaded;

bool contains(const char* haystack, const char* needle) { return std::strstr(haystack, needle) != nullptr; }

// Sets an environment variable for one scope.
struct ScopedEnv {
  const char* name;
  ScopedEnv(const char* n, const char* value) : name(n) { setenv(n, value, 1); }
  ~ScopedEnv() { unsetenv(name); }
};

}  // namespace

TEST_SUITE("fast") {

TEST_CASE("threads: more than the CPUs available are capped, out of range is refused") {
  Loaded m(test::tiny_graph());
  const int cpus = int(available_cpus());
  CHECK(cpus >= 1);
  heed_session_options o;
  heed_session_options_init(&o);
  heed_session* s = nullptr;
  o.num_threads = HEED_MAX_THREADS;
  REQUIRE(heed_session_create(m.model, &o, nullptr, 0, &s) == HEED_OK);
  CHECK(heed_session_num_threads(s) == std::min(cpus, HEED_MAX_THREADS));
  std::vector<float> a(32), b(32);
  size_t n = 0;
  REQUIRE(heed_embed_text(s, "the cat sat", SIZE_MAX, a.data(), 32, &n) == HEED_OK);
  heed_session_free(s);
  o.num_threads = 1;
  REQUIRE(heed_session_create(m.model, &o, nullptr, 0, &s) == HEED_OK);
  CHECK(heed_session_num_threads(s) == 1);
  REQUIRE(heed_embed_text(s, "the cat sat", SIZE_MAX, b.data(), 32, &n) == HEED_OK);
  CHECK(a == b);
  heed_session_free(s);
  for (int bad : {0, -1, HEED_MAX_THREADS + 1, 1 << 30}) {
    o.num_threads = bad;
    CHECK(heed_session_create(m.model, &o, nullptr, 0, &s) == HEED_ERROR_INVALID_ARGUMENT);
    CHECK(contains(heed_last_error(), "num_threads must be in 1..256"));
  }
  CHECK(heed_session_num_threads(nullptr) == 0);
}

TEST_CASE("HEED_ISA: an unknown or unsupported ISA is an error, never ignored") {
  Loaded m(test::tiny_graph());
  heed_session* s = nullptr;
  {
    ScopedEnv env("HEED_ISA", "bogus");
    CHECK(heed_session_create(m.model, nullptr, nullptr, 0, &s) == HEED_ERROR_INVALID_ARGUMENT);
    CHECK(contains(heed_last_error(), "HEED_ISA"));
    CHECK(contains(heed_last_error(), "unknown ISA 'bogus'"));
  }
  {
    ScopedEnv env("HEED_ISA", "scalar ");  // whole string, no trimming
    CHECK(heed_session_create(m.model, nullptr, nullptr, 0, &s) == HEED_ERROR_INVALID_ARGUMENT);
  }
  {
#if defined(__x86_64__) || defined(__i386__)
    ScopedEnv env("HEED_ISA", "neondot");
#else
    ScopedEnv env("HEED_ISA", "avx512vnni");
#endif
    CHECK(heed_session_create(m.model, nullptr, nullptr, 0, &s) == HEED_ERROR_UNSUPPORTED);
    CHECK(contains(heed_last_error(), "not supported by this CPU"));
  }
  {
    ScopedEnv env("HEED_ISA", "scalar");
    REQUIRE(heed_session_create(m.model, nullptr, nullptr, 0, &s) == HEED_OK);
    heed_session_free(s);
  }
  {
    ScopedEnv env("HEED_ISA", "");  // empty = unset
    REQUIRE(heed_session_create(m.model, nullptr, nullptr, 0, &s) == HEED_OK);
    heed_session_free(s);
  }
}

TEST_CASE("non-finite outputs are an error code, not a vector of NaN") {
  // Finite weights that overflow float: Q and K of about 1e30, so the
  // attention scores Q.K are infinite and softmax gives NaN.
  conv::IrGraph g = test::tiny_graph();
  for (conv::IrTensor& t : g.tensors)
    if (t.name == "qkv.w")
      for (float& x : t.f32) x *= 1e30f;
  Loaded m(g);
  heed_session* s = nullptr;
  REQUIRE(heed_session_create(m.model, nullptr, nullptr, 0, &s) == HEED_OK);
  std::vector<float> out(32, 0.0f);
  size_t n = 0;
  CHECK(heed_embed_text(s, "the cat", SIZE_MAX, out.data(), 32, &n) == HEED_ERROR_NON_FINITE);
  CHECK(contains(heed_last_error(), "for this input"));
  CHECK(std::strcmp(heed_status_name(HEED_ERROR_NON_FINITE), "HEED_ERROR_NON_FINITE") == 0);
  heed_session_free(s);
}

TEST_CASE("labels hold any bytes: heed_model_get_label gives their length") {
  conv::IrGraph g = test::tiny_graph();
  static const char kNasty[] = "nul\0tab\tnl\n\"q\"\\";
  g.labels = {"plain", std::string(kNasty, sizeof kNasty - 1), ""};
  Loaded m(g);
  const char* l = nullptr;
  size_t len = 0;
  REQUIRE(heed_model_get_label(m.model, 1, &l, &len) == HEED_OK);
  CHECK(std::string(l, len) == g.labels[1]);
  CHECK(std::strcmp(heed_model_label(m.model, 1), "nul") == 0);  // the C-string form ends at NUL
  REQUIRE(heed_model_get_label(m.model, 2, &l, &len) == HEED_OK);
  CHECK(len == 0);
  CHECK(heed_model_get_label(m.model, 3, &l, &len) == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(heed_model_get_label(m.model, 0, nullptr, &len) == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(heed_model_get_label(nullptr, 0, &l, &len) == HEED_ERROR_INVALID_ARGUMENT);
}

TEST_CASE("heed_model_load refuses a FIFO, a directory and a device without blocking") {
  char dir[] = "/tmp/heed-limits-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string fifo = std::string(dir) + "/model.heed";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  alarm(20);  // a blocking open would stop here: fail the test instead of hanging
  heed_model* m = nullptr;
  for (const char* path : {fifo.c_str(), static_cast<const char*>(dir), "/dev/zero"}) {
    INFO(path);
    CHECK(heed_model_load(path, &m) == HEED_ERROR_IO);
    CHECK(contains(heed_last_error(), "not a regular file"));
    CHECK(m == nullptr);
  }
  alarm(0);
  unlink(fifo.c_str());
  rmdir(dir);
}

}  // TEST_SUITE
