// f32-activation: elementwise GELU (erf form) and tanh, in place or not (y may
// alias x). The formulas are heed's own float functions (kernels/math/
// f32-math.h), never libm, each one fixed sequence of correctly rounded float
// operations documented there:
//   gelu(x) = f32_gelu(x) = (0.5 * x) * (1 + f32_erf(x * float(1/sqrt 2))), left to
//             right; -0 where 1 + f32_erf(..) == 0 (x <= -5.41 and -inf); results
//             below 2^-126 in magnitude become 0 of their sign; NaN -> default NaN
//   tanh(x) = f32_tanh(x)   (max error about 1 ulp; tanh(+-inf) = +-1)
//   gelu_tanh(x) = f32_gelu_tanh(x)   (GPT-2's gelu_new, tanh form)
//   swiglu(rows, n, x, y): y[r, i] = f32_silu(x[r, i]) * x[r, n + i], x [rows, 2n]
//             (gate | up), y [rows, n] (y must not alias x)
// gelu_tanh and swiglu have AVX2 and AVX-512 forms; NEON's table entry
// points at the scalar reference for now.
// Every variant of a family member gives the same bits as its reference: the
// SIMD variants run the same sequence lane by lane (f32-math-<isa>.h).
#pragma once

#include <cstddef>

#include "kernels/isa.h"

namespace heed {

using ActivationFn = void (*)(size_t n, const float* x, float* y);
using SwigluFn = void (*)(size_t rows, size_t n, const float* x, float* y);

struct ActivationVariant {
  const char* name;
  Isa isa;
  ActivationFn gelu;
  ActivationFn tanh;
  ActivationFn gelu_tanh;
  SwigluFn swiglu;
};

extern const ActivationVariant kActivationVariants[];
extern const size_t kActivationVariantCount;

void heed_f32_gelu__scalar(size_t n, const float* x, float* y);
void heed_f32_tanh__scalar(size_t n, const float* x, float* y);
void heed_f32_gelu_tanh__scalar(size_t n, const float* x, float* y);
void heed_f32_swiglu__scalar(size_t rows, size_t n, const float* x, float* y);
void heed_f32_gelu__avx2(size_t n, const float* x, float* y);
void heed_f32_tanh__avx2(size_t n, const float* x, float* y);
void heed_f32_gelu_tanh__avx2(size_t n, const float* x, float* y);
void heed_f32_swiglu__avx2(size_t rows, size_t n, const float* x, float* y);
void heed_f32_gelu_tanh__avx512vnni(size_t n, const float* x, float* y);
void heed_f32_swiglu__avx512vnni(size_t rows, size_t n, const float* x, float* y);
void heed_f32_gelu__avx512vnni(size_t n, const float* x, float* y);
void heed_f32_tanh__avx512vnni(size_t n, const float* x, float* y);
void heed_f32_gelu__neon(size_t n, const float* x, float* y);
void heed_f32_tanh__neon(size_t n, const float* x, float* y);
// ReLU is exact in any order; one plain loop serves every ISA.
void heed_f32_relu(size_t n, const float* x, float* y);

}  // namespace heed
