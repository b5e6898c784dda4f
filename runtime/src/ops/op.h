// One op kind = one OpEntry, defined in the op's own file (ops/<op>.cc) and
// listed once in ops/registry.cc. The entry holds everything the rest of heed
// needs to know about the kind:
//   - its signature: inputs and outputs, each with the tensor kinds, dtypes
//     and rank it accepts, and whether it may be left out (-1);
//   - its options: the FlatBuffers union member it takes, how to decode it
//     into OpAttrs (load), and which OpAttrs member each field of the table
//     comes from (the converter's writer);
//   - validate: the checks that relate its tensors (shapes implied by the
//     inputs, option values that depend on them);
//   - scratch and persistent state sizes, state initialization, and run;
//   - whether it is row-wise (see OpEntry::row_wise).
// format/model.cc checks the structure (indices, counts, the signature, the
// options' union type, topological order) and then calls the entry's decode
// and validate; nothing outside the op's file and the registry switches on
// the op kind.
//
// Thread safety: entries are constant data. decode/validate run at load,
// scratch/state functions at session creation, run during inference (no heap
// calls, no exceptions).
#pragma once

#include <cmath>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "core/status.h"
#include "format/model.h"
#include "format/schema.h"
#include "ops/attention-spec.h"

#if defined(__GNUC__)
#define HEED_OP_PRINTF __attribute__((format(printf, 2, 3)))
#else
#define HEED_OP_PRINTF
#endif

namespace heed {

struct OpContext;   // ops/ops.h
struct KernelTable;  // kernels/kernels.h

// Which tensors a slot accepts (bit set).
enum : uint8_t {
  kFromActivation = 1u << 0,  // produced by an earlier op
  kFromGraphInput = 1u << 1,  // a graph input (token ids, ...)
  kFromConstant = 1u << 2,    // weights in the file
  kFromRuntime = kFromActivation | kFromGraphInput,
};
// Which dtypes a slot accepts (bit set, bit = 1 << DType).
enum : uint8_t {
  kF32 = 1u << unsigned(DType::kF32),
  kI8 = 1u << unsigned(DType::kI8),
  kI32 = 1u << unsigned(DType::kI32),
};
// Slot flags.
enum : uint8_t {
  kOptional = 1u << 0,     // may be -1 (left out)
  kGemmWeights = 1u << 1,  // a [N, K] GEMM weight matrix: stored packed (format/weight-layout.h)
  // May also be the GEMM weights of another op (a tied LM head's matrix):
  // the op reads the tensor in whatever layout it has, packed included. A
  // file holding such a tensor packed gives the op version 2 (the writer
  // does; version 1, which older runtimes run, reads it row-major only).
  kReadsGemmWeights = 1u << 2,
};

struct OpSlot {
  const char* name;  // "x", "gamma", ...: used in error messages
  uint8_t from;      // kFrom* bits
  uint8_t dtypes;    // kF32 / kI8 / kI32 bits
  uint8_t rank;      // required rank, 0 = any
  uint8_t flags;     // kOptional, kGemmWeights, kReadsGemmWeights
};

struct OpSignature {
  const OpSlot* inputs;
  int num_inputs;    // slots; a file may leave out trailing optional ones
  int min_inputs;    // inputs the file must list
  const OpSlot* outputs;
  int num_outputs;
};

// What an op's decode and validate see at load: the op being loaded, the
// tensors, graph-wide limits the op may tighten, and an error helper that
// names the op ("op 3 'layer.0.attn' (ATTENTION): ...").
class OpCheck {
 public:
  OpCheck(size_t index, OpInfo& op, const std::vector<TensorInfo>& tensors, int32_t* max_seq, size_t* vocab_size)
      : op(op), index_(index), tensors_(tensors), max_seq_(max_seq), vocab_size_(vocab_size) {}

  OpInfo& op;

  // Input k, or null when it was left out. Valid for every slot of the
  // signature once the structural checks passed.
  const TensorInfo* in(int k) const {
    return k < op.num_inputs && op.inputs[k] >= 0 ? &tensors_[size_t(op.inputs[k])] : nullptr;
  }
  const TensorInfo& out(int k) const { return tensors_[size_t(op.outputs[k])]; }

  // The longest sequence the model can run (an op with a position table
  // lowers it) and the vocabulary (the op that reads token ids sets it).
  void limit_max_seq(int32_t n) {
    if (n < *max_seq_) *max_seq_ = n;
  }
  void set_vocab_size(size_t n) { *vocab_size_ = n; }

  // HEED_ERROR_INVALID_MODEL / HEED_ERROR_UNSUPPORTED, prefixed with the op.
  Status fail(const char* fmt, ...) const HEED_OP_PRINTF;
  Status unsupported(const char* fmt, ...) const HEED_OP_PRINTF;

  // Shared rules. A float vector constant of `len` elements.
  static bool is_vector(const TensorInfo* t, int32_t len) {
    return t && t->kind == TensorKind::kConstant && t->dtype == DType::kF32 && t->rank == 1 && t->dims[0] == len;
  }
  // Same rows (also symbolically: both the sequence) and `cols` columns.
  static bool same_rows(const TensorInfo& a, const TensorInfo& b) { return a.dims[0] == b.dims[0]; }
  static bool is_rows_by(const TensorInfo& t, int32_t rows, int32_t cols) {
    return t.rank == 2 && t.dims[0] == rows && t.dims[1] == cols;
  }

