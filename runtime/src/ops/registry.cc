// The op registry: one line per op kind. Each entry is defined in its op's
// file (ops/<op>.cc, see ops/op.h); the schema's OpKind value is the entry's
// `kind`. tests/ops/registry-test.cc checks that every kind is listed once and
// matches the schema's names.
#include "ops/op.h"

// One line per op kind (each line ends in a backslash; the comment ends the list).
#define HEED_OPS(X)      \
  X(kEmbeddingOp)        \
  X(kLayerNormOp)        \
  X(kFullyConnectedOp)   \
  X(kAttentionOp)        \
  X(kGeluOp)             \
  X(kMeanPoolOp)         \
  X(kL2NormalizeOp)      \
  X(kClsPoolOp)          \
  X(kRmsNormOp)          \
  X(kRopeOp)             \
  X(kSwigluOp)           \
  X(kAddOp)              \
  /* end of the list */

namespace heed {

#define HEED_DECLARE_OP(entry) extern const OpEntry entry;
HEED_OPS(HEED_DECLARE_OP)
#undef HEED_DECLARE_OP

namespace {
#define HEED_LIST_OP(entry) &entry,
const OpEntry* const kOps[] = {HEED_OPS(HEED_LIST_OP)};
#undef HEED_LIST_OP
constexpr size_t kOpCount = sizeof(kOps) / sizeof(kOps[0]);
}  // namespace

const OpEntry* op_entry(OpKind kind) {
  for (const OpEntry* e : kOps)
    if (e->kind == kind) return e;
  return nullptr;
}

const OpEntry* const* op_entries(size_t* count) {
  *count = kOpCount;
  return kOps;
}

const char* op_kind_name(OpKind k) {
  const OpEntry* e = op_entry(k);
  return e ? e->name : "UNKNOWN";
}

}  // namespace heed
