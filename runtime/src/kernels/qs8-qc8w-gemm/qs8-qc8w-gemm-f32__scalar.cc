#include "kernels/kernels.h"

namespace heed {

void heed_qs8_qc8w_gemm_f32_ukernel__scalar(size_t M, size_t N, size_t K, const int8_t* xq,
                                            size_t ldq, const float* xscale, const int8_t* w,
                                            const float* wscale, const float* bias, float* y,
                                            size_t ldy) {
  // Four output rows at a time reuse each weight row from cache; the integer
  // sums are exact, so blocking cannot change results.
  size_t m = 0;
  for (; m + 4 <= M; m += 4) {
    const int8_t* x0 = xq + (m + 0) * ldq;
    const int8_t* x1 = xq + (m + 1) * ldq;
    const int8_t* x2 = xq + (m + 2) * ldq;
    const int8_t* x3 = xq + (m + 3) * ldq;
    for (size_t n = 0; n < N; ++n) {
      const int8_t* wr = w + n * K;
      int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      for (size_t k = 0; k < K; ++k) {
        const int32_t wv = wr[k];
        a0 += int32_t(x0[k]) * wv;
        a1 += int32_t(x1[k]) * wv;
        a2 += int32_t(x2[k]) * wv;
        a3 += int32_t(x3[k]) * wv;
      }
      const float b = bias ? bias[n] : 0.0f;
      const int32_t acc[4] = {a0, a1, a2, a3};
      for (size_t i = 0; i < 4; ++i) {
        const float s = xscale[m + i] * wscale[n];
        y[(m + i) * ldy + n] = float(acc[i]) * s + b;
      }
    }
  }
  for (; m < M; ++m) {
    const int8_t* xr = xq + m * ldq;
    for (size_t n = 0; n < N; ++n) {
      const int8_t* wr = w + n * K;
      int32_t acc = 0;
      for (size_t k = 0; k < K; ++k) acc += int32_t(xr[k]) * int32_t(wr[k]);
      const float b = bias ? bias[n] : 0.0f;
      const float s = xscale[m] * wscale[n];
      y[m * ldy + n] = float(acc) * s + b;
    }
  }
}

}  // namespace heed
