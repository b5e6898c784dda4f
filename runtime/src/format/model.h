// Model: the verified, immutable, in-memory view of a .heed file.
//
// Everything the runtime indexes with (tensor indices, shapes, op options,
// scales, tokenizer tables) is copied out of the file at load, after the
// FlatBuffers Verifier and heed's semantic checks. Only constant weight bytes
// are used in place from the mapping: if the file changes after load, results
// change but no index or size can.
//
// Thread safety: immutable after load(); share freely. Allocation: load only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "format/weight-layout.h"
#include "tokenizer/bpe.h"
#include "tokenizer/wordpiece.h"

namespace heed {

namespace fb {
struct Graph;
}

// Caps (F1, F2, C2 of docs/SECURITY.md). A file asking for more is rejected.
constexpr size_t kMaxTensors = 1 << 16;
constexpr size_t kMaxOps = 1 << 16;
constexpr size_t kMaxRank = 4;
constexpr int64_t kMaxDim = 1 << 24;
constexpr uint64_t kMaxFileBytes = uint64_t(1) << 31;  // one FlatBuffer
constexpr int32_t kMaxSeq = 65536;
constexpr size_t kMaxLabels = 1 << 16;
constexpr size_t kMaxSourceFiles = 4096;
// Metadata.generation.eos_ids entries (real checkpoints list 1-3).
constexpr size_t kMaxEosIds = 64;
constexpr int32_t kMaxHeads = 4096;
constexpr int32_t kMaxHeadDim = 4096;
// Inner dimension of a FULLY_CONNECTED op: keeps the int8 GEMM's int32
// accumulator from overflowing (65536 * 127 * 127 < 2^31).
constexpr int32_t kMaxGemmK = 1 << 16;
constexpr int kMaxOpInputs = 8;
constexpr int kMaxOpOutputs = 2;
// Symbolic dimension: the sequence length of the current run.
constexpr int32_t kSeqDim = -1;

enum class DType : uint8_t { kF32 = 0, kI8 = 1, kI32 = 2 };
enum class TensorKind : uint8_t { kActivation = 0, kConstant = 1, kInput = 2 };
enum class OpKind : uint16_t {
  kEmbedding = 0,
  kLayerNorm = 1,
  kFullyConnected = 2,
  kAttention = 3,
  kGelu = 4,
  kMeanPool = 5,
  kL2Normalize = 6,
  kClsPool = 7,
  kRmsNorm = 8,
  kRope = 9,
  kSwiglu = 10,
  kAdd = 11,
};
enum class Activation : uint8_t { kNone = 0, kGelu = 1, kTanh = 2, kRelu = 3, kGeluTanh = 4 };
enum class ActQuant : uint8_t { kDynamicPerToken = 0, kStaticPerTensor = 1 };
enum class AttnPattern : uint8_t { kDense = 0, kCausal = 1, kSlidingWindow = 2, kCausalWindow = 3, kBlockSparse = 4 };
enum class Task : uint8_t { kEmbedding = 0, kSequenceClassification = 1, kCausalLm = 2 };
enum class RopeScaling : uint8_t { kNone = 0, kLinear = 1, kDynamic = 2 };

size_t dtype_size(DType t);
const char* op_kind_name(OpKind k);

enum class TokenizerKind : uint8_t { kNone = 0, kWordPiece = 1, kBpeByteLevel = 2, kBpeSentencePiece = 3 };

// The tokenizer of a model file, verified and copied at load.
struct ModelTokenizer {
  TokenizerKind kind = TokenizerKind::kNone;
  WordPieceTokenizer wordpiece;  // kind kWordPiece
  BpeTokenizer bpe;              // kinds kBpeByteLevel, kBpeSentencePiece
  bool is_bpe() const { return kind == TokenizerKind::kBpeByteLevel || kind == TokenizerKind::kBpeSentencePiece; }
  size_t vocab_size() const;
};

// Verifies the FlatBuffer structure of a .heed buffer and checks and copies
// its Tokenizer table exactly as Model::load does, ignoring the graph (which
// may be absent): for tokenizer tools and tests that have no graph. Errors as
// Model::load_buffer (a buffer without a tokenizer is HEED_ERROR_INVALID_MODEL).
Status load_tokenizer_only(const uint8_t* data, size_t size, ModelTokenizer* out);

struct TensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  TensorKind kind = TensorKind::kActivation;
  int rank = 0;
  int32_t dims[kMaxRank] = {0, 0, 0, 0};  // dims[0] may be kSeqDim
  // Constants: data in place in the file (64-byte aligned), size checked.
  const uint8_t* data = nullptr;
  size_t data_bytes = 0;
  // int8 constants: [dims[0], ceil(row_elements / quant_block)]. Emptied at
  // load for fully connected weights, whose scales are kept once, in
  // panel_scales.
  std::vector<float> scales;
  int32_t quant_block = 0;    // int8 constants: columns per scale (row_elements when per row)
  // Constants: how `data` is laid out. Fully connected weights are always
  // packed after load (format/weight-layout.h): in place when the file holds
  // them packed, else packed at load into `owned`, which `data` then points to.
  WeightLayout layout = WeightLayout::kRowMajor;
  std::shared_ptr<uint8_t> owned;
  // int8 fully connected weights: scales per panel [ceil(N/16)][nb][16]
  // (row r, block b: panel_scales[((r / 16) * nb + b) * 16 + r % 16]).
  std::vector<float> panel_scales;

