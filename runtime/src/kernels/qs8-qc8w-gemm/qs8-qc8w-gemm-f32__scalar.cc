#include "kernels/kernels.h"

namespace heed {

void heed_qs8_qc8w_gemm_f32_ukernel__scalar(size_t M, size_t N, size_t K, size_t block, const int8_t* xq,
                                            size_t ldq, const float* xscale, const int8_t* w,
                                            const float* wscale, const float* bias, float* y,
                                            size_t ldy) {
  const size_t nb = (K + block - 1) / block;
  // Four rows share each weight row while it is in cache (rows past M repeat
  // the last row and are not stored). Integer block sums are exact and the
  // float order is fixed per (m, n), so this blocking cannot change results.
  for (size_t m = 0; m < M; m += 4) {
    const size_t rows = M - m < 4 ? M - m : 4;
    const int8_t* x0 = xq + m * ldq;
    const int8_t* x1 = xq + (m + (rows > 1 ? 1 : 0)) * ldq;
    const int8_t* x2 = xq + (m + (rows > 2 ? 2 : 0)) * ldq;
    const int8_t* x3 = xq + (m + (rows > 3 ? 3 : 0)) * ldq;
    for (size_t n = 0; n < N; ++n) {
      const int8_t* wr = w + n * K;
      float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      for (size_t b = 0; b < nb; ++b) {
        const size_t k0 = b * block, k1 = k0 + block < K ? k0 + block : K;
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (size_t k = k0; k < k1; ++k) {
          const int32_t wv = wr[k];
          a0 += int32_t(x0[k]) * wv;
          a1 += int32_t(x1[k]) * wv;
          a2 += int32_t(x2[k]) * wv;
          a3 += int32_t(x3[k]) * wv;
        }
        const int32_t a[4] = {a0, a1, a2, a3};
        const float wsb = wscale[n * nb + b];
        for (size_t i = 0; i < rows; ++i) {
          const float s = xscale[(m + i) * nb + b] * wsb;
          const float t = float(a[i]) * s;
          acc[i] += t;
        }
      }
      const float bn = bias ? bias[n] : 0.0f;
      for (size_t i = 0; i < rows; ++i) y[(m + i) * ldy + n] = acc[i] + bn;
    }
  }
}

}  // namespace heed
