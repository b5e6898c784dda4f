// Kernel families, one folder each (XNNPACK style): a header stating the
// family's exact semantics and its variant table, the scalar reference
// (`__scalar`), one translation unit per ISA variant named like its function
// (`__avx2`, `__avx512vnni`, `__neon`, `__neondot`) and compiled with that
// ISA's flags only (runtime/CMakeLists.txt), and `variants.cc`, the table.
// Every variant gives the same bits as its reference (tests/kernels); the
// tables drive dispatch, the kernel tests and the kernel benchmark alike.
//
// Over-read contract: kernels read no byte past the last element they need;
// planned buffers are padded by kArenaPadBytes anyway.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/activation/f32-activation.h"
#include "kernels/attention/cached-attention.h"
#include "kernels/attention/f32-attention.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/isa.h"
#include "kernels/layernorm/f32-layernorm.h"
#include "kernels/qs8-qc8w-gemm/qs8-qc8w-gemm.h"
#include "kernels/quantize/f32-qs8-quantize.h"
#include "kernels/rmsnorm/f32-rmsnorm.h"

namespace heed {

constexpr size_t kArenaPadBytes = 64;

// The variants a session uses: one per family, chosen once at session
// creation (select_variant in isa.h) and never changed.
struct KernelTable {
  Isa isa;
  const Qs8GemmVariant* qs8_gemm;
  const Qs8GemmVariant* qs8_gemv;  // M = 1 (kQs8GemvVariants)
  const F32GemmVariant* f32_gemm;
  const QuantizeVariant* quantize;
  const LayerNormVariant* layernorm;
  const ActivationVariant* activation;
  const AttentionVariant* attention;
  const CachedAttentionVariant* cached_attention;
  const RmsNormVariant* rmsnorm;
};

// The table for a session of `isa` (built on first use, then shared).
const KernelTable& kernel_table(Isa isa);

}  // namespace heed