  // Scales of an int8 constant in the file (0 for float ones).
  size_t num_scales() const;

  bool has_seq_dim() const { return rank > 0 && dims[0] == kSeqDim; }
  // Elements for a given sequence length (checked at load not to overflow for kMaxSeq).
  size_t elements(size_t seq) const;
  // Elements per row (product of dims[1..]).
  size_t row_elements() const;
};

// Graph inputs by what the session puts in them (schemas/heed.fbs InputRole).
enum class InputRole : uint8_t {
  kTokenIds = 0,       // int32 [-1]: the caller's token ids
  kTokenTypeIds = 1,   // int32 [-1]: segment ids, all 0 (one segment)
  kPositions = 2,      // int32 [-1]: position of each token, 0..seq-1
  kPastLength = 3,     // int32 [1]: tokens already in the KV cache, 0
  kAttentionMask = 4,  // int32 [-1]: 1 for every token (no padding)
};
constexpr int kInputRoleCount = 5;
const char* input_role_name(InputRole r);

struct GraphInput {
  int32_t tensor = -1;
  InputRole role = InputRole::kTokenIds;
};

// The options of every op kind, one field per option of schemas/heed.fbs
// (defaults = the schema's defaults). The converter's IR and the loaded model
// share it; each op's file decodes the fields it owns and lists them for the
// writer (ops/op.h OptionSpec).
struct OpAttrs {
  Activation activation = Activation::kNone;   // FULLY_CONNECTED
  ActQuant act_quant = ActQuant::kDynamicPerToken;
  float input_scale = 0.0f;
  int32_t act_block = 0;     // 0 in the file; resolved at load: 1..K
  int32_t num_heads = 0, head_dim = 0;          // ATTENTION
  AttnPattern pattern = AttnPattern::kDense;
  int32_t window = 0;        // SLIDING_WINDOW: tokens on each side; CAUSAL_WINDOW: before
  int32_t global_first = 0;  // SLIDING_WINDOW, BLOCK_SPARSE: the first tokens are global
  std::vector<int32_t> global_positions;  // ... and these (ascending, distinct)
  int32_t block_size = 0, block_local = 0, block_global = 0, block_stride = 0, block_random = 0,
          block_seed = 0;    // BLOCK_SPARSE
  int32_t sinks = 0;         // CAUSAL_WINDOW: attention sinks
  float attn_scale = 0.0f;   // 0 in the file = 1/sqrt(head_dim), resolved at load
  float epsilon = 1e-12f;    // LAYER_NORM, L2_NORMALIZE
  int32_t position_offset = 0;  // EMBEDDING
  int32_t num_kv_heads = 0;     // ROPE (also num_heads, head_dim)
  float rope_theta = 10000.0f;
  RopeScaling rope_scaling = RopeScaling::kNone;
  float rope_factor = 1.0f;
  int32_t rope_original_max = 0;  // DYNAMIC: positions trained on
  int32_t rope_max_positions = 0;  // longest sequence, 0 = kMaxSeq
};

struct OpEntry;  // ops/op.h

struct OpInfo : OpAttrs {
  OpKind kind = OpKind::kEmbedding;
  const OpEntry* entry = nullptr;  // the op kind's registry entry (ops/registry.cc), set at load
  std::string name;
  uint16_t version = 1;  // the file's op version, 1..entry->max_version
  int num_inputs = 0;
  int num_outputs = 0;
  int32_t inputs[kMaxOpInputs] = {};   // -1 = optional input left out
  int32_t outputs[kMaxOpOutputs] = {};
  std::vector<float> smooth;  // FULLY_CONNECTED: copied 4th input, or empty
};

