// The sampler's steps on hand-checked cases, and its argument checks.
// Conformance of the distributions with transformers' logits warpers on
// random logits is tests/e2e/test_sampler.py (through heed-sampler-probe).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "generate/sampler.h"

namespace heed {
namespace {

struct Fixture {
  std::vector<uint64_t> ws;
  Sampler s;
  Fixture(const SamplerParams& p, size_t vocab) : ws(sampler_workspace_bytes(vocab) / 8 + 1), s(p, vocab, ws.data()) {
    REQUIRE(sampler_check(p).ok());
  }
};

std::vector<double> dist(const SamplerParams& p, const std::vector<float>& logits, const std::vector<int32_t>& hist = {}) {
  Fixture f(p, logits.size());
  std::vector<double> probs(logits.size(), -1.0);
  const Status st = f.s.distribution(logits.data(), hist.data(), hist.size(), probs.data());
  REQUIRE_MESSAGE(st.ok(), st.message());
  return probs;
}

// Softmax of the given logits in double, over the ids where keep[i].
std::vector<double> softmax(const std::vector<double>& x, const std::vector<bool>& keep) {
  double mx = -INFINITY, z = 0;
  for (size_t i = 0; i < x.size(); ++i)
    if (keep[i]) mx = std::fmax(mx, x[i]);
  std::vector<double> p(x.size(), 0.0);
  for (size_t i = 0; i < x.size(); ++i)
    if (keep[i]) z += (p[i] = std::exp(x[i] - mx));
  for (double& v : p) v /= z;
  return p;
}

void check_close(const std::vector<double>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-6));
    CHECK((got[i] == 0.0) == (want[i] == 0.0));
  }
}

}  // namespace

