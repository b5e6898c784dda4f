// EMBEDDING: out[s,:] = word[ids[s]] + pos[s + offset] + type[types[s]]; the
// position table is optional (decoders with rotary positions have none).
//
// The word table is row-major (float, or int8 with one scale per row), or,
// for a tied LM head, the LM head's own GEMM weights, read in their packed
// layout (format/weight-layout.h): int8 PACKED_N16K4 with the head's block
// scales (read from the GEMM's per-panel copy), or float PACKED_N16. Either
// way a row is W[id, h] (* its scale): the same floats the row-major table
// of those values gives. A packed table is op version 2 (version 1 files
// hold it row-major).
#include "format/weight-layout.h"
#include "ops/op.h"
#include "ops/ops.h"

namespace heed {

namespace {
const OpSlot kInputs[] = {
    {"ids", kFromGraphInput, kI32, 1, 0},                 // [s]
    {"token_types", kFromGraphInput, kI32, 1, kOptional},  // [s]
    {"word", kFromConstant, kF32 | kI8, 2, kReadsGemmWeights},  // [V, H]: see above
    {"positions", kFromConstant, kF32, 2, kOptional},     // [P, H]
    {"types", kFromConstant, kF32, 2, kOptional},         // [T, H]
};
const OpSlot kOutputs[] = {{"out", kFromActivation, kF32, 2, 0}};  // [s, H]

Status decode(const fb::Op& o, OpCheck& c) {
  c.op.position_offset = o.options_as_EmbeddingOptions()->position_offset();
  if (c.op.position_offset < 0 || c.op.position_offset > kMaxSeq) {
    return c.fail("position offset %d invalid", c.op.position_offset);
  }
  return Status::Ok();
}

const OptionSpec kOptions[] = {HEED_OPTION(EmbeddingOptions, VT_POSITION_OFFSET, position_offset)};

Status validate(OpCheck& c) {
  const TensorInfo &ids = *c.in(0), *types = c.in(1), &word = *c.in(2), *pos = c.in(3), *type = c.in(4);
  // One id (and type) per token of the run.
  if (ids.dims[0] != kSeqDim || (types && types->dims[0] != kSeqDim)) return c.fail("ids and token types must be [-1]");
  if ((types == nullptr) != (type == nullptr)) return c.fail("token types and their table go together");
  const int32_t H = word.dims[1];
  if (pos && pos->dims[1] != H) return c.fail("position table must be a float [P, %d] constant", H);
  if (type && type->dims[1] != H) return c.fail("token type table must be a float [T, %d] constant", H);
  // Packed: the loader checked the buffer's size for the layout and dtype
  // and the scales ([V, ceil(H / block)], positive normal); it refuses a
  // packed tensor that is not also a fully connected op's weights.
  if (word.layout != WeightLayout::kRowMajor && c.op.version < 2) {
    return c.fail("a packed word table needs op version 2, this op is version %u", unsigned(c.op.version));
  }
  switch (word.layout) {
    case WeightLayout::kRowMajor:
      if (word.dtype == DType::kI8 && word.quant_block != H) return c.fail("int8 word table needs one scale per row");
      break;
    case WeightLayout::kPackedN16K4:
      if (word.dtype != DType::kI8) return c.fail("word table in layout PACKED_N16K4 must be int8");
      if (word.quant_block < 1 || word.quant_block > H) {
        return c.fail("packed int8 word table has block %d, not in 1..%d", word.quant_block, H);
      }
      break;
    case WeightLayout::kPackedN16:
      if (word.dtype != DType::kF32) return c.fail("word table in layout PACKED_N16 must be float");
      break;
  }
  if (!OpCheck::is_rows_by(c.out(0), kSeqDim, H)) return c.fail("output must be [-1, %d]", H);
  if (pos) {
    const int32_t positions = pos->dims[0] - c.op.position_offset;
    if (positions < 2) return c.fail("position table has %d usable rows", positions);
    c.limit_max_seq(positions);
  } else if (c.op.position_offset != 0) {
    return c.fail("position offset %d without a position table", c.op.position_offset);
  }
  c.set_vocab_size(size_t(word.dims[0]));
  return Status::Ok();
}

Status run(const OpContext& ctx, const OpInfo& op) {
  const TensorInfo& word = ctx.tensor(op.inputs[2]);
  const int32_t* ids = ctx.data<int32_t>(op.inputs[0]);        // [S]
  const int32_t* types = ctx.data<int32_t>(op.inputs[1]);      // [S] or null
  const float* pos_table = ctx.data<float>(op.inputs[3]);      // [P, H] or null
  const float* type_table = ctx.data<float>(op.inputs[4]);     // [T, H] or null
  float* out = ctx.data<float>(op.outputs[0]);                 // [S, H]
  const size_t H = size_t(word.dims[1]);
  const int32_t V = word.dims[0];
  const int32_t T = op.inputs[4] >= 0 ? ctx.tensor(op.inputs[4]).dims[0] : 0;
  const int32_t P = pos_table ? ctx.tensor(op.inputs[3]).dims[0] : 0;
  if (pos_table && ctx.past + ctx.seq + size_t(op.position_offset) > size_t(P)) {
    return Status::Error(HEED_ERROR_INVALID_INPUT, "sequence of %zu tokens exceeds the %d positions",
                         ctx.past + ctx.seq, P - op.position_offset);
  }
  for (size_t s = 0; s < ctx.seq; ++s) {
    const int32_t id = ids[s];
    if (id < 0 || id >= V) {
      return Status::Error(HEED_ERROR_INVALID_INPUT, "token id %d at position %zu is outside the vocabulary [0, %d)",
                           id, s, V);
    }
    const int32_t type = types ? types[s] : 0;
    if (types && (type < 0 || type >= T)) {
      return Status::Error(HEED_ERROR_INVALID_INPUT, "token type %d at position %zu outside [0, %d)", type, s, T);
    }
    float* o = out + s * H;
    const void* table = ctx.tensor_data[size_t(op.inputs[2])];
    switch (word.layout) {
      case WeightLayout::kRowMajor:
        if (word.dtype == DType::kI8) {
          const int8_t* row = static_cast<const int8_t*>(table) + size_t(id) * H;
          const float scale = word.scales[size_t(id)];
          for (size_t h = 0; h < H; ++h) o[h] = float(row[h]) * scale;
        } else {
          const float* row = static_cast<const float*>(table) + size_t(id) * H;
          for (size_t h = 0; h < H; ++h) o[h] = row[h];
        }
        break;
      case WeightLayout::kPackedN16K4: {
        // Row id is column id % 16 of panel id / 16: 4 bytes per group of 4.
        const size_t block = size_t(word.quant_block), nb = (H + block - 1) / block;
        const int8_t* panel = static_cast<const int8_t*>(table) + (size_t(id) / kPanelN) * groups_of(H) * kPanelN * kGroupK +
                              (size_t(id) % kPanelN) * kGroupK;
        // Scale of block b: panel_scales[((id / 16) * nb + b) * 16 + id % 16].
        const float* scales = word.panel_scales.data() + (size_t(id) / kPanelN) * nb * kPanelN + size_t(id) % kPanelN;
        for (size_t h = 0; h < H; ++h) {
          o[h] = float(panel[(h / kGroupK) * kPanelN * kGroupK + h % kGroupK]) * scales[(h / block) * kPanelN];
        }
        break;
      }
      case WeightLayout::kPackedN16: {
        const float* panel = static_cast<const float*>(table) + (size_t(id) / kPanelN) * H * kPanelN + size_t(id) % kPanelN;
        for (size_t h = 0; h < H; ++h) o[h] = panel[h * kPanelN];
        break;
      }
    }
    if (pos_table) {
      const float* p = pos_table + (ctx.past + s + size_t(op.position_offset)) * H;  // after the cached tokens
      for (size_t h = 0; h < H; ++h) o[h] += p[h];
    }
    if (type_table) {
      const float* t = type_table + size_t(type) * H;
      for (size_t h = 0; h < H; ++h) o[h] += t[h];
    }
  }
  return Status::Ok();
}

}  // namespace

extern const OpEntry kEmbeddingOp = {
    OpKind::kEmbedding, "EMBEDDING", 2, {kInputs, 5, 5, kOutputs, 1}, fb::OpOptions::EmbeddingOptions,
    decode, kOptions, 1, validate, nullptr, nullptr, nullptr, run};

}  // namespace heed
