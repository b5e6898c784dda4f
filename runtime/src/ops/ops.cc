// The generic side of ops: the load-time error helper and the calls through
// an op's registry entry.
#include "ops/ops.h"

#include <cstdio>

#include "ops/op.h"

namespace heed {

Status OpCheck::vfail(heed_status code, const char* fmt, va_list ap) const {
  char what[Status::kMaxMessage];
  std::vsnprintf(what, sizeof what, fmt, ap);
  return Status::Error(code, "op %zu '%s' (%s): %s", index_, op.name.c_str(), op.entry ? op.entry->name : "?", what);
}

Status OpCheck::fail(const char* fmt, ...) const {
  va_list ap;
  va_start(ap, fmt);
  Status s = vfail(HEED_ERROR_INVALID_MODEL, fmt, ap);
  va_end(ap);
  return s;
}

Status OpCheck::unsupported(const char* fmt, ...) const {
  va_list ap;
  va_start(ap, fmt);
  Status s = vfail(HEED_ERROR_UNSUPPORTED, fmt, ap);
  va_end(ap);
  return s;
}

size_t op_scratch_bytes(const Model& model, const KernelTable& k, const OpInfo& op, size_t max_seq, size_t threads) {
  if (!op.entry->scratch_bytes) return 0;
  return op.entry->scratch_bytes(OpSizing{model, k, op, max_seq, threads});
}

size_t op_state_bytes(const Model& model, const KernelTable& k, const OpInfo& op, size_t max_seq, bool kv_int8) {
  if (!op.entry->state_bytes) return 0;
  return op.entry->state_bytes(OpSizing{model, k, op, max_seq, 1, kv_int8});
}

void op_init_state(const Model& model, const KernelTable& k, const OpInfo& op, size_t max_seq, bool kv_int8,
                   void* state) {
  if (op.entry->init_state && op_state_bytes(model, k, op, max_seq, kv_int8) > 0) {
    op.entry->init_state(OpSizing{model, k, op, max_seq, 1, kv_int8}, state);
  }
}

bool op_same_state(const OpInfo& a, const OpInfo& b) {
  return a.entry == b.entry && a.entry->same_state && a.entry->same_state(a, b);
}

Status op_run(const OpContext& ctx, const OpInfo& op) { return op.entry->run(ctx, op); }

}  // namespace heed
