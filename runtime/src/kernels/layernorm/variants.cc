// The f32-layernorm family, from the reference up.
#include "kernels/layernorm/f32-layernorm.h"

namespace heed {

const LayerNormVariant kLayerNormVariants[] = {
    {"f32_layernorm__scalar", Isa::kScalar, heed_f32_layernorm__scalar},
#if defined(__x86_64__) || defined(__i386__)
    {"f32_layernorm__avx2", Isa::kAvx2, heed_f32_layernorm__avx2},
    {"f32_layernorm__avx512vnni", Isa::kAvx512Vnni, heed_f32_layernorm__avx512vnni},
#endif
#if defined(__aarch64__) || defined(__arm__)
    {"f32_layernorm__neon", Isa::kNeon, heed_f32_layernorm__neon},
#endif
};
const size_t kLayerNormVariantCount = sizeof(kLayerNormVariants) / sizeof(kLayerNormVariants[0]);

}  // namespace heed
