// The f32-rmsnorm family, from the reference up.
#include "kernels/rmsnorm/f32-rmsnorm.h"

namespace heed {

const RmsNormVariant kRmsNormVariants[] = {
    {"f32_rmsnorm__scalar", Isa::kScalar, heed_f32_rmsnorm__scalar},
#if defined(__x86_64__) || defined(__i386__)
    {"f32_rmsnorm__avx2", Isa::kAvx2, heed_f32_rmsnorm__avx2},
    {"f32_rmsnorm__avx512vnni", Isa::kAvx512Vnni, heed_f32_rmsnorm__avx512vnni},
#endif
#if defined(__aarch64__) || defined(__arm__)
    {"f32_rmsnorm__neon", Isa::kNeon, heed_f32_rmsnorm__neon},
#endif
};
const size_t kRmsNormVariantCount = sizeof(kRmsNormVariants) / sizeof(kRmsNormVariants[0]);

}  // namespace heed
