// The f32-qs8-quantize family, from the reference up.
#include "kernels/quantize/f32-qs8-quantize.h"

namespace heed {

const QuantizeVariant kQuantizeVariants[] = {
    {"f32_qs8_quantize__scalar", Isa::kScalar, heed_f32_qs8_quantize__scalar},
#if defined(__x86_64__) || defined(__i386__)
    {"f32_qs8_quantize__avx2", Isa::kAvx2, heed_f32_qs8_quantize__avx2},
    {"f32_qs8_quantize__avx512vnni", Isa::kAvx512Vnni, heed_f32_qs8_quantize__avx512vnni},
#endif
#if defined(__aarch64__) || defined(__arm__)
    {"f32_qs8_quantize__neon", Isa::kNeon, heed_f32_qs8_quantize__neon},
#endif
};
const size_t kQuantizeVariantCount = sizeof(kQuantizeVariants) / sizeof(kQuantizeVariants[0]);

}  // namespace heed
