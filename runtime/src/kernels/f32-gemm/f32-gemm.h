// f32-gemm: float activations x float weights (the fp32 precision path).
//
// A microkernel computes one tile y[0:mr, 0:nc] (mr <= MR, nc <= NR) of
//   acc = bias[n] (0.0f when bias is null); for k = 0 .. K-1: acc = fma(x[m,k], W[n,k], acc)
//   y[m,n] = acc
// one fused multiply-add per k in ascending order, so every variant gives
// the same bits (each output is one sequential chain; SIMD lanes run over
// columns). Weights are PACKED_N16 (format/weight-layout.h): NR / 16
// consecutive panels from w.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/isa.h"

namespace heed {

struct F32GemmParams {
  size_t mr, nc;       // tile rows and columns (1..MR, 1..NR)
  size_t K;
  const float* x;      // [mr, ldx]
  size_t ldx;
  const float* w;      // packed panels of the tile's columns
  const float* bias;   // [nc] or null
  float* y;            // [mr, ldy]
  size_t ldy;
};

using F32GemmUkernel = void (*)(const F32GemmParams& p);

struct F32GemmVariant {
  const char* name;
  Isa isa;
  uint32_t mr, nr;  // tile: rows, columns (a multiple of 16)
  F32GemmUkernel fn;
};

extern const F32GemmVariant kF32GemmVariants[];
extern const size_t kF32GemmVariantCount;

void heed_f32_gemm_ukernel_4x16__scalar(const F32GemmParams& p);

// A whole GEMM in the op's tiling (as qs8_gemm_tile): blocks of
// f32_gemm_block_rows rows (activations of at most kGemmRowBlockBytes) times
// tiles of output columns [t*NR, min((t+1)*NR, N)).
struct F32Gemm {
  size_t M, N, K;
  const float* x;     // [M, ldx]
  size_t ldx;
  const float* w;     // PACKED_N16 [N, K]
  const float* bias;  // [N] or null
  float* y;           // [M, ldy]
  size_t ldy;
};
size_t f32_gemm_tiles(const F32GemmVariant& v, size_t N);
size_t f32_gemm_block_rows(const F32GemmVariant& v, size_t K);
// Rows [m_begin, m_end) of tile `tile` (m_begin a multiple of MR).
void f32_gemm_tile(const F32GemmVariant& v, const F32Gemm& g, size_t tile, size_t m_begin, size_t m_end);
// Every task of the GEMM in order, on the calling thread (tests, tools).
void f32_gemm_all(const F32GemmVariant& v, const F32Gemm& g);

}  // namespace heed
