// Session: per-run state over one arena. The arena holds, from its start:
//   [planned activations and graph inputs (offsets from plan/)] [op scratch]
//   [persistent op state (weight sums, ROPE tables), filled at init; ops with
//    identical state (OpEntry::same_state) share one copy]
// Nothing else is allocated after init(); run() makes no heap calls.
//
// Last position only (SessionOptions::last_logits_only, causal LMs): the ops
// from the "tail" on (the ops after the last one that is not row-wise,
// OpEntry::row_wise: for decoders, everything after the last ATTENTION) run
// on the run's last row alone, reading the last row of the per-token tensors
// made before the tail in place; the tensors the tail makes are planned with
// one row, so the output (the logits) is one row of vocab floats instead of
// max_seq rows. That row has the bits of the last row of a full session.
// A session is used by one thread at a time; many sessions may share a Model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "format/model.h"
#include "kernels/kernels.h"
#include "ops/op.h"

namespace heed {

// Element type of a decoder's key/value caches: kAuto is int8 for a model
// with int8 weights and float for a float model.
enum class KvCacheType { kAuto, kF32, kInt8 };

struct SessionOptions {
  size_t max_seq = 0;  // 0 = model max
  int num_threads = 1;  // 1..kMaxThreads; capped at available_cpus()
  bool force_isa = false;  // cap the kernels at `isa` (see isa_select)
  Isa isa = Isa::kScalar;
  KvCacheType kv_cache = KvCacheType::kAuto;
  // Attention patterns replacing the file's in every ATTENTION op
  // (ops/attention-spec.h): attention_window 0 = the file's, N > 0 = a
  // window of N (each side for encoders, before for decoders), -1 = dense;
  // or a spec in `attention` (empty = the file's). Not both.
  int32_t attention_window = 0;
  std::string attention;
  // Causal LMs: run() and decode() compute and write the logits of the last
  // position only (one row). No effect on models with a single output row.
  bool last_logits_only = false;
};

constexpr int kMaxThreads = HEED_MAX_THREADS;

// Called after every op with its output, for calibration and quantization
// reports (converter, tests). data is [rows, cols] row-major float.
using OpObserver = void (*)(void* user, size_t op_index, const OpInfo& op, const float* data, size_t rows,
                            size_t cols);

struct ArenaLayout {
  std::vector<size_t> offsets;  // per tensor; SIZE_MAX = not in the arena
  std::vector<size_t> state_offsets;  // per op; SIZE_MAX = no persistent state
  size_t planned_bytes = 0;
  size_t scratch_offset = 0;
  size_t scratch_bytes = 0;
  size_t state_offset = 0;
  size_t state_bytes = 0;
  size_t total_bytes = 0;
  size_t max_seq = 0;
  // last_logits_only on a per-token model: ops tail_begin.. run on the last
  // row (tail_begin = ops.size(): none, the output's last row is read in
  // place). Otherwise last_only is false and tail_begin = ops.size().
  bool last_only = false;
  size_t tail_begin = 0;
  // Per-token tensors made before the tail (or graph inputs) that tail ops
  // read: the tail sees them from their last row.
  std::vector<int32_t> tail_shifted;
  Isa isa = Isa::kScalar;  // the kernels these sizes are for
  int threads = 1;         // threads in use (requested, capped at the CPUs)
  DecoderSettings decoder;  // options.kv_cache resolved
  // The model's ops with the session's attention patterns applied (and the
  // RoPE of attention layers with sinks: attention_bind_rope), or empty when
  // the session runs the file's as they are (Session::ops()).
  std::vector<OpInfo> ops;
  // Every decoder attention layer keeps a ring (attention_ring: a window with
  // sinks, or a window whose ring is smaller than max_seq) over rotary
  // positions with fixed frequencies: the caches stay the same size, so the
  // context may grow past max_seq (decode; each call still at most max_seq
  // tokens), up to kMaxStreamPositions.
  bool streams = false;
};

// Positions a streaming session's context may reach (ROPE's positions are int32).
constexpr size_t kMaxStreamPositions = size_t(INT32_MAX);

// Exact layout for `options` (same computation init() uses).
Status session_layout(const Model& model, const SessionOptions& options, ArenaLayout* layout);

class Session {
 public:
  Session() = default;
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // arena == nullptr: allocate once here (freed by the destructor).
  Status init(const Model* model, const SessionOptions& options, void* arena, size_t arena_bytes);

