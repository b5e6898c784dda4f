#include "exec/session.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include <pthreadpool.h>

#include "core/platform.h"
#include "ops/attention.h"
#include "ops/op.h"
#include "ops/ops.h"
#include "kernels/kernels.h"
#include "plan/planner.h"

namespace heed {

Status session_layout(const Model& model, const SessionOptions& options, ArenaLayout* layout) {
  if (options.num_threads < 1 || options.num_threads > kMaxThreads) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "num_threads must be in 1..%d, not %d", kMaxThreads,
                         options.num_threads);
  }
  HEED_RETURN_IF_ERROR(isa_select(options.force_isa ? &options.isa : nullptr, &layout->isa));
  const KernelTable& kernels = kernel_table(layout->isa);
  // More threads than CPUs only adds contention (each GEMM waits for its
  // slowest share): cap at what this process may run on.
  layout->threads = int(std::min<size_t>(size_t(options.num_threads), available_cpus()));
  size_t max_seq = options.max_seq == 0 ? size_t(model.max_seq()) : options.max_seq;
  if (max_seq > size_t(model.max_seq())) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "max_seq %zu exceeds the model's maximum of %d", max_seq,
                         model.max_seq());
  }
  if (max_seq < 2) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "max_seq must be at least 2");
  const auto& tensors = model.tensors();
  // The session's attention patterns (options.attention, or
  // attention_window's window / dense) replace the file's in a copy of the
  // ops (OpEntry::configure).
  AttentionOverride over;
  if (!options.attention.empty()) {
    if (options.attention_window != 0) {
      return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "attention_window and attention are both set: give one");
    }
    HEED_RETURN_IF_ERROR(parse_attention_spec(options.attention, &over));
  } else if (options.attention_window < -1 || options.attention_window > kMaxSeq) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "attention_window must be -1 (dense), 0 (the model's) or 1..%d, not %d",
                         kMaxSeq, options.attention_window);
  } else if (options.attention_window != 0) {
    over.pattern = options.attention_window < 0 ? AttentionOverride::Pattern::kDense : AttentionOverride::Pattern::kWindow;
    over.window = options.attention_window;
  }
  layout->ops.clear();
  if (!over.empty()) {
    layout->ops = model.ops();
    bool any = false;
    for (size_t i = 0; i < layout->ops.size(); ++i) {
      OpInfo& op = layout->ops[i];
      if (!op.entry->configure) continue;
      any = true;
      Status s = op.entry->configure(over, &op);
      if (!s.ok()) return Status::Error(s.code(), "op %zu '%s': %s", i, op.name.c_str(), s.message());
    }
    if (!any) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "an attention pattern is set but the model has no attention layer");
  }
  // Attention sinks rotate queries with their layer's RoPE (attention_bind_rope).
  // A session streams when every decoder attention layer keeps a ring
  // (attention_ring) over rotary positions with fixed frequencies: nothing
  // then bounds the context but the positions' int32.
  {
    const auto& cur = layout->ops.empty() ? model.ops() : layout->ops;
    size_t cached = 0, rings = 0;
    bool sinks = false;
    for (size_t i = 0; i < cur.size(); ++i) {
      const OpInfo& op = cur[i];
      if (op.kind != OpKind::kAttention || !attention_cached(op)) continue;
      ++cached;
      sinks = sinks || op.sinks > 0;
      const OpInfo* rope = attention_rope(cur, i);
      rings += attention_ring(op, max_seq) && rope && rope->rope_scaling != RopeScaling::kDynamic;
    }
    if (sinks && layout->ops.empty()) layout->ops = model.ops();
    for (size_t i = 0; sinks && i < layout->ops.size(); ++i) {
      OpInfo& op = layout->ops[i];
      if (op.kind != OpKind::kAttention) continue;
      Status s = attention_bind_rope(layout->ops, i, &op);
      if (!s.ok()) return Status::Error(s.code(), "op %zu '%s': %s", i, op.name.c_str(), s.message());
    }
    layout->streams = cached > 0 && rings == cached && model.output_per_token();
  }
  const auto& ops = layout->ops.empty() ? model.ops() : layout->ops;
  // Last position only: the tail is every op after the last one that is not
  // row-wise (decided here, once per session).
  layout->last_only = options.last_logits_only && model.output_per_token();
  layout->tail_begin = ops.size();
  layout->tail_shifted.clear();
  if (layout->last_only) {
    size_t b = 0;
    for (size_t i = 0; i < ops.size(); ++i)
      if (!ops[i].entry->row_wise) b = i + 1;
    layout->tail_begin = b;
  }
  std::vector<PlanRequest> req(tensors.size());
  const int32_t end = int32_t(ops.size());
  for (size_t t = 0; t < tensors.size(); ++t) {
    if (tensors[t].kind == TensorKind::kConstant) continue;
    if (tensors[t].kind == TensorKind::kInput) req[t].first_use = -1, req[t].last_use = -1;
  }
  for (int32_t i = 0; i < end; ++i) {
    const OpInfo& op = ops[size_t(i)];
    for (int k = 0; k < op.num_outputs; ++k) {
      req[size_t(op.outputs[k])].first_use = i;
      req[size_t(op.outputs[k])].last_use = i;
    }
    for (int k = 0; k < op.num_inputs; ++k) {
      if (op.inputs[k] >= 0 && tensors[size_t(op.inputs[k])].kind != TensorKind::kConstant) {
        PlanRequest& r = req[size_t(op.inputs[k])];
        if (r.last_use < i) r.last_use = i;
      }
    }
  }
  for (int32_t o : model.outputs()) req[size_t(o)].last_use = end;
  const int32_t tail = int32_t(layout->tail_begin);
  for (size_t t = 0; t < tensors.size(); ++t) {
    if (tensors[t].kind == TensorKind::kConstant) continue;
    // Tensors the tail makes hold one row; the rest max_seq rows.
    const bool one_row = layout->last_only && tensors[t].has_seq_dim() && req[t].first_use >= tail;
    // Element counts were bounded at load (<= 2^34 at kMaxSeq), so this fits.
    req[t].bytes = tensors[t].elements(one_row ? 1 : max_seq) * dtype_size(tensors[t].dtype) + kArenaPadBytes;
  }
  if (layout->last_only) {
    // Per-token tensors from before the tail that the tail reads (or that
    // are the output): seen from their last row.
    std::vector<bool> shifted(tensors.size(), false);
    for (size_t i = layout->tail_begin; i < ops.size(); ++i) {
      for (int k = 0; k < ops[i].num_inputs; ++k) {
        const int32_t t = ops[i].inputs[k];
        if (t >= 0 && tensors[size_t(t)].kind != TensorKind::kConstant && tensors[size_t(t)].has_seq_dim() &&
            req[size_t(t)].first_use < tail)
          shifted[size_t(t)] = true;
      }
    }
    for (int32_t o : model.outputs())
      if (tensors[size_t(o)].has_seq_dim() && req[size_t(o)].first_use < tail) shifted[size_t(o)] = true;
    for (size_t t = 0; t < tensors.size(); ++t)
      if (shifted[t]) layout->tail_shifted.push_back(int32_t(t));
  }
  Plan plan;
  if (!plan_memory(req, &plan)) return Status::Error(HEED_ERROR_OUT_OF_MEMORY, "arena size overflows");
  layout->offsets.assign(tensors.size(), SIZE_MAX);
  for (size_t t = 0; t < tensors.size(); ++t)
    if (req[t].bytes) layout->offsets[t] = plan.offsets[t];
  // kAuto: the file's choice (the converter measured both), else int8 for int8 weights.
  const int file_kv = model.metadata().kv_cache;
  bool& kv_int8 = layout->decoder.kv_int8;
  kv_int8 = options.kv_cache == KvCacheType::kInt8;
  if (options.kv_cache == KvCacheType::kAuto && file_kv != 0) kv_int8 = file_kv == 2;
  if (options.kv_cache == KvCacheType::kAuto && file_kv == 0) {
    for (const TensorInfo& t : tensors) kv_int8 = kv_int8 || (t.kind == TensorKind::kConstant && t.dtype == DType::kI8);
  }
  size_t scratch = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    // Tail ops run on one row.
    const size_t rows = i >= layout->tail_begin ? 1 : max_seq;
    const size_t s = op_scratch_bytes(model, kernels, ops[i], rows, size_t(layout->threads), layout->decoder);
    if (s > scratch) scratch = s;
  }
  layout->planned_bytes = plan.total_bytes;
  layout->scratch_offset = plan.total_bytes;
  layout->scratch_bytes = (scratch + kArenaPadBytes + 63) / 64 * 64;
  layout->state_offset = layout->scratch_offset + layout->scratch_bytes;
  layout->state_offsets.assign(ops.size(), SIZE_MAX);
  size_t state = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    const size_t s = op_state_bytes(model, kernels, ops[i], max_seq, layout->decoder);
    if (s == 0) continue;
    // An earlier op of the kind with identical state (ROPE's tables) lends its copy.
    size_t twin = SIZE_MAX;
    for (size_t j = 0; j < i && twin == SIZE_MAX; ++j) {
      if (layout->state_offsets[j] != SIZE_MAX && op_same_state(ops[j], ops[i])) twin = j;
    }
    if (twin != SIZE_MAX) {
      layout->state_offsets[i] = layout->state_offsets[twin];
      continue;
    }
    layout->state_offsets[i] = layout->state_offset + state;
    state += (s + 63) / 64 * 64;
  }
  layout->state_bytes = state;
  layout->total_bytes = layout->state_offset + layout->state_bytes;
  layout->max_seq = max_seq;
  // F1: a small file must not be able to ask for an unbounded arena.
  // 16 GiB on 64-bit targets, 2 GiB on 32-bit ones.
  constexpr uint64_t kMaxArena = sizeof(size_t) > 4 ? (uint64_t(1) << 34) : (uint64_t(1) << 31);
  if (uint64_t(layout->total_bytes) > kMaxArena) {
    return Status::Error(HEED_ERROR_OUT_OF_MEMORY, "arena of %zu bytes exceeds the %llu-byte cap", layout->total_bytes,
                         (unsigned long long)kMaxArena);
  }
  return Status::Ok();
}

