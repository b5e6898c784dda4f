#include "ops/ops.h"

namespace heed {

size_t op_scratch_bytes(const Model& model, const KernelTable& k, const OpInfo& op, size_t max_seq, size_t threads) {
  switch (op.kind) {
    case OpKind::kFullyConnected: {
      const TensorInfo& x = model.tensors()[size_t(op.inputs[0])];
      const TensorInfo& w = model.tensors()[size_t(op.inputs[1])];
      if (w.dtype != DType::kI8) return 0;
      const size_t rows = x.has_seq_dim() ? max_seq : size_t(x.dims[0]);
      return fully_connected_scratch_bytes(op, rows, size_t(w.dims[1]));
    }
    case OpKind::kAttention:
      return attention_scratch_bytes(k, op, max_seq, threads);
    default:
      return 0;
  }
}

size_t op_state_bytes(const Model& model, const KernelTable& k, const OpInfo& op) {
  return op.kind == OpKind::kFullyConnected ? fully_connected_state_bytes(k, model, op) : 0;
}

void op_init_state(const Model& model, const KernelTable& k, const OpInfo& op, void* state) {
  if (op_state_bytes(model, k, op) > 0) fully_connected_init_state(model, op, state);
}

Status op_run(const OpContext& ctx, const OpInfo& op) {
  switch (op.kind) {
    case OpKind::kEmbedding: return op_embedding_run(ctx, op);
    case OpKind::kLayerNorm: return op_layer_norm_run(ctx, op);
    case OpKind::kFullyConnected: return op_fully_connected_run(ctx, op);
    case OpKind::kAttention: return op_attention_run(ctx, op);
    case OpKind::kGelu: return op_gelu_run(ctx, op);
    case OpKind::kMeanPool:
    case OpKind::kClsPool: return op_pool_run(ctx, op);
    case OpKind::kL2Normalize: return op_l2_normalize_run(ctx, op);
  }
  return Status::Error(HEED_ERROR_INTERNAL, "op '%s': no run function", op.name.c_str());
}

}  // namespace heed
