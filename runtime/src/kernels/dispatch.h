// Kernel table: chosen once per session from cpuinfo, capped by HEED_ISA or the
// --isa flag so every path can be tested on one machine.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/status.h"

namespace heed {

enum class Isa : int { kScalar = 0, kAvx2 = 1, kAvx512Vnni = 2, kNeon = 3, kNeonDot = 4 };

const char* isa_name(Isa isa);
// Parses "scalar|avx2|avx512vnni|neon|neondot" (exact, case-sensitive).
Status isa_parse(const char* name, Isa* out);
bool isa_supported(Isa isa);
// The ISA a session uses: the best this CPU supports, capped by `requested`
// (when not null) and by the HEED_ISA environment variable (when set). A cap
// must name an ISA this CPU supports: an unknown name is
// HEED_ERROR_INVALID_ARGUMENT, an unsupported one HEED_ERROR_UNSUPPORTED; a
// cap is never ignored. Two caps: the lower one (both are of this CPU's family).
Status isa_select(const Isa* requested, Isa* out);

struct KernelTable {
  Isa isa;
  void (*f32_gemm)(size_t M, size_t N, size_t K, const float* x, size_t ldx, const float* w,
                   const float* bias, float* y, size_t ldy);
  void (*quantize_blocks)(size_t M, size_t K, size_t block, const float* x, size_t ldx,
                          const float* smooth, int8_t* q, size_t ldq, float* scales);
  void (*quantize_static)(size_t M, size_t K, size_t block, const float* x, size_t ldx,
                          const float* smooth, float scale, int8_t* q, size_t ldq, float* scales);
  void (*qs8_gemm)(size_t M, size_t N, size_t K, size_t block, const int8_t* xq, size_t ldq,
                   const float* xscale, const int8_t* w, const float* wscale, const float* bias,
                   float* y, size_t ldy);
  void (*layernorm)(size_t M, size_t N, const float* x, const float* residual,
                    const float* gamma, const float* beta, float eps, float* y);
  void (*gelu)(size_t n, const float* x, float* y);
  void (*tanh)(size_t n, const float* x, float* y);
  void (*relu)(size_t n, const float* x, float* y);
  void (*attention)(size_t S, size_t H, size_t D, const float* qkv, float* out, float scale,
                    int window, bool causal, float* scratch);
};

// Table for `isa`; ISAs without their own variant of a family fall back to the
// scalar reference for that family.
const KernelTable& kernel_table(Isa isa);

}  // namespace heed