TEST_SUITE("fast") {

TEST_CASE("sampler: greedy takes the lowest id among the largest logits, after the repetition penalty") {
  SamplerParams p;  // temperature 0
  CHECK(dist(p, {1.0f, 3.0f, 3.0f, -2.0f})[1] == 1.0);
  // Penalty 2 on id 1 (3 -> 1.5) and id 3 (-2 -> -4): id 2 wins.
  p.repetition_penalty = 2.0f;
  const std::vector<double> d = dist(p, {1.0f, 3.0f, 3.0f, -2.0f}, {1, 3, 1});
  CHECK(d == std::vector<double>{0, 0, 1, 0});
}

TEST_CASE("sampler: temperature, top-k with ties, top-p boundary") {
  const std::vector<float> logits = {2.0f, 1.0f, 1.0f, 0.0f, -1.0f};
  SamplerParams p;
  p.temperature = 0.5f;
  check_close(dist(p, logits), softmax({4, 2, 2, 0, -2}, {true, true, true, true, true}));
  // top_k = 2: the 2nd largest is 1.0, and id 2 ties with it: three ids kept.
  p.temperature = 1.0f;
  p.top_k = 2;
  check_close(dist(p, logits), softmax({2, 1, 1, 0, -1}, {true, true, true, false, false}));
  // top_p: masses (T = 1) 0.5344, 0.1966, 0.1966, 0.0723, 0.0266. With p = 0.6
  // the mass before id 1 is 0.5344 < 0.6: ids 0 and 1 kept; id 2's "before" is
  // 0.731 >= 0.6: dropped although it ties with id 1 (descending score, then id).
  p.top_k = 0;
  p.top_p = 0.6f;
  check_close(dist(p, logits), softmax({2, 1, 1, 0, -1}, {true, true, false, false, false}));
  // p small: only the most likely id.
  p.top_p = 0.01f;
  check_close(dist(p, logits), softmax({2, 1, 1, 0, -1}, {true, false, false, false, false}));
}

TEST_CASE("sampler: top-p over a large vocabulary equals the full-sort result") {
  // 50000 ids with a long tail: the nucleus needs more than the first 64 and
  // 512 candidates, so every growth step of the partial sort runs.
  const size_t V = 50000;
  std::vector<float> logits(V);
  uint32_t r = 12345;
  for (size_t i = 0; i < V; ++i) {
    r = r * 1664525u + 1013904223u;
    logits[i] = float(r >> 8) / float(1 << 24) * 4.0f;
  }
  SamplerParams p;
  p.temperature = 1.0f;
  p.top_p = 0.9f;
  const std::vector<double> got = dist(p, logits);
  // Independent: sort all ids, keep while the mass before is < p (double exp).
  std::vector<size_t> idx(V);
  for (size_t i = 0; i < V; ++i) idx[i] = i;
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
  double z = 0;
  for (float l : logits) z += std::exp(double(l) - 4.0);
  std::vector<bool> keep(V, false);
  double before = 0;
  size_t kept = 0;
  for (size_t i : idx) {
    if (kept > 0 && before >= 0.9 * z) break;
    keep[i] = true;
    before += std::exp(double(logits[i]) - 4.0);
    ++kept;
  }
  CHECK(kept > 4096);
  std::vector<double> x(logits.begin(), logits.end());
  check_close(got, softmax(x, keep));
}

TEST_CASE("sampler: draws follow the distribution and a seed repeats them") {
  const std::vector<float> logits = {0.0f, 1.0f, 2.0f, -30.0f};
  SamplerParams p;
  p.temperature = 1.0f;
  p.seed = 7;
  Fixture a(p, 4), b(p, 4);
  const std::vector<double> want = dist(p, logits);
  std::vector<int> count(4, 0);
  const int n = 20000;
  for (int t = 0; t < n; ++t) {
    int32_t i = -1, j = -1;
    REQUIRE(a.s.sample(logits.data(), nullptr, 0, &i).ok());
    REQUIRE(b.s.sample(logits.data(), nullptr, 0, &j).ok());
    REQUIRE(i == j);
    REQUIRE(i >= 0);
    REQUIRE(i < 4);
    ++count[size_t(i)];
  }
  for (size_t i = 0; i < 3; ++i) {  // within 5 standard deviations
    const double sd = std::sqrt(n * want[i] * (1 - want[i]));
    CHECK(std::fabs(count[i] - n * want[i]) < 5 * sd);
  }
  CHECK(count[3] == 0);
  // Another seed gives another sequence.
  p.seed = 8;
  Fixture c(p, 4);
  Fixture d(SamplerParams{1.0f, 0, 1.0f, 1.0f, 7}, 4);
  int differ = 0;
  for (int t = 0; t < 100; ++t) {
    int32_t i = -1, j = -1;
    REQUIRE(c.s.sample(logits.data(), nullptr, 0, &i).ok());
    REQUIRE(d.s.sample(logits.data(), nullptr, 0, &j).ok());
    differ += i != j;
  }
  CHECK(differ > 10);
}

TEST_CASE("sampler: bad parameters, logits and history are errors naming the problem") {
  struct Bad {
    SamplerParams p;
    const char* word;
  };
  const Bad bad[] = {{{-1.0f, 0, 1.0f, 1.0f, 0}, "temperature"},
                     {{NAN, 0, 1.0f, 1.0f, 0}, "temperature"},
                     {{INFINITY, 0, 1.0f, 1.0f, 0}, "temperature"},
                     {{1.0f, -1, 1.0f, 1.0f, 0}, "top_k"},
                     {{1.0f, 0, 0.0f, 1.0f, 0}, "top_p"},
                     {{1.0f, 0, 1.5f, 1.0f, 0}, "top_p"},
                     {{1.0f, 0, NAN, 1.0f, 0}, "top_p"},
                     {{1.0f, 0, 1.0f, 0.0f, 0}, "repetition_penalty"},
                     {{1.0f, 0, 1.0f, NAN, 0}, "repetition_penalty"}};
  for (const Bad& b : bad) {
    const Status st = sampler_check(b.p);
    CHECK(st.code() == HEED_ERROR_INVALID_ARGUMENT);
    CHECK(std::string(st.message()).find(b.word) != std::string::npos);
  }
  SamplerParams p;
  p.temperature = 1.0f;
  Fixture f(p, 3);
  int32_t id = -1;
  const float nan_logits[] = {0.0f, NAN, 1.0f};
  CHECK(f.s.sample(nan_logits, nullptr, 0, &id).code() == HEED_ERROR_NON_FINITE);
  const float inf_logits[] = {0.0f, -INFINITY, 1.0f};
  CHECK(f.s.sample(inf_logits, nullptr, 0, &id).code() == HEED_ERROR_NON_FINITE);
  const float ok[] = {0.0f, 1.0f, 2.0f};
  const int32_t outside[] = {0, 3};
  CHECK(f.s.sample(ok, outside, 2, &id).code() == HEED_ERROR_INVALID_INPUT);
  const int32_t negative[] = {-1};
  CHECK(f.s.sample(ok, negative, 1, &id).code() == HEED_ERROR_INVALID_INPUT);
  CHECK(f.s.sample(ok, nullptr, 1, &id).code() == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(f.s.sample(ok, nullptr, 0, nullptr).code() == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(f.s.sample(ok, nullptr, 0, &id).ok());
}

}  // TEST_SUITE

}  // namespace heed
