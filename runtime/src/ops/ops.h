// Ops at run time. Each op kind lives in its own file with its registry entry
// (ops/op.h, ops/registry.cc). Shapes, dtypes and options were checked at load
// (the entry's validate, called by format/model.cc), so run functions only
// check what depends on the run itself (token ids from the caller). No op
// allocates.
#pragma once

#include <cstddef>
#include <cstdint>

#include <pthreadpool.h>

#include "core/status.h"
#include "format/model.h"
#include "kernels/kernels.h"

namespace heed {

struct OpContext {
  const Model* model = nullptr;
  const KernelTable* kernels = nullptr;
  size_t seq = 0;            // tokens in this run
  size_t max_seq = 0;        // the session's longest sequence (op state sizes)
  size_t past = 0;           // tokens before this run in the key/value caches (Session::decode)
  bool kv_int8 = false;      // the session's key/value caches are int8 (else float)
  void** tensor_data = nullptr;  // per tensor: arena pointer (activations/inputs) or file data
  uint8_t* scratch = nullptr;    // op scratch, op_scratch_bytes() long
  pthreadpool_t pool = nullptr;  // null: run on the calling thread
  size_t threads = 1;            // threads of the pool (1 without one)
  const void* op_state = nullptr;  // the running op's persistent state (op_state_bytes), or null

  const TensorInfo& tensor(int32_t i) const { return model->tensors()[size_t(i)]; }
  template <typename T>
  T* data(int32_t i) const { return i < 0 ? nullptr : static_cast<T*>(tensor_data[size_t(i)]); }
  // Rows of an activation in this run.
  size_t rows(int32_t i) const { return tensor(i).has_seq_dim() ? seq : size_t(tensor(i).dims[0]); }
};

// Through the op's registry entry (ops/op.h):
// scratch bytes `op` needs at sequence length `max_seq` with these kernels
// and threads (reused by the next op);
size_t op_scratch_bytes(const Model& model, const KernelTable& k, const OpInfo& op, size_t max_seq, size_t threads);
// persistent state bytes `op` needs with these kernels at the session's
// longest sequence and key/value cache type (kept for the session's life,
// filled once by op_init_state at session creation);
size_t op_state_bytes(const Model& model, const KernelTable& k, const OpInfo& op, size_t max_seq, bool kv_int8);
void op_init_state(const Model& model, const KernelTable& k, const OpInfo& op, size_t max_seq, bool kv_int8,
                   void* state);
// whether ops a and b fill identical state (same kind, OpEntry::same_state);
bool op_same_state(const OpInfo& a, const OpInfo& b);
// one run of `op`.
Status op_run(const OpContext& ctx, const OpInfo& op);

}  // namespace heed
