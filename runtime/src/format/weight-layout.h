// Weight layouts of fully connected ops: the tiles the GEMM kernels read.
// The converter writes them (schemas/heed.fbs WeightLayout), the loader
// checks their sizes and packs row-major weights of older files, the kernels
// index them. One layout per dtype serves every ISA, so one file runs at full
// speed on every CPU and weights are used in place from the mapping.
//
// int8, PACKED_N16K4: W[N, K] as panels of 16 output columns; inside a panel
// K runs in groups of 4 consecutive inputs, the 4 bytes of one column
// adjacent:
//   packed[(p * KG + g) * 64 + c * 4 + j] = W[p * 16 + c, g * 4 + j]
//   p < NP = ceil(N / 16), g < KG = ceil(K / 4), c < 16, j < 4; 0 outside W.
// One 64-byte row (one group) is what one AVX-512 VNNI vpdpbusd, four NEON
// sdot (4 columns x 4 bytes each) or two AVX2 vpmaddubsw consume.
//
// float, PACKED_N16: panels of 16 columns, K rows of 16 floats each:
//   packed[(p * K + k) * 16 + c] = W[p * 16 + c, k], 0 outside W.
//
// Per panel the loader also lays out, for the kernels (not stored in the
// file): int8 weight scales [NP][nb][16] and, where a kernel wants them, the
// column sums of each scale block times 128 [NP][nb][16] (kernels that feed
// activations as unsigned bytes, x + 128, subtract them).
#pragma once

#include <cstddef>
#include <cstdint>

namespace heed {

enum class WeightLayout : uint8_t { kRowMajor = 0, kPackedN16K4 = 1, kPackedN16 = 2 };

constexpr size_t kPanelN = 16;  // output columns per panel
constexpr size_t kGroupK = 4;   // int8: inputs per group

inline size_t panels_of(size_t n) { return (n + kPanelN - 1) / kPanelN; }
inline size_t groups_of(size_t k) { return (k + kGroupK - 1) / kGroupK; }
// Activation row length the int8 kernels read: K rounded up to whole groups.
inline size_t padded_k(size_t k) { return groups_of(k) * kGroupK; }

inline size_t qs8_packed_bytes(size_t n, size_t k) { return panels_of(n) * groups_of(k) * kPanelN * kGroupK; }
inline size_t f32_packed_floats(size_t n, size_t k) { return panels_of(n) * k * kPanelN; }

// w: row-major [n, k]; out: qs8_packed_bytes(n, k) bytes.
void qs8_pack_weights(size_t n, size_t k, const int8_t* w, int8_t* out);
// w: row-major [n, k]; out: f32_packed_floats(n, k) floats.
void f32_pack_weights(size_t n, size_t k, const float* w, float* out);
// The logical element W[row, col] of a PACKED_N16K4 buffer.
inline int8_t qs8_packed_at(const int8_t* packed, size_t k, size_t row, size_t col) {
  return packed[((row / kPanelN) * groups_of(k) + col / kGroupK) * kPanelN * kGroupK + (row % kPanelN) * kGroupK +
                col % kGroupK];
}
inline float f32_packed_at(const float* packed, size_t k, size_t row, size_t col) {
  return packed[((row / kPanelN) * k + col) * kPanelN + row % kPanelN];
}

// Per-panel weight scales: scales [n, nb] row-major -> out [NP][nb][16]
// (1.0 for padding columns, which multiply zero sums).
void qs8_panel_scales(size_t n, size_t nb, const float* scales, float* out);
// 128 * sum of W[row, k] over each scale block, [NP][nb][16], from packed W.
void qs8_panel_sums128(size_t n, size_t k, size_t block, const int8_t* packed, int32_t* out);

}  // namespace heed