Session::~Session() {
  if (pool_) pthreadpool_destroy(static_cast<pthreadpool_t>(pool_));
  std::free(owned_arena_);
}

Status Session::init(const Model* model, const SessionOptions& options, void* arena, size_t arena_bytes) {
  if (!model) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "model is NULL");
  model_ = model;
  HEED_RETURN_IF_ERROR(session_layout(*model, options, &layout_));
  kernels_ = &kernel_table(layout_.isa);
  num_threads_ = layout_.threads;
  if (arena) {
    if (arena_bytes < layout_.total_bytes) {
      return Status::Error(HEED_ERROR_BUFFER_TOO_SMALL, "arena of %zu bytes is smaller than the %zu needed",
                           arena_bytes, layout_.total_bytes);
    }
    if (reinterpret_cast<uintptr_t>(arena) % 64 != 0) {
      return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "arena must be 64-byte aligned");
    }
    arena_ = static_cast<uint8_t*>(arena);
  } else {
    owned_arena_ = std::aligned_alloc(64, layout_.total_bytes);
    if (!owned_arena_) {
      return Status::Error(HEED_ERROR_OUT_OF_MEMORY, "cannot allocate a %zu-byte arena", layout_.total_bytes);
    }
    arena_ = static_cast<uint8_t*>(owned_arena_);
  }
  const auto& tensors = model->tensors();
  tensor_data_.assign(tensors.size(), nullptr);
  for (size_t t = 0; t < tensors.size(); ++t) {
    if (tensors[t].kind == TensorKind::kConstant) {
      tensor_data_[t] = const_cast<uint8_t*>(tensors[t].data);
    } else if (layout_.offsets[t] != SIZE_MAX) {
      tensor_data_[t] = arena_ + layout_.offsets[t];
    }
  }
  tail_data_ = tensor_data_;
  tokens_.assign(layout_.max_seq, 0);
  const auto& ops = this->ops();
  op_state_.assign(ops.size(), nullptr);
  for (size_t i = 0; i < ops.size(); ++i) {
    if (layout_.state_offsets[i] == SIZE_MAX) continue;
    // Shared state (same_state) was filled by its first op, identically.
    bool filled = false;
    for (size_t j = 0; j < i && !filled; ++j) filled = op_state_[j] == arena_ + layout_.state_offsets[i];
    if (filled) {
      op_state_[i] = arena_ + layout_.state_offsets[i];
      continue;
    }
    op_init_state(*model, *kernels_, ops[i], layout_.max_seq, layout_.decoder, arena_ + layout_.state_offsets[i]);
    op_state_[i] = arena_ + layout_.state_offsets[i];
  }
  if (num_threads_ > 1) {
    pool_ = pthreadpool_create(size_t(num_threads_));
    if (!pool_) return Status::Error(HEED_ERROR_OUT_OF_MEMORY, "cannot create %d threads", num_threads_);
  }
  return Status::Ok();
}

