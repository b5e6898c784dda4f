// The f32-rmsnorm family, from the reference up (SIMD variants: one line each
// in the #if block of their architecture, see CONTRIBUTING.md).
#include "kernels/rmsnorm/f32-rmsnorm.h"

namespace heed {

const RmsNormVariant kRmsNormVariants[] = {
    {"f32_rmsnorm__scalar", Isa::kScalar, heed_f32_rmsnorm__scalar},
};
const size_t kRmsNormVariantCount = sizeof(kRmsNormVariants) / sizeof(kRmsNormVariants[0]);

}  // namespace heed