struct QuantReportRow {
  std::string name;
  float rel_rms = 0.0f;
  float cosine = 0.0f;
};

struct SourceFileInfo {
  std::string name;
  uint64_t size = 0;
  std::string sha256;
};

struct ModelMetadata {
  std::string architecture;
  std::string converter_version;
  std::string precision;
  std::string calibration;
  int32_t kv_cache = 0;         // 0: by the weights' type, 1: float, 2: int8 (sessions' default)
  std::string kv_cache_report;  // the converter's measurement behind kv_cache
  Task task = Task::kEmbedding;
  std::vector<std::string> labels;
  std::vector<QuantReportRow> quant_report;
  std::vector<SourceFileInfo> source_files;
  int32_t hidden_size = 0;
  int32_t num_layers = 0;
  uint32_t schema_version = 0;
  // Metadata.generation (schema 1.3; causal LMs): present or not, and its ids
  // as stored. Model::eos_ids() is what generation uses.
  bool has_generation = false;
  int32_t bos_id = -1;
  std::vector<int32_t> eos_ids;
};

class Model {
 public:
  Model() = default;
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // Maps `path` read-only (mmap) and verifies it.
  Status load_file(const char* path);
  // Verifies a caller buffer and uses its weights in place. Must be 64-byte
  // aligned and outlive the model.
  Status load_buffer(const void* data, size_t size);

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const std::vector<OpInfo>& ops() const { return ops_; }
  // Graph input tensors, and the same with their roles.
  const std::vector<int32_t>& inputs() const { return inputs_; }
  const std::vector<GraphInput>& graph_inputs() const { return graph_inputs_; }
  // The tensor of a role, or -1 when the graph has no such input.
  int32_t input_tensor(InputRole role) const;
  const std::vector<int32_t>& outputs() const { return outputs_; }
  const ModelMetadata& metadata() const { return metadata_; }
  // The WordPiece tokenizer (uninitialized unless tokenizer_kind() is kWordPiece).
  const WordPieceTokenizer& tokenizer() const { return tok_.wordpiece; }
  // The BPE tokenizer (uninitialized unless tokenizer_kind() is a BPE kind).
  const BpeTokenizer& bpe_tokenizer() const { return tok_.bpe; }
  TokenizerKind tokenizer_kind() const { return tok_.kind; }
  bool has_tokenizer() const { return tok_.kind != TokenizerKind::kNone; }
  bool tokenizer_kind_is_bpe() const { return tok_.is_bpe(); }
  // Longest sequence this model accepts (position table rows, tokenizer max).
  int32_t max_seq() const { return max_seq_; }
  // Size of one output row (embedding dim, class count or vocabulary).
  size_t output_size() const { return output_size_; }
  // True when the output has one row per token ([-1, N]: a causal LM's
  // logits), false for a single row ([1, N]).
  bool output_per_token() const { return output_per_token_; }
  // Causal LMs: the ids that end generation (Metadata.generation.eos_ids;
  // files without that table: the BPE tokenizer's eos id, if any), each in
  // [0, output_size()); and the bos id (the same sources; -1: none). Empty
  // and -1 for other tasks.
  const std::vector<int32_t>& eos_ids() const { return eos_ids_; }
  int32_t bos_id() const { return bos_id_; }
  size_t file_bytes() const { return size_; }
  size_t vocab_size() const { return vocab_size_; }

 private:
  Status verify_and_copy(const uint8_t* data, size_t size);
  Status read_inputs(const fb::Graph* g);
  Status check_graph();
  Status prepare_weights();
  Status read_generation_ids();

  void* mapping_ = nullptr;
  size_t mapping_bytes_ = 0;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;

  std::vector<TensorInfo> tensors_;
  std::vector<OpInfo> ops_;
  std::vector<int32_t> inputs_;
  std::vector<GraphInput> graph_inputs_;
  std::vector<int32_t> outputs_;
  ModelMetadata metadata_;
  ModelTokenizer tok_;
  int32_t max_seq_ = 0;
  size_t output_size_ = 0;
  bool output_per_token_ = false;
  size_t vocab_size_ = 0;
  std::vector<int32_t> eos_ids_;
  int32_t bos_id_ = -1;
};

}  // namespace heed
