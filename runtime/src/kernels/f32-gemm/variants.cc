// The f32-gemm family, from the reference up (dispatch, tests and benchmarks
// iterate this table).
#include "kernels/f32-gemm/f32-gemm.h"

namespace heed {

#if defined(__x86_64__) || defined(__i386__)
void heed_f32_gemm_ukernel_6x16__avx2(const F32GemmParams& p);
void heed_f32_gemm_ukernel_8x32__avx512vnni(const F32GemmParams& p);
#endif

#if defined(__aarch64__) || defined(__arm__)
void heed_f32_gemm_ukernel_2x16__neon(const F32GemmParams& p);
void heed_f32_gemm_ukernel_4x16__neon(const F32GemmParams& p);
#endif

const F32GemmVariant kF32GemmVariants[] = {
    {"f32_gemm_ukernel_4x16__scalar", Isa::kScalar, 4, 16, heed_f32_gemm_ukernel_4x16__scalar},
#if defined(__x86_64__) || defined(__i386__)
    {"f32_gemm_ukernel_6x16__avx2", Isa::kAvx2, 6, 16, heed_f32_gemm_ukernel_6x16__avx2},
    {"f32_gemm_ukernel_8x32__avx512vnni", Isa::kAvx512Vnni, 8, 32, heed_f32_gemm_ukernel_8x32__avx512vnni},
#endif
#if defined(__aarch64__)
    // Both NEON tiles build for both ARM targets; the last one is used:
    // 4x16 here (32 vector registers), 2x16 on armv7 (16).
    {"f32_gemm_ukernel_2x16__neon", Isa::kNeon, 2, 16, heed_f32_gemm_ukernel_2x16__neon},
    {"f32_gemm_ukernel_4x16__neon", Isa::kNeon, 4, 16, heed_f32_gemm_ukernel_4x16__neon},
#endif
#if defined(__arm__)
    {"f32_gemm_ukernel_4x16__neon", Isa::kNeon, 4, 16, heed_f32_gemm_ukernel_4x16__neon},
    {"f32_gemm_ukernel_2x16__neon", Isa::kNeon, 2, 16, heed_f32_gemm_ukernel_2x16__neon},
#endif
};
const size_t kF32GemmVariantCount = sizeof(kF32GemmVariants) / sizeof(kF32GemmVariants[0]);

}  // namespace heed
