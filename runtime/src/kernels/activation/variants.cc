// The f32-activation family, from the reference up.
#include "kernels/activation/f32-activation.h"

namespace heed {

const ActivationVariant kActivationVariants[] = {
    {"f32_activation__scalar", Isa::kScalar, heed_f32_gelu__scalar, heed_f32_tanh__scalar},
};
const size_t kActivationVariantCount = sizeof(kActivationVariants) / sizeof(kActivationVariants[0]);

}  // namespace heed
