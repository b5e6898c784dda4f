// qs8-qc8w-gemm: int8 activations x int8 weights, float output, with scales
// per row and per block of K on both sides (block >= K: per-token activations
// x per-channel weights; the converter picks, docs/decisions.md #1).
//
// A microkernel computes one tile y[0:mr, 0:nc] (mr <= MR, nc <= NR) of
//   isum[m,n,b] = sum_{k in block b} int32(x[m,k]) * int32(W[n,k])      exact
//   acc = 0; for b = 0 .. nb-1:  acc = fma(float(isum[m,n,b]), xs[m,b] * ws[n,b], acc)
//   y[m,n] = acc + bias[n]        (bias null: acc + 0.0f)
// in exactly this order of float operations (xs * ws rounded first, one
// fused multiply-add per block), so every variant gives the same bits.
// Weights are PACKED_N16K4 (format/weight-layout.h): NR / 16 consecutive
// panels from w. Activations are rows of kp = padded_k(K) bytes, zero padded
// past K (the quantize kernels write them so).
//
// Variants with u8_activations read x as unsigned bytes x + 128 (the quantize
// kernels write q ^ 0x80 for them) and subtract 128 * the block's column sum:
// VNNI's vpdpbusd multiplies unsigned by signed bytes. Those with sums128
// read that sum from ws_sum128 (computed at session creation); the others
// compute it from the weights they load.
//
// Two tables: kQs8GemmVariants for any M, kQs8GemvVariants for M = 1
// (decode: one activation row streams every weight once, so those kernels
// are built to read as few bytes as possible at memory speed). Both start
// with the scalar reference and give its bits.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/isa.h"

namespace heed {

struct Qs8GemmParams {
  size_t mr, nc;       // tile rows and columns (1..MR, 1..NR)
  size_t kp;           // padded_k(K): bytes per activation row the kernel reads
  size_t block;        // K per scale block: a multiple of 4, or >= K
  size_t nb;           // ceil(K / block) blocks
  const int8_t* x;     // [mr, ldx] activations (u8 variants: x ^ 0x80), zero padded to kp
  size_t ldx;
  const float* xs;     // [mr, nb] activation scales, row stride nb
  const int8_t* w;     // packed panels of the tile's columns
  const float* ws;     // panel scales [NR/16][nb][16] of the tile's columns
  const int32_t* ws_sum128;  // panel column sums x 128 [NR/16][nb][16] (sums128 variants)
  const float* bias;   // [nc] or null
  float* y;            // [mr, ldy]
  size_t ldy;
};

using Qs8GemmUkernel = void (*)(const Qs8GemmParams& p);

struct Qs8GemmVariant {
  const char* name;
  Isa isa;
  uint32_t mr, nr;      // tile: rows, columns (a multiple of 16)
  bool u8_activations;  // reads x + 128
  bool sums128;         // reads ws_sum128 (u8 variants that do not compute it)
  Qs8GemmUkernel fn;
};

extern const Qs8GemmVariant kQs8GemmVariants[];
extern const size_t kQs8GemmVariantCount;
// One-row kernels (mr = 1): what the fully connected op runs when M == 1.
extern const Qs8GemmVariant kQs8GemvVariants[];
extern const size_t kQs8GemvVariantCount;

void heed_qs8_qc8w_gemm_f32_ukernel_4x16c4__scalar(const Qs8GemmParams& p);

// A whole GEMM y[M, N] in the op's tiling: blocks of qs8_gemm_block_rows
// rows (a multiple of MR, activations of at most kGemmRowBlockBytes) times
// tiles of NR output columns [t*NR, min((t+1)*NR, N)). A task computes one
// block of one tile, MR rows at a time: the tile's weight panels stay in L1
// while the block's rows pass, and the block stays in L2 while every tile
// passes over it. Tasks are independent: the fully connected op spreads them
// over threads. Each output is computed the same way whatever the blocks.
struct Qs8Gemm {
  size_t M, N, K, block;
  const int8_t* x;          // [M, ldx], ldx >= padded_k(K), u8 form for u8 variants
  size_t ldx;
  const float* xs;          // [M, nb]
  const int8_t* w;          // PACKED_N16K4 [N, K]
  const float* ws;          // panel scales [ceil(N/16)][nb][16]
  const int32_t* ws_sum128;  // panel sums x 128, same layout (sums128 variants; else unread)
  const float* bias;        // [N] or null
  float* y;                 // [M, ldy]
  size_t ldy;
};
size_t qs8_gemm_tiles(const Qs8GemmVariant& v, size_t N);
size_t qs8_gemm_block_rows(const Qs8GemmVariant& v, size_t K);
// Rows [m_begin, m_end) of tile `tile` (m_begin a multiple of MR).
void qs8_gemm_tile(const Qs8GemmVariant& v, const Qs8Gemm& g, size_t tile, size_t m_begin, size_t m_end);
// Every task of the GEMM in order, on the calling thread (tests, tools).
void qs8_gemm_all(const Qs8GemmVariant& v, const Qs8Gemm& g);

}  // namespace heed
