// Sampler: picks the next token from a row of logits, as Hugging Face
// transformers' generate() does with the same settings, without touching the
// heap.
//
// Order of the steps (transformers 4.40's logits processors, then warpers):
//   1. repetition penalty over the distinct ids of the history (prompt and
//      generated): a logit s of such an id becomes s * penalty if s < 0,
//      else s / penalty (penalty 1 = off);
//   2. temperature 0: greedy, the lowest id among the largest logits (what
//      torch.argmax returns); nothing below is applied;
//   3. temperature T > 0: s / T;
//   4. top-k (k > 0): drop every id whose logit is below the k-th largest
//      (ties with it are kept, as TopKLogitsWarper keeps them);
//   5. top-p (p < 1): over the ids left, by descending logit, keep an id
//      while the probability mass of the ids before it is < p (the most
//      likely id is always kept), as TopPLogitsWarper's "cumulative mass
//      from below <= 1 - p" removes;
//   6. softmax over the ids kept and one draw from it with the sampler's
//      own seeded generator (splitmix64 state update, 53-bit uniform). The
//      distribution is transformers'; the draws are heed's own (they cannot
//      reproduce torch's generator), and a seed gives the same ids on every
//      platform, since the draw compares doubles computed in a fixed order.
//
// Workspace: caller-provided, sampler_workspace_bytes(vocab) bytes (the
// session arena), reused for every token. Thread safety: one Sampler per
// generation.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/status.h"

namespace heed {

struct SamplerParams {
  float temperature = 0.0f;         // 0: greedy; else > 0
  int32_t top_k = 0;                // 0: off; else >= 1
  float top_p = 1.0f;               // 1: off; else in (0, 1)
  float repetition_penalty = 1.0f;  // 1: off; else > 0
  uint64_t seed = 0;
};

// Checks the values above; the message names the field.
Status sampler_check(const SamplerParams& p);

// Bytes of workspace for a vocabulary of `vocab` ids.
size_t sampler_workspace_bytes(size_t vocab);

class Sampler {
 public:
  // `params` must have passed sampler_check; `workspace` is
  // sampler_workspace_bytes(vocab) bytes, 8-byte aligned, owned by the caller.
  Sampler(const SamplerParams& params, size_t vocab, void* workspace);

  // The next id. `logits` has vocab entries and is not modified; history
  // holds the ids seen so far (ids outside [0, vocab) are an error).
  // HEED_ERROR_NON_FINITE if a logit is NaN or infinite.
  Status sample(const float* logits, const int32_t* history, size_t history_len, int32_t* id);

  // The probabilities of step 6 (after every step above) for `logits`, into
  // probs[vocab] (0 for dropped ids); greedy puts 1 on its id. For tests and
  // tools: the same code path as sample() without the draw.
  Status distribution(const float* logits, const int32_t* history, size_t history_len, double* probs);

 private:
  Status prepare(const float* logits, const int32_t* history, size_t history_len, size_t* kept, int32_t* greedy);
  double uniform();

  SamplerParams p_;
  size_t vocab_;
  float* scores_;     // [vocab] logits after steps 1 and 3
  int32_t* order_;    // [vocab] ids, the first `kept` by descending score
  double* weights_;   // [vocab] exp(score - max) of order_[i]
  uint8_t* seen_;     // [vocab] history marks for step 1
  uint64_t state_;
};

}  // namespace heed
