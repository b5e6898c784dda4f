// Quantization passes over the IR.
//   weights: int8, symmetric, one scale per output channel (row);
//   activations: chosen by measurement in convert.cc (per-row or per-block
//   dynamic scales, optional SmoothQuant smoothing, optional static scales).
#pragma once

#include <vector>

#include "ir.h"

namespace heed::conv {

// Quantizes a float [rows, cols] matrix into t.i8 / t.scales, one scale per
// row (block = 0) or per row and block of `block` columns:
// scale = max|w| / 127 over the group (all-zero groups get scale 1; tiny ones
// are floored at FLT_MIN so every scale is a positive normal float);
// q = clamp(round_half_even(w / scale), -127, 127).
void quantize_matrix(IrTensor* t, int32_t block);

// Every FULLY_CONNECTED weight becomes int8 with the op's act_block as its
// block (both sides of the GEMM share block boundaries); the word embedding
// table becomes int8 with one scale per row, unless it is also an LM head's
// weights (tied), which keep the head's blocks.
void quantize_weights(IrGraph* g);

// True when an op other than ops[op_index] reads `tensor` (a tied LM head's
// matrix, which the EMBEDDING reads too).
bool used_by_another_op(const IrGraph& g, size_t op_index, int32_t tensor);

// SmoothQuant (Xiao et al. 2023) on one fp32 FULLY_CONNECTED op: with
// s[k] = max|x_k|^alpha / max|W_:,k|^(1-alpha), weights W[:,k] *= s[k] and the
// op gets a 4th input smooth[k] = 1/s[k] that the runtime applies to x before
// quantizing. act_absmax: per-input-channel max |x| from calibration.
void smooth_fully_connected(IrGraph* g, size_t op_index, const std::vector<float>& act_absmax, float alpha);

}  // namespace heed::conv
