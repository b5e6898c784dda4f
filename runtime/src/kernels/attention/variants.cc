// The f32-attention family, from the reference up.
#include "kernels/attention/f32-attention.h"

namespace heed {

const AttentionVariant kAttentionVariants[] = {
    {"f32_attention__scalar", Isa::kScalar, heed_f32_attention__scalar, heed_f32_attention_scratch__scalar},
#if defined(__x86_64__) || defined(__i386__)
    {"f32_attention__avx2", Isa::kAvx2, heed_f32_attention__avx2, heed_f32_attention_scratch__avx2},
    {"f32_attention__avx512vnni", Isa::kAvx512Vnni, heed_f32_attention__avx512vnni,
     heed_f32_attention_scratch__avx512vnni},
#endif
#if defined(__aarch64__) || defined(__arm__)
    {"f32_attention__neon", Isa::kNeon, heed_f32_attention__neon, heed_f32_attention_scratch__neon},
#endif
};
const size_t kAttentionVariantCount = sizeof(kAttentionVariants) / sizeof(kAttentionVariants[0]);

}  // namespace heed
