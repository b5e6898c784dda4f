// Instruction sets heed has kernels for, and which one a session uses.
// The token set is closed: scalar, avx2, avx512vnni (x86), neon, neondot (ARM).
#pragma once

#include <cstddef>

#include "core/status.h"

namespace heed {

// Bytes of activation rows a GEMM keeps in L2 per row block (its drivers'
// block_rows): with MiniLM's FFN, 128 KiB beside the 590 KB of weights fit a
// 1 MiB L2 (docs/decisions.md #32).
constexpr size_t kGemmRowBlockBytes = size_t(128) << 10;
// Rows per block for rows of row_bytes and a microkernel of mr rows: the
// most whole groups of mr that fit kGemmRowBlockBytes, at least one group.
inline size_t gemm_block_rows(size_t row_bytes, size_t mr) {
  const size_t rows = kGemmRowBlockBytes / row_bytes / mr * mr;
  return rows > mr ? rows : mr;
}

enum class Isa : int { kScalar = 0, kAvx2 = 1, kAvx512Vnni = 2, kNeon = 3, kNeonDot = 4 };
constexpr int kIsaCount = 5;

const char* isa_name(Isa isa);
// Parses "scalar|avx2|avx512vnni|neon|neondot" (exact, case-sensitive).
Status isa_parse(const char* name, Isa* out);
// This CPU runs code built for `isa` (cpuinfo).
bool isa_supported(Isa isa);
// A kernel built for `kernel` may run in a session that uses `session`:
// scalar always; otherwise the same family (x86 or ARM) and not above it
// (scalar < avx2 < avx512vnni, scalar < neon < neondot).
bool isa_within(Isa kernel, Isa session);
// The ISA a session uses: the best this CPU supports, capped by `requested`
// (when not null) and by the HEED_ISA environment variable (when set). A cap
// must name an ISA this CPU supports: an unknown name is
// HEED_ERROR_INVALID_ARGUMENT, an unsupported one HEED_ERROR_UNSUPPORTED; a
// cap is never ignored. Two caps: the lower one (both are of this CPU's family).
Status isa_select(const Isa* requested, Isa* out);

// The entry of a family's variant table a session uses: the last one (tables
// list variants from the reference up) whose ISA is within `session`.
template <typename Variant>
const Variant* select_variant(const Variant* table, size_t count, Isa session) {
  const Variant* best = nullptr;
  for (size_t i = 0; i < count; ++i)
    if (isa_within(table[i].isa, session)) best = &table[i];
  return best;
}

}  // namespace heed