size_t Session::output_rows(size_t count) const {
  return model_ && model_->output_per_token() && !layout_.last_only ? count : 1;
}

Status Session::run(const int32_t* ids, size_t count, float* out, size_t out_capacity, size_t* out_count) {
  past_ = 0;
  const Status s = forward(ids, count, 0, out, out_capacity, out_count, nullptr);
  if (s.ok() && model_->output_per_token()) past_ = count;
  return s;
}

Status Session::run_in_place(const int32_t* ids, size_t count, const float** out, size_t* rows) {
  if (rows) *rows = 0;
  if (!out) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "out must not be NULL");
  *out = nullptr;
  past_ = 0;
  size_t n = 0;
  const Status s = forward(ids, count, 0, nullptr, 0, &n, out);
  if (!s.ok()) return s;
  if (model_->output_per_token()) past_ = count;
  if (rows) *rows = output_rows(count);
  return s;
}

Status Session::decode(const int32_t* ids, size_t count, float* out, size_t out_capacity, size_t* out_count) {
  return decode_checked(ids, count, out, out_capacity, out_count, nullptr);
}

Status Session::decode_in_place(const int32_t* ids, size_t count, const float** out, size_t* rows) {
  if (rows) *rows = 0;
  if (!out) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "out must not be NULL");
  *out = nullptr;
  size_t n = 0;
  const Status s = decode_checked(ids, count, nullptr, 0, &n, out);
  if (s.ok() && rows) *rows = output_rows(count);
  return s;
}

