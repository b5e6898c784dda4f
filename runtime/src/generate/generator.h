// Generator: text generation for a causal LM on one Session, one token at a
// time: the prompt runs once (Session::run, which makes it the session's
// context), then each id drawn is appended with Session::decode (the
// attention layers' key/value caches), and the Sampler picks the next id
// from the last row of logits.
//
// Memory: the logits are read in place in the session's arena
// (Session::run_in_place / decode_in_place), the last row of what the pass
// wrote: one row on a last_logits_only session, a row per token otherwise
// (the same bits either way). init() allocates the rest once: a history of
// max_seq ids and the sampler's workspace (vocab-sized). generate() makes no
// heap call. One thread at a time, like its Session.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/status.h"
#include "exec/session.h"
#include "generate/sampler.h"

namespace heed {

enum class StopReason {
  kMaxTokens,    // max_tokens ids generated
  kEos,          // one of the model's eos ids was drawn (not output)
  kStopId,       // one of the stop ids was drawn (not output)
  kContextFull,  // prompt + generated reached the session's max_seq (never for a streaming session)
  kCallback,     // the callback returned false
};

const char* stop_reason_name(StopReason r);  // "max_tokens", "eos", ...

struct GenerateParams {
  size_t max_tokens = 64;
  SamplerParams sampler;
  const int32_t* stop_ids = nullptr;  // ids that end generation (not output)
  size_t num_stop_ids = 0;
  bool ignore_eos = false;  // the eos ids are ordinary ids: output, no stop
};

// Called with each id generated (after it is in the history); return false
// to stop (StopReason::kCallback).
using TokenCallback = bool (*)(void* user, int32_t id);

struct GenerateResult {
  StopReason stop = StopReason::kMaxTokens;
  size_t prompt_tokens = 0;
  size_t generated_tokens = 0;  // ids passed to the callback
};

class Generator {
 public:
  // HEED_ERROR_UNSUPPORTED for a model that is not a causal LM. The session
  // must outlive the generator. May throw std::bad_alloc (the C API catches it).
  Status init(Session* session);

  // The ids that end generation: Model::eos_ids() (the file's generation
  // config; for files before schema 1.3 the BPE tokenizer's eos).
  const std::vector<int32_t>& eos_ids() const { return *eos_; }
  // The first of them, or -1 if there are none.
  int32_t eos_id() const { return eos_->empty() ? -1 : eos_->front(); }
  size_t vocab() const { return vocab_; }
  size_t max_seq() const { return max_seq_; }

  // Generates after `prompt` (1..max_seq ids, each in [0, vocab)). Errors:
  // HEED_ERROR_INVALID_ARGUMENT (bad sampler params naming the field, a stop
  // id outside the vocabulary, NULLs), HEED_ERROR_INVALID_INPUT (empty or
  // too long prompt, an id out of range), HEED_ERROR_NON_FINITE. *result has
  // the counts so far also on error.
  Status generate(const int32_t* prompt, size_t prompt_len, const GenerateParams& params, TokenCallback callback,
                  void* user, GenerateResult* result);

  // Prompt and generated ids of the last generate() call.
  const int32_t* history() const { return history_.data(); }
  size_t history_len() const { return history_len_; }

 private:
  Session* session_ = nullptr;
  size_t vocab_ = 0;
  size_t max_seq_ = 0;
  const std::vector<int32_t>* eos_ = &kNoIds;
  static const std::vector<int32_t> kNoIds;
  std::vector<int32_t> history_;  // [max_seq]
  size_t history_len_ = 0;
  std::vector<uint64_t> workspace_;  // sampler_workspace_bytes(vocab), 8-byte aligned
};

}  // namespace heed
