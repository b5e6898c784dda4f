// f32-activation: elementwise GELU (exact, erf form) and tanh, in place or
// not (y may alias x):
//   gelu(x) = 0.5 * x * (1 + erf(x / sqrt(2)))
// Every variant of a family member gives the same bits as its reference.
#pragma once

#include <cstddef>

#include "kernels/isa.h"

namespace heed {

using ActivationFn = void (*)(size_t n, const float* x, float* y);

struct ActivationVariant {
  const char* name;
  Isa isa;
  ActivationFn gelu;
  ActivationFn tanh;
};

extern const ActivationVariant kActivationVariants[];
extern const size_t kActivationVariantCount;

void heed_f32_gelu__scalar(size_t n, const float* x, float* y);
void heed_f32_tanh__scalar(size_t n, const float* x, float* y);
// ReLU is exact in any order; one plain loop serves every ISA.
void heed_f32_relu(size_t n, const float* x, float* y);

}  // namespace heed
