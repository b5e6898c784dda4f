// The qs8-qc8w-gemm family: every variant, from the reference up. Dispatch,
// the kernel tests and the kernel benchmark iterate these tables.
#include "kernels/qs8-qc8w-gemm/qs8-qc8w-gemm.h"

namespace heed {

#if defined(__x86_64__) || defined(__i386__)
void heed_qs8_qc8w_gemm_f32_ukernel_4x16c4__avx2(const Qs8GemmParams& p);
void heed_qs8_qc8w_gemm_f32_ukernel_8x32c4__avx512vnni(const Qs8GemmParams& p);
void heed_qs8_qc8w_gemv_f32_ukernel_1x32c4__avx2(const Qs8GemmParams& p);
void heed_qs8_qc8w_gemv_f32_ukernel_1x64c4__avx512vnni(const Qs8GemmParams& p);
#endif

#if defined(__aarch64__) || defined(__arm__)
void heed_qs8_qc8w_gemm_f32_ukernel_1x16c4__neon(const Qs8GemmParams& p);
void heed_qs8_qc8w_gemm_f32_ukernel_2x16c4__neon(const Qs8GemmParams& p);
#endif
#if defined(__aarch64__)
void heed_qs8_qc8w_gemm_f32_ukernel_2x16c4__neondot(const Qs8GemmParams& p);
void heed_qs8_qc8w_gemv_f32_ukernel_1x32c4__neondot(const Qs8GemmParams& p);
#endif

// Fields: name, ISA, mr, nr, u8_activations, sums128, function.
const Qs8GemmVariant kQs8GemmVariants[] = {
    {"qs8_qc8w_gemm_f32_ukernel_4x16c4__scalar", Isa::kScalar, 4, 16, false, false,
     heed_qs8_qc8w_gemm_f32_ukernel_4x16c4__scalar},
#if defined(__x86_64__) || defined(__i386__)
    {"qs8_qc8w_gemm_f32_ukernel_4x16c4__avx2", Isa::kAvx2, 4, 16, false, false,
     heed_qs8_qc8w_gemm_f32_ukernel_4x16c4__avx2},
    {"qs8_qc8w_gemm_f32_ukernel_8x32c4__avx512vnni", Isa::kAvx512Vnni, 8, 32, true, true,
     heed_qs8_qc8w_gemm_f32_ukernel_8x32c4__avx512vnni},
#endif
#if defined(__aarch64__)
    // Both NEON tiles build for both ARM targets; the last one within the
    // session's ISA is used: 2x16c4 here (32 vector registers), 1x16c4 on armv7.
    {"qs8_qc8w_gemm_f32_ukernel_1x16c4__neon", Isa::kNeon, 1, 16, false, false,
     heed_qs8_qc8w_gemm_f32_ukernel_1x16c4__neon},
    {"qs8_qc8w_gemm_f32_ukernel_2x16c4__neon", Isa::kNeon, 2, 16, false, false,
     heed_qs8_qc8w_gemm_f32_ukernel_2x16c4__neon},
    {"qs8_qc8w_gemm_f32_ukernel_2x16c4__neondot", Isa::kNeonDot, 2, 16, false, false,
     heed_qs8_qc8w_gemm_f32_ukernel_2x16c4__neondot},
#endif
#if defined(__arm__)
    {"qs8_qc8w_gemm_f32_ukernel_2x16c4__neon", Isa::kNeon, 2, 16, false, false,
     heed_qs8_qc8w_gemm_f32_ukernel_2x16c4__neon},
    {"qs8_qc8w_gemm_f32_ukernel_1x16c4__neon", Isa::kNeon, 1, 16, false, false,
     heed_qs8_qc8w_gemm_f32_ukernel_1x16c4__neon},
#endif
};
const size_t kQs8GemmVariantCount = sizeof(kQs8GemmVariants) / sizeof(kQs8GemmVariants[0]);

// M = 1. The reference serves as the scalar entry (its 4-row tile at one
// row); NEON without dotprod uses its one-row GEMM tile, which already is one.
const Qs8GemmVariant kQs8GemvVariants[] = {
    {"qs8_qc8w_gemm_f32_ukernel_4x16c4__scalar", Isa::kScalar, 4, 16, false, false,
     heed_qs8_qc8w_gemm_f32_ukernel_4x16c4__scalar},
#if defined(__x86_64__) || defined(__i386__)
    {"qs8_qc8w_gemv_f32_ukernel_1x32c4__avx2", Isa::kAvx2, 1, 32, false, false,
     heed_qs8_qc8w_gemv_f32_ukernel_1x32c4__avx2},
    {"qs8_qc8w_gemv_f32_ukernel_1x64c4__avx512vnni", Isa::kAvx512Vnni, 1, 64, true, false,
     heed_qs8_qc8w_gemv_f32_ukernel_1x64c4__avx512vnni},
#endif
#if defined(__aarch64__) || defined(__arm__)
    {"qs8_qc8w_gemm_f32_ukernel_1x16c4__neon", Isa::kNeon, 1, 16, false, false,
     heed_qs8_qc8w_gemm_f32_ukernel_1x16c4__neon},
#endif
#if defined(__aarch64__)
    {"qs8_qc8w_gemv_f32_ukernel_1x32c4__neondot", Isa::kNeonDot, 1, 32, false, false,
     heed_qs8_qc8w_gemv_f32_ukernel_1x32c4__neondot},
#endif
};
const size_t kQs8GemvVariantCount = sizeof(kQs8GemvVariants) / sizeof(kQs8GemvVariants[0]);

}  // namespace heed
