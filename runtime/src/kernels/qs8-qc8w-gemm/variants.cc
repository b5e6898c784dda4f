// The qs8-qc8w-gemm family: every variant, from the reference up. Dispatch,
// the kernel tests and the kernel benchmark iterate this table.
#include "kernels/qs8-qc8w-gemm/qs8-qc8w-gemm.h"

namespace heed {

const Qs8GemmVariant kQs8GemmVariants[] = {
    {"qs8_qc8w_gemm_f32_ukernel_4x16c4__scalar", Isa::kScalar, 4, 16, false,
     heed_qs8_qc8w_gemm_f32_ukernel_4x16c4__scalar},
};
const size_t kQs8GemmVariantCount = sizeof(kQs8GemmVariants) / sizeof(kQs8GemmVariants[0]);

}  // namespace heed
