// Session, arena and C API behaviour on a tiny model built in the test.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "exec/session.h"
#include "plan/planner.h"
#include "heed/heed.h"
#include "runtime/loaded-model.h"

using namespace heed;

namespace {

using test::Loaded;

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    d += double(a[i]) * b[i];
    na += double(a[i]) * a[i];
    nb += double(b[i]) * b[i];
  }
  return d / std::sqrt(na * nb);
}

}  // namespace

TEST_SUITE("fast") {

TEST_CASE("model info, tokenizer and embedding through the C API") {
  Loaded m(test::tiny_graph());
  heed_model_info info;
  REQUIRE(heed_model_get_info(m.model, &info) == HEED_OK);
  CHECK(info.hidden_size == 32);
  CHECK(info.output_size == 32);
  CHECK(info.max_seq == 64);
  CHECK(info.vocab_size == 16);
  CHECK(info.task == HEED_TASK_EMBEDDING);

  int32_t ids[16];
  size_t n = 0;
  REQUIRE(heed_tokenize(m.model, "The cats sat.", SIZE_MAX, ids, 16, &n) == HEED_OK);
  const std::vector<int32_t> want = {2, 5, 6, 10, 7, 11, 3};
  REQUIRE(n == want.size());
  CHECK(std::vector<int32_t>(ids, ids + n) == want);

  heed_session_options opts;
  heed_session_options_init(&opts);
  heed_session* s = nullptr;
  REQUIRE(heed_session_create(m.model, &opts, nullptr, 0, &s) == HEED_OK);
  std::vector<float> e(32);
  size_t dim = 0;
  REQUIRE(heed_embed_text(s, "the cat sat on the mat", SIZE_MAX, e.data(), e.size(), &dim) == HEED_OK);
  CHECK(dim == 32);
  double norm = 0;
  for (float v : e) {
    REQUIRE(std::isfinite(v));
    norm += double(v) * v;
  }
  CHECK(norm == doctest::Approx(1.0).epsilon(1e-5));
  heed_session_free(s);
}

TEST_CASE("caller arena of exactly heed_session_arena_size bytes; too small is refused") {
  Loaded m(test::tiny_graph());
  heed_session_options opts;
  heed_session_options_init(&opts);
  opts.max_seq = 24;
  size_t bytes = 0;
  REQUIRE(heed_session_arena_size(m.model, &opts, &bytes) == HEED_OK);
  REQUIRE(bytes > 0);
  void* arena = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  heed_session* s = nullptr;
  CHECK(heed_session_create(m.model, &opts, arena, bytes - 1, &s) == HEED_ERROR_BUFFER_TOO_SMALL);
  CHECK(s == nullptr);
  CHECK(std::string(heed_last_error()).find("smaller") != std::string::npos);
  REQUIRE(heed_session_create(m.model, &opts, arena, bytes, &s) == HEED_OK);
  CHECK(heed_session_arena_used(s) == bytes);

  // Same result as a session with its own arena.
  heed_session* own = nullptr;
  REQUIRE(heed_session_create(m.model, &opts, nullptr, 0, &own) == HEED_OK);
  std::vector<float> a(32), b(32);
  size_t n = 0;
  REQUIRE(heed_embed_text(s, "a dog run", SIZE_MAX, a.data(), 32, &n) == HEED_OK);
  REQUIRE(heed_embed_text(own, "a dog run", SIZE_MAX, b.data(), 32, &n) == HEED_OK);
  CHECK(a == b);
  heed_session_free(s);
  heed_session_free(own);
  std::free(arena);
}

// (Zero heap calls during inference: tests/heap/heap-test.cc.)
TEST_CASE("two threads give bit-identical results") {
  Loaded m(test::tiny_graph(true));
  heed_session_options opts;
  heed_session_options_init(&opts);
  heed_session *one = nullptr, *two = nullptr;
  REQUIRE(heed_session_create(m.model, &opts, nullptr, 0, &one) == HEED_OK);
  opts.num_threads = 2;
  REQUIRE(heed_session_create(m.model, &opts, nullptr, 0, &two) == HEED_OK);
  std::vector<float> a(32), b(32);
  size_t n = 0;
  REQUIRE(heed_embed_text(one, "the cat sat on the mat . a dog run", SIZE_MAX, a.data(), 32, &n) == HEED_OK);
  const heed_status st = heed_embed_text(two, "the cat sat on the mat . a dog run", SIZE_MAX, b.data(), 32, &n);
  CHECK(st == HEED_OK);
  CHECK(std::memcmp(a.data(), b.data(), 32 * sizeof(float)) == 0);
  heed_session_free(one);
  heed_session_free(two);
}

TEST_CASE("int8 model tracks the fp32 model") {
  Loaded f(test::tiny_graph(false));
  Loaded q(test::tiny_graph(true));
  heed_session *sf = nullptr, *sq = nullptr;
  REQUIRE(heed_session_create(f.model, nullptr, nullptr, 0, &sf) == HEED_OK);
  REQUIRE(heed_session_create(q.model, nullptr, nullptr, 0, &sq) == HEED_OK);
  for (const char* text : {"the cat sat on the mat", "a doggy run .", "mat mat mat cat"}) {
    std::vector<float> a(32), b(32);
    size_t n;
    REQUIRE(heed_embed_text(sf, text, SIZE_MAX, a.data(), 32, &n) == HEED_OK);
    REQUIRE(heed_embed_text(sq, text, SIZE_MAX, b.data(), 32, &n) == HEED_OK);
    CHECK(cosine(a, b) > 0.99);
  }
  heed_session_free(sf);
  heed_session_free(sq);
}

TEST_CASE("bad run arguments give error codes") {
  Loaded m(test::tiny_graph());
  heed_session_options opts;
  heed_session_options_init(&opts);
  opts.max_seq = 8;
  heed_session* s = nullptr;
  REQUIRE(heed_session_create(m.model, &opts, nullptr, 0, &s) == HEED_OK);
  std::vector<float> out(32);
  size_t n = 0;
  int32_t ids[10] = {2, 5, 6, 3, 0, 0, 0, 0, 0, 0};
  CHECK(heed_session_run(s, ids, 0, out.data(), 32, &n) == HEED_ERROR_INVALID_INPUT);
  CHECK(heed_session_run(s, ids, 9, out.data(), 32, &n) == HEED_ERROR_INVALID_INPUT);
  CHECK(heed_session_run(s, ids, 4, out.data(), 31, &n) == HEED_ERROR_BUFFER_TOO_SMALL);
  CHECK(n == 32);
  CHECK(heed_session_run(s, nullptr, 4, out.data(), 32, &n) == HEED_ERROR_INVALID_ARGUMENT);
  int32_t bad[3] = {2, 16, 3};
  CHECK(heed_session_run(s, bad, 3, out.data(), 32, &n) == HEED_ERROR_INVALID_INPUT);
  CHECK(std::string(heed_last_error()).find("vocabulary") != std::string::npos);
  int32_t neg[3] = {2, -1, 3};
  CHECK(heed_session_run(s, neg, 3, out.data(), 32, &n) == HEED_ERROR_INVALID_INPUT);
  CHECK(heed_session_run(nullptr, ids, 4, out.data(), 32, &n) == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(heed_classify_text(s, "the cat", SIZE_MAX, out.data(), 32, &n) == HEED_ERROR_INVALID_ARGUMENT);
  // Text longer than the session is truncated, not refused.
  CHECK(heed_embed_text(s, "the cat sat on the mat the cat sat on the mat", SIZE_MAX, out.data(), 32, &n) == HEED_OK);
  heed_session_options too_long = opts;
  too_long.max_seq = 65;
  heed_session* s2 = nullptr;
  CHECK(heed_session_create(m.model, &too_long, nullptr, 0, &s2) == HEED_ERROR_INVALID_ARGUMENT);
  too_long.max_seq = 8;
  too_long.num_threads = 0;
  CHECK(heed_session_create(m.model, &too_long, nullptr, 0, &s2) == HEED_ERROR_INVALID_ARGUMENT);
  heed_session_free(s);
}

TEST_CASE("a buffer that changes after load cannot reach indices, shapes or tokenizer tables") {
  // Everything but the weight bytes is copied at load; scribbling over the
  // whole buffer afterwards may change numbers, never memory safety.
  test::AlignedBytes bytes(test::serialize(test::tiny_graph(true)));
  heed_model* m = nullptr;
  REQUIRE(heed_model_load_from_buffer(bytes.data(), bytes.size, &m) == HEED_OK);
  heed_session* s = nullptr;
  REQUIRE(heed_session_create(m, nullptr, nullptr, 0, &s) == HEED_OK);
  std::vector<float> before(32), after(32);
  size_t n = 0;
  REQUIRE(heed_embed_text(s, "the cat sat on the mat", SIZE_MAX, before.data(), 32, &n) == HEED_OK);
  std::memset(bytes.data(), 0x01, bytes.size);  // finite (tiny) floats, int8 ones
  int32_t ids[64];
  REQUIRE(heed_tokenize(m, "the cat sat on the mat", SIZE_MAX, ids, 64, &n) == HEED_OK);
  CHECK(n == 8);
  CHECK(heed_embed_text(s, "the cat sat on the mat", SIZE_MAX, after.data(), 32, &n) == HEED_OK);
  CHECK(before != after);  // the weights did change
  // All-ones bytes are NaN floats: the run reports them instead of printing NaN (I5).
  std::memset(bytes.data(), 0xFF, bytes.size);
  CHECK(heed_embed_text(s, "the cat sat on the mat", SIZE_MAX, after.data(), 32, &n) == HEED_ERROR_NON_FINITE);
  CHECK(std::strstr(heed_last_error(), "NaN") != nullptr);
  heed_session_free(s);
  heed_model_free(m);
}

TEST_CASE("NULL arguments to the C API never crash") {
  heed_model* m = nullptr;
  CHECK(heed_model_load(nullptr, &m) == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(heed_model_load("/nonexistent/model.heed", &m) == HEED_ERROR_IO);
  CHECK(m == nullptr);
  CHECK(std::string(heed_last_error()).find("/nonexistent/model.heed") != std::string::npos);
  CHECK(heed_model_load("/tmp", &m) == HEED_ERROR_IO);
  CHECK(heed_model_load_from_buffer(nullptr, 10, &m) == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(heed_model_get_info(nullptr, nullptr) == HEED_ERROR_INVALID_ARGUMENT);
  size_t n;
  CHECK(heed_tokenize(nullptr, "x", 1, nullptr, 0, &n) == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(heed_session_arena_size(nullptr, nullptr, &n) == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(heed_model_label(nullptr, 0) == nullptr);
  heed_model_free(nullptr);
  heed_session_free(nullptr);
  CHECK(std::string(heed_status_name(HEED_ERROR_IO)) == "HEED_ERROR_IO");
}

TEST_CASE("memory planner reuses memory of dead tensors and never overlaps live ones") {
  // chain a -> b -> c -> d: a and c can share, b and d can share.
  std::vector<PlanRequest> req = {{1000, -1, 0}, {1000, 0, 1}, {1000, 1, 2}, {1000, 2, 3}};
  Plan plan;
  REQUIRE(plan_memory(req, &plan));
  CHECK(plan.total_bytes == 2 * 1024);
  for (size_t i = 0; i < req.size(); ++i)
    for (size_t j = i + 1; j < req.size(); ++j) {
      const bool live_together = !(req[i].last_use < req[j].first_use || req[j].last_use < req[i].first_use);
      const bool overlap = plan.offsets[i] < plan.offsets[j] + 1024 && plan.offsets[j] < plan.offsets[i] + 1024;
      CHECK(!(live_together && overlap));
    }
  std::vector<PlanRequest> huge = {{SIZE_MAX - 10, 0, 1}};
  CHECK_FALSE(plan_memory(huge, &plan));
}

}  // TEST_SUITE
