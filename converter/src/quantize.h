// Weight quantization: int8, symmetric, one scale per output channel (row).
#pragma once

#include "ir.h"

namespace heed::conv {

// Quantizes a float [rows, cols] matrix in place into t.i8 / t.scales.
// scale[r] = max|w[r,:]| / 127 (rows of zeros get scale 1 and all-zero q);
// q = clamp(round_half_even(w / scale), -127, 127).
void quantize_per_channel(IrTensor* t);

// Every FULLY_CONNECTED weight and the word embedding table become int8.
void quantize_weights(IrGraph* g);

}  // namespace heed::conv