 private:
  Status vfail(heed_status code, const char* fmt, va_list ap) const;

  size_t index_;
  const std::vector<TensorInfo>& tensors_;
  int32_t* max_seq_;
  size_t* vocab_size_;
};

// Sizes an op asks for at session creation.
// Session choices that change what decoder ops keep (SessionOptions).
// (A session's attention patterns replace the ops' own through
// OpEntry::configure on the session's copy of the op.)
struct DecoderSettings {
  bool kv_int8 = false;  // key/value caches in int8 (SessionOptions::kv_cache), else float
};

struct OpSizing {
  const Model& model;
  const KernelTable& kernels;
  const OpInfo& op;
  size_t max_seq;  // the session's longest sequence
  size_t threads;  // threads of the session's pool
  DecoderSettings decoder;

  const TensorInfo& input(int k) const { return model.tensors()[size_t(op.inputs[k])]; }
  // Rows of input k at the session's longest sequence.
  size_t rows(int k) const { return input(k).has_seq_dim() ? max_seq : size_t(input(k).dims[0]); }
};

// One scalar field of an op's options table: where the schema puts it (the
// generated VT_ constant), its width, and the OpAttrs member that holds it.
// The converter's writer builds the table from these; the runtime only reads
// options (decode), so it carries no FlatBuffers builder code.
struct OptionSpec {
  enum Type : uint8_t { kI8, kI32, kF32, kI32Vector };  // kI32Vector: a std::vector<int32_t> member
  flatbuffers::voffset_t vt;
  Type type;
  uint16_t attr_offset;  // offsetof(OpAttrs, member)
};

template <typename T>
constexpr OptionSpec::Type option_type() {
  if constexpr (std::is_same_v<T, float>) {
    return OptionSpec::kF32;
  } else if constexpr (std::is_same_v<T, std::vector<int32_t>>) {
    return OptionSpec::kI32Vector;
  } else {
    static_assert(sizeof(T) == 4 || sizeof(T) == 1, "options are 1-byte enums, int32 or float");
    return sizeof(T) == 4 ? OptionSpec::kI32 : OptionSpec::kI8;
  }
}
// HEED_OPTION(LayerNormOptions, VT_EPSILON, epsilon): the schema field and its OpAttrs member.
#define HEED_OPTION(table, vt, member)                                             \
  OptionSpec {                                                                    \
    fb::table::vt, option_type<decltype(OpAttrs::member)>(), uint16_t(offsetof(OpAttrs, member)) \
  }

struct OpEntry {
  OpKind kind;
  const char* name;       // as in the schema: "FULLY_CONNECTED"
  uint16_t max_version;   // op versions 1..max_version are run
  OpSignature signature;
  fb::OpOptions options;  // the union member this op takes (NONE: no options)
  // Options table -> op (ranges that need no tensor). Null when no options.
  Status (*decode)(const fb::Op& o, OpCheck& c);
  // The fields the converter writes (every field of the options table).
  const OptionSpec* option_fields;
  int num_option_fields;
  // Shapes and the checks that relate tensors and options (C3, D1, E1).
  Status (*validate)(OpCheck& c);
  // Scratch bytes (reused by the next op), or null for none.
  size_t (*scratch_bytes)(const OpSizing& s);
  // Persistent state bytes (kept for the session's life), or null for none;
  // init_state fills them once at session creation.
  size_t (*state_bytes)(const OpSizing& s);
  void (*init_state)(const OpSizing& s, void* state);
  Status (*run)(const OpContext& ctx, const OpInfo& op);
  // Optional: true when ops a and b of this kind would fill identical state
  // (then the session keeps one copy for both). Null: never shared.
  bool (*same_state)(const OpInfo& a, const OpInfo& b) = nullptr;
  // Row-wise: each row of the output depends only on the same row of the
  // per-token ([-1, ...]) inputs, and not on where the row is in the run
  // (no positions, no past), so running the op on any subset of rows gives
  // those rows' bits. A session that computes the last position only
  // (SessionOptions::last_logits_only) runs the row-wise ops after the last
  // op that is not on the last row alone.
  bool row_wise = false;
  // Optional: adjusts the session's copy of the op to the session's
  // attention override (SessionOptions::attention, ops/attention-spec.h),
  // before any sizing; an error fails session creation. Null: the op has no
  // session-dependent options.
  Status (*configure)(const AttentionOverride& o, OpInfo* op) = nullptr;
};

// A finite, positive, normal float (scales, multipliers: E1).
inline bool is_positive_normal(float v) { return std::isfinite(v) && v > 0.0f && std::fpclassify(v) == FP_NORMAL; }
// A finite float > 0 (epsilons).
inline bool is_finite_positive(float v) { return v > 0.0f && std::isfinite(v); }

// The registry (ops/registry.cc): the entry of a kind, or null when this
// runtime does not know it.
const OpEntry* op_entry(OpKind kind);
// Every entry, for tests and tools.
const OpEntry* const* op_entries(size_t* count);

}  // namespace heed