Status Session::decode_checked(const int32_t* ids, size_t count, float* out, size_t out_capacity, size_t* out_count,
                               const float** view) {
  if (!model_) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "session is not initialized");
  if (!model_->output_per_token()) {
    return Status::Error(HEED_ERROR_UNSUPPORTED, "model '%s' is not a causal LM: it has no context to append to",
                         model_->metadata().architecture.c_str());
  }
  if (layout_.streams) {
    if (count > kMaxStreamPositions - past_) {
      return Status::Error(HEED_ERROR_INVALID_INPUT, "%zu tokens after the %zu in the context exceed the %zu positions a "
                           "streaming session counts", count, past_, kMaxStreamPositions);
    }
  } else if (past_ + count > layout_.max_seq) {
    return Status::Error(HEED_ERROR_INVALID_INPUT, "%zu tokens after the %zu in the context exceed the session's max_seq of %zu",
                         count, past_, layout_.max_seq);
  }
  // A failed run leaves caches partly written past past_: positions a later
  // run rewrites before it reads them, so the context stays what it was.
  const Status s = forward(ids, count, past_, out, out_capacity, out_count, view);
  if (s.ok()) past_ += count;
  return s;
}

Status Session::forward(const int32_t* ids, size_t count, size_t past, float* out, size_t out_capacity,
                        size_t* out_count, const float** view) {
  if (!model_) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "session is not initialized");
  if (!ids || (!out && !view)) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "ids and out must not be NULL");
  if (count == 0) return Status::Error(HEED_ERROR_INVALID_INPUT, "empty token sequence");
  if (count > layout_.max_seq) {
    return Status::Error(HEED_ERROR_INVALID_INPUT, "%zu tokens exceed the session's max_seq of %zu", count,
                         layout_.max_seq);
  }
  // One row, or one row per token (a causal LM's logits), or the last one.
  const size_t n_out = model_->output_size() * output_rows(count);
  if (out_count) *out_count = n_out;
  if (!view && out_capacity < n_out) {
    return Status::Error(HEED_ERROR_BUFFER_TOO_SMALL, "output needs %zu floats, buffer holds %zu", n_out,
                         out_capacity);
  }
  // Graph inputs by role: one unpadded, single-segment sequence after the
  // `past` tokens of the context.
  for (const GraphInput& in : model_->graph_inputs()) {
    int32_t* d = static_cast<int32_t*>(tensor_data_[size_t(in.tensor)]);
    switch (in.role) {
      case InputRole::kTokenIds: std::memcpy(d, ids, count * sizeof(int32_t)); break;
      case InputRole::kTokenTypeIds: std::memset(d, 0, count * sizeof(int32_t)); break;
      case InputRole::kPositions:
        for (size_t s = 0; s < count; ++s) d[s] = int32_t(past + s);
        break;
      case InputRole::kPastLength: d[0] = int32_t(past); break;
      case InputRole::kAttentionMask:
        for (size_t s = 0; s < count; ++s) d[s] = 1;
        break;
    }
  }

  OpContext ctx;
  ctx.model = model_;
  ctx.kernels = kernels_;
  ctx.seq = count;
  ctx.max_seq = layout_.max_seq;
  ctx.past = past;
  ctx.decoder = layout_.decoder;
  ctx.tensor_data = tensor_data_.data();
  ctx.scratch = arena_ + layout_.scratch_offset;
  ctx.pool = static_cast<pthreadpool_t>(pool_);
  ctx.threads = size_t(num_threads_);
  const auto& ops = this->ops();
  const auto& tensors = model_->tensors();
  for (int32_t t : layout_.tail_shifted) {
    const size_t row_bytes = tensors[size_t(t)].row_elements() * dtype_size(tensors[size_t(t)].dtype);
    tail_data_[size_t(t)] = static_cast<uint8_t*>(tensor_data_[size_t(t)]) + (count - 1) * row_bytes;
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    if (layout_.last_only && i == layout_.tail_begin) {  // from here on, the last row only
      ctx.seq = 1;
      ctx.past = past + count - 1;
      ctx.tensor_data = tail_data_.data();
    }
    ctx.op_state = op_state_[i];
    HEED_RETURN_IF_ERROR(op_run(ctx, ops[i]));
    if (observer_) {
      const int32_t o = ops[i].outputs[0];
      observer_(observer_user_, i, ops[i], ctx.data<float>(o), ctx.rows(o), ctx.tensor(o).row_elements());
    }
  }
  // Finite weights can still overflow float for some input (I5): report it
  // instead of handing out NaN.
  const float* y = static_cast<const float*>((layout_.last_only ? tail_data_ : tensor_data_)[size_t(model_->outputs()[0])]);
  for (size_t i = 0; i < n_out; ++i) {
    if (!std::isfinite(y[i])) {
      return Status::Error(HEED_ERROR_NON_FINITE, "model output %zu of %zu is %s for this input (the weights overflow float)",
                           i, n_out, std::isnan(y[i]) ? "NaN" : "infinite");
    }
  }
  if (view) *view = y;
  else std::memcpy(out, y, n_out * sizeof(float));
  return Status::Ok();
}

}  // namespace heed
