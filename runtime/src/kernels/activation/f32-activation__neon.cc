// f32-activation, NEON: gelu and tanh 4 floats at a time with
// f32-math-neon.h, which repeats f32-math.h's scalar operation sequence lane
// by lane (on AArch32 too: the sequences tolerate its flush-to-zero, see
// there); the last n % 4 elements go through the same vector code via a
// small buffer. Hence the same bits as heed_f32_gelu__scalar /
// heed_f32_tanh__scalar.
#include <arm_neon.h>

#include <cstring>

#include "kernels/activation/f32-activation.h"
#include "kernels/math/f32-math-neon.h"

namespace heed {

namespace {
template <float32x4_t (*F)(float32x4_t)>
inline void apply(size_t n, const float* x, float* y) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {  // two independent vectors per step
    const float32x4_t a = F(vld1q_f32(x + i)), b = F(vld1q_f32(x + i + 4));
    vst1q_f32(y + i, a);
    vst1q_f32(y + i + 4, b);
  }
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, F(vld1q_f32(x + i)));
  if (i < n) {
    float buf[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    std::memcpy(buf, x + i, (n - i) * sizeof(float));
    vst1q_f32(buf, F(vld1q_f32(buf)));
    std::memcpy(y + i, buf, (n - i) * sizeof(float));
  }
}
}  // namespace

void heed_f32_gelu__neon(size_t n, const float* x, float* y) { apply<f32x4_gelu>(n, x, y); }
void heed_f32_tanh__neon(size_t n, const float* x, float* y) { apply<f32x4_tanh>(n, x, y); }

}  // namespace heed
