#include "generate/generator.h"

#include <cstring>

namespace heed {

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::kMaxTokens: return "max_tokens";
    case StopReason::kEos: return "eos";
    case StopReason::kStopId: return "stop_id";
    case StopReason::kContextFull: return "context_full";
    case StopReason::kCallback: return "callback";
  }
  return "unknown";
}

const std::vector<int32_t> Generator::kNoIds;

Status Generator::init(Session* session) {
  if (!session || !session->model()) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "session is not initialized");
  const Model& m = *session->model();
  if (m.metadata().task != Task::kCausalLm || !m.output_per_token()) {
    return Status::Error(HEED_ERROR_UNSUPPORTED, "model '%s' is not a causal LM: generation needs next-token logits",
                         m.metadata().architecture.c_str());
  }
  session_ = session;
  vocab_ = m.output_size();
  max_seq_ = session->max_seq();
  eos_ = &m.eos_ids();
  history_.assign(max_seq_, 0);
  workspace_.assign(sampler_workspace_bytes(vocab_) / 8 + 1, 0);
  history_len_ = 0;
  return Status::Ok();
}

Status Generator::generate(const int32_t* prompt, size_t prompt_len, const GenerateParams& params,
                           TokenCallback callback, void* user, GenerateResult* result) {
  if (!result) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "result is NULL");
  *result = GenerateResult();
  if (!session_) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "generator is not initialized");
  if (!prompt && prompt_len) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "prompt ids are NULL");
  if (!params.stop_ids && params.num_stop_ids) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "stop_ids is NULL");
  HEED_RETURN_IF_ERROR(sampler_check(params.sampler));
  for (size_t i = 0; i < params.num_stop_ids; ++i) {
    if (params.stop_ids[i] < 0 || size_t(params.stop_ids[i]) >= vocab_) {
      return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "stop_ids[%zu] = %d is outside the vocabulary [0, %zu)", i,
                           params.stop_ids[i], vocab_);
    }
  }
  if (prompt_len == 0) return Status::Error(HEED_ERROR_INVALID_INPUT, "the prompt has no tokens");
  if (prompt_len > max_seq_) {
    return Status::Error(HEED_ERROR_INVALID_INPUT, "the prompt's %zu tokens exceed the session's max_seq %zu",
                         prompt_len, max_seq_);
  }
  for (size_t i = 0; i < prompt_len; ++i) {
    if (prompt[i] < 0 || size_t(prompt[i]) >= vocab_) {
      return Status::Error(HEED_ERROR_INVALID_INPUT, "prompt id %d at position %zu is outside [0, %zu)", prompt[i], i,
                           vocab_);
    }
  }
  std::memcpy(history_.data(), prompt, prompt_len * sizeof(int32_t));
  history_len_ = prompt_len;
  result->prompt_tokens = prompt_len;
  Sampler sampler(params.sampler, vocab_, workspace_.data());
  const float* last = nullptr;  // logits of the last id in the history
  while (true) {
    if (result->generated_tokens >= params.max_tokens) {
      result->stop = StopReason::kMaxTokens;
      return Status::Ok();
    }
    if (history_len_ >= max_seq_ && !session_->streams()) {
      result->stop = StopReason::kContextFull;
      return Status::Ok();
    }
    if (!last) {  // the prompt, in one run: it becomes the session's context
      const float* rows = nullptr;
      size_t n = 0;
      HEED_RETURN_IF_ERROR(session_->run_in_place(history_.data(), history_len_, &rows, &n));
      last = rows + (n - 1) * vocab_;  // n: history_len_ rows, or 1 (last_logits_only)
    }
    int32_t id = -1;
    HEED_RETURN_IF_ERROR(sampler.sample(last, history_.data(), history_len_, &id));
    if (!params.ignore_eos) {
      for (const int32_t eos : *eos_) {
        if (id == eos) {
          result->stop = StopReason::kEos;
          return Status::Ok();
        }
      }
    }
    for (size_t i = 0; i < params.num_stop_ids; ++i) {
      if (id == params.stop_ids[i]) {
        result->stop = StopReason::kStopId;
        return Status::Ok();
      }
    }
    if (history_len_ == max_seq_) {
      // A streaming session (attention sinks) keeps going: the history keeps
      // its last max_seq ids (what the sampler's penalties see).
      std::memmove(history_.data(), history_.data() + 1, (max_seq_ - 1) * sizeof(int32_t));
      --history_len_;
    }
    history_[history_len_++] = id;
    ++result->generated_tokens;
    if (callback && !callback(user, id)) {
      result->stop = StopReason::kCallback;
      return Status::Ok();
    }
    // The new id joins the context (the key/value caches) unless nothing
    // more will be sampled.
    if (result->generated_tokens < params.max_tokens && (history_len_ < max_seq_ || session_->streams())) {
      size_t n = 0;
      HEED_RETURN_IF_ERROR(session_->decode_in_place(&id, 1, &last, &n));
    }
  }
}

}  // namespace heed
