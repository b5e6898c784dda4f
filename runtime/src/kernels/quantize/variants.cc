// The f32-qs8-quantize family, from the reference up.
#include "kernels/quantize/f32-qs8-quantize.h"

namespace heed {

const QuantizeVariant kQuantizeVariants[] = {
    {"f32_qs8_quantize__scalar", Isa::kScalar, heed_f32_qs8_quantize__scalar},
};
const size_t kQuantizeVariantCount = sizeof(kQuantizeVariants) / sizeof(kQuantizeVariants[0]);

}  // namespace heed
