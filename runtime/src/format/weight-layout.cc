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

// Walks each panel in its packed order (groups of 16 columns x 4 bytes), so
// the weights are read once, sequentially, in a loop the compiler
// vectorizes (integer sums: any order gives the same result); pad rows and
// columns are zero in the packed form and add nothing.
void qs8_panel_sums128(size_t n, size_t k, size_t block, const int8_t* packed, int32_t* out) {
  const size_t np = panels_of(n), nb = (k + block - 1) / block, kg = groups_of(k);
  for (size_t p = 0; p < np; ++p) {
    const int8_t* wp = packed + p * kg * kPanelN * kGroupK;
    for (size_t b = 0; b < nb; ++b) {
      // Blocks before the last are whole groups (block % 4 == 0, or one
      // block); the last runs to the padded end.
      const size_t g0 = b * block / kGroupK, g1 = b + 1 == nb ? kg : (b + 1) * block / kGroupK;
      // Byte i of a group's row is column i / 4: sum the rows elementwise,
      // then the 4 lanes of each column.
      int32_t lane[kPanelN * kGroupK] = {};
      for (size_t g = g0; g < g1; ++g) {
        const int8_t* wg = wp + g * kPanelN * kGroupK;
        for (size_t i = 0; i < kPanelN * kGroupK; ++i) lane[i] += wg[i];
      }
      for (size_t c = 0; c < kPanelN; ++c)
        out[(p * nb + b) * kPanelN + c] =
            128 * (lane[c * kGroupK] + lane[c * kGroupK + 1] + lane[c * kGroupK + 2] + lane[c * kGroupK + 3]);
    }
  }
}

}  // namespace heed
