// The f32-layernorm family, from the reference up.
#include "kernels/layernorm/f32-layernorm.h"

namespace heed {

const LayerNormVariant kLayerNormVariants[] = {
    {"f32_layernorm__scalar", Isa::kScalar, heed_f32_layernorm__scalar},
};
const size_t kLayerNormVariantCount = sizeof(kLayerNormVariants) / sizeof(kLayerNormVariants[0]);

}  // namespace heed
