// The f32-attention family, from the reference up.
#include "kernels/attention/f32-attention.h"

namespace heed {

const AttentionVariant kAttentionVariants[] = {
    {"f32_attention__scalar", Isa::kScalar, heed_f32_attention__scalar, heed_f32_attention_scratch__scalar},
};
const size_t kAttentionVariantCount = sizeof(kAttentionVariants) / sizeof(kAttentionVariants[0]);

}  // namespace heed