  // ids: full sequence incl. special tokens. Writes the graph output: one
  // row, or one row per token (count x output_size) for per-token outputs,
  // or with last_logits_only the last token's row alone. *out_count: floats.
  Status run(const int32_t* ids, size_t count, float* out, size_t out_capacity, size_t* out_count);

  // Causal LMs: appends `count` tokens to the context (the attention ops'
  // key/value caches) and writes their logits (count x vocab, or the last
  // one's with last_logits_only), as run() over the whole context would for
  // those positions, bit for bit. run() starts a new context (its ids become
  // the context). HEED_ERROR_INVALID_INPUT when the context would exceed
  // max_seq (the context is unchanged), or, for a streaming session
  // (ArenaLayout::streams), kMaxStreamPositions.
  Status decode(const int32_t* ids, size_t count, float* out, size_t out_capacity, size_t* out_count);

  // As run() and decode(), but the output stays in the arena, uncopied:
  // *out points at its *rows rows of output_size floats, valid until the
  // next call that runs the model.
  Status run_in_place(const int32_t* ids, size_t count, const float** out, size_t* rows);
  Status decode_in_place(const int32_t* ids, size_t count, const float** out, size_t* rows);

  // Rows of output a call with `count` tokens gives (1 for single-row
  // models and for last_logits_only sessions).
  size_t output_rows(size_t count) const;
  bool last_logits_only() const { return layout_.last_only; }
  // Empties the context.
  void reset() { past_ = 0; }
  // Tokens in the context.
  size_t context_length() const { return past_; }

  void set_observer(OpObserver observer, void* user) {
    observer_ = observer;
    observer_user_ = user;
  }
  // For tools, inside an observer call for op `op_index` only: the data of
  // `tensor`, one of that op's inputs or outputs, as the op read or wrote it
  // (they are live in the arena then; other tensors may already hold other
  // data). Null for a tensor out of range or not in the arena. No cost to
  // runs: it reads the pointers run() uses.
  const void* op_tensor_data(size_t op_index, int32_t tensor) const {
    if (tensor < 0 || size_t(tensor) >= tensor_data_.size()) return nullptr;
    return (layout_.last_only && op_index >= layout_.tail_begin ? tail_data_ : tensor_data_)[size_t(tensor)];
  }
  const Model* model() const { return model_; }
  // The ops this session runs: the model's, or its copy with the session's
  // attention patterns (ArenaLayout::ops).
  const std::vector<OpInfo>& ops() const { return layout_.ops.empty() ? model_->ops() : layout_.ops; }
  size_t max_seq() const { return layout_.max_seq; }
  // The context may grow past max_seq (ArenaLayout::streams).
  bool streams() const { return layout_.streams; }
  size_t arena_bytes() const { return layout_.total_bytes; }
  Isa isa() const { return kernels_->isa; }
  const KernelTable& kernels() const { return *kernels_; }
  // Threads in use: the requested count capped at the CPUs available at init.
  int num_threads() const { return num_threads_; }
  // Token buffer the C API tokenizes into before run() (lives in the session
  // object, sized at init).
  int32_t* token_buffer() { return tokens_.data(); }

 private:
  const Model* model_ = nullptr;
  const KernelTable* kernels_ = nullptr;
  std::vector<const void*> op_state_;  // per op: its persistent state in the arena, or null
  ArenaLayout layout_;
  uint8_t* arena_ = nullptr;
  void* owned_arena_ = nullptr;
  std::vector<void*> tensor_data_;
  std::vector<int32_t> tokens_;
  std::vector<void*> tail_data_;  // tensor_data_ with tail_shifted at their last row
  // One pass; the output is copied to out (out_capacity floats) or, when
  // view is not null, left in place (*view).
  Status forward(const int32_t* ids, size_t count, size_t past, float* out, size_t out_capacity, size_t* out_count,
                 const float** view);
  Status decode_checked(const int32_t* ids, size_t count, float* out, size_t out_capacity, size_t* out_count,
                        const float** view);

  size_t past_ = 0;  // tokens in the key/value caches
  int num_threads_ = 0;
  void* pool_ = nullptr;  // pthreadpool_t when num_threads_ > 1
  OpObserver observer_ = nullptr;
  void* observer_user_ = nullptr;
};

}  // namespace heed
