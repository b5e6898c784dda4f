// EMBEDDING: out[s,:] = word[ids[s]] + pos[s + offset] + type[types[s]].
#include "ops/ops.h"

namespace heed {

Status op_embedding_run(const OpContext& ctx, const OpInfo& op) {
  const TensorInfo& word = ctx.tensor(op.inputs[2]);
  const TensorInfo& pos = ctx.tensor(op.inputs[3]);
  const int32_t* ids = ctx.data<int32_t>(op.inputs[0]);        // [S]
  const int32_t* types = ctx.data<int32_t>(op.inputs[1]);      // [S] or null
  const float* pos_table = ctx.data<float>(op.inputs[3]);      // [P, H]
  const float* type_table = ctx.data<float>(op.inputs[4]);     // [T, H] or null
  float* out = ctx.data<float>(op.outputs[0]);                 // [S, H]
  const size_t H = size_t(word.dims[1]);
  const int32_t V = word.dims[0];
  const int32_t T = op.inputs[4] >= 0 ? ctx.tensor(op.inputs[4]).dims[0] : 0;
  if (ctx.seq + size_t(op.position_offset) > size_t(pos.dims[0])) {
    return Status::Error(HEED_ERROR_INVALID_INPUT, "sequence of %zu tokens exceeds the %d positions", ctx.seq,
                         pos.dims[0] - op.position_offset);
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
    if (word.dtype == DType::kI8) {
      const int8_t* row = reinterpret_cast<const int8_t*>(ctx.tensor_data[size_t(op.inputs[2])]) + size_t(id) * H;
      const float scale = word.scales[size_t(id)];
      for (size_t h = 0; h < H; ++h) o[h] = float(row[h]) * scale;
    } else {
      const float* row = ctx.data<float>(op.inputs[2]) + size_t(id) * H;
      for (size_t h = 0; h < H; ++h) o[h] = row[h];
    }
    const float* p = pos_table + (s + size_t(op.position_offset)) * H;
    for (size_t h = 0; h < H; ++h) o[h] += p[h];
    if (type_table) {
      const float* t = type_table + size_t(type) * H;
      for (size_t h = 0; h < H; ++h) o[h] += t[h];
    }
  }
  return Status::Ok();
}

}  // namespace heed
