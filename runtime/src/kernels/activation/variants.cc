// The f32-activation family, from the reference up.
#include "kernels/activation/f32-activation.h"

namespace heed {

const ActivationVariant kActivationVariants[] = {
    {"f32_activation__scalar", Isa::kScalar, heed_f32_gelu__scalar, heed_f32_tanh__scalar, heed_f32_gelu_tanh__scalar, heed_f32_swiglu__scalar},
#if defined(__x86_64__) || defined(__i386__)
    {"f32_activation__avx2", Isa::kAvx2, heed_f32_gelu__avx2, heed_f32_tanh__avx2, heed_f32_gelu_tanh__avx2, heed_f32_swiglu__avx2},
    {"f32_activation__avx512vnni", Isa::kAvx512Vnni, heed_f32_gelu__avx512vnni, heed_f32_tanh__avx512vnni, heed_f32_gelu_tanh__avx512vnni, heed_f32_swiglu__avx512vnni},
#endif
#if defined(__aarch64__) || defined(__arm__)
    {"f32_activation__neon", Isa::kNeon, heed_f32_gelu__neon, heed_f32_tanh__neon, heed_f32_gelu_tanh__scalar, heed_f32_swiglu__scalar},
#endif
};
const size_t kActivationVariantCount = sizeof(kActivationVariants) / sizeof(kActivationVariants[0]);

}  // namespace heed
