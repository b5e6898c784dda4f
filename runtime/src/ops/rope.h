// ROPE's arithmetic, shared with ATTENTION's attention sinks (ops/attention.cc),
// which rotate a query back by a position offset with the same frequencies
// and the same rounding (ops/rope.cc's header gives the formulas).
#pragma once

#include <cstddef>

#include "format/model.h"

namespace heed {

// inv[i] = 1 / float(pow(double(theta), double(float(2i) / float(D)))), i < D/2 (D = op.head_dim).
void rope_inverse_frequencies(const OpInfo& op, float theta, float* inv);
// cos and sin of the angle of position `pos` in double: a = double(inv[i]) *
// pos (LINEAR: pos / double(op.rope_factor)), rounded once to float, i < D/2.
void rope_far_angles(const OpInfo& op, const float* inv, double pos, float* c, float* s);
// One head of D = 2 half values rotated from x into y (rotate-half):
// y[i] = x[i] c - x[i + half] s, y[i + half] = x[i + half] c + x[i] s.
// With -s it rotates back by the same angle.
void rope_rotate(size_t half, const float* x, const float* c, const float* s, float* y);

}  // namespace heed
