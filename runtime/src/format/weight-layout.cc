#include "format/weight-layout.h"

#include <cstring>

namespace heed {

void qs8_pack_weights(size_t n, size_t k, const int8_t* w, int8_t* out) {
  const size_t kg = groups_of(k);
  std::memset(out, 0, qs8_packed_bytes(n, k));
  for (size_t row = 0; row < n; ++row) {
    int8_t* panel = out + (row / kPanelN) * kg * kPanelN * kGroupK + (row % kPanelN) * kGroupK;
    for (size_t col = 0; col < k; ++col) panel[(col / kGroupK) * kPanelN * kGroupK + col % kGroupK] = w[row * k + col];
  }
}

void f32_pack_weights(size_t n, size_t k, const float* w, float* out) {
  std::memset(out, 0, f32_packed_floats(n, k) * sizeof(float));
  for (size_t row = 0; row < n; ++row) {
    float* panel = out + (row / kPanelN) * k * kPanelN + row % kPanelN;
    for (size_t col = 0; col < k; ++col) panel[col * kPanelN] = w[row * k + col];
  }
}

void qs8_panel_scales(size_t n, size_t nb, const float* scales, float* out) {
  const size_t np = panels_of(n);
  for (size_t p = 0; p < np; ++p)
    for (size_t b = 0; b < nb; ++b)
      for (size_t c = 0; c < kPanelN; ++c) {
        const size_t row = p * kPanelN + c;
        out[(p * nb + b) * kPanelN + c] = row < n ? scales[row * nb + b] : 1.0f;
      }
}

void qs8_panel_sums128(size_t n, size_t k, size_t block, const int8_t* packed, int32_t* out) {
  const size_t np = panels_of(n), nb = (k + block - 1) / block;
  for (size_t p = 0; p < np; ++p)
    for (size_t c = 0; c < kPanelN; ++c) {
      const size_t row = p * kPanelN + c;
      for (size_t b = 0; b < nb; ++b) {
        int32_t sum = 0;
        if (row < n) {
          const size_t k1 = (b + 1) * block < k ? (b + 1) * block : k;
          for (size_t col = b * block; col < k1; ++col) sum += qs8_packed_at(packed, k, row, col);
        }
        out[(p * nb + b) * kPanelN + c] = 128 * sum;
      }
    }
}

}  // namespace heed
