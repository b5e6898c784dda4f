// The f32-gemm family, from the reference up (dispatch, tests and benchmarks
// iterate this table).
#include "kernels/f32-gemm/f32-gemm.h"

namespace heed {

const F32GemmVariant kF32GemmVariants[] = {
    {"f32_gemm_ukernel_4x16__scalar", Isa::kScalar, 4, 16, heed_f32_gemm_ukernel_4x16__scalar},
};
const size_t kF32GemmVariantCount = sizeof(kF32GemmVariants) / sizeof(kF32GemmVariants[0]);

}  // namespace heed
