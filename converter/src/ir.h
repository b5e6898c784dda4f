// Converter IR: a graph of ops over tensors that mirrors schemas/heed.fbs
// closely, holding weights in host memory. Architectures build it (arch/),
// passes transform it (quantize), the writer serializes it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "format/model.h"  // DType, TensorKind, OpKind, Activation, ActQuant, Task

namespace heed::conv {

struct IrTensor {
  std::string name;
  DType dtype = DType::kF32;
  TensorKind kind = TensorKind::kActivation;
  std::vector<int32_t> shape;  // -1 = sequence
  std::vector<float> f32;      // constants, F32
  std::vector<int8_t> i8;      // constants, I8
  std::vector<float> scales;   // I8: [rows, ceil(cols / quant_block)]
  int32_t quant_block = 0;     // I8: 0 = one scale per row
};

// Options are the runtime's OpAttrs (format/model.h), as written to the file
// (act_block 0 = one activation scale per row; attn_scale 0 = 1/sqrt(head_dim)).
struct IrOp : OpAttrs {
  OpKind kind = OpKind::kEmbedding;
  std::string name;
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
};

struct IrTokenizer {
  std::vector<std::string> vocab;  // id -> piece
  int32_t unk_id = -1, cls_id = -1, sep_id = -1, pad_id = -1;
  std::string continuing_prefix = "##";
  int32_t max_input_chars_per_word = 100;
  bool lowercase = true, strip_accents = true, handle_chinese_chars = true, clean_text = true;
  int32_t max_length = 512;
  std::vector<int32_t> special_ids;
  // BPE (kind kBpeByteLevel / kBpeSentencePiece; runtime/src/tokenizer/bpe.h).
  TokenizerKind kind = TokenizerKind::kWordPiece;
  std::vector<uint32_t> merges;    // rank r: merges[2r], merges[2r+1]
  uint32_t bpe_flags = 0;
  int32_t bos_id = -1, eos_id = -1;
  std::vector<int32_t> added_ids;  // non-special added tokens
  int32_t decode_strip = 0;
};

struct IrSourceFile {
  std::string name;
  uint64_t size = 0;
  std::string sha256;
};

struct IrQuantRow {
  std::string name;
  float rel_rms = 0.0f, cosine = 1.0f;
};

struct IrGraph {
  std::vector<IrTensor> tensors;
  std::vector<IrOp> ops;
  std::vector<int32_t> inputs, outputs;
  // Role of each input, parallel to `inputs`. Empty: written without roles,
  // as files before schema 1.2 (then inputs must be [ids] or [ids, types]).
  std::vector<InputRole> input_roles;
  IrTokenizer tokenizer;
  // metadata
  std::string architecture;
  Task task = Task::kEmbedding;
  std::string precision = "fp32";
  std::string calibration = "none";
  int32_t kv_cache = 0;  // Metadata.kv_cache: 0 by weights, 1 float, 2 int8
  std::string kv_cache_report;
  std::vector<std::string> labels;
  std::vector<IrSourceFile> source_files;
  std::vector<IrQuantRow> quant_report;
  int pooling = 0;  // 0 none, 1 mean, 2 cls
  bool normalize = false;
  int32_t hidden_size = 0, num_layers = 0;

  int32_t add_activation(const std::string& name, std::vector<int32_t> shape) {
    IrTensor t;
    t.name = name;
    t.shape = std::move(shape);
    tensors.push_back(std::move(t));
    return int32_t(tensors.size() - 1);
  }
  int32_t add_constant(const std::string& name, std::vector<int32_t> shape, std::vector<float> data) {
    IrTensor t;
    t.name = name;
    t.kind = TensorKind::kConstant;
    t.shape = std::move(shape);
    t.f32 = std::move(data);
    tensors.push_back(std::move(t));
    return int32_t(tensors.size() - 1);
  }
  IrOp& add_op(OpKind kind, const std::string& name, std::vector<int32_t> in, std::vector<int32_t> out) {
    IrOp op;
    op.kind = kind;
    op.name = name;
    op.inputs = std::move(in);
    op.outputs = std::move(out);
    ops.push_back(std::move(op));
    return ops.back();
  }
};

struct IrPlan {
  int32_t seq_len = 0;
  uint64_t arena_bytes = 0;
  std::vector<uint64_t> tensor_offsets;  // per tensor; UINT64_MAX = not planned
};

// Serializes to a .heed FlatBuffer (schemas/heed.fbs). plan may be null.
Status write_model(const IrGraph& g, const IrPlan* plan, std::vector<uint8_t>* out);

// A .heed FlatBuffer holding only a tokenizer (no graph): what
// heed::load_tokenizer_only reads (tokenizer tools and tests).
Status write_tokenizer_model(const IrTokenizer& tk, std::vector<uint8_t>* out);

}  // namespace heed::conv
