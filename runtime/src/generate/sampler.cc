#include "generate/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/math/f32-math.h"

namespace heed {

namespace {
constexpr size_t align8(size_t n) { return (n + 7) / 8 * 8; }

// Descending score, then ascending id: a total order, so every platform's
// std::sort / nth_element give the same sequence.
struct ByScore {
  const float* s;
  bool operator()(int32_t a, int32_t b) const { return s[a] > s[b] || (s[a] == s[b] && a < b); }
};
}  // namespace

Status sampler_check(const SamplerParams& p) {
  if (!(p.temperature >= 0.0f) || !std::isfinite(p.temperature)) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "temperature must be finite and >= 0 (0 = greedy), not %g",
                         double(p.temperature));
  }
  if (p.top_k < 0) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "top_k must be >= 0 (0 = off), not %d", p.top_k);
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f)) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "top_p must be in (0, 1] (1 = off), not %g", double(p.top_p));
  }
  if (!(p.repetition_penalty > 0.0f) || !std::isfinite(p.repetition_penalty)) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "repetition_penalty must be finite and > 0 (1 = off), not %g",
                         double(p.repetition_penalty));
  }
  return Status::Ok();
}

size_t sampler_workspace_bytes(size_t vocab) {
  return align8(vocab * sizeof(float)) + align8(vocab * sizeof(int32_t)) + vocab * sizeof(double) + align8(vocab);
}

Sampler::Sampler(const SamplerParams& params, size_t vocab, void* workspace) : p_(params), vocab_(vocab) {
  uint8_t* w = static_cast<uint8_t*>(workspace);
  scores_ = reinterpret_cast<float*>(w);
  w += align8(vocab * sizeof(float));
  order_ = reinterpret_cast<int32_t*>(w);
  w += align8(vocab * sizeof(int32_t));
  weights_ = reinterpret_cast<double*>(w);
  w += vocab * sizeof(double);
  seen_ = w;
  std::memset(seen_, 0, vocab);
  state_ = params.seed;
}

double Sampler::uniform() {  // splitmix64, top 53 bits: [0, 1)
  state_ += 0x9E3779B97F4A7C15ull;
  uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return double(z >> 11) * (1.0 / 9007199254740992.0);
}

Status Sampler::prepare(const float* logits, const int32_t* history, size_t history_len, size_t* kept,
                        int32_t* greedy) {
  const size_t V = vocab_;
  if (V == 0 || !logits || (history_len && !history)) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "sampler: empty vocabulary or null logits/history");
  }
  for (size_t i = 0; i < V; ++i) {
    if (!std::isfinite(logits[i])) {
      return Status::Error(HEED_ERROR_NON_FINITE, "logit of id %zu is %s", i, std::isnan(logits[i]) ? "NaN" : "infinite");
    }
    scores_[i] = logits[i];
  }
  for (size_t t = 0; t < history_len; ++t) {
    if (history[t] < 0 || size_t(history[t]) >= V) {
      return Status::Error(HEED_ERROR_INVALID_INPUT, "history id %d at %zu is outside the vocabulary [0, %zu)",
                           history[t], t, V);
    }
  }
  // 1. Repetition penalty, once per distinct id.
  if (p_.repetition_penalty != 1.0f) {
    for (size_t t = 0; t < history_len; ++t) {
      const int32_t id = history[t];
      if (seen_[id]) continue;
      seen_[id] = 1;
      const float s = scores_[id];
      scores_[id] = s < 0.0f ? s * p_.repetition_penalty : s / p_.repetition_penalty;
    }
    for (size_t t = 0; t < history_len; ++t) seen_[history[t]] = 0;
  }
  // 2. Greedy.
  if (p_.temperature == 0.0f) {
    size_t best = 0;
    for (size_t i = 1; i < V; ++i)
      if (scores_[i] > scores_[best]) best = i;
    *greedy = int32_t(best);
    *kept = 1;
    return Status::Ok();
  }
  *greedy = -1;
  // 3. Temperature.
  if (p_.temperature != 1.0f)
    for (size_t i = 0; i < V; ++i) scores_[i] = scores_[i] / p_.temperature;
  for (size_t i = 0; i < V; ++i) order_[i] = int32_t(i);
  const ByScore by{scores_};
  // 4. Top-k: the k best by the total order, then every id tied with the k-th.
  size_t n = V;
  if (p_.top_k > 0 && size_t(p_.top_k) < V) {
    const size_t k = size_t(p_.top_k);
    std::nth_element(order_, order_ + (k - 1), order_ + V, by);
    const float kth = scores_[order_[k - 1]];
    n = size_t(std::partition(order_ + k, order_ + V, [&](int32_t id) { return scores_[id] >= kth; }) - order_);
  }
  // 5. Top-p over the n ids, by descending score. Sorting all n costs
  // O(V log V) per token, so the best m are sorted first (m = 64, 512, 4096,
  // ..., n) until their mass reaches p; the result is the same as a full sort.
  const float mx = *std::max_element(scores_, scores_ + V);
  if (p_.top_p < 1.0f) {
    double total = 0.0;
    for (size_t i = 0; i < n; ++i) total += double(f32_exp(scores_[order_[i]] - mx));
    const double target = double(p_.top_p) * total;
    size_t m = n < 64 ? n : 64;
    for (;;) {
      if (m < n) std::nth_element(order_, order_ + (m - 1), order_ + n, by);
      std::sort(order_, order_ + m, by);
      double before = 0.0;
      size_t keep = 0;
      while (keep < m && (keep == 0 || before < target)) {
        before += double(f32_exp(scores_[order_[keep]] - mx));
        ++keep;
      }
      if (keep < m || before >= target || m == n) {
        n = keep;
        break;
      }
      m = m * 8 < n ? m * 8 : n;
    }
  } else {
    std::sort(order_, order_ + n, by);
  }
  for (size_t i = 0; i < n; ++i) weights_[i] = double(f32_exp(scores_[order_[i]] - mx));
  *kept = n;
  return Status::Ok();
}

Status Sampler::sample(const float* logits, const int32_t* history, size_t history_len, int32_t* id) {
  if (!id) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "sampler: null output id");
  size_t n = 0;
  int32_t g = -1;
  HEED_RETURN_IF_ERROR(prepare(logits, history, history_len, &n, &g));
  if (g >= 0) {
    *id = g;
    return Status::Ok();
  }
  double total = 0.0;
  for (size_t i = 0; i < n; ++i) total += weights_[i];
  const double u = uniform() * total;
  double c = 0.0;
  for (size_t i = 0; i < n; ++i) {
    c += weights_[i];
    if (u < c) {
      *id = order_[i];
      return Status::Ok();
    }
  }
  *id = order_[n - 1];  // u within rounding of total
  return Status::Ok();
}

Status Sampler::distribution(const float* logits, const int32_t* history, size_t history_len, double* probs) {
  if (!probs) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "sampler: null probabilities");
  size_t n = 0;
  int32_t g = -1;
  HEED_RETURN_IF_ERROR(prepare(logits, history, history_len, &n, &g));
  for (size_t i = 0; i < vocab_; ++i) probs[i] = 0.0;
  if (g >= 0) {
    probs[g] = 1.0;
    return Status::Ok();
  }
  double total = 0.0;
  for (size_t i = 0; i < n; ++i) total += weights_[i];
  for (size_t i = 0; i < n; ++i) probs[order_[i]] = weights_[i] / total;
  return Status::Ok();
}

}  // namespace heed
